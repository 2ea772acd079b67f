package framing

import (
	"encoding/binary"
	"io"
	"math"
)

// VarintPrefixed frames each message as its length, an unsigned varint
// (the encoding of encoding/binary's AppendUvarint and of Protocol
// Buffers: 7 bits a byte, least significant first, the high bit set on
// every byte but the last), followed by that many bytes: the framing of
// sourcegraph/jsonrpc2's VarintObjectCodec.
//
// Max is the largest message accepted, in bytes, without its length.
// Zero means [DefaultMax] (1,000,000 bytes) and a negative value, such
// as [NoLimit], means no limit.
//
// A length over Max makes the reader return a fatal [*TooLargeError],
// as [LengthPrefixed] does: the length is checked as soon as its varint
// has arrived, before any buffer is sized from it, and a legal length
// grows the buffer only as the message's bytes arrive. A varint that is
// not in its shortest form (it ends with a zero byte after others), or
// that is longer than 10 bytes or over 64 bits, is a fatal
// [*FormatError]: writers never send one, so the stream is not, or no
// longer, in step with the message boundaries. After a fatal error the
// reader returns it again from then on. A reader holds at most the
// larger of 64 KiB (what it reads at once from a fast peer) and Max bytes
// plus its length and two read buffers (4 KiB each).
//
// Max does not apply to writing (it limits what is read).
//
// A VarintPrefixed is a configuration value, safe for concurrent use.
type VarintPrefixed struct {
	Max int
}

func (v VarintPrefixed) max() int {
	lim := limit(v.Max, DefaultMax)
	if lim < 0 {
		lim = maxFrame
	}
	return min(lim, maxFrame-binary.MaxVarintLen64)
}

// AppendFrame appends the length of msg, as a varint, and msg to dst and
// returns the extended buffer. It never fails.
func (v VarintPrefixed) AppendFrame(dst, msg []byte) ([]byte, error) {
	dst = binary.AppendUvarint(dst, uint64(len(msg)))
	return append(dst, msg...), nil
}

// NewReader returns a Reader of varint-prefixed messages from r. The
// Reader is for one goroutine; each message it returns is valid until
// the next call to ReadMessage.
func (v VarintPrefixed) NewReader(r io.Reader) Reader {
	return &varintReader{in: inbuf{rd: r}, max: v.max()}
}

type varintReader struct {
	in    inbuf
	max   int
	fatal error
}

// ReadMessage returns the next message without its length. A length over
// the limit yields a fatal [*TooLargeError], a malformed varint a fatal
// [*FormatError], returned again by every later call. At the end of the
// stream it returns io.EOF, or io.ErrUnexpectedEOF if the stream ended
// inside a message.
func (vr *varintReader) ReadMessage() ([]byte, error) {
	if vr.fatal != nil {
		return nil, vr.fatal
	}
	b := &vr.in
	b.release()
	for {
		size, n := binary.Uvarint(b.buf[b.r:b.w])
		switch {
		case n < 0:
			vr.fatal = &FormatError{Format: "varint", Reason: "length longer than 10 bytes or over 64 bits", fatal: true}
			return nil, vr.fatal
		case n > 1 && b.buf[b.r+n-1] == 0:
			vr.fatal = &FormatError{Format: "varint", Reason: "length not in its shortest form", fatal: true}
			return nil, vr.fatal
		case n > 0:
			if size > uint64(vr.max) {
				s := int64(-1)
				if size <= math.MaxInt64 {
					s = int64(size)
				}
				vr.fatal = &TooLargeError{Limit: vr.max, Size: s, fatal: true}
				return nil, vr.fatal
			}
			total := n + int(size)
			if err := b.need(total); err != nil {
				return nil, eofIn(err, true)
			}
			msg := b.buf[b.r+n : b.r+total : b.r+total]
			b.r += total
			return msg, nil
		}
		if err := b.fill(frameCeiling(binary.MaxVarintLen64)); err != nil {
			return nil, eofIn(err, b.buffered() > 0)
		}
	}
}

// Buffered returns the bytes read and not yet returned as messages.
func (vr *varintReader) Buffered() int { return vr.in.buffered() }

func (*varintReader) resumesAfterError() {}

func (r *varintReader) shed() bool { return r.in.shed() }
