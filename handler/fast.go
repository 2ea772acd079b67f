// This file decodes the commonest parameter types without going
// through encoding/json, where the outcome is certainly the same.

package handler

import (
	"bytes"
	"reflect"
	"strconv"

	"github.com/gorpcx/gorpcx/internal/jsonscan"
)

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
	fastRaw // json.RawMessage: the value itself
)

// fastKindOf returns the fastKind of type t.
func fastKindOf(t reflect.Type) fastKind {
	if t == reflectRawMessage {
		return fastRaw
	}
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
// one json.Unmarshal gives (raw is one whole valid JSON value, as the
// params a session hands over are split into: fastRaw relies on it); otherwise it reports false and leaves v
// unchanged, and json.Unmarshal must decide (and word any error).
func decodeFast(raw []byte, v reflect.Value, k fastKind) bool {
	if k == fastRaw {
		// json.RawMessage takes any value, null too, as it is: raw is
		// one whole value (the params were checked as the message was
		// decoded, and split on its values). It shares the request's
		// bytes (capped, so that an append copies), which nothing
		// changes, where encoding/json would copy them.
		v.SetBytes(raw[:len(raw):len(raw)])
		return true
	}
	if string(raw) == "null" {
		// encoding/json leaves a number, bool or string unchanged.
		return true
	}
	switch k {
	case fastInt:
		if !isNumber(raw, true) {
			return false
		}
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || v.OverflowInt(n) {
			return false
		}
		v.SetInt(n)
	case fastUint:
		if !isNumber(raw, true) || raw[0] == '-' {
			return false
		}
		n, err := strconv.ParseUint(string(raw), 10, 64)
		if err != nil || v.OverflowUint(n) {
			return false
		}
		v.SetUint(n)
	case fastFloat:
		if !isNumber(raw, false) {
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
		if len(raw) == 0 || raw[0] != '"' {
			return false
		}
		s := jsonscan.Scanner{Buf: raw}
		end, esc, err := s.Str(0)
		if err != jsonscan.OK || esc || end != len(raw) {
			return false
		}
		v.SetString(string(raw[1 : end-1]))
	}
	return true
}

// isNumber reports whether b is exactly one JSON number; if integer is
// set, one without fraction or exponent.
func isNumber(b []byte, integer bool) bool {
	if len(b) == 0 {
		return false
	}
	s := jsonscan.Scanner{Buf: b}
	if end, err := s.Number(0); err != jsonscan.OK || end != len(b) {
		return false
	}
	return !integer || !bytes.ContainsAny(b, ".eE")
}
