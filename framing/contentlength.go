package framing

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strconv"
)

// ErrInvalidContentType is returned by [ContentLength.AppendFrame] when
// ContentType holds a control character (such as CR or LF), which would
// break the header.
var ErrInvalidContentType = errors.New("framing: Content-Type holds a control character")

// ContentLength frames each message as the base protocol of the
// Language Server Protocol (and VS Code's JSON-RPC) does: a header of
// fields, a blank line, then the message:
//
//	Content-Length: 52\r\n
//	Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n
//	\r\n
//	{"jsonrpc":"2.0","id":1,"method":"initialize",...}
//
// Reading: each header line is a name, a colon and a value, ended by
// CR LF; names are matched without regard to case, and the value is
// taken without the spaces and tabs around it. Content-Length is
// required, once, as a decimal number of bytes (digits only); every
// other field, Content-Type included, is read and ignored. A blank line
// ends the header.
//
// Limits. Max is the largest message accepted, in bytes, without its
// header; MaxHeader the largest header block, in bytes, its blank line
// included. Zero means the default ([DefaultMax], 1,000,000 bytes, and
// [DefaultMaxHeader], 4,096 bytes); a negative value, such as [NoLimit],
// means no limit. The limits are exact: a message of Max bytes is
// accepted, a header block of MaxHeader bytes too.
//
// Errors and what follows them:
//
//   - A Content-Length over Max is reported as a [*TooLargeError] that is
//     not fatal, as soon as the header has been read: the header was
//     well formed, so the reader knows where the message ends. It drops
//     the message's bytes as they arrive, without buffering them, and
//     the next read returns the message after it. (A length too large
//     for 63 bits cannot be skipped: that error is fatal.)
//   - Everything else that is wrong with a header is a fatal
//     [*FormatError]: a line not ended by CR LF, a byte that cannot be
//     part of a field name (as when the blank line is missing and the
//     message follows the last field), a line without a colon, a
//     Content-Length missing, given twice, or not a decimal number (a
//     negative one included), a header block over MaxHeader. The
//     reader cannot know where the next message starts, and returns the
//     same error from then on. A Content-Length shorter than the message
//     it announces leaves the rest of that message where the next
//     header should be: that next header is refused so.
//   - A stream that ends inside a header or a message gives
//     io.ErrUnexpectedEOF (a Content-Length longer than the message it
//     announces waits for the missing bytes, then ends so).
//
// A Content-Length, legal or not, never sizes a buffer: the buffer grows
// only as the message's bytes arrive. A reader holds at most the larger
// of 64 KiB (what it reads at once from a fast peer) and Max or
// MaxHeader bytes, whichever is larger, plus two read buffers (4 KiB
// each).
//
// Writing: "Content-Length: N\r\n", then "Content-Type: …\r\n" if
// ContentType is set, then "\r\n" and the message. LSP peers need no
// Content-Type (its default is "application/vscode-jsonrpc;
// charset=utf-8"). Max does not apply to writing (it limits what is
// read), and the message is written as it is.
//
// A ContentLength is a configuration value, safe for concurrent use.
type ContentLength struct {
	Max         int
	MaxHeader   int
	ContentType string
}

func (c ContentLength) max() int {
	lim := limit(c.Max, DefaultMax)
	if lim < 0 {
		return maxFrame
	}
	return min(lim, maxFrame)
}

func (c ContentLength) maxHeader() int {
	lim := limit(c.MaxHeader, DefaultMaxHeader)
	if lim < 0 {
		return maxFrame
	}
	return min(lim, maxFrame)
}

// AppendFrame appends the header of msg and msg to dst and returns the
// extended buffer. It returns [ErrInvalidContentType], and dst
// unchanged, if ContentType holds a control character.
func (c ContentLength) AppendFrame(dst, msg []byte) ([]byte, error) {
	for i := 0; i < len(c.ContentType); i++ {
		if ch := c.ContentType[i]; (ch < 0x20 && ch != '\t') || ch == 0x7f {
			return dst, ErrInvalidContentType
		}
	}
	dst = append(dst, "Content-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(msg)), 10)
	dst = append(dst, "\r\n"...)
	if c.ContentType != "" {
		dst = append(dst, "Content-Type: "...)
		dst = append(dst, c.ContentType...)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	return append(dst, msg...), nil
}

// NewReader returns a Reader of Content-Length framed messages from r.
// The Reader is for one goroutine; each message it returns is valid
// until the next call to ReadMessage.
func (c ContentLength) NewReader(r io.Reader) Reader {
	mh := c.maxHeader()
	return &contentLengthReader{
		in:        inbuf{rd: r},
		max:       c.max(),
		maxHeader: mh,
		ceiling:   max(min(mh, maxFrame-readSize)+readSize, burstSize),
		length:    -1,
		body:      -1,
	}
}

// States of the header scanner.
const (
	hName  = iota // in a field name, or at the start of a line
	hValue        // in a field value
	hCR           // after a CR, which must be followed by LF
)

type contentLengthReader struct {
	in        inbuf
	max       int // resolved limits
	maxHeader int
	ceiling   int // capacity bound of in.buf while reading a header or skipping

	// The header at in.r, scanned up to pos; offsets are from in.r, so
	// that they survive the compaction of the buffer.
	pos       int
	state     int
	lineStart int
	colon     int
	length    int64 // Content-Length read, -1 if none yet
	overflow  bool  // the Content-Length does not fit in 63 bits

	body  int64 // length of the message after a header read, -1 if none
	skip  int64 // bytes of a refused message still to drop
	fatal error
}

// ReadMessage returns the next message without its header. It returns
// a [*TooLargeError] that is not fatal for a message over the limit
// (skipped), a fatal [*FormatError] or [*TooLargeError] for a header it
// cannot read past, then the same error from then on; io.EOF at the end
// of the stream, io.ErrUnexpectedEOF if it ends inside a header or a
// message.
func (cr *contentLengthReader) ReadMessage() ([]byte, error) {
	if cr.fatal != nil {
		return nil, cr.fatal
	}
	b := &cr.in
	b.release()
	for cr.skip > 0 {
		n := min(int64(b.buffered()), cr.skip)
		b.r += int(n)
		cr.skip -= n
		if cr.skip == 0 {
			break
		}
		if err := b.fill(cr.ceiling); err != nil {
			return nil, eofIn(err, true)
		}
	}
	if cr.body < 0 {
		if err := cr.readHeader(); err != nil {
			return nil, err
		}
	}
	n := int(cr.body)
	if err := b.need(n); err != nil {
		return nil, eofIn(err, true)
	}
	msg := b.buf[b.r : b.r+n : b.r+n]
	b.r += n
	cr.body = -1
	return msg, nil
}

// readHeader reads and checks a header, then consumes it and sets
// cr.body, or cr.skip for a message over the limit.
func (cr *contentLengthReader) readHeader() error {
	b := &cr.in
	for {
		done, err := cr.scanHeader()
		if err != nil {
			cr.fatal = err
			return err
		}
		if done {
			if cr.skip > 0 {
				return &TooLargeError{Limit: cr.max, Size: cr.skip}
			}
			return nil
		}
		if err := b.fill(cr.ceiling); err != nil {
			return eofIn(err, b.buffered() > 0)
		}
	}
}

// scanHeader scans the buffered bytes of the header. When it reaches the
// blank line it consumes the header and sets cr.body or cr.skip, and
// reports done; otherwise it returns with every buffered byte scanned.
// Every error it returns is fatal.
func (cr *contentLengthReader) scanHeader() (done bool, err error) {
	b := &cr.in
	h := b.buf[b.r:b.w] // the header so far, and maybe more
	if len(h) > cr.maxHeader {
		h = h[:cr.maxHeader+1]
	}
	pos, state := cr.pos, cr.state
	defer func() { cr.pos, cr.state = pos, state }()
	for ; pos < len(h); pos++ {
		if pos >= cr.maxHeader {
			return false, cr.bad("header block over the limit of " + strconv.Itoa(cr.maxHeader) + " bytes")
		}
		c := h[pos]
		switch state {
		case hName:
			switch {
			case tokenByte[c]:
			case c == ':':
				if pos == cr.lineStart {
					return false, cr.bad("header line without a field name")
				}
				cr.colon = pos
				state = hValue
				// The value runs to its CR: jump there if it is in
				// sight, within the limit.
				v := h[pos+1 : min(len(h), cr.maxHeader)]
				if i := bytes.IndexByte(v, '\r'); i >= 0 {
					if bytes.IndexByte(v[:i], '\n') >= 0 {
						return false, cr.bad("header line ended by LF without CR")
					}
					pos += i + 1
					state = hCR
				}
			case c == '\r':
				if pos != cr.lineStart {
					return false, cr.bad("header line without a colon")
				}
				state = hCR
			case c == '\n':
				return false, cr.bad("header line ended by LF without CR")
			default:
				return false, cr.bad("byte " + quoteByte(c) + " in a header field name (is the blank line after the header missing?)")
			}
		case hValue:
			switch c {
			case '\r':
				state = hCR
			case '\n':
				return false, cr.bad("header line ended by LF without CR")
			}
		case hCR:
			if c != '\n' {
				return false, cr.bad("CR not followed by LF in the header")
			}
			if pos == cr.lineStart+1 {
				// The blank line: the header ends here.
				size := pos + 1
				pos, state = 0, hName
				return true, cr.endHeader(size)
			}
			cr.pos = pos
			if err := cr.field(); err != nil {
				return false, err
			}
			state = hName
			cr.lineStart = pos + 1
		}
	}
	return false, nil
}

// field handles the complete header line at lineStart, whose colon is
// at colon and whose CR LF ends at pos.
func (cr *contentLengthReader) field() error {
	base := cr.in.r
	name := cr.in.buf[base+cr.lineStart : base+cr.colon]
	if !equalFoldASCII(name, "content-length") {
		return nil
	}
	if cr.length >= 0 || cr.overflow {
		return cr.bad("Content-Length given twice")
	}
	value := trimOWS(cr.in.buf[base+cr.colon+1 : base+cr.pos-1])
	if len(value) == 0 {
		return cr.bad("Content-Length is empty")
	}
	var n int64
	for _, c := range value {
		if c < '0' || c > '9' {
			return cr.bad("Content-Length " + quoteClip(value) + " is not a decimal number of bytes")
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			cr.overflow = true
			continue
		}
		n = n*10 + d
	}
	if !cr.overflow {
		cr.length = n
	}
	return nil
}

// endHeader consumes the header of size bytes and checks its length.
func (cr *contentLengthReader) endHeader(size int) error {
	length, overflow := cr.length, cr.overflow
	cr.in.r += size
	cr.lineStart, cr.colon = 0, 0
	cr.length, cr.overflow = -1, false
	switch {
	case overflow:
		return &TooLargeError{Limit: cr.max, Size: -1, fatal: true}
	case length < 0:
		return cr.bad("no Content-Length in the header")
	case length > int64(cr.max):
		cr.skip = length
		return nil
	}
	cr.body = length
	return nil
}

func (cr *contentLengthReader) bad(reason string) error {
	return &FormatError{Format: "Content-Length", Reason: reason, fatal: true}
}

// Buffered returns the bytes read and not yet returned as messages.
func (cr *contentLengthReader) Buffered() int { return cr.in.buffered() }

// tokenByte marks the bytes that may be part of a header field name
// (the token characters of RFC 9110).
var tokenByte = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// equalFoldASCII reports whether b equals the lower-case ASCII string
// lower, without regard to the case of b.
func equalFoldASCII(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// trimOWS returns b without the spaces and tabs around it.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// quoteClip quotes at most 32 bytes of b, for an error message.
func quoteClip(b []byte) string {
	if len(b) > 32 {
		return strconv.Quote(string(b[:32])) + "…"
	}
	return strconv.Quote(string(b))
}

// quoteByte quotes one byte for an error message: printable ASCII as a
// character, anything else in hexadecimal.
func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	const hex = "0123456789abcdef"
	return "0x" + string([]byte{hex[c>>4], hex[c&15]})
}
