package framing

import (
	"bytes"
	"errors"
	"io"
)

// ErrNewlineInMessage is returned by [Newline.AppendFrame] for a message
// that contains a newline, which the newline format cannot carry.
var ErrNewlineInMessage = errors.New("framing: message contains a newline")

// Newline frames messages as lines: each message is followed by '\n',
// which is not part of it (aiorpcX's NewlineFramer). A '\r' before the
// '\n' is kept as part of the message.
//
// Max is the largest message accepted, in bytes, without its '\n'. Zero
// means [DefaultMax] (1,000,000 bytes) and a negative value, such as
// [NoLimit], means no limit. (aiorpcX takes 0 to mean no limit; here
// that is [NoLimit], so that the zero Newline is a safe default.)
//
// The limit is exact: a message of Max bytes is accepted, and as soon as
// Max+1 bytes of a line have arrived without a newline the reader returns
// a [*TooLargeError] that is not fatal. It then drops the rest of that
// line as it arrives, without buffering it, and reads the next line
// normally. A reader holds at most Max bytes plus one read buffer
// (4 KiB), whatever the peer sends.
//
// Max limits what is read, not what is written: as in aiorpcX, how much
// a peer accepts is the peer's business, and a session bounds its own
// replies with its response size limit.
//
// A Newline is a configuration value, safe for concurrent use.
type Newline struct {
	Max int
}

func (n Newline) max() int { return limit(n.Max, DefaultMax) }

// AppendFrame appends msg and a '\n' to dst and returns the extended
// buffer. Max does not apply (it limits what is read). If msg contains a
// newline it returns [ErrNewlineInMessage] and dst unchanged.
func (n Newline) AppendFrame(dst, msg []byte) ([]byte, error) {
	if bytes.IndexByte(msg, '\n') >= 0 {
		return dst, ErrNewlineInMessage
	}
	dst = append(dst, msg...)
	return append(dst, '\n'), nil
}

// NewReader returns a Reader of newline-terminated messages from r.
// The Reader is for one goroutine; each message it returns is valid
// until the next call to ReadMessage.
func (n Newline) NewReader(r io.Reader) Reader {
	lim := n.max()
	ceiling := -1
	if lim >= 0 {
		ceiling = min(lim, maxFrame) + readSize
	}
	return &newlineReader{in: inbuf{rd: r}, max: lim, ceiling: ceiling}
}

type newlineReader struct {
	in      inbuf
	max     int  // resolved limit, -1 for none
	ceiling int  // capacity bound of in.buf, -1 for none
	scanned int  // bytes after in.r known to hold no '\n'
	discard bool // dropping the rest of a line over the limit
}

// ReadMessage returns the next line without its '\n'. A line over the
// limit yields a [*TooLargeError] (not fatal; the next call goes on with
// the following line). At the end of the stream it returns io.EOF, or
// io.ErrUnexpectedEOF if the stream ended inside a line.
func (nr *newlineReader) ReadMessage() ([]byte, error) {
	b := &nr.in
	b.release()
	for {
		start := b.r + nr.scanned
		if i := bytes.IndexByte(b.buf[start:b.w], '\n'); i >= 0 {
			end := start + i
			line := b.buf[b.r:end:end]
			b.r = end + 1
			nr.scanned = 0
			if nr.discard {
				nr.discard = false
				continue
			}
			if over(int64(len(line)), nr.max) {
				return nil, nr.tooLarge()
			}
			return line, nil
		}
		switch {
		case nr.discard:
			b.r = b.w
		case over(int64(b.buffered()), nr.max):
			b.r = b.w
			nr.discard = true
			nr.scanned = 0
			return nil, nr.tooLarge()
		}
		nr.scanned = b.buffered()
		if err := b.fill(nr.ceiling); err != nil {
			return nil, eofIn(err, nr.discard || b.buffered() > 0)
		}
	}
}

func (nr *newlineReader) tooLarge() error {
	return &TooLargeError{Limit: nr.max, Size: -1}
}

// Buffered returns the bytes read and not yet returned as messages.
func (r *newlineReader) Buffered() int { return r.in.buffered() }

func (*newlineReader) resumesAfterError() {}

func (r *newlineReader) shed() bool { return r.in.shed() }
