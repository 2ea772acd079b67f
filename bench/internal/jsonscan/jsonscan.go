// Package jsonscan finds the extent of JSON values in a byte slice
// without decoding them: just enough for the benchmark's load generator to
// check a response, and for the raw echo server to answer a request, with
// no allocation, reflection or map.
//
// The functions check the structure of what they skip (balanced brackets,
// terminated strings, a colon after each key) but not every detail of
// the JSON grammar (the digits of a number, the escapes of a string,
// UTF-8): a value that the benchmark compares byte for byte against what
// it sent needs no more.
package jsonscan

// SkipSpace returns the index of the first byte of b at or after i that
// is not JSON white space, or len(b).
func SkipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// Value returns the index just past the JSON value that starts at b[i]
// (no white space before it), or -1 if there is no complete value there.
func Value(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		return containerEnd(b, i)
	default:
		// A number or a literal: the bytes these can be made of.
		j := i
		for j < len(b) && isAtomByte(b[j]) {
			j++
		}
		if j == i {
			return -1
		}
		return j
	}
}

// isAtomByte reports whether c can be part of a JSON number or literal.
func isAtomByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '+' || c == '.'
}

// stringEnd returns the index just past the string that starts at b[i]
// (a '"'), or -1 if it is not terminated.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// containerEnd returns the index just past the object or array that
// starts at b[i], or -1 if its brackets do not balance within b.
func containerEnd(b []byte, i int) int {
	depth := 0
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '"':
			j = stringEnd(b, j)
			if j < 0 {
				return -1
			}
			j-- // the loop's j++ steps past the closing quote
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return j + 1
			}
		}
	}
	return -1
}

// Member is one member of a JSON object: the raw key, with its quotes,
// and the raw value.
type Member struct {
	Key, Value []byte
}

// Object calls fn for each member of the object that starts at b[i]
// (a '{') and returns the index just past it, or -1 if the object is
// malformed; fn is not called after a malformed member. fn returning
// false stops the walk, and Object then returns -1 as well.
func Object(b []byte, i int, fn func(Member) bool) int {
	if i >= len(b) || b[i] != '{' {
		return -1
	}
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1
	}
	for i < len(b) {
		if b[i] != '"' {
			return -1
		}
		k := stringEnd(b, i)
		if k < 0 {
			return -1
		}
		key := b[i:k]
		i = SkipSpace(b, k)
		if i >= len(b) || b[i] != ':' {
			return -1
		}
		i = SkipSpace(b, i+1)
		v := Value(b, i)
		if v < 0 {
			return -1
		}
		if !fn(Member{Key: key, Value: b[i:v]}) {
			return -1
		}
		i = SkipSpace(b, v)
		if i >= len(b) {
			return -1
		}
		switch b[i] {
		case '}':
			return i + 1
		case ',':
			i = SkipSpace(b, i+1)
		default:
			return -1
		}
	}
	return -1
}

// Elements calls fn with each element of the array that starts at b[i]
// (a '[') and returns the index just past it, or -1 if the array is
// malformed or fn returned false.
func Elements(b []byte, i int, fn func(elem []byte) bool) int {
	if i >= len(b) || b[i] != '[' {
		return -1
	}
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1
	}
	for i < len(b) {
		v := Value(b, i)
		if v < 0 {
			return -1
		}
		if !fn(b[i:v]) {
			return -1
		}
		i = SkipSpace(b, v)
		if i >= len(b) {
			return -1
		}
		switch b[i] {
		case ']':
			return i + 1
		case ',':
			i = SkipSpace(b, i+1)
		default:
			return -1
		}
	}
	return -1
}
