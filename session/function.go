package session

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
	"unicode"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/protocol"
)

// Func returns a [Handler] that calls the function fn with the params
// of each request, in the manner of aiorpcX's handler_invocation. fn is
// analysed once, here; a call only binds and decodes.
//
// fn may take a leading [context.Context], which receives the context
// given to Handle, followed by any number of parameters; the last may be
// variadic. It returns (T, error), T, error or nothing; with no T the
// result is null. An error fn returns is passed on unchanged (see
// [Handler] for how the session answers it); a panic is not recovered
// here.
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
func Func(fn any, names ...string) (Handler, error) {
	h, err := newFuncHandler(fn, names)
	if err != nil {
		return nil, err
	}
	return h, nil
}

// MustFunc is like [Func] but panics if fn cannot be registered. It
// simplifies the initialisation of method tables held in package
// variables, as [regexp.MustCompile] does for expressions.
func MustFunc(fn any, names ...string) Handler {
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

// funcHandler is the Handler made by Func.
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

// structParam describes the single struct parameter whose fields bind
// named params.
type structParam struct {
	typ    reflect.Type // the struct type
	ptr    bool         // the parameter is a pointer to typ
	whole  bool         // *typ implements json.Unmarshaler: no field table
	fields []structField
	lookup nameIndex // the names of fields
}

// structField is a field that encoding/json decodes a member into.
type structField struct {
	name     string // the JSON name
	typ      reflect.Type
	index    []int
	tagged   bool // the name comes from a tag
	optional bool // a pointer, or tagged omitempty or omitzero
	quoted   bool // tagged ",string"
}

// nameIndex finds a name's position among a list of names.
type nameIndex struct {
	names []string
	m     map[string]int // when there are many names
}

// newNameIndex returns an index of names.
func newNameIndex(names []string) nameIndex {
	x := nameIndex{names: names}
	if len(names) > mapLookupAbove {
		x.m = make(map[string]int, len(names))
		for i, n := range names {
			x.m[n] = i
		}
	}
	return x
}

// find returns the position of name, or -1.
func (x *nameIndex) find(name []byte) int {
	if x.m != nil {
		if i, ok := x.m[string(name)]; ok {
			return i
		}
		return -1
	}
	for i, n := range x.names {
		if n == string(name) {
			return i
		}
	}
	return -1
}

func newFuncHandler(fn any, names []string) (*funcHandler, error) {
	if fn == nil {
		return nil, errors.New("session.Func: nil function")
	}
	v := reflect.ValueOf(fn)
	t := v.Type()
	if t.Kind() != reflect.Func {
		return nil, fmt.Errorf("session.Func: %v is not a function", t)
	}
	if v.IsNil() {
		return nil, fmt.Errorf("session.Func: nil %v", t)
	}
	fail := func(format string, args ...any) (*funcHandler, error) {
		return nil, fmt.Errorf("session.Func: %v: %s", t, fmt.Sprintf(format, args...))
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

// newStructParam returns the description of a parameter of type t if it
// is a struct or a pointer to one, or nil.
func newStructParam(t reflect.Type) (*structParam, error) {
	st := &structParam{typ: t}
	if t.Kind() == reflect.Pointer {
		st.typ, st.ptr = t.Elem(), true
	}
	if st.typ.Kind() != reflect.Struct {
		return nil, nil
	}
	if reflect.PointerTo(st.typ).Implements(reflectUnmarshaler) {
		st.whole = true
		return st, nil
	}
	fields, err := jsonFields(st.typ)
	if err != nil {
		return nil, err
	}
	st.fields = fields
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	st.lookup = newNameIndex(names)
	return st, nil
}

// jsonFields returns the fields that encoding/json decodes an object into
// for struct type t, sorted by name, following its rules: exported
// fields, named by their json tag if it has a valid name, the fields of
// untagged embedded structs promoted, and of several fields of one name
// the shallowest wins if it is alone at its depth or the only tagged one
// there, else none.
func jsonFields(t reflect.Type) ([]structField, error) {
	type level struct {
		typ   reflect.Type
		index []int
	}
	var all []structField
	visited := map[reflect.Type]bool{}
	next := []level{{typ: t}}
	count := map[reflect.Type]int{t: 1}
	for len(next) > 0 {
		current := next
		next = nil
		nextCount := map[reflect.Type]int{}
		for _, l := range current {
			if visited[l.typ] {
				continue
			}
			visited[l.typ] = true
			for i := range l.typ.NumField() {
				sf := l.typ.Field(i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if sf.Anonymous {
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if !validTagName(name) {
					name = ""
				}
				index := append(slices.Clip(l.index), i)
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					f := structField{
						name:     name,
						typ:      sf.Type,
						index:    index,
						tagged:   name != "",
						optional: sf.Type.Kind() == reflect.Pointer || hasOption(opts, "omitempty") || hasOption(opts, "omitzero"),
						quoted:   hasOption(opts, "string"),
					}
					if f.name == "" {
						f.name = sf.Name
					}
					all = append(all, f)
					if count[l.typ] > 1 {
						// The struct is embedded more than once at this
						// depth: its fields conflict with themselves.
						all = append(all, f)
					}
					continue
				}
				if sf.Type.Kind() == reflect.Pointer && !sf.IsExported() {
					return nil, fmt.Errorf("embedded pointer to unexported struct %v cannot be decoded", ft)
				}
				nextCount[ft]++
				if nextCount[ft] == 1 {
					next = append(next, level{typ: ft, index: index})
				}
			}
		}
		count = nextCount
	}

	slices.SortStableFunc(all, func(a, b structField) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := len(a.index) - len(b.index); c != 0 {
			return c
		}
		if a.tagged != b.tagged {
			if a.tagged {
				return -1
			}
			return 1
		}
		return slices.Compare(a.index, b.index)
	})
	var fields []structField
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].name == all[i].name {
			j++
		}
		if f, ok := dominantField(all[i:j]); ok {
			fields = append(fields, f)
		}
		i = j
	}
	return fields, nil
}

// dominantField returns the field that wins among fields of one name, sorted
// by depth with tagged ones first, and whether there is one.
func dominantField(fields []structField) (structField, bool) {
	if len(fields) > 1 && len(fields[0].index) == len(fields[1].index) && fields[0].tagged == fields[1].tagged {
		return structField{}, false
	}
	return fields[0], true
}

// validTagName reports whether encoding/json accepts s as a field name.
func validTagName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// hasOption reports whether the comma-separated tag options opts hold
// option.
func hasOption(opts, option string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == option {
			return true
		}
	}
	return false
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

// Handle binds req.Params to the function's parameters, calls it and
// returns its result and error. Params that do not fit get a -32602
// *jsonrpc2.Error.
func (h *funcHandler) Handle(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	var params []byte
	if req.Params != nil {
		params = *req.Params
	}
	params = params[skipJSONSpace(params, 0):]

	// One allocation holds the context and the fixed arguments.
	var frame reflect.Value
	if h.frame != nil {
		frame = reflect.New(h.frame).Elem()
		if h.ctx {
			*frame.Field(0).Addr().Interface().(*context.Context) = ctx
		}
	}
	var rest reflect.Value // the variadic argument
	var err error
	switch {
	case len(params) == 0 || params[0] == 'n' && string(trimJSONSpaceRight(params)) == "null":
		rest, err = h.bindArray(req.Method, frame, nil)
	case params[0] == '[':
		var buf [stackParams][]byte
		elems, ok := splitJSONArray(params, buf[:0])
		if !ok {
			return nil, malformedParams(req.Method)
		}
		rest, err = h.bindArray(req.Method, frame, elems)
	case params[0] == '{':
		var buf [stackParams]jsonMember
		members, ok := splitJSONObject(params, buf[:0])
		if !ok {
			return nil, malformedParams(req.Method)
		}
		switch {
		case h.named:
			rest, err = h.bindNamed(req.Method, frame, members)
		case h.st != nil:
			err = h.bindStruct(req.Method, frame.Field(h.off), params, members)
		default:
			return nil, protocol.InvalidParams("method " + quoteEcho(req.Method) + " cannot be called with named arguments")
		}
	default:
		return nil, protocol.InvalidParams("invalid request arguments: params to method " + quoteEcho(req.Method) + " must be an array or an object")
	}
	if err != nil {
		return nil, err
	}

	var argBuf [stackParams]reflect.Value
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
func (h *funcHandler) bindNamed(method string, frame reflect.Value, members []jsonMember) (reflect.Value, error) {
	var buf [stackParams][]byte
	var values [][]byte // by parameter
	if len(h.params) > len(buf) {
		values = make([][]byte, len(h.params))
	} else {
		values = buf[:len(h.params)]
	}
	var excess []string
	for _, m := range members {
		key := m.name()
		i := h.lookup.find(key)
		if i < 0 {
			excess = append(excess, string(key))
			continue
		}
		values[i] = m.value
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
func (h *funcHandler) bindStruct(method string, arg reflect.Value, object []byte, members []jsonMember) error {
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
			key := m.name()
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
func (st *structParam) badParam(method string, members []jsonMember, err error) error {
	if !st.whole {
		for _, m := range members {
			i := st.lookup.find(m.name())
			if i < 0 || st.fields[i].quoted {
				continue
			}
			f := &st.fields[i]
			if ferr := json.Unmarshal(m.value, reflect.New(f.typ).Interface()); ferr != nil {
				return protocol.InvalidParams("invalid parameter " + quoteEcho(f.name) + " to method " + quoteEcho(method) + ": " + decodeDetail(ferr))
			}
		}
	}
	return protocol.InvalidParams("invalid request arguments to method " + quoteEcho(method) + ": " + decodeDetail(err))
}
