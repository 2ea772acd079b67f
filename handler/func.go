// This file analyses a function once, when Func registers it.

package handler

import (
	"context"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/gorpcx/gorpcx/session"
)

// Func returns a [session.Handler] that calls the function fn with the
// params of each request, in the manner of aiorpcX's
// handler_invocation. fn is analysed once, here; a call only binds and
// decodes.
//
// fn may take a leading [context.Context], which receives the context
// given to Handle, followed by any number of parameters; the last may be
// variadic. It returns (T, error), T, error or nothing; with no T the
// result is null. An error fn returns is passed on unchanged (see
// [session.Handler] for how the session answers it); a panic is not
// recovered here.
//
// Positional params (a JSON array) bind to the parameters in order, the
// elements beyond the fixed parameters to the variadic one. Absent or
// null params are an empty array.
//
// Named params (a JSON object) bind by name. With names, one per
// parameter besides the context (the variadic one included), each member
// binds to the parameter of its name, and the variadic parameter's member
// may be a JSON array (its elements), null (none) or any other value (a
// single element). A name ending in "?", such as "protocol_version?",
// marks its parameter optional: it may be left out, and the function
// then gets the zero value. Optional parameters must follow the required
// ones; a variadic parameter is always optional. Optional parameters may
// also be left out of positional params.
//
// Without names, a function whose only parameter is a struct, or a
// pointer to one, binds named params to the struct's fields as
// encoding/json does (json tags, embedded structs), except that a
// member's name must match a field's JSON name exactly. A field is
// optional if it is a pointer or is tagged omitempty or omitzero. If the
// struct implements [json.Unmarshaler], it is given the whole object. A
// function with parameters but neither names nor such a struct cannot be
// called with named params.
//
// Each value is decoded with encoding/json into the parameter's type.
// Params that do not fit — a wrong count, a missing or unknown name, a
// value of the wrong type, params that are neither array nor object —
// get a -32602 invalid params error worded as aiorpcX words it, such as
// `2 arguments passed to method "add" but it requires 3` (and, as
// aiorpcX, `4 arguments passed to method add taking at most 3`, without
// quotes). Messages never quote more than about 100 bytes of any one
// piece of the peer's input, nor list more than 10 unknown names.
//
// The handler is safe for concurrent use.
//
// Func returns an error, and no handler, if fn is not a non-nil
// function, if its results are not one of the forms above, if the number
// of names does not match its parameters, if a name is empty or
// repeated, if a required name follows an optional one, if a
// [context.Context] parameter is not the first, or if a parameter's type
// cannot be decoded from JSON (a channel, a function, a complex number,
// an interface with methods, a struct whose fields are such).
func Func(fn any, names ...string) (session.Handler, error) {
	h, err := newFuncHandler(fn, names)
	if err != nil {
		return nil, err
	}
	return h, nil
}

// MustFunc is like [Func] but panics if fn cannot be registered. It
// simplifies the initialisation of method tables held in package
// variables, as [regexp.MustCompile] does for expressions.
func MustFunc(fn any, names ...string) session.Handler {
	h, err := Func(fn, names...)
	if err != nil {
		panic(err)
	}
	return h
}

var (
	reflectContext         = reflect.TypeFor[context.Context]()
	reflectError           = reflect.TypeFor[error]()
	reflectUnmarshaler     = reflect.TypeFor[json.Unmarshaler]()
	reflectTextUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	reflectMarshaler       = reflect.TypeFor[json.Marshaler]()
	reflectTextMarshaler   = reflect.TypeFor[encoding.TextMarshaler]()
	reflectNumber          = reflect.TypeFor[json.Number]()
	reflectRawMessage      = reflect.TypeFor[json.RawMessage]()
)

const (
	// maxEchoBytes bounds each piece of peer input quoted in an error message.
	maxEchoBytes = 100
	// maxExcessNames bounds how many unknown names one message lists.
	maxExcessNames = 10
	// mapLookupAbove is the number of names above which a lookup uses a
	// map rather than a linear scan.
	mapLookupAbove = 8
	// stackParams is the number of params split without allocating.
	stackParams = 8
)

// resultForm says what a function returns.
type resultForm uint8

const (
	resultNone       resultForm = iota // nothing
	resultValue                        // T
	resultError                        // error
	resultValueError                   // (T, error)
)

// funcParam is a parameter of the function besides the context.
type funcParam struct {
	typ      reflect.Type // for the variadic parameter, its slice type
	name     string       // the registered name, without "?"; "" without names
	optional bool
	fast     fastKind // for typ, or its element type for the variadic parameter
}

// funcHandler is the session.Handler made by Func.
type funcHandler struct {
	fn       reflect.Value
	ctx      bool        // fn takes a leading context.Context
	params   []funcParam // the parameters besides the context
	variadic bool        // the last of params is variadic
	min, max int         // required and fixed (non-variadic) parameter counts
	// frame is a struct type with a field for the context, if taken,
	// then one per fixed parameter: a call allocates one frame to hold
	// all of its fixed arguments. It is nil if there are none.
	frame  reflect.Type
	nframe int          // the number of fields of frame
	off    int          // the index in frame of the first parameter: 1 with a context
	named  bool         // params can be bound by the names in params
	lookup nameIndex    // the names of params, when named
	st     *structParam // set when named params bind to a struct's fields
	result resultForm
}

func newFuncHandler(fn any, names []string) (*funcHandler, error) {
	if fn == nil {
		return nil, errors.New("handler.Func: nil function")
	}
	v := reflect.ValueOf(fn)
	t := v.Type()
	if t.Kind() != reflect.Func {
		return nil, fmt.Errorf("handler.Func: %v is not a function", t)
	}
	if v.IsNil() {
		return nil, fmt.Errorf("handler.Func: nil %v", t)
	}
	fail := func(format string, args ...any) (*funcHandler, error) {
		return nil, fmt.Errorf("handler.Func: %v: %s", t, fmt.Sprintf(format, args...))
	}
	h := &funcHandler{fn: v, variadic: t.IsVariadic()}

	switch t.NumOut() {
	case 0:
		h.result = resultNone
	case 1:
		if t.Out(0) == reflectError {
			h.result = resultError
		} else {
			h.result = resultValue
		}
	case 2:
		if t.Out(1) != reflectError {
			return fail("second result must be error, not %v", t.Out(1))
		}
		h.result = resultValueError
	default:
		return fail("%d results; want (T, error), T, error or none", t.NumOut())
	}
	if h.result == resultValue || h.result == resultValueError {
		if err := checkEncodable(t.Out(0)); err != nil {
			return fail("result: %v", err)
		}
	}

	first := 0
	if t.NumIn() > 0 && t.In(0) == reflectContext {
		h.ctx, first = true, 1
	}
	n := t.NumIn() - first
	if len(names) != 0 && len(names) != n {
		return fail("%s given for %s", plural(len(names), "name"), plural(n, "parameter"))
	}
	h.params = make([]funcParam, n)
	var optionalName string
	for i := range h.params {
		p := &h.params[i]
		p.typ = t.In(first + i)
		last := h.variadic && i == n-1
		if p.typ == reflectContext {
			return fail("context.Context must be the first parameter")
		}
		dt := p.typ
		if last {
			dt = p.typ.Elem()
		}
		if err := checkDecodable(dt); err != nil {
			return fail("parameter %d: %v", i+1, err)
		}
		p.fast = fastKindOf(dt)
		if len(names) == 0 {
			continue
		}
		name, optional := strings.CutSuffix(names[i], "?")
		switch {
		case name == "":
			return fail("empty name for parameter %d", i+1)
		case slices.ContainsFunc(h.params[:i], func(q funcParam) bool { return q.name == name }):
			return fail("name %q given twice", name)
		}
		p.name, p.optional = name, optional || last
		switch {
		case last:
		case optional:
			optionalName = name
		case optionalName != "":
			return fail("required parameter %q follows optional parameter %q", name, optionalName)
		}
	}

	h.max = n
	if h.variadic {
		h.max--
	}
	for _, p := range h.params[:h.max] {
		if !p.optional {
			h.min++
		}
	}
	if h.ctx {
		h.off = 1
	}
	if h.nframe = h.off + h.max; h.nframe > 0 {
		frame, err := argsFrameType(h.ctx, h.params[:h.max])
		if err != nil {
			return fail("%v", err)
		}
		h.frame = frame
	}

	switch {
	case len(names) > 0:
		h.named = true
		pn := make([]string, n)
		for i, p := range h.params {
			pn[i] = p.name
		}
		h.lookup = newNameIndex(pn)
	case n == 0:
		h.named = true
	case n == 1 && !h.variadic:
		st, err := newStructParam(h.params[0].typ)
		if err != nil {
			return fail("parameter 1: %v", err)
		}
		h.st = st
	}
	return h, nil
}

// argsFrameType returns a struct type with a field for the context if ctx
// is set, then one per parameter.
func argsFrameType(ctx bool, params []funcParam) (t reflect.Type, err error) {
	var fields []reflect.StructField
	if ctx {
		fields = append(fields, reflect.StructField{Name: "Ctx", Type: reflectContext})
	}
	for i, p := range params {
		fields = append(fields, reflect.StructField{Name: "P" + strconv.Itoa(i), Type: p.typ})
	}
	defer func() {
		// reflect.StructOf panics only for a struct too large to exist.
		if r := recover(); r != nil {
			t, err = nil, fmt.Errorf("parameters too large: %v", r)
		}
	}()
	return reflect.StructOf(fields), nil
}

// checkDecodable returns an error if encoding/json cannot decode into a
// value of type t.
func checkDecodable(t reflect.Type) error {
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type) error
	walk = func(t reflect.Type) error {
		if seen[t] {
			return nil
		}
		seen[t] = true
		if t.Implements(reflectUnmarshaler) || reflect.PointerTo(t).Implements(reflectUnmarshaler) ||
			t.Implements(reflectTextUnmarshaler) || reflect.PointerTo(t).Implements(reflectTextUnmarshaler) {
			return nil
		}
		switch t.Kind() {
		case reflect.Chan, reflect.Func, reflect.Complex64, reflect.Complex128, reflect.UnsafePointer:
			return fmt.Errorf("type %v cannot be decoded from JSON", t)
		case reflect.Interface:
			if t.NumMethod() > 0 {
				return fmt.Errorf("interface type %v cannot be decoded from JSON", t)
			}
		case reflect.Pointer, reflect.Slice, reflect.Array:
			return walk(t.Elem())
		case reflect.Map:
			switch k := t.Key(); k.Kind() {
			case reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
				reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			default:
				if !reflect.PointerTo(k).Implements(reflectTextUnmarshaler) {
					return fmt.Errorf("map key type %v cannot be decoded from JSON", k)
				}
			}
			return walk(t.Elem())
		case reflect.Struct:
			for i := range t.NumField() {
				sf := t.Field(i)
				ft := sf.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if !sf.IsExported() && (!sf.Anonymous || ft.Kind() != reflect.Struct) || sf.Tag.Get("json") == "-" {
					// encoding/json ignores the field.
					continue
				}
				if err := walk(sf.Type); err != nil {
					return fmt.Errorf("field %s: %w", sf.Name, err)
				}
			}
		}
		return nil
	}
	return walk(t)
}

// checkEncodable returns an error if encoding/json cannot encode a result
// of type t for certain.
func checkEncodable(t reflect.Type) error {
	if t.Implements(reflectMarshaler) || t.Implements(reflectTextMarshaler) {
		return nil
	}
	switch t.Kind() {
	case reflect.Chan, reflect.Func, reflect.Complex64, reflect.Complex128, reflect.UnsafePointer:
		return fmt.Errorf("type %v cannot be encoded as JSON", t)
	}
	return nil
}
