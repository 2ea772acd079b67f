package framing

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// ErrInvalidCommand is wrapped by the error [Bitcoin.AppendMessage]
// returns for a command the header cannot carry.
var ErrInvalidCommand = errors.New("framing: invalid Bitcoin command")

// DefaultMagic is the default network magic of [Bitcoin] (e3 e1 f3 e8,
// that of Bitcoin Cash's main network, as in aiorpcX).
var DefaultMagic = [4]byte{0xe3, 0xe1, 0xf3, 0xe8}

const (
	bitcoinHeader = 24 // magic, command, length, checksum
	commandSize   = 12
	blockCommand  = "block"
)

// Bitcoin is the message format of the Bitcoin peer-to-peer protocol
// (aiorpcX's BitcoinFramer). Each message is a command and a payload,
// after a 24-byte header: the 4-byte network magic, the command padded
// to 12 bytes with NUL bytes, the payload length as a 4-byte
// little-endian number, and a 4-byte checksum, the first 4 bytes of
// SHA-256 applied twice to the payload.
//
// A zero field takes its default, so the zero Bitcoin is ready to use:
//
//   - Magic: [DefaultMagic].
//   - MaxPayload: [DefaultMaxPayload] (2,000,000 bytes), the largest
//     payload of any command but "block"; negative means no limit.
//   - MaxBlockPayload: [DefaultMaxBlockPayload] (128,000,000 bytes), the
//     largest payload of a "block" command; negative means no limit.
//
// A reader reports a header with another magic as a fatal
// [*BadMagicError], a payload over its limit as a fatal [*TooLargeError]
// (checked before any buffer is sized from it; a large legal payload
// grows the buffer only as its bytes arrive), and a payload that does
// not match its checksum as a [*BadChecksumError] that is not fatal: that
// message is skipped and the next read returns the following one.
//
// A Bitcoin is a configuration value, safe for concurrent use.
type Bitcoin struct {
	Magic           [4]byte
	MaxPayload      int
	MaxBlockPayload int
}

// BitcoinMessage is one message of the [Bitcoin] format.
type BitcoinMessage struct {
	// Command names the message, such as "version" or "tx": at most 12
	// bytes, none of them NUL.
	Command string
	// Payload is the message body. In a message returned by a reader
	// it is valid until the next read.
	Payload []byte
}

func (b Bitcoin) magic() [4]byte {
	if b.Magic == [4]byte{} {
		return DefaultMagic
	}
	return b.Magic
}

// payloadLimit returns the payload limit of command, at most the
// format's 4 GiB - 1 and what memory can address.
func (b Bitcoin) payloadLimit(command string) int {
	lim := limit(b.MaxPayload, DefaultMaxPayload)
	if command == blockCommand {
		lim = limit(b.MaxBlockPayload, DefaultMaxBlockPayload)
	}
	if lim < 0 || int64(lim) > math.MaxUint32 {
		lim = math.MaxUint32
	}
	return min(lim, maxFrame-bitcoinHeader)
}

// AppendMessage appends the message (command, payload), framed, to dst
// and returns the extended buffer. It returns an error wrapping
// [ErrInvalidCommand] if command is longer than 12 bytes or contains a
// NUL byte, and a [*TooLargeError] if payload is over the limit of
// command; in both cases dst unchanged.
func (b Bitcoin) AppendMessage(dst []byte, command string, payload []byte) ([]byte, error) {
	if len(command) > commandSize || strings.IndexByte(command, 0) >= 0 {
		return dst, fmt.Errorf("%w %q: want at most %d bytes and no NUL", ErrInvalidCommand, command, commandSize)
	}
	if lim := b.payloadLimit(command); over(int64(len(payload)), lim) {
		return dst, &TooLargeError{Limit: lim, Size: int64(len(payload)), Command: command}
	}
	magic := b.magic()
	dst = append(dst, magic[:]...)
	dst = append(dst, command...)
	var pad [commandSize]byte
	dst = append(dst, pad[len(command):]...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
	sum := checksum(payload)
	dst = append(dst, sum[:]...)
	return append(dst, payload...), nil
}

// checksum returns the first 4 bytes of SHA-256 applied twice to p.
func checksum(p []byte) [4]byte {
	first := sha256.Sum256(p)
	second := sha256.Sum256(first[:])
	return [4]byte(second[:4])
}

// NewReader returns a reader of Bitcoin messages from r, for one
// goroutine at a time.
func (b Bitcoin) NewReader(r io.Reader) *BitcoinReader {
	return &BitcoinReader{
		in:       inbuf{rd: r},
		magic:    b.magic(),
		maxOther: b.payloadLimit(""),
		maxBlock: b.payloadLimit(blockCommand),
	}
}

// BitcoinReader reads [Bitcoin] messages from a byte stream. It is for
// one goroutine at a time.
type BitcoinReader struct {
	in       inbuf
	magic    [4]byte
	maxOther int
	maxBlock int
	fatal    error
	commands [8]string // recent commands, so that steady reads do not allocate
	next     int       // slot of commands to replace next
}

// ReadMessage returns the next message. Its payload is valid until the
// next call to ReadMessage. It returns a fatal [*BadMagicError] or
// [*TooLargeError], returned again by every later call, or a
// [*BadChecksumError] for a message it skipped. At the end of the stream
// it returns io.EOF, or io.ErrUnexpectedEOF if the stream ended inside a
// message. ReadMessage must not be called by two goroutines at once.
func (br *BitcoinReader) ReadMessage() (BitcoinMessage, error) {
	if br.fatal != nil {
		return BitcoinMessage{}, br.fatal
	}
	b := &br.in
	b.release()
	if err := b.need(bitcoinHeader); err != nil {
		return BitcoinMessage{}, err
	}
	h := b.buf[b.r : b.r+bitcoinHeader]
	if magic := [4]byte(h[:4]); magic != br.magic {
		br.fatal = &BadMagicError{Got: magic, Want: br.magic}
		return BitcoinMessage{}, br.fatal
	}
	command := br.command(h[4:16])
	size := binary.LittleEndian.Uint32(h[16:20])
	want := [4]byte(h[20:24])
	lim := br.maxOther
	if command == blockCommand {
		lim = br.maxBlock
	}
	if over(int64(size), lim) {
		br.fatal = &TooLargeError{Limit: lim, Size: int64(size), Command: command, fatal: true}
		return BitcoinMessage{}, br.fatal
	}
	n := bitcoinHeader + int(size)
	if err := b.need(n); err != nil {
		return BitcoinMessage{}, eofIn(err, true)
	}
	payload := b.buf[b.r+bitcoinHeader : b.r+n : b.r+n]
	b.r += n
	if got := checksum(payload); got != want {
		return BitcoinMessage{}, &BadChecksumError{Command: command, Got: got, Want: want}
	}
	return BitcoinMessage{Command: command, Payload: payload}, nil
}

// command returns the command in a header's command field: the bytes
// before the first NUL, as Bitcoin Core reads it. Recent commands are
// kept, so that a steady stream does not allocate a string per message.
// Buffered returns the bytes read and not yet returned as messages.
func (br *BitcoinReader) Buffered() int { return br.in.buffered() }

func (br *BitcoinReader) command(field []byte) string {
	if i := bytes.IndexByte(field, 0); i >= 0 {
		field = field[:i]
	}
	for _, c := range br.commands {
		if c == string(field) {
			return c
		}
	}
	c := string(field)
	br.commands[br.next] = c
	br.next = (br.next + 1) % len(br.commands)
	return c
}
