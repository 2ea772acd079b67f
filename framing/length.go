package framing

import (
	"encoding/binary"
	"io"
	"math"
)

// lengthHeader is the size of a [LengthPrefixed] header.
const lengthHeader = 4

// LengthPrefixed frames each message as a 4-byte big-endian unsigned
// length followed by that many bytes.
//
// Max is the largest message accepted, in bytes, without its header.
// Zero means [DefaultMax] (1,000,000 bytes) and a negative value, such
// as [NoLimit], means no limit other than the format's 4 GiB - 1.
//
// A header announcing more than Max bytes makes the reader return a
// fatal [*TooLargeError]: the stream cannot continue, since the next
// message starts after the bytes refused. The length is checked before
// any buffer is sized from it, and even a legal length only grows the
// buffer as the bytes arrive, so a peer cannot make the reader allocate
// what it has not sent. A reader holds at most Max bytes plus its header
// and two read buffers (4 KiB each).
//
// A LengthPrefixed is a configuration value, safe for concurrent use.
type LengthPrefixed struct {
	Max int
}

func (l LengthPrefixed) max() int {
	lim := limit(l.Max, DefaultMax)
	if lim < 0 || int64(lim) > math.MaxUint32 {
		return math.MaxUint32
	}
	return lim
}

// AppendFrame appends the length of msg and msg to dst and returns the
// extended buffer. Max does not apply (it limits what is read); a msg
// longer than the 4-byte length can say (4 GiB − 1) gets a
// [*TooLargeError] and dst unchanged.
func (l LengthPrefixed) AppendFrame(dst, msg []byte) ([]byte, error) {
	if int64(len(msg)) > math.MaxUint32 {
		return dst, &TooLargeError{Limit: math.MaxUint32, Size: int64(len(msg))}
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(msg)))
	return append(dst, msg...), nil
}

// NewReader returns a Reader of length-prefixed messages from r. The
// Reader is for one goroutine; each message it returns is valid until
// the next call to ReadMessage.
func (l LengthPrefixed) NewReader(r io.Reader) Reader {
	return &lengthReader{in: inbuf{rd: r}, max: min(l.max(), maxFrame-lengthHeader)}
}

type lengthReader struct {
	in    inbuf
	max   int
	fatal error
}

// ReadMessage returns the next message without its header. A length
// over the limit yields a fatal [*TooLargeError], returned again by
// every later call. At the end of the stream it returns io.EOF, or
// io.ErrUnexpectedEOF if the stream ended inside a message.
func (lr *lengthReader) ReadMessage() ([]byte, error) {
	if lr.fatal != nil {
		return nil, lr.fatal
	}
	b := &lr.in
	b.release()
	if err := b.need(lengthHeader); err != nil {
		return nil, err
	}
	size := binary.BigEndian.Uint32(b.buf[b.r:])
	if over(int64(size), lr.max) {
		lr.fatal = &TooLargeError{Limit: lr.max, Size: int64(size), fatal: true}
		return nil, lr.fatal
	}
	n := lengthHeader + int(size)
	if err := b.need(n); err != nil {
		return nil, eofIn(err, true)
	}
	msg := b.buf[b.r+lengthHeader : b.r+n : b.r+n]
	b.r += n
	return msg, nil
}

// Buffered returns the bytes read and not yet returned as messages.
func (r *lengthReader) Buffered() int { return r.in.buffered() }

func (*lengthReader) resumesAfterError() {}

func (r *lengthReader) shed() bool { return r.in.shed() }
