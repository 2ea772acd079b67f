package jsonscan

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// Err says why scanning stopped; OK means it did not fail.
type Err uint8

const (
	OK       Err = iota
	Syntax       // not JSON (NaN and Infinity included)
	EOF          // the input ends inside a value
	BadUTF8      // bytes that are not UTF-8
	TooDeep      // arrays and objects nested deeper than MaxDepth
	Trailing     // more than one value
)

// Scanner validates JSON held in Buf, strictly (RFC 8259 and valid
// UTF-8), without recursion and without allocating unless nesting goes
// past 256 levels. Each method takes the index in Buf where a token
// starts and returns the index just past it; on failure, the index of
// the offending byte and the reason. A Scanner is a value to keep on
// the stack: it holds no resources.
type Scanner struct {
	Buf []byte
	// MaxDepth bounds the nesting of arrays and objects: a value at
	// depth MaxDepth (counting enclosing arrays and objects) may not
	// itself be an array or an object. Zero allows scalars only.
	MaxDepth int
	// Spaced is set once white space has been skipped between tokens.
	Spaced bool
}

// plain marks the bytes that a string may hold as they are: printable
// ASCII but the quote and the backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// IsPlain reports whether c may stand as it is inside a JSON string,
// unescaped and alone: printable ASCII but the quote and the backslash.
func IsPlain(c byte) bool { return plain[c] }

// SkipSpace returns the index of the first byte at or after i that is
// not JSON white space.
func (s *Scanner) SkipSpace(i int) int {
	b := s.Buf
	if i < len(b) && b[i] > ' ' {
		return i
	}
	j := i
	for j < len(b) && (b[j] == ' ' || b[j] == '\n' || b[j] == '\r' || b[j] == '\t') {
		j++
	}
	if j != i {
		s.Spaced = true
	}
	return j
}

// End checks that nothing but white space follows index i: it returns
// len(Buf) and OK, or the index of the first other byte and Trailing.
func (s *Scanner) End(i int) (int, Err) {
	if i = s.SkipSpace(i); i != len(s.Buf) {
		return i, Trailing
	}
	return i, OK
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

// Str scans the string whose opening quote is at i. It reports whether
// the string holds escape sequences.
func (s *Scanner) Str(i int) (int, bool, Err) {
	b := s.Buf
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
			return i, esc, EOF
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, esc, OK
		case c == '\\':
			esc = true
			n, err := s.escape(i)
			if err != OK {
				return n, esc, err
			}
			i = n
		case c < 0x20:
			return i, esc, Syntax
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return i, esc, BadUTF8
			}
			i += size
		}
	}
}

// escape scans the escape sequence whose backslash is at i.
func (s *Scanner) escape(i int) (int, Err) {
	b := s.Buf
	if i+1 >= len(b) {
		return i + 1, EOF
	}
	switch b[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 2, OK
	case 'u':
		for k := i + 2; k < i+6; k++ {
			if k >= len(b) {
				return k, EOF
			}
			if unhex(b[k]) < 0 {
				return k, Syntax
			}
		}
		return i + 6, OK
	}
	return i + 1, Syntax
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

// IsDigit reports whether c is a decimal digit.
func IsDigit(c byte) bool { return '0' <= c && c <= '9' }

// digits returns the index of the first byte at or after i that is not
// a decimal digit.
func (s *Scanner) digits(i int) int {
	b := s.Buf
	for i < len(b) && IsDigit(b[i]) {
		i++
	}
	return i
}

// Number scans the number that starts at i (which is in range).
func (s *Scanner) Number(i int) (int, Err) {
	b := s.Buf
	if b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return i, EOF
	case b[i] == '0':
		i++
	case IsDigit(b[i]):
		i = s.digits(i + 1)
	default:
		return i, Syntax
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) {
			return i, EOF
		}
		if !IsDigit(b[i]) {
			return i, Syntax
		}
		i = s.digits(i)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) {
			return i, EOF
		}
		if !IsDigit(b[i]) {
			return i, Syntax
		}
		i = s.digits(i)
	}
	return i, OK
}

// literal scans the word (true, false or null) expected at i.
func (s *Scanner) literal(i int, word string) (int, Err) {
	b := s.Buf
	for k := 0; k < len(word); k++ {
		if i+k >= len(b) {
			return i + k, EOF
		}
		if b[i+k] != word[k] {
			return i + k, Syntax
		}
	}
	return i + len(word), OK
}

// Scalar scans the string, number or literal at i (which is in range).
func (s *Scanner) Scalar(i int) (int, Err) {
	switch c := s.Buf[i]; {
	case c == '"':
		n, _, err := s.Str(i)
		return n, err
	case c == '-' || IsDigit(c):
		return s.Number(i)
	case c == 't':
		return s.literal(i, "true")
	case c == 'f':
		return s.literal(i, "false")
	case c == 'n':
		return s.literal(i, "null")
	}
	return i, Syntax
}

// Value scans the value that starts at i (not white space) inside
// depth enclosing arrays and objects.
func (s *Scanner) Value(i, depth int) (int, Err) {
	if i >= len(s.Buf) {
		return i, EOF
	}
	if c := s.Buf[i]; c == '{' || c == '[' {
		return s.nested(i, depth)
	}
	return s.Scalar(i)
}

// key scans an object member's name and colon at i and returns the
// index of its value.
func (s *Scanner) key(i int) (int, Err) {
	b := s.Buf
	if i >= len(b) {
		return i, EOF
	}
	if b[i] != '"' {
		return i, Syntax
	}
	i, _, err := s.Str(i)
	if err != OK {
		return i, err
	}
	if i = s.SkipSpace(i); i >= len(b) {
		return i, EOF
	}
	if b[i] != ':' {
		return i, Syntax
	}
	if i = s.SkipSpace(i + 1); i >= len(b) {
		return i, EOF
	}
	return i, OK
}

// nested scans the array or object at i inside depth enclosing ones.
// It keeps one bit per open level (set for an object) instead of
// recursing.
func (s *Scanner) nested(i, depth int) (int, Err) {
	b := s.Buf
	var words [4]uint64
	stack := words[:]
	level := 0
	var err Err
open:
	for {
		// b[i] opens an array or an object.
		if depth+level >= s.MaxDepth {
			return i, TooDeep
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
		if i = s.SkipSpace(i + 1); i >= len(b) {
			return i, EOF
		}
		if c := b[i]; obj && c == '}' || !obj && c == ']' {
			i++
			level--
		} else {
			if obj {
				if i, err = s.key(i); err != OK {
					return i, err
				}
			}
			if c := b[i]; c == '{' || c == '[' {
				continue open
			}
			if i, err = s.Scalar(i); err != OK {
				return i, err
			}
		}
		// A value has ended: close levels until another one starts.
		for level > 0 {
			if i = s.SkipSpace(i); i >= len(b) {
				return i, EOF
			}
			top := level - 1
			obj := stack[top>>6]&(uint64(1)<<(top&63)) != 0
			switch c := b[i]; {
			case c == ',':
				if i = s.SkipSpace(i + 1); i >= len(b) {
					return i, EOF
				}
				if obj {
					if i, err = s.key(i); err != OK {
						return i, err
					}
				}
				if c := b[i]; c == '{' || c == '[' {
					continue open
				}
				if i, err = s.Scalar(i); err != OK {
					return i, err
				}
			case obj && c == '}' || !obj && c == ']':
				i++
				level--
			default:
				return i, Syntax
			}
		}
		return i, OK
	}
}

// Describe says what is wrong at i, for an error message.
func (s *Scanner) Describe(i int, err Err) string {
	switch err {
	case BadUTF8:
		return "invalid UTF-8 at byte " + strconv.Itoa(i)
	case TooDeep:
		return "invalid JSON: nested deeper than " + strconv.Itoa(s.MaxDepth) + " levels"
	case EOF:
		return "invalid JSON: unexpected end of input"
	case Trailing:
		return "invalid JSON: data after the value at byte " + strconv.Itoa(i)
	}
	return "invalid JSON at byte " + strconv.Itoa(i)
}
