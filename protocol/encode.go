package protocol

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/internal/jsonscan"
)

// The shapes a raw value must have.
const (
	anyValue = iota
	arrayOrObject
	arrayOnly
)

// AppendRequest implements Codec. It returns a -32600 error for an ID
// that is missing or not a JSON number or string (or null; in 1.0, not
// one JSON value: see the package documentation), a -32602
// error for params that are not a JSON array or object (or, in 1.0, an
// array), and a -32603 error for params that are not valid JSON.
func (c *codec) AppendRequest(dst, id []byte, method string, params json.RawMessage) ([]byte, error) {
	if len(id) == 0 {
		return dst, InvalidRequest("a request needs an ID")
	}
	return c.appendCall(dst, id, method, params)
}

// AppendNotification implements Codec, with AppendRequest's errors.
// In 1.0 a notification is written with "id": null.
func (c *codec) AppendNotification(dst []byte, method string, params json.RawMessage) ([]byte, error) {
	return c.appendCall(dst, nil, method, params)
}

// appendCall appends a request, or a notification if id is nil.
func (c *codec) appendCall(dst, id []byte, method string, params json.RawMessage) ([]byte, error) {
	orig := dst
	v1 := c.output() == V1
	if v1 {
		dst = append(dst, `{"method":`...)
	} else {
		dst = append(dst, `{"jsonrpc":"2.0","method":`...)
	}
	dst = appendString(dst, method)
	var err error
	switch {
	case len(params) > 0:
		shape := arrayOrObject
		if v1 {
			shape = arrayOnly
		}
		dst = append(dst, `,"params":`...)
		if dst, err = c.appendRaw(dst, params, shape, "params", 1); err != nil {
			return orig, err
		}
	case v1:
		dst = append(dst, `,"params":[]`...)
	}
	switch {
	case id != nil:
		dst = append(dst, `,"id":`...)
		if dst, err = c.appendID(dst, id, v1); err != nil {
			return orig, err
		}
	case v1:
		dst = append(dst, `,"id":null`...)
	}
	return append(dst, '}'), nil
}

// AppendResult implements Codec. A nil result is written as null. It
// returns a -32603 error if result is not valid JSON and a -32600 error
// if id is not a JSON number, string or null (in 1.0, not one JSON
// value).
func (c *codec) AppendResult(dst, id []byte, result json.RawMessage) ([]byte, error) {
	orig := dst
	v1 := c.output() == V1
	if v1 {
		dst = append(dst, `{"result":`...)
	} else {
		dst = append(dst, `{"jsonrpc":"2.0","result":`...)
	}
	var err error
	if len(result) == 0 {
		dst = append(dst, "null"...)
	} else if dst, err = c.appendRaw(dst, result, anyValue, "result", 1); err != nil {
		return orig, err
	}
	if v1 {
		dst = append(dst, `,"error":null`...)
	}
	return c.endResponse(dst, orig, id, v1)
}

// AppendError implements Codec. The error's data, if any, is written
// as it is (it must be valid JSON). It returns a -32603 error for a nil
// e or invalid data, and a -32600 error if id is not a JSON number,
// string or null (in 1.0, not one JSON value).
func (c *codec) AppendError(dst, id []byte, e *jsonrpc2.Error) ([]byte, error) {
	if e == nil {
		return dst, InternalError("nil error object")
	}
	orig := dst
	v1 := c.output() == V1
	if v1 {
		dst = append(dst, `{"result":null,"error":{"code":`...)
	} else {
		dst = append(dst, `{"jsonrpc":"2.0","error":{"code":`...)
	}
	dst = strconv.AppendInt(dst, e.Code, 10)
	dst = append(dst, `,"message":`...)
	dst = appendString(dst, e.Message)
	if e.Data != nil && len(*e.Data) > 0 {
		var err error
		dst = append(dst, `,"data":`...)
		if dst, err = c.appendRaw(dst, *e.Data, anyValue, "error data", 2); err != nil {
			return orig, err
		}
	}
	dst = append(dst, '}')
	return c.endResponse(dst, orig, id, v1)
}

// endResponse ends a response with its ID (empty means null); on error
// it returns orig, the buffer the caller gave. v1 allows an ID of any
// type.
func (c *codec) endResponse(dst, orig, id []byte, v1 bool) ([]byte, error) {
	dst = append(dst, `,"id":`...)
	var err error
	if dst, err = c.appendID(dst, id, v1); err != nil {
		return orig, err
	}
	return append(dst, '}'), nil
}

// appendID appends the raw ID id, or null if it is empty, after
// checking that it is exactly one JSON number, string or null, or, if
// anyType (1.0), one JSON value of any type nested within the depth
// limit. Such a value is written as it is, unless it holds a line
// break between its tokens: then it is written compact, so that a
// message never holds a newline.
func (c *codec) appendID(dst, id []byte, anyType bool) ([]byte, error) {
	if len(id) == 0 {
		return append(dst, "null"...), nil
	}
	if isIDToken(id) {
		s := newScanner(id, 0)
		if end, err := s.Scalar(0); err != jsonscan.OK || end != len(id) {
			return dst, InvalidRequest("invalid ID " + strconv.Quote(cut(string(id))))
		}
		return append(dst, id...), nil
	}
	if !anyType {
		return dst, InvalidRequest("invalid ID " + strconv.Quote(cut(string(id))))
	}
	return c.appendAnyID(dst, id)
}

// appendAnyID is appendID for a 1.0 ID that is not a number, a string
// or null.
//
//go:noinline
func (c *codec) appendAnyID(dst, id []byte) ([]byte, error) {
	s := newScanner(id, c.maxDepth)
	if end, err := s.Value(0, 1); err != jsonscan.OK || end != len(id) {
		return dst, InvalidRequest("invalid ID " + strconv.Quote(cut(string(id))))
	}
	if s.Spaced && bytes.ContainsAny(id, "\r\n") {
		return appendCompact(dst, id), nil
	}
	return append(dst, id...), nil
}

// appendRaw appends the raw JSON value v after checking it: one valid
// value of the given shape, with strict UTF-8, no NaN or Infinity, and
// nested no deeper than the limit allows at depth (its depth in a
// single message), so that a codec never writes what it would refuse. Whitespace between tokens is dropped, so
// that the output is compact and holds no newline.
func (c *codec) appendRaw(dst, v []byte, shape int, what string, depth int) ([]byte, error) {
	s := newScanner(v, c.maxDepth)
	i := s.SkipSpace(0)
	if i < len(v) {
		switch ch := v[i]; {
		case shape == arrayOnly && ch != '[':
			if ch == '{' {
				return dst, InvalidParams("JSON-RPC 1.0 does not allow named params")
			}
			return dst, InvalidParams(what + " must be a JSON array")
		case shape == arrayOrObject && ch != '[' && ch != '{':
			return dst, InvalidParams(what + " must be a JSON array or object")
		}
	}
	end, err := s.Value(i, depth)
	if err == jsonscan.OK {
		end, err = s.End(end)
	}
	if err != jsonscan.OK {
		return dst, InternalError(what + ": " + s.Describe(end, err))
	}
	if !s.Spaced {
		return append(dst, v...), nil
	}
	return appendCompact(dst, v), nil
}

// appendCompact appends the valid JSON v without whitespace between
// tokens.
func appendCompact(dst, v []byte) []byte {
	start, inString := 0, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case inString:
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			dst = append(dst, v[start:i]...)
			start = i + 1
		}
	}
	return append(dst, v[start:]...)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Quotes, backslashes and
// control characters are escaped; each byte that is not part of valid
// UTF-8 becomes \ufffd, as in encoding/json. Other characters are
// written as they are.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if jsonscan.IsPlain(c) {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
