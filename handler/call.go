// This file binds the params of a request to a function's parameters
// and calls it.

package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strconv"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/internal/jsonscan"
	"github.com/gorpcx/gorpcx/protocol"
)

// Handle binds req.Params to the function's parameters, calls it and
// returns its result and error. Params that do not fit get a -32602
// *jsonrpc2.Error.
func (h *funcHandler) Handle(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	// Binding and calling are two functions, so that the buffers of
	// the one are off the stack when the other calls: a handler served
	// on a session's reader keeps that stack small (see session).
	frame, rest, err := h.bind(ctx, req)
	if err != nil {
		return nil, err
	}
	return h.call(frame, rest)
}

// bind decodes the params of req into a new frame of the fixed
// arguments (and the context), and returns it with the variadic
// argument, or the params' error.
//
//go:noinline
func (h *funcHandler) bind(ctx context.Context, req *jsonrpc2.Request) (frame, rest reflect.Value, err error) {
	params := rawParams(req)

	// One allocation holds the context and the fixed arguments.
	if h.frame != nil {
		frame = reflect.New(h.frame).Elem()
		if h.ctx {
			*frame.Field(0).Addr().Interface().(*context.Context) = ctx
		}
	}
	switch {
	case len(params) == 0 || string(params) == "null":
		rest, err = h.bindArray(req.Method, frame, nil)
	case params[0] == '[':
		var buf [stackParams][]byte
		elems, ok := jsonscan.SplitArray(params, buf[:0])
		if !ok {
			return frame, rest, malformedParams(req.Method)
		}
		rest, err = h.bindArray(req.Method, frame, elems)
	case params[0] == '{':
		var buf [stackParams]jsonscan.Member
		members, ok := jsonscan.SplitObject(params, buf[:0])
		if !ok {
			return frame, rest, malformedParams(req.Method)
		}
		switch {
		case h.named:
			rest, err = h.bindNamed(req.Method, frame, members)
		case h.st != nil:
			err = h.bindStruct(req.Method, frame.Field(h.off), params, members)
		default:
			err = protocol.InvalidParams("method " + quoteEcho(req.Method) + " cannot be called with named arguments")
		}
	default:
		err = protocol.InvalidParams("invalid request arguments: params to method " + quoteEcho(req.Method) + " must be an array or an object")
	}
	return frame, rest, err
}

// call calls the function with the arguments bound, and returns its
// result and error.
//
//go:noinline
func (h *funcHandler) call(frame, rest reflect.Value) (any, error) {
	// Room for the usual few arguments: a larger array would cost every
	// call its stack (the reflective call's own frame is over 1 KiB).
	var argBuf [4]reflect.Value
	args := argBuf[:0]
	for i := range h.nframe {
		args = append(args, frame.Field(i))
	}
	var out []reflect.Value
	if h.variadic {
		if !rest.IsValid() {
			rest = reflect.Zero(h.params[h.max].typ)
		}
		out = h.fn.CallSlice(append(args, rest))
	} else {
		out = h.fn.Call(args)
	}
	switch h.result {
	case resultValue:
		return out[0].Interface(), nil
	case resultError:
		return nil, errorResult(out[0])
	case resultValueError:
		if err := errorResult(out[1]); err != nil {
			return nil, err
		}
		return out[0].Interface(), nil
	}
	return nil, nil
}

// rawParams returns the params of req without the white space around
// them, or nil if it has none.
func rawParams(req *jsonrpc2.Request) []byte {
	if req.Params == nil {
		return nil
	}
	return bytes.Trim(*req.Params, " \t\r\n")
}

// errorResult returns the error held by v, a value of type error.
func errorResult(v reflect.Value) error {
	err, _ := v.Interface().(error)
	return err
}

// decodeParam decodes the JSON value raw into v, a settable value whose
// decoding kind is k, as json.Unmarshal does.
func decodeParam(raw []byte, v reflect.Value, k fastKind) error {
	if k != fastNone && decodeFast(raw, v, k) {
		return nil
	}
	return json.Unmarshal(raw, v.Addr().Interface())
}

// bindArray stores in frame the fixed arguments bound from the
// positional params elems, and returns the variadic argument, if any.
func (h *funcHandler) bindArray(method string, frame reflect.Value, elems [][]byte) (reflect.Value, error) {
	n := len(elems)
	if n < h.min {
		// aiorpcX: f'{len(args)} argument{s} passed to method "{method}" but it requires {info.min_args}'
		return reflect.Value{}, protocol.InvalidParams(plural(n, "argument") + " passed to method " + quoteEcho(method) + " but it requires " + strconv.Itoa(h.min))
	}
	if n > h.max && !h.variadic {
		// aiorpcX leaves the method name unquoted in this one message:
		// f'{len(args)} argument{s} passed to method {method} taking at most {info.max_args}'.
		// It is kept so, word for word, for peers that match on it.
		return reflect.Value{}, protocol.InvalidParams(plural(n, "argument") + " passed to method " + cutEcho(method, maxEchoBytes) + " taking at most " + strconv.Itoa(h.max))
	}
	for i := range min(n, h.max) {
		p := &h.params[i]
		if err := decodeParam(elems[i], frame.Field(h.off+i), p.fast); err != nil {
			return reflect.Value{}, badParam(method, i, p.name, err)
		}
	}
	if !h.variadic || n <= h.max {
		return reflect.Value{}, nil
	}
	p := &h.params[h.max]
	s := reflect.MakeSlice(p.typ, n-h.max, n-h.max)
	for i := h.max; i < n; i++ {
		if err := decodeParam(elems[i], s.Index(i-h.max), p.fast); err != nil {
			return reflect.Value{}, badParam(method, i, p.name, err)
		}
	}
	return s, nil
}

// bindNamed stores in frame the fixed arguments bound from the named
// params members by the registered names, and returns the variadic
// argument, if any.
func (h *funcHandler) bindNamed(method string, frame reflect.Value, members []jsonscan.Member) (reflect.Value, error) {
	var buf [stackParams][]byte
	var values [][]byte // by parameter
	if len(h.params) > len(buf) {
		values = make([][]byte, len(h.params))
	} else {
		values = buf[:len(h.params)]
	}
	var excess []string
	for _, m := range members {
		key := m.Name()
		i := h.lookup.find(key)
		if i < 0 {
			excess = append(excess, string(key))
			continue
		}
		values[i] = m.Value
	}
	var missing []string
	for i, p := range h.params {
		if values[i] == nil && !p.optional {
			missing = append(missing, p.name)
		}
	}
	if err := paramNameError(method, missing, excess); err != nil {
		return reflect.Value{}, err
	}

	for i := range h.max {
		p := &h.params[i]
		if values[i] == nil {
			continue
		}
		if err := decodeParam(values[i], frame.Field(h.off+i), p.fast); err != nil {
			return reflect.Value{}, badParam(method, -1, p.name, err)
		}
	}
	if !h.variadic || values[h.max] == nil || string(values[h.max]) == "null" {
		return reflect.Value{}, nil
	}
	p := &h.params[h.max]
	v := values[h.max]
	if v[0] == '[' {
		s := reflect.New(p.typ).Elem()
		if err := json.Unmarshal(v, s.Addr().Interface()); err != nil {
			return reflect.Value{}, badParam(method, -1, p.name, err)
		}
		return s, nil
	}
	s := reflect.MakeSlice(p.typ, 1, 1)
	if err := decodeParam(v, s.Index(0), p.fast); err != nil {
		return reflect.Value{}, badParam(method, -1, p.name, err)
	}
	return s, nil
}

// bindStruct stores in arg, the struct parameter, the value decoded from
// the named params object, whose members are members.
func (h *funcHandler) bindStruct(method string, arg reflect.Value, object []byte, members []jsonscan.Member) error {
	st := h.st
	if !st.whole {
		var seenBuf [stackParams]bool
		var seen []bool // by field
		if len(st.fields) > len(seenBuf) {
			seen = make([]bool, len(st.fields))
		} else {
			seen = seenBuf[:len(st.fields)]
		}
		var excess []string
		for _, m := range members {
			key := m.Name()
			i := st.lookup.find(key)
			if i < 0 {
				excess = append(excess, string(key))
				continue
			}
			seen[i] = true
		}
		var missing []string
		for i, f := range st.fields {
			if !seen[i] && !f.optional {
				missing = append(missing, f.name)
			}
		}
		if err := paramNameError(method, missing, excess); err != nil {
			return err
		}
	}
	v := arg
	if st.ptr {
		v = reflect.New(st.typ)
		arg.Set(v)
		v = v.Elem()
	}
	if err := json.Unmarshal(object, v.Addr().Interface()); err != nil {
		return st.badParam(method, members, err)
	}
	return nil
}

// badParam returns the error for a struct that failed to decode with
// err, naming the first member that fails alone if there is one.
func (st *structParam) badParam(method string, members []jsonscan.Member, err error) error {
	if !st.whole {
		for _, m := range members {
			i := st.lookup.find(m.Name())
			if i < 0 || st.fields[i].quoted {
				continue
			}
			f := &st.fields[i]
			if ferr := json.Unmarshal(m.Value, reflect.New(f.typ).Interface()); ferr != nil {
				return protocol.InvalidParams("invalid parameter " + quoteEcho(f.name) + " to method " + quoteEcho(method) + ": " + decodeDetail(ferr))
			}
		}
	}
	return protocol.InvalidParams("invalid request arguments to method " + quoteEcho(method) + ": " + decodeDetail(err))
}
