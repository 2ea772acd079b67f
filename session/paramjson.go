// This file splits and decodes the raw JSON of params for the Func
// adapter without going through encoding/json when it can.

package session

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"unicode/utf8"
)

// jsonMember is one member of a JSON object, as raw bytes.
type jsonMember struct {
	key   []byte // the raw key, quotes included
	value []byte
}

// name returns the member's name, unescaped.
func (m *jsonMember) name() []byte {
	k := m.key[1 : len(m.key)-1]
	if !slices.Contains(k, '\\') && utf8.Valid(k) {
		return k
	}
	var s string
	if json.Unmarshal(m.key, &s) != nil {
		return k
	}
	return []byte(s)
}

// The functions below split a JSON array or object into its raw
// elements or members. They check the structure (brackets, strings,
// commas, colons) but not the literals inside; every element or member
// value that is used is then validated by json.Unmarshal. They never
// read beyond data and each loop advances at every step.

func isJSONSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// skipJSONSpace returns the index of the first non-space byte of data at or
// after i.
func skipJSONSpace(data []byte, i int) int {
	for i < len(data) && isJSONSpace(data[i]) {
		i++
	}
	return i
}

// trimJSONSpaceRight returns data without trailing JSON white space.
func trimJSONSpaceRight(data []byte) []byte {
	for len(data) > 0 && isJSONSpace(data[len(data)-1]) {
		data = data[:len(data)-1]
	}
	return data
}

// skipJSONString returns the index after the string starting at data[i].
func skipJSONString(data []byte, i int) (int, bool) {
	for i++; i < len(data); i++ {
		switch c := data[i]; {
		case c == '"':
			return i + 1, true
		case c == '\\':
			i++
		case c < 0x20:
			return i, false
		}
	}
	return i, false
}

// skipJSONValue returns the index after the value starting at data[i].
func skipJSONValue(data []byte, i int) (int, bool) {
	if i >= len(data) {
		return i, false
	}
	switch data[i] {
	case '"':
		return skipJSONString(data, i)
	case '[', '{':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				j, ok := skipJSONString(data, i)
				if !ok {
					return j, false
				}
				i = j
				continue
			case '[', '{':
				depth++
			case ']', '}':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
			i++
		}
		return i, false
	case ']', '}', ',', ':':
		return i, false
	}
	start := i
	for i < len(data) {
		switch c := data[i]; c {
		case ']', '}', ',', ':', '"', '[', '{', ' ', '\t', '\n', '\r':
			return i, i > start
		}
		i++
	}
	return i, true
}

// splitJSONArray appends the elements of the array data, which starts with
// '[', to dst; it reports false if data is not one well-formed array.
// The elements share memory with data.
func splitJSONArray[E ~[]byte](data []byte, dst []E) ([]E, bool) {
	i := skipJSONSpace(data, 1)
	if i < len(data) && data[i] == ']' {
		return dst, skipJSONSpace(data, i+1) == len(data)
	}
	for {
		j, ok := skipJSONValue(data, i)
		if !ok {
			return dst, false
		}
		dst = append(dst, E(data[i:j]))
		i = skipJSONSpace(data, j)
		if i == len(data) {
			return dst, false
		}
		switch data[i] {
		case ',':
			i = skipJSONSpace(data, i+1)
		case ']':
			return dst, skipJSONSpace(data, i+1) == len(data)
		default:
			return dst, false
		}
	}
}

// splitJSONObject appends the members of the object data, which starts with
// '{', to dst; it reports false if data is not one well-formed object.
func splitJSONObject(data []byte, dst []jsonMember) ([]jsonMember, bool) {
	i := skipJSONSpace(data, 1)
	if i < len(data) && data[i] == '}' {
		return dst, skipJSONSpace(data, i+1) == len(data)
	}
	for {
		if i == len(data) || data[i] != '"' {
			return dst, false
		}
		j, ok := skipJSONString(data, i)
		if !ok {
			return dst, false
		}
		key := data[i:j]
		i = skipJSONSpace(data, j)
		if i == len(data) || data[i] != ':' {
			return dst, false
		}
		i = skipJSONSpace(data, i+1)
		j, ok = skipJSONValue(data, i)
		if !ok {
			return dst, false
		}
		dst = append(dst, jsonMember{key: key, value: data[i:j]})
		i = skipJSONSpace(data, j)
		if i == len(data) {
			return dst, false
		}
		switch data[i] {
		case ',':
			i = skipJSONSpace(data, i+1)
		case '}':
			return dst, skipJSONSpace(data, i+1) == len(data)
		default:
			return dst, false
		}
	}
}

// fastKind says how a value of some type may be decoded without
// encoding/json, in the common cases where the outcome is the same.
type fastKind uint8

const (
	fastNone fastKind = iota // always use encoding/json
	fastInt
	fastUint
	fastFloat
	fastBool
	fastString
)

// fastKindOf returns the fastKind of type t.
func fastKindOf(t reflect.Type) fastKind {
	if t.Implements(reflectUnmarshaler) || reflect.PointerTo(t).Implements(reflectUnmarshaler) ||
		t.Implements(reflectTextUnmarshaler) || reflect.PointerTo(t).Implements(reflectTextUnmarshaler) ||
		t == reflectNumber {
		// json.Number takes a number, and checks a string.
		return fastNone
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fastInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return fastUint
	case reflect.Float32, reflect.Float64:
		return fastFloat
	case reflect.Bool:
		return fastBool
	case reflect.String:
		return fastString
	}
	return fastNone
}

// decodeFast stores in v, a settable value of kind k, the JSON value raw
// and reports true if it is a case where the outcome is certainly the
// one json.Unmarshal gives; otherwise it reports false and leaves v
// unchanged, and json.Unmarshal must decide (and word any error).
func decodeFast(raw []byte, v reflect.Value, k fastKind) bool {
	if string(raw) == "null" {
		// encoding/json leaves a number, bool or string unchanged.
		return true
	}
	switch k {
	case fastInt:
		if !isJSONNumber(raw, true) {
			return false
		}
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || v.OverflowInt(n) {
			return false
		}
		v.SetInt(n)
	case fastUint:
		if !isJSONNumber(raw, true) || raw[0] == '-' {
			return false
		}
		n, err := strconv.ParseUint(string(raw), 10, 64)
		if err != nil || v.OverflowUint(n) {
			return false
		}
		v.SetUint(n)
	case fastFloat:
		if !isJSONNumber(raw, false) {
			return false
		}
		f, err := strconv.ParseFloat(string(raw), v.Type().Bits())
		if err != nil || v.OverflowFloat(f) {
			return false
		}
		v.SetFloat(f)
	case fastBool:
		switch string(raw) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return false
		}
	default: // fastString
		if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
			return false
		}
		s := raw[1 : len(raw)-1]
		for _, c := range s {
			if c == '\\' || c == '"' || c < 0x20 {
				return false
			}
		}
		if !utf8.Valid(s) {
			return false
		}
		v.SetString(string(s))
	}
	return true
}

// isJSONNumber reports whether b is a JSON number; if integer is set,
// one without fraction or exponent.
func isJSONNumber(b []byte, integer bool) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i == len(b):
		return false
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		i = skipJSONDigits(b, i)
	default:
		return false
	}
	if integer {
		return i == len(b)
	}
	if i < len(b) && b[i] == '.' {
		j := skipJSONDigits(b, i+1)
		if j == i+1 {
			return false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := skipJSONDigits(b, i)
		if j == i {
			return false
		}
		i = j
	}
	return i == len(b)
}

// skipJSONDigits returns the index of the first byte of b at or after i that
// is not a decimal digit.
func skipJSONDigits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}
