package framing

import (
	"bytes"
	"errors"
	"io"
	"strconv"
)

// ErrInvalidJSON is returned by [RawJSON.AppendFrame] for a message that
// is not exactly one JSON object or array (whitespace around it
// aside): a peer could not tell where it ends.
var ErrInvalidJSON = errors.New("framing: message is not one JSON object or array")

// RawJSON frames messages as JSON values written back to back, with
// nothing or whitespace between them: the framing of Open vSwitch's
// ovsdb-server (RFC 7047), of geth's IPC socket, and of the plain object
// streams of sourcegraph/jsonrpc2. Each message is one object or array.
//
// Reading: whitespace between values is skipped; a value starts at '{'
// or '[' and ends at the bracket that closes it. The reader follows
// only what it needs to find that end (strings with their escapes, and
// the depth of brackets); the rest of the value's syntax is the
// business of the JSON-RPC decoder, which reports a parse error for a
// malformed message. (A '}' closes a '[' as far as the depth goes: a
// mismatched value is delivered whole and refused by the decoder.)
//
// Limits. Max is the largest message accepted, in bytes; MaxDepth the
// deepest nesting of objects and arrays (an empty array is 1 level).
// Zero means the default ([DefaultMax], 1,000,000 bytes, and
// [DefaultMaxDepth], 256 levels); a negative value, such as [NoLimit],
// means no limit. Both are exact and enforced while the value arrives:
// as soon as Max+1 bytes of a value have arrived without its end, or
// its depth passes MaxDepth, the reader reports it, so a nesting bomb
// of a million '[' is refused at the first '[' over the limit, and
// never buffered.
//
// Errors and what follows them:
//
//   - A value over Max is a [*TooLargeError], a value nested deeper than
//     MaxDepth a [*FormatError]; neither is fatal. The reader drops the
//     rest of the value as it arrives, without buffering it, still
//     following strings and depth to find its end, and the next read
//     returns the value after it.
//   - A top-level value that is not an object or an array (a string, a
//     number, true, false or null) is a [*FormatError] that is not
//     fatal: the reader skips that value (again without buffering it)
//     and goes on.
//   - A byte that cannot start a JSON value where a value should start
//     (such as '}', ',' or a letter), or a misspelled true, false or
//     null, is a fatal [*FormatError]: the stream is not a sequence of
//     JSON values, and the same error is returned from then on.
//   - A stream that ends inside a value gives io.ErrUnexpectedEOF; one
//     that ends after a value, or after whitespace, io.EOF.
//
// A reader holds at most Max bytes plus one read buffer (4 KiB).
//
// Writing: the message as it is, followed by '\n' if NewlineAfter is
// set. ovsdb-server itself writes nothing between values, and reads
// either; geth writes a newline. A message that is not one object or
// array is refused with [ErrInvalidJSON] (checked as a reader would
// find its end; Max and MaxDepth do not apply to writing).
//
// A RawJSON is a configuration value, safe for concurrent use.
type RawJSON struct {
	Max          int
	MaxDepth     int
	NewlineAfter bool
}

func (j RawJSON) max() int {
	lim := limit(j.Max, DefaultMax)
	if lim < 0 {
		return maxFrame
	}
	return min(lim, maxFrame)
}

// AppendFrame appends msg, and a '\n' if NewlineAfter is set, to dst and
// returns the extended buffer. It returns [ErrInvalidJSON], and dst
// unchanged, if msg is not exactly one JSON object or array, with
// nothing but whitespace around it.
func (j RawJSON) AppendFrame(dst, msg []byte) ([]byte, error) {
	i := skipSpace(msg, 0)
	if i == len(msg) || (msg[i] != '{' && msg[i] != '[') {
		return dst, ErrInvalidJSON
	}
	var sc jsonScan
	end, _ := sc.scan(msg[i:], -1)
	if end < 0 || skipSpace(msg, i+end) != len(msg) {
		return dst, ErrInvalidJSON
	}
	dst = append(dst, msg...)
	if j.NewlineAfter {
		dst = append(dst, '\n')
	}
	return dst, nil
}

// NewReader returns a Reader of JSON objects and arrays from r. The
// Reader is for one goroutine; each message it returns is valid until
// the next call to ReadMessage.
func (j RawJSON) NewReader(r io.Reader) Reader {
	lim := j.max()
	return &rawJSONReader{
		in:       inbuf{rd: r},
		max:      lim,
		maxDepth: limit(j.MaxDepth, DefaultMaxDepth),
		ceiling:  min(lim, maxFrame-readSize) + readSize,
	}
}

// What a RawJSON reader is dropping.
const (
	skipNone   = iota
	skipValue  // the rest of an object or array refused
	skipString // the rest of a top-level string
	skipNumber // the rest of a top-level number
)

type rawJSONReader struct {
	in       inbuf
	max      int // resolved limits; maxDepth -1 for none
	maxDepth int
	ceiling  int // capacity bound of in.buf

	sc      jsonScan // state of the scan of the value at in.r
	scanned int      // bytes of that value scanned; 0: between values
	skip    int
	fatal   error
}

// ReadMessage returns the next object or array. It returns a
// [*TooLargeError] or [*FormatError] that is not fatal for a value it
// refuses and skips, a fatal [*FormatError] for bytes that are not JSON,
// then the same error from then on; io.EOF at the end of the stream,
// io.ErrUnexpectedEOF if it ends inside a value.
func (jr *rawJSONReader) ReadMessage() ([]byte, error) {
	if jr.fatal != nil {
		return nil, jr.fatal
	}
	b := &jr.in
	b.release()
	for {
		if jr.skip != skipNone {
			if !jr.dropSome() {
				if err := b.fill(jr.ceiling); err != nil {
					if err == io.EOF && jr.skip == skipNumber {
						jr.skip = skipNone // a number ends at the end of the stream
					}
					return nil, eofIn(err, jr.skip != skipNone)
				}
			}
			continue
		}
		if jr.scanned == 0 {
			b.r = skipSpace(b.buf[:b.w], b.r)
			if b.r == b.w {
				if err := b.fill(jr.ceiling); err != nil {
					return nil, err
				}
				continue
			}
			if c := b.buf[b.r]; c != '{' && c != '[' {
				if err := jr.topLevel(c); err != nil {
					return nil, err
				}
				continue
			}
			jr.sc = jsonScan{}
		}
		// In a value: scan what has arrived, up to one byte past the
		// limit.
		start, end := b.r+jr.scanned, b.w
		if end-b.r > jr.max {
			end = b.r + jr.max + 1
		}
		i, deep := jr.sc.scan(b.buf[start:end], jr.maxDepth)
		if deep {
			b.r = start + i + 1
			jr.scanned = 0
			jr.skip = skipValue
			return nil, &FormatError{Format: "JSON", Reason: "nesting deeper than " + strconv.Itoa(jr.maxDepth) + " levels"}
		}
		if i >= 0 {
			e := start + i
			n := e - b.r
			msg := b.buf[b.r:e:e]
			b.r = e
			jr.scanned = 0
			if n > jr.max {
				return nil, &TooLargeError{Limit: jr.max, Size: int64(n)}
			}
			return msg, nil
		}
		jr.scanned = end - b.r
		if jr.scanned > jr.max {
			b.r = end
			jr.scanned = 0
			jr.skip = skipValue
			return nil, &TooLargeError{Limit: jr.max, Size: -1}
		}
		if err := b.fill(jr.ceiling); err != nil {
			return nil, eofIn(err, true)
		}
	}
}

// topLevel handles the byte c, which starts a value but not an object or
// an array: it returns a non-fatal error for a scalar, which it then
// skips, a fatal one for anything else, or nil when more bytes are
// needed to tell.
func (jr *rawJSONReader) topLevel(c byte) error {
	b := &jr.in
	var what string
	switch {
	case c == '"':
		b.r++
		jr.sc = jsonScan{str: true}
		jr.skip = skipString
		what = "a string"
	case c == '-' || ('0' <= c && c <= '9'):
		b.r++
		jr.skip = skipNumber
		what = "a number"
	case c == 't' || c == 'f' || c == 'n':
		lit := "true"
		switch c {
		case 'f':
			lit = "false"
		case 'n':
			lit = "null"
		}
		got := b.buf[b.r:min(b.w, b.r+len(lit))]
		if string(got) != lit[:len(got)] {
			return jr.setFatal("invalid literal " + quoteClip(got) + " at top level")
		}
		if len(got) < len(lit) {
			if err := b.fill(jr.ceiling); err != nil {
				return eofIn(err, true)
			}
			return nil
		}
		b.r += len(lit)
		what = lit
	default:
		return jr.setFatal("byte " + quoteByte(c) + " where a JSON value should start")
	}
	return &FormatError{Format: "JSON", Reason: "top-level value is " + what + ", not an object or an array"}
}

func (jr *rawJSONReader) setFatal(reason string) error {
	jr.fatal = &FormatError{Format: "JSON", Reason: reason, fatal: true}
	return jr.fatal
}

// dropSome drops the buffered bytes of what is being skipped, and
// reports whether its end was found.
func (jr *rawJSONReader) dropSome() bool {
	b := &jr.in
	p := b.buf[b.r:b.w]
	if jr.skip == skipNumber {
		for i, c := range p {
			if !isNumberByte(c) {
				b.r += i
				jr.skip = skipNone
				return true
			}
		}
		b.r = b.w
		return false
	}
	i, _ := jr.sc.scan(p, -1)
	if i < 0 {
		b.r = b.w
		return false
	}
	b.r += i
	jr.skip = skipNone
	return true
}

func isNumberByte(c byte) bool {
	return ('0' <= c && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// skipSpace returns the index of the first byte of p at or after i that
// is not JSON whitespace, or len(p).
func skipSpace(p []byte, i int) int {
	for i < len(p) {
		switch p[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// jsonScan follows the structure of a JSON value as its bytes arrive:
// the depth of brackets, and whether it is inside a string and just
// after a backslash there.
type jsonScan struct {
	depth int
	str   bool
	esc   bool
}

// Classes of bytes outside strings.
const (
	clOther = iota
	clOpen
	clClose
	clQuote
)

var jsonClass = [256]uint8{'{': clOpen, '[': clOpen, '}': clClose, ']': clClose, '"': clQuote}

// scan goes on over p. It returns the index just past the byte that ends
// the value (the bracket that brings the depth back to 0, or the quote
// that closes a string at depth 0), or -1 if p ends first. If a bracket
// takes the depth past maxDepth (-1: no limit), it returns that
// bracket's index and deep, the bracket counted.
func (s *jsonScan) scan(p []byte, maxDepth int) (end int, deep bool) {
	depth, str := s.depth, s.str
	i := 0
	if s.esc {
		if len(p) == 0 {
			return -1, false
		}
		s.esc = false
		i = 1
	}
	for ; i < len(p); i++ {
		if str {
			// To the closing quote, or to a backslash before it.
			rest := p[i:]
			q := bytes.IndexByte(rest, '"')
			if q < 0 {
				q = len(rest)
			}
			if bs := bytes.IndexByte(rest[:q], '\\'); bs >= 0 {
				i += bs + 1 // the escaped byte
				if i == len(p) {
					s.esc = true
					break
				}
				continue
			}
			i += q
			if i == len(p) {
				break
			}
			str = false
			if depth == 0 {
				s.depth, s.str = depth, str
				return i + 1, false
			}
			continue
		}
		switch jsonClass[p[i]] {
		case clOpen:
			depth++
			if maxDepth >= 0 && depth > maxDepth {
				s.depth, s.str = depth, str
				return i, true
			}
		case clClose:
			depth--
			if depth <= 0 {
				s.depth, s.str = 0, str
				return i + 1, false
			}
		case clQuote:
			str = true
		}
	}
	s.depth, s.str = depth, str
	return -1, false
}

// Buffered returns the bytes read and not yet returned as messages,
// whitespace between values aside: a peer that ends each value with a
// newline does not look as if it had sent more.
func (jr *rawJSONReader) Buffered() int {
	b := &jr.in
	if jr.scanned == 0 && jr.skip == skipNone && jr.fatal == nil {
		b.r = skipSpace(b.buf[:b.w], b.r)
	}
	return b.buffered()
}
