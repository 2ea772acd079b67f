package protocol

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// scanErr says why scanning stopped; scanOK means it did not fail.
type scanErr uint8

const (
	scanOK      scanErr = iota
	errSyntax           // not JSON (NaN and Infinity included)
	errEOF              // the input ends inside a value
	errUTF8             // bytes that are not UTF-8
	errDepth            // arrays and objects nested too deeply
	errTrailing         // more than one value
)

// scanner validates JSON held in buf, strictly (RFC 8259 and valid
// UTF-8), without recursion and without allocating unless nesting goes
// past 256 levels. Each method takes the index where a token starts
// and returns the index just past it; on failure, the index of the
// offending byte and the reason.
type scanner struct {
	buf      []byte
	maxDepth int
	// space is set once whitespace has been skipped between tokens.
	space bool
}

// plain marks the bytes that a string may hold as they are: printable
// ASCII but the quote and the backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// ws returns the index of the first byte at or after i that is not
// JSON whitespace.
func (s *scanner) ws(i int) int {
	b := s.buf
	if i < len(b) && b[i] > ' ' {
		return i
	}
	j := i
	for j < len(b) && (b[j] == ' ' || b[j] == '\n' || b[j] == '\r' || b[j] == '\t') {
		j++
	}
	if j != i {
		s.space = true
	}
	return j
}

// end checks that nothing but whitespace follows index i.
func (s *scanner) end(i int) (int, scanErr) {
	if i = s.ws(i); i != len(s.buf) {
		return i, errTrailing
	}
	return i, scanOK
}

// Masks for looking at 8 string bytes at once.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// special reports (as a non-zero value) whether any byte of x is a
// control character, a quote, a backslash or not ASCII. Each term is
// the classic test for "some byte is below n" or "some byte is zero",
// which is exact as to whether any byte matches.
func special(x uint64) uint64 {
	q := x ^ (ones * '"')
	bs := x ^ (ones * '\\')
	return (x | (x-ones*0x20)&^x | (q-ones)&^q | (bs-ones)&^bs) & highs
}

// str scans the string whose opening quote is at i. It reports whether
// the string holds escape sequences.
func (s *scanner) str(i int) (int, bool, scanErr) {
	b := s.buf
	esc := false
	i++
	for {
		for i+8 <= len(b) && special(binary.LittleEndian.Uint64(b[i:])) == 0 {
			i += 8
		}
		for i < len(b) && plain[b[i]] {
			i++
		}
		if i >= len(b) {
			return i, esc, errEOF
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, esc, scanOK
		case c == '\\':
			esc = true
			n, err := s.escape(i)
			if err != scanOK {
				return n, esc, err
			}
			i = n
		case c < 0x20:
			return i, esc, errSyntax
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return i, esc, errUTF8
			}
			i += size
		}
	}
}

// escape scans the escape sequence whose backslash is at i.
func (s *scanner) escape(i int) (int, scanErr) {
	b := s.buf
	if i+1 >= len(b) {
		return i + 1, errEOF
	}
	switch b[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 2, scanOK
	case 'u':
		for k := i + 2; k < i+6; k++ {
			if k >= len(b) {
				return k, errEOF
			}
			if unhex(b[k]) < 0 {
				return k, errSyntax
			}
		}
		return i + 6, scanOK
	}
	return i + 1, errSyntax
}

// unhex returns the value of the hex digit c, or -1.
func unhex(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// digits returns the index of the first byte at or after i that is not
// a decimal digit.
func (s *scanner) digits(i int) int {
	b := s.buf
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

// number scans the number that starts at i.
func (s *scanner) number(i int) (int, scanErr) {
	b := s.buf
	if b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return i, errEOF
	case b[i] == '0':
		i++
	case isDigit(b[i]):
		i = s.digits(i + 1)
	default:
		return i, errSyntax
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) {
			return i, errEOF
		}
		if !isDigit(b[i]) {
			return i, errSyntax
		}
		i = s.digits(i)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) {
			return i, errEOF
		}
		if !isDigit(b[i]) {
			return i, errSyntax
		}
		i = s.digits(i)
	}
	return i, scanOK
}

// literal scans the word (true, false or null) expected at i.
func (s *scanner) literal(i int, word string) (int, scanErr) {
	b := s.buf
	for k := 0; k < len(word); k++ {
		if i+k >= len(b) {
			return i + k, errEOF
		}
		if b[i+k] != word[k] {
			return i + k, errSyntax
		}
	}
	return i + len(word), scanOK
}

// scalar scans the string, number or literal at i (which is in range).
func (s *scanner) scalar(i int) (int, scanErr) {
	switch c := s.buf[i]; {
	case c == '"':
		n, _, err := s.str(i)
		return n, err
	case c == '-' || isDigit(c):
		return s.number(i)
	case c == 't':
		return s.literal(i, "true")
	case c == 'f':
		return s.literal(i, "false")
	case c == 'n':
		return s.literal(i, "null")
	}
	return i, errSyntax
}

// value scans the value that starts at i (not whitespace) inside depth
// enclosing arrays and objects.
func (s *scanner) value(i, depth int) (int, scanErr) {
	if i >= len(s.buf) {
		return i, errEOF
	}
	if c := s.buf[i]; c == '{' || c == '[' {
		return s.nested(i, depth)
	}
	return s.scalar(i)
}

// key scans an object member's name and colon at i and returns the
// index of its value.
func (s *scanner) key(i int) (int, scanErr) {
	b := s.buf
	if i >= len(b) {
		return i, errEOF
	}
	if b[i] != '"' {
		return i, errSyntax
	}
	i, _, err := s.str(i)
	if err != scanOK {
		return i, err
	}
	if i = s.ws(i); i >= len(b) {
		return i, errEOF
	}
	if b[i] != ':' {
		return i, errSyntax
	}
	if i = s.ws(i + 1); i >= len(b) {
		return i, errEOF
	}
	return i, scanOK
}

// nested scans the array or object at i inside depth enclosing ones.
// It keeps one bit per open level (set for an object) instead of
// recursing.
func (s *scanner) nested(i, depth int) (int, scanErr) {
	b := s.buf
	var words [4]uint64
	stack := words[:]
	level := 0
	var err scanErr
open:
	for {
		// b[i] opens an array or an object.
		if depth+level >= s.maxDepth {
			return i, errDepth
		}
		obj := b[i] == '{'
		w, bit := level>>6, uint64(1)<<(level&63)
		if w == len(stack) {
			stack = append(stack, 0)
		}
		if obj {
			stack[w] |= bit
		} else {
			stack[w] &^= bit
		}
		level++
		if i = s.ws(i + 1); i >= len(b) {
			return i, errEOF
		}
		if c := b[i]; obj && c == '}' || !obj && c == ']' {
			i++
			level--
		} else {
			if obj {
				if i, err = s.key(i); err != scanOK {
					return i, err
				}
			}
			if c := b[i]; c == '{' || c == '[' {
				continue open
			}
			if i, err = s.scalar(i); err != scanOK {
				return i, err
			}
		}
		// A value has ended: close levels until another one starts.
		for level > 0 {
			if i = s.ws(i); i >= len(b) {
				return i, errEOF
			}
			top := level - 1
			obj := stack[top>>6]&(uint64(1)<<(top&63)) != 0
			switch c := b[i]; {
			case c == ',':
				if i = s.ws(i + 1); i >= len(b) {
					return i, errEOF
				}
				if obj {
					if i, err = s.key(i); err != scanOK {
						return i, err
					}
				}
				if c := b[i]; c == '{' || c == '[' {
					continue open
				}
				if i, err = s.scalar(i); err != scanOK {
					return i, err
				}
			case obj && c == '}' || !obj && c == ']':
				i++
				level--
			default:
				return i, errSyntax
			}
		}
		return i, scanOK
	}
}

// describe says what is wrong at i.
func (s *scanner) describe(i int, err scanErr) string {
	switch err {
	case errUTF8:
		return "invalid UTF-8 at byte " + strconv.Itoa(i)
	case errDepth:
		return "invalid JSON: nested deeper than " + strconv.Itoa(s.maxDepth) + " levels"
	case errEOF:
		return "invalid JSON: unexpected end of input"
	case errTrailing:
		return "invalid JSON: data after the value at byte " + strconv.Itoa(i)
	}
	return "invalid JSON at byte " + strconv.Itoa(i)
}

// parseError returns the protocol error for a message that failed to
// scan at i: a -32700 error owing a reply with a null ID.
func (s *scanner) parseError(i int, err scanErr) *ProtocolError {
	msg := s.describe(i, err)
	if err == errUTF8 {
		msg = "messages must be encoded in UTF-8" // aiorpcX's wording
	}
	return newProtocolError(CodeParseError, msg, nil, false)
}
