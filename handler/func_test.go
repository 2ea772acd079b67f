package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/session"
)

// funcNoParams stands for a request without params in the tables below.
const funcNoParams = "\x00absent"

// funcRequest returns a request for method with params (funcNoParams for
// none).
func funcRequest(method, params string) *jsonrpc2.Request {
	req := &jsonrpc2.Request{Method: method}
	if params != funcNoParams {
		raw := json.RawMessage(params)
		req.Params = &raw
	}
	return req
}

type funcPoint struct {
	X int `json:"x"`
	Y int `json:"y"`
}

type funcOptions struct {
	Name    string `json:"name"`
	Limit   *int   `json:"limit"`
	Verbose bool   `json:"verbose,omitempty"`
	Level   int    `json:"level,omitzero"`
	Count   int64  `json:"count,string,omitempty"`
	// Fields that encoding/json ignores, whatever their types.
	//lint:ignore U1000 present to be ignored
	note chan int
	Skip func() `json:"-"`
	//lint:ignore U1000 present to be ignored
	funcJFchan
}

type funcInner struct {
	In int `json:"in"`
}

type funcOuter struct {
	funcInner
	Own string `json:"own"`
}

// funcWhole decodes itself: named params are given to it whole.
type funcWhole struct{ raw string }

func (w *funcWhole) UnmarshalJSON(b []byte) error {
	w.raw = string(b)
	return nil
}

// funcUpper is a string that decodes itself in upper case: the fast
// path must not bypass its decoder.
type funcUpper string

func (u *funcUpper) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*u = funcUpper(strings.ToUpper(s))
	return nil
}

// funcStrict fails to decode anything but "ok".
type funcStrict struct{}

func (*funcStrict) UnmarshalJSON(b []byte) error {
	if string(b) != `"ok"` {
		return errors.New("strict: want \"ok\"")
	}
	return nil
}

type funcStrictParams struct {
	A int        `json:"a"`
	S funcStrict `json:"s"`
}

func funcShow(p string, xs ...int) string {
	return fmt.Sprintf("%s%v%v", p, xs, xs == nil)
}

func TestFunc(t *testing.T) {
	seven := func() int { return 7 }
	pair := func(a, b int) int { return 10*a + b }
	point := func(p funcPoint) int { return 10*p.X + p.Y }
	pointer := func(p *funcPoint) int {
		if p == nil {
			return -1
		}
		return 10*p.X + p.Y
	}
	options := func(o funcOptions) string {
		limit := "nil"
		if o.Limit != nil {
			limit = fmt.Sprint(*o.Limit)
		}
		return fmt.Sprintf("%s %s %v %d %d", o.Name, limit, o.Verbose, o.Level, o.Count)
	}
	tests := []struct {
		name   string
		fn     any
		names  []string
		params string
		want   any
	}{
		{"no params, no result", func() {}, nil, funcNoParams, nil},
		{"absent params", seven, nil, funcNoParams, 7},
		{"null params", seven, nil, " null ", 7},
		{"empty array", seven, nil, "[]", 7},
		{"empty object", seven, nil, " { } ", 7},
		{"error result nil", func() error { return nil }, nil, "[]", nil},
		{"value and nil error", func(a int) (int, error) { return a + 1, nil }, nil, "[41]", 42},
		{"nil interface result", func() any { return nil }, nil, "[]", nil},
		{"encoder result", func() json.RawMessage { return json.RawMessage(`{}`) }, nil, "[]", json.RawMessage(`{}`)},
		{"positional", pair, nil, "[1,2]", 12},
		{"positional white space", pair, nil, " \t[ 1 ,\n2 ]\r\n", 12},
		{"positional with names", pair, []string{"a", "b"}, "[1,2]", 12},
		{"named", pair, []string{"a", "b"}, `{"b":2,"a":1}`, 12},
		{"named escaped key", pair, []string{"a", "b"}, `{"\u0061":1,"b":2}`, 12},
		{"named repeated key, last wins", pair, []string{"a", "b"}, `{"a":1,"b":2,"a":3}`, 32},
		{"named null value", pair, []string{"a", "b"}, `{"a":null,"b":2}`, 2},
		{"optional missing, named", pair, []string{"a", "b?"}, `{"a":1}`, 10},
		{"optional given, named", pair, []string{"a", "b?"}, `{"a":1,"b":2}`, 12},
		{"optional missing, positional", pair, []string{"a", "b?"}, `[1]`, 10},
		{"all optional, none given", pair, []string{"a?", "b?"}, funcNoParams, 0},
		{"variadic, none", funcShow, nil, `["p"]`, "p[]true"},
		{"variadic, some", funcShow, nil, `["p",1,2,3]`, "p[1 2 3]false"},
		{"variadic with names, positional", funcShow, []string{"p", "xs"}, `["p",1,2]`, "p[1 2]false"},
		{"variadic named array", funcShow, []string{"p", "xs"}, `{"p":"p","xs":[1,2]}`, "p[1 2]false"},
		{"variadic named empty array", funcShow, []string{"p", "xs"}, `{"p":"p","xs":[]}`, "p[]false"},
		{"variadic named single", funcShow, []string{"p", "xs"}, `{"xs":5,"p":"p"}`, "p[5]false"},
		{"variadic named null", funcShow, []string{"p", "xs"}, `{"p":"p","xs":null}`, "p[]true"},
		{"variadic named absent", funcShow, []string{"p", "xs?"}, `{"p":"p"}`, "p[]true"},
		{"variadic only", func(ctx context.Context, xs ...string) int { return len(xs) }, nil, `["a","b"]`, 2},
		{"variadic any", func(xs ...any) []any { return xs }, nil, `[1,"a",null,[true]]`, []any{1.0, "a", nil, []any{true}}},
		{"struct, named", point, nil, `{"x":1,"y":2}`, 12},
		{"struct, positional", point, nil, `[{"x":1,"y":2}]`, 12},
		{"pointer to struct, named", pointer, nil, `{"y":2,"x":1}`, 12},
		{"pointer to struct, positional null", pointer, nil, `[null]`, -1},
		{"struct optional fields missing", options, nil, `{"name":"n"}`, "n nil false 0 0"},
		{"struct optional fields given", options, nil, `{"name":"n","limit":5,"verbose":true,"level":3,"count":"9"}`, "n 5 true 3 9"},
		{"struct embedded fields", func(o funcOuter) string { return fmt.Sprintf("%d %s", o.In, o.Own) }, nil, `{"in":1,"own":"o"}`, "1 o"},
		{"struct decoding itself", func(w funcWhole) string { return w.raw }, nil, `{"any":[1]}`, `{"any":[1]}`},
		{"struct with names binds whole", point, []string{"p"}, `{"p":{"x":1,"y":2}}`, 12},
		{"decoder of a named string", func(u funcUpper) string { return string(u) }, nil, `["abc"]`, "ABC"},
		{"json.Number takes a number", func(n json.Number) string { return n.String() }, nil, `[1.50]`, "1.50"},
		{"fast kinds", func(a int8, b uint16, c float32, d bool, e string, f float64) string {
			return fmt.Sprintf("%v %v %v %v %v %v", a, b, c, d, e, f)
		}, nil, `[-128, 65535, 1.5, true, "é", -2.5e-3]`, "-128 65535 1.5 true é -0.0025"},
		{"escaped string", func(s string) string { return s }, nil, `["a\"b\u00e9"]`, `a"bé`},
		{"largest int64", func(n int64) int64 { return n }, nil, `[9223372036854775807]`, int64(9223372036854775807)},
		{"null into int", func(n int) int { return n }, nil, `[null]`, 0},
		{"any parameter", func(v any) any { return v }, nil, `[{"a":[1]}]`, map[string]any{"a": []any{1.0}}},
		{"map parameter", func(m map[string]int) int { return m["k"] }, nil, `[{"k":4}]`, 4},
		{"many parameters", func(a, b, c, d, e, f, g, h, i, j int) int { return a + j }, nil, `[1,2,3,4,5,6,7,8,9,10]`, 11},
		{"many named parameters", func(a, b, c, d, e, f, g, h, i, j int) int { return a + j },
			[]string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"},
			`{"j":10,"i":9,"h":8,"g":7,"f":6,"e":5,"d":4,"c":3,"b":2,"a":1}`, 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := Func(tt.fn, tt.names...)
			if err != nil {
				t.Fatalf("Func: %v", err)
			}
			got, err := h.Handle(context.Background(), funcRequest("m", tt.params))
			if err != nil {
				t.Fatalf("Handle(%q): %v", tt.params, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Handle(%q) result (-want +got):\n%s", tt.params, diff)
			}
		})
	}
}

func TestFuncContext(t *testing.T) {
	type key struct{}
	var got context.Context
	h := MustFunc(func(ctx context.Context, a int) int {
		got = ctx
		return a
	})
	ctx := context.WithValue(context.Background(), key{}, "v")
	if _, err := h.Handle(ctx, funcRequest("m", "[1]")); err != nil {
		t.Fatal(err)
	}
	if got != ctx {
		t.Errorf("function got context %v, want %v", got, ctx)
	}
	//lint:ignore SA1012 a nil context must reach the function as it is
	if _, err := h.Handle(nil, funcRequest("m", "[1]")); err != nil {
		t.Fatal(err)
	}
	if got != nil {
		t.Errorf("function got context %v, want nil", got)
	}
}

func TestFuncConcurrent(t *testing.T) {
	h := MustFunc(func(ctx context.Context, a, b int) int { return a + b }, "a", "b?")
	for i := range 4 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			for j := range 100 {
				params := fmt.Sprintf(`{"a":%d,"b":%d}`, i, j)
				if j%2 == 0 {
					params = fmt.Sprintf("[%d,%d]", i, j)
				}
				got, err := h.Handle(context.Background(), funcRequest("add", params))
				if err != nil || got != i+j {
					t.Fatalf("Handle(%s) = %v, %v; want %d", params, got, err, i+j)
				}
			}
		})
	}
}

func TestFuncErrorsPassThrough(t *testing.T) {
	sentinel := errors.New("sentinel")
	rpcErr := &jsonrpc2.Error{Code: 7, Message: "seven"}
	tests := []struct {
		name string
		fn   any
		want error
	}{
		{"value and error", func() (int, error) { return 1, sentinel }, sentinel},
		{"error only", func() error { return sentinel }, sentinel},
		{"rpc error", func(context.Context) (string, error) { return "", rpcErr }, rpcErr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MustFunc(tt.fn).Handle(context.Background(), funcRequest("m", "[]"))
			if err != tt.want {
				t.Errorf("error = %v, want %v itself", err, tt.want)
			}
			if got != nil {
				t.Errorf("result = %v with an error, want nil", got)
			}
		})
	}
}

func TestFuncPanicPropagates(t *testing.T) {
	h := MustFunc(func(a int) int { panic(fmt.Sprint("boom ", a)) })
	defer func() {
		if r := recover(); r != "boom 3" {
			t.Errorf("recovered %v, want the function's panic", r)
		}
	}()
	_, _ = h.Handle(context.Background(), funcRequest("m", "[3]"))
	t.Error("Handle returned, want the function's panic")
}

func TestFuncParamErrors(t *testing.T) {
	add3 := func(a, b, c int) int { return a + b + c }
	add := func(a, b int) int { return a + b }
	tail := func(a int, xs ...int) int { return a }
	long := strings.Repeat("é", 80) // 160 bytes
	tests := []struct {
		name   string
		fn     any
		names  []string
		method string
		params string
		want   string
	}{
		// Counts, positional.
		{"too few", add3, nil, "add", "[1,2]", `2 arguments passed to method "add" but it requires 3`},
		{"too few, one", add3, nil, "add", "[1]", `1 argument passed to method "add" but it requires 3`},
		{"too few, absent", add3, nil, "add", funcNoParams, `0 arguments passed to method "add" but it requires 3`},
		{"too few, null", add3, nil, "add", "null", `0 arguments passed to method "add" but it requires 3`},
		{"too few with optional", add3, []string{"a", "b?", "c?"}, "add", "[]", `0 arguments passed to method "add" but it requires 1`},
		{"too few with variadic", tail, nil, "add", "[]", `0 arguments passed to method "add" but it requires 1`},
		{"too many", add3, nil, "add", "[1,2,3,4]", `4 arguments passed to method add taking at most 3`},
		{"too many, one", func() {}, nil, "add", "[1]", `1 argument passed to method add taking at most 0`},
		{"too many with optional", add3, []string{"a", "b?", "c?"}, "add", "[1,2,3,4]", `4 arguments passed to method add taking at most 3`},

		// Names.
		{"missing one", add3, []string{"a", "b", "c"}, "add", `{"a":1,"c":3}`, `method "add" requires parameter "b"`},
		{"missing all", add3, []string{"a", "b", "c"}, "add", `{}`, `method "add" requires parameters "a", "b", "c"`},
		{"missing before excess", add3, []string{"a", "b", "c"}, "add", `{"x":1}`, `method "add" requires parameters "a", "b", "c"`},
		{"missing, optional not listed", add3, []string{"a", "b", "c?"}, "add", `{"b":1}`, `method "add" requires parameter "a"`},
		{"excess one", add3, []string{"a", "b", "c"}, "add", `{"a":1,"b":2,"c":3,"d":4}`, `method "add" does not take parameter "d"`},
		{"excess two, sorted", add3, []string{"a", "b", "c"}, "add", `{"a":1,"e":0,"b":2,"c":3,"d":4}`, `method "add" does not take parameters "d", "e"`},
		{"excess repeated", add3, []string{"a", "b", "c"}, "add", `{"a":1,"b":2,"c":3,"d":4,"d":5}`, `method "add" does not take parameter "d"`},
		{"excess escaped", add3, []string{"a", "b", "c"}, "add", `{"a":1,"b":2,"c":3,"\u0064":4}`, `method "add" does not take parameter "d"`},
		{"names differ in case", add, []string{"a", "b"}, "add", `{"A":1,"b":2}`, `method "add" requires parameter "a"`},
		{"no params take no names", func() {}, nil, "add", `{"a":1}`, `method "add" does not take parameter "a"`},
		{"named without names", add, nil, "add", `{"a":1,"b":2}`, `method "add" cannot be called with named arguments`},
		{"named without names, variadic", tail, nil, "add", `{}`, `method "add" cannot be called with named arguments`},
		{"struct missing field", func(funcPoint) {}, nil, "add", `{"x":1}`, `method "add" requires parameter "y"`},
		{"struct excess field", func(funcPoint) {}, nil, "add", `{"x":1,"y":2,"z":3}`, `method "add" does not take parameter "z"`},
		{"struct field case", func(funcPoint) {}, nil, "add", `{"X":1,"y":2}`, `method "add" requires parameter "x"`},
		{"struct required, optional given", func(funcOptions) {}, nil, "add", `{"limit":1}`, `method "add" requires parameter "name"`},

		// Params that are neither array nor object, or not JSON.
		{"number params", add, nil, "add", "5", `invalid request arguments: params to method "add" must be an array or an object`},
		{"string params", add, nil, "add", `"ab"`, `invalid request arguments: params to method "add" must be an array or an object`},
		{"true params", add, nil, "add", ` true`, `invalid request arguments: params to method "add" must be an array or an object`},
		{"nul params", add, nil, "add", `nul`, `invalid request arguments: params to method "add" must be an array or an object`},
		{"open bracket", add, nil, "add", "[", `invalid request arguments: params to method "add" are not valid JSON`},
		{"comma at the end", add, nil, "add", "[1,", `invalid request arguments: params to method "add" are not valid JSON`},
		{"unterminated inner array", add, nil, "add", "[[1", `invalid request arguments: params to method "add" are not valid JSON`},
		{"unterminated inner string", add, nil, "add", `[{"a":"b]`, `invalid request arguments: params to method "add" are not valid JSON`},
		{"object unterminated key", add, []string{"a", "b"}, "add", `{"a`, `invalid request arguments: params to method "add" are not valid JSON`},
		{"object without end", add, []string{"a", "b"}, "add", `{"a":1`, `invalid request arguments: params to method "add" are not valid JSON`},
		{"object value at the end", add, []string{"a", "b"}, "add", `{"a":`, `invalid request arguments: params to method "add" are not valid JSON`},
		{"object missing comma", add, []string{"a", "b"}, "add", `{"a":1 "b":2}`, `invalid request arguments: params to method "add" are not valid JSON`},
		{"unterminated array", add, nil, "add", "[1,2", `invalid request arguments: params to method "add" are not valid JSON`},
		{"empty element", add, nil, "add", "[1,,2]", `invalid request arguments: params to method "add" are not valid JSON`},
		{"trailing comma", add, nil, "add", "[1,2,]", `invalid request arguments: params to method "add" are not valid JSON`},
		{"missing comma", add, nil, "add", "[1 2]", `invalid request arguments: params to method "add" are not valid JSON`},
		{"trailing garbage", add, nil, "add", "[1,2] x", `invalid request arguments: params to method "add" are not valid JSON`},
		{"unterminated string", add, nil, "add", `["abc]`, `invalid request arguments: params to method "add" are not valid JSON`},
		{"control character", add, nil, "add", "[\"a\x01\"]", `invalid request arguments: params to method "add" are not valid JSON`},
		{"unbalanced", add, nil, "add", `[[1,2]`, `invalid request arguments: params to method "add" are not valid JSON`},
		{"object unterminated", add, []string{"a", "b"}, "add", `{`, `invalid request arguments: params to method "add" are not valid JSON`},
		{"object without colon", add, []string{"a", "b"}, "add", `{"a" 1}`, `invalid request arguments: params to method "add" are not valid JSON`},
		{"object number key", add, []string{"a", "b"}, "add", `{1:2}`, `invalid request arguments: params to method "add" are not valid JSON`},
		{"object trailing comma", add, []string{"a", "b"}, "add", `{"a":1,}`, `invalid request arguments: params to method "add" are not valid JSON`},
		{"object without value", add, []string{"a", "b"}, "add", `{"a":}`, `invalid request arguments: params to method "add" are not valid JSON`},
		{"object garbage", add, []string{"a", "b"}, "add", `{"a":1}}`, `invalid request arguments: params to method "add" are not valid JSON`},
		// The params are checked as strictly as a whole message is (the
		// session never hands a handler anything else): a bad literal
		// or escape anywhere makes them invalid JSON.
		{"bad literal", add, nil, "add", `[1,tru]`, `invalid request arguments: params to method "add" are not valid JSON`},
		{"bad literal in number", add, nil, "add", `[1x,2]`, `invalid request arguments: params to method "add" are not valid JSON`},
		{"mismatched brackets", func(any) {}, nil, "add", `[{]]`, `invalid request arguments: params to method "add" are not valid JSON`},
		{"bad escape in a name", add3, []string{"a", "b", "c"}, "add", `{"a":1,"b":2,"c":3,"\q":4}`, `invalid request arguments: params to method "add" are not valid JSON`},
		{"bad UTF-8", func(string) {}, nil, "add", "[\"\xff\"]", `invalid request arguments: params to method "add" are not valid JSON`},
		{"leading zero", func(int) {}, nil, "add", `[01]`, `invalid request arguments: params to method "add" are not valid JSON`},

		// Values.
		{"bad value, positional", add, nil, "add", `[1,"x"]`, `invalid argument 2 to method "add": json: cannot unmarshal string into Go value of type int`},
		{"bad value, positional, named", add, []string{"a", "b"}, "add", `[1,"x"]`, `invalid argument 2 ("b") to method "add": json: cannot unmarshal string into Go value of type int`},
		{"bad value, named", add, []string{"a", "b"}, "add", `{"a":1,"b":"x"}`, `invalid parameter "b" to method "add": json: cannot unmarshal string into Go value of type int`},
		{"overflow", func(int8) {}, nil, "add", `[128]`, `invalid argument 1 to method "add": json: cannot unmarshal number 128 into Go value of type int8`},
		{"negative unsigned", func(uint) {}, nil, "add", `[-1]`, `invalid argument 1 to method "add": json: cannot unmarshal number -1 into Go value of type uint`},
		{"fraction into int", func(int) {}, nil, "add", `[1.5]`, `invalid argument 1 to method "add": json: cannot unmarshal number 1.5 into Go value of type int`},
		{"string into bool", func(bool) {}, nil, "add", `["true"]`, `invalid argument 1 to method "add": json: cannot unmarshal string into Go value of type bool`},
		{"bad variadic element", tail, nil, "add", `[1,2,"x"]`, `invalid argument 3 to method "add": json: cannot unmarshal string into Go value of type int`},
		{"bad variadic element, named", tail, []string{"a", "xs"}, "add", `[1,2,"x"]`, `invalid argument 3 ("xs") to method "add": json: cannot unmarshal string into Go value of type int`},
		{"bad variadic array", tail, []string{"a", "xs"}, "add", `{"a":1,"xs":[1,"x"]}`, `invalid parameter "xs" to method "add": json: cannot unmarshal string into Go value of type int`},
		{"bad variadic single", tail, []string{"a", "xs"}, "add", `{"a":1,"xs":"x"}`, `invalid parameter "xs" to method "add": json: cannot unmarshal string into Go value of type int`},
		{"bad struct field", func(funcPoint) {}, nil, "add", `{"x":1,"y":"s"}`, `invalid parameter "y" to method "add": json: cannot unmarshal string into Go value of type int`},
		{"bad struct field decoder", func(funcStrictParams) {}, nil, "add", `{"a":1,"s":"no"}`, `invalid parameter "s" to method "add": strict: want "ok"`},
		{"bad struct, positional", func(funcPoint) {}, nil, "add", `[{"x":"s"}]`, `invalid argument 1 to method "add": json: cannot unmarshal string into Go struct field funcPoint.x of type int`},
		{"bad quoted field", func(funcOptions) {}, nil, "add", `{"name":"n","count":"x"}`, `invalid request arguments to method "add": json: invalid use of ,string struct tag, trying to unmarshal "x" into int64`},
		{"bad whole struct", func(funcStrict) {}, nil, "add", `{"a":1}`, `invalid request arguments to method "add": strict: want "ok"`},

		// Peer input is quoted at most 100 bytes at a time.
		{"long method, quoted", add, nil, long, "[]", `0 arguments passed to method "` + long[:100] + `" but it requires 2`},
		{"long method, unquoted", add, nil, long + "x", "[1,2,3]", `3 arguments passed to method ` + long[:100] + ` taking at most 2`},
		{"long excess name", add, []string{"a", "b"}, "add", `{"a":1,"b":2,"` + long + `":3}`, `method "add" does not take parameter "` + long[:100] + `"`},
		{"many excess names", func() {}, nil, "add", `{"k":0,"j":0,"i":0,"h":0,"g":0,"f":0,"e":0,"d":0,"c":0,"b":0,"a":0,"l":0}`,
			`method "add" does not take parameters "a", "b", "c", "d", "e", "f", "g", "h", "i", "j" and 2 more`},
		{"long number", add, nil, "add", "[1," + strings.Repeat("9", 1000) + "]",
			`invalid argument 2 to method "add": ` + ("json: cannot unmarshal number " + strings.Repeat("9", 100))[:100] + "..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := Func(tt.fn, tt.names...)
			if err != nil {
				t.Fatalf("Func: %v", err)
			}
			got, err := h.Handle(context.Background(), funcRequest(tt.method, tt.params))
			if got != nil {
				t.Errorf("result = %v, want nil", got)
			}
			want := &jsonrpc2.Error{Code: -32602, Message: tt.want}
			var rpcErr *jsonrpc2.Error
			if !errors.As(err, &rpcErr) {
				t.Fatalf("error = %v (%T), want %v", err, err, want)
			}
			if diff := cmp.Diff(want, rpcErr); diff != "" {
				t.Errorf("Handle(%.60q) error (-want +got):\n%s", tt.params, diff)
			}
		})
	}
}

// funcHugeType is a function type whose parameters cannot all be held in
// one struct.
var funcHugeType = func() reflect.Type {
	huge := reflect.ArrayOf(1<<62, reflect.TypeFor[byte]())
	return reflect.FuncOf([]reflect.Type{huge, huge, huge, huge}, nil, false)
}()

func TestFuncRegistrationErrors(t *testing.T) {
	type chanField struct{ C chan int }
	type hidden struct{ V int }
	type embedsHidden struct{ *hidden }
	tests := []struct {
		name  string
		fn    any
		names []string
		want  string
	}{
		{"nil", nil, nil, "handler.Func: nil function"},
		{"not a function", 5, nil, "handler.Func: int is not a function"},
		{"nil function", (func())(nil), nil, "handler.Func: nil func()"},
		{"second result not error", func() (int, int) { return 0, 0 }, nil, "handler.Func: func() (int, int): second result must be error, not int"},
		//lint:ignore ST1008 the signature under test
		{"error first", func() (error, int) { return nil, 0 }, nil, "handler.Func: func() (error, int): second result must be error, not int"},
		{"three results", func() (int, int, error) { return 0, 0, nil }, nil, "handler.Func: func() (int, int, error): 3 results; want (T, error), T, error or none"},
		{"channel result", func() chan int { return nil }, nil, "handler.Func: func() chan int: result: type chan int cannot be encoded as JSON"},
		{"too few names", func(a, b int) {}, []string{"a"}, "handler.Func: func(int, int): 1 name given for 2 parameters"},
		{"too many names", func(ctx context.Context, a int) {}, []string{"ctx", "a"}, "handler.Func: func(context.Context, int): 2 names given for 1 parameter"},
		{"empty name", func(a, b int) {}, []string{"a", ""}, "handler.Func: func(int, int): empty name for parameter 2"},
		{"empty optional name", func(a int) {}, []string{"?"}, "handler.Func: func(int): empty name for parameter 1"},
		{"repeated name", func(a, b int) {}, []string{"a", "a?"}, `handler.Func: func(int, int): name "a" given twice`},
		{"required after optional", func(a, b, c int) {}, []string{"a", "b?", "c"}, `handler.Func: func(int, int, int): required parameter "c" follows optional parameter "b"`},
		{"context not first", func(a int, ctx context.Context) {}, nil, "handler.Func: func(int, context.Context): context.Context must be the first parameter"},
		{"channel parameter", func(c chan int) {}, nil, "handler.Func: func(chan int): parameter 1: type chan int cannot be decoded from JSON"},
		{"function parameter", func(a int, f func()) {}, nil, "handler.Func: func(int, func()): parameter 2: type func() cannot be decoded from JSON"},
		{"complex parameter", func(c complex128) {}, nil, "handler.Func: func(complex128): parameter 1: type complex128 cannot be decoded from JSON"},
		{"interface parameter", func(r io.Reader) {}, nil, "handler.Func: func(io.Reader): parameter 1: interface type io.Reader cannot be decoded from JSON"},
		{"bad map key", func(m map[[2]int]int) {}, nil, "handler.Func: func(map[[2]int]int): parameter 1: map key type [2]int cannot be decoded from JSON"},
		{"bad slice element", func(s [][]chan int) {}, nil, "handler.Func: func([][]chan int): parameter 1: type chan int cannot be decoded from JSON"},
		{"bad variadic element", func(xs ...func()) {}, nil, "handler.Func: func(...func()): parameter 1: type func() cannot be decoded from JSON"},
		{"struct field", func(s chanField) {}, nil, "handler.Func: func(handler.chanField): parameter 1: field C: type chan int cannot be decoded from JSON"},
		{"parameters too large", reflect.MakeFunc(funcHugeType, func([]reflect.Value) []reflect.Value { return nil }).Interface(), nil,
			"handler.Func: " + funcHugeType.String() + ": parameters too large: reflect.StructOf: struct size would exceed virtual address space"},
		{"embedded unexported pointer", func(s embedsHidden) {}, nil, "handler.Func: func(handler.embedsHidden): parameter 1: embedded pointer to unexported struct handler.hidden cannot be decoded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := Func(tt.fn, tt.names...)
			if h != nil {
				t.Errorf("handler = %v, want nil", h)
			}
			if err == nil {
				t.Fatalf("error = nil, want %q", tt.want)
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMustFuncPanics(t *testing.T) {
	defer func() {
		err, ok := recover().(error)
		if !ok || !strings.Contains(err.Error(), "is not a function") {
			t.Errorf("recovered %v, want the registration error", err)
		}
	}()
	MustFunc("add")
	t.Error("MustFunc returned, want a panic")
}

// funcJF* are struct types for the field table tests.
type (
	funcJFA   struct{ X, A int }
	funcJFB   struct{ X, B int }
	funcJFTag struct {
		Q int `json:"X"`
	}
	funcJFTwice struct{ funcInner }
	funcJFOnce  struct{ funcInner }
	funcJFlower struct{ V int }
	funcJFint   int
	funcJFchan  chan int
	funcJFMid   struct{ funcInner }
	// FuncJFInner is exported: encoding/json cannot set an embedded
	// pointer to an unexported type.
	FuncJFInner struct {
		In int `json:"in"`
	}
)

func TestJSONFields(t *testing.T) {
	type field struct {
		Name     string
		Optional bool
	}
	tests := []struct {
		name  string
		value any // every field set, so json.Marshal shows them all
		want  []field
	}{
		{"tags and options", struct {
			A int
			B string `json:"b"`
			C *int
			D int `json:",omitempty"`
			E int `json:"-"`
			//lint:ignore SA5008 encoding/json names this field "-"
			F int `json:"-,"`
			g int
			H int `json:"h,omitzero"`
			//lint:ignore SA5008 encoding/json ignores an invalid name
			I int `json:"i\\"`
			J int `json:"j,string"`
		}{1, "b", new(int), 1, 1, 1, 1, 1, 1, 1}, []field{
			{"-", false}, {"A", false}, {"C", true}, {"D", true}, {"I", false}, {"b", false}, {"h", true}, {"j", false},
		}},
		{"promoted", funcOuter{funcInner{1}, "o"}, []field{{"in", false}, {"own", false}}},
		{"embedded with a tag", struct {
			funcInner `json:"inner"`
		}{funcInner{1}}, []field{{"inner", false}}},
		{"shallower wins", struct {
			In int `json:"in"`
			funcInner
		}{1, funcInner{2}}, []field{{"in", false}}},
		{"conflict at one depth", struct {
			funcJFA
			funcJFB
		}{funcJFA{1, 1}, funcJFB{1, 1}}, []field{{"A", false}, {"B", false}}},
		{"tagged wins at one depth", struct {
			funcJFA
			funcJFTag
		}{funcJFA{1, 1}, funcJFTag{1}}, []field{{"A", false}, {"X", false}}},
		{"embedded twice at one depth", struct {
			funcJFTwice
			funcJFOnce
		}{funcJFTwice{funcInner{1}}, funcJFOnce{funcInner{1}}}, []field{}},
		{"embedded pointer", struct {
			*FuncJFInner
		}{&FuncJFInner{1}}, []field{{"in", false}}},
		{"unexported embedded struct", struct {
			funcJFlower
		}{funcJFlower{1}}, []field{{"V", false}}},
		{"embedded at two depths", struct {
			funcInner
			funcJFMid
		}{funcInner{1}, funcJFMid{funcInner{2}}}, []field{{"in", false}}},
		{"tagged wins at one depth, tagged second", struct {
			funcJFTag
			funcJFA
		}{funcJFTag{1}, funcJFA{1, 1}}, []field{{"A", false}, {"X", false}}},
		{"unexported embedded non-struct", struct {
			funcJFint
			Z int
		}{1, 1}, []field{{"Z", false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields, err := jsonFields(reflect.TypeOf(tt.value))
			if err != nil {
				t.Fatal(err)
			}
			got := []field{}
			var names []string
			for _, f := range fields {
				got = append(got, field{f.name, f.optional})
				names = append(names, f.name)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			// encoding/json itself must agree on the names.
			b, err := json.Marshal(tt.value)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			var jsonNames []string
			for k := range m {
				jsonNames = append(jsonNames, k)
			}
			slices.Sort(jsonNames)
			if diff := cmp.Diff(jsonNames, names); diff != "" {
				t.Errorf("names differ from encoding/json's %s (-json +ours):\n%s", b, diff)
			}
		})
	}
}

// funcFastTypes are the types whose decoding may take the fast path.
var funcFastTypes = []reflect.Type{
	reflect.TypeFor[int](), reflect.TypeFor[int8](), reflect.TypeFor[int64](),
	reflect.TypeFor[uint](), reflect.TypeFor[uint8](), reflect.TypeFor[uint64](), reflect.TypeFor[uintptr](),
	reflect.TypeFor[float32](), reflect.TypeFor[float64](),
	reflect.TypeFor[bool](), reflect.TypeFor[string](), reflect.TypeFor[funcJFint](),
	reflect.TypeFor[funcUpper](), reflect.TypeFor[json.Number](),
}

var funcFastSeeds = []string{
	"",
	"0", "-0", "1", "-1", "127", "128", "-128", "-129", "255", "256", "1.0", "1e2", "1E+2", "1e-2", "-",
	"01", "-01", "1.", "1.e3", ".5", "0.5", "1e", "1e+", "1e400", "-1e400", "3.4028235e38", "3.5e38", "1e-400",
	"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
	"18446744073709551615", "18446744073709551616", "true", "false", "null", "nul", "tru", "True",
	`"abc"`, `"a\"b"`, `"\u00e9"`, `"é"`, "\"\xff\"", `""`, "\"\t\"", `"1"`, `"`, `"a`, "[1]", "{}", " 1", "1 ", "+1", "0x10", "1_0",
}

// funcSameAsJSON checks that decodeParam decodes raw into a value of
// type typ exactly as json.Unmarshal does.
func funcSameAsJSON(t *testing.T, typ reflect.Type, raw []byte) {
	t.Helper()
	want := reflect.New(typ)
	wantErr := json.Unmarshal(raw, want.Interface())
	got := reflect.New(typ).Elem()
	gotErr := decodeParam(raw, got, fastKindOf(typ))
	if (wantErr == nil) != (gotErr == nil) || wantErr != nil && wantErr.Error() != gotErr.Error() {
		t.Fatalf("%v from %q: error %v, want %v", typ, raw, gotErr, wantErr)
	}
	if wantErr == nil && !reflect.DeepEqual(want.Elem().Interface(), got.Interface()) {
		t.Fatalf("%v from %q: %#v, want %#v", typ, raw, got.Interface(), want.Elem().Interface())
	}
}

func TestDecodeParamSameAsJSON(t *testing.T) {
	for _, typ := range funcFastTypes {
		for _, raw := range funcFastSeeds {
			funcSameAsJSON(t, typ, []byte(raw))
		}
	}
}

func FuzzDecodeParam(f *testing.F) {
	for i, raw := range funcFastSeeds {
		f.Add(uint8(i), []byte(raw))
	}
	f.Fuzz(func(t *testing.T, which uint8, raw []byte) {
		funcSameAsJSON(t, funcFastTypes[int(which)%len(funcFastTypes)], raw)
	})
}

// funcSplitSeeds are params, valid and not, for FuzzFuncHandle.
var funcSplitSeeds = []string{
	"[]", "[1]", " [ 1 , 2 ] ", `["a,]",{"b":[1,2]},null]`, "[1,,2]", "[1 2]", "[1,2", "[[1]", "[{]]", `["\"]"]`, "[1]x",
	"{}", `{"a":1}`, ` { "a" : [1,{"b":2}] , "c":"}" } `, `{"a":1,}`, `{"a" 1}`, `{1:2}`, `{"a":}`, `{"\u0061":1}`, `{"a":1}}`,
}

// FuzzFuncHandle checks that no params make the adapter panic, and that
// every failure is a bounded -32602 error.
func FuzzFuncHandle(f *testing.F) {
	for _, s := range funcSplitSeeds {
		f.Add(uint8(0), []byte(s))
	}
	f.Add(uint8(1), []byte(`{"p":"p","xs":[1,2]}`))
	f.Add(uint8(2), []byte(`{"x":1,"y":2}`))
	f.Add(uint8(3), []byte(`[1.5,"a",true,null]`))
	f.Add(uint8(4), []byte(`{"name":"n","limit":1,"count":"3"}`))
	handlers := []session.Handler{
		MustFunc(func(ctx context.Context, a, b int) (int, error) { return a + b, nil }),
		MustFunc(funcShow, "p", "xs"),
		MustFunc(func(p *funcPoint) int { return 0 }),
		MustFunc(func(a float32, s string, b bool, v any) {}, "a", "s?", "b?", "v?"),
		MustFunc(func(o funcOptions) {}),
	}
	f.Fuzz(func(t *testing.T, which uint8, params []byte) {
		raw := json.RawMessage(params)
		_, err := handlers[int(which)%len(handlers)].Handle(context.Background(), &jsonrpc2.Request{Method: "m", Params: &raw})
		if err == nil {
			return
		}
		var rpcErr *jsonrpc2.Error
		if !errors.As(err, &rpcErr) || rpcErr.Code != -32602 {
			t.Fatalf("error %v, want a -32602 *jsonrpc2.Error", err)
		}
		if len(rpcErr.Message) > 2000 {
			t.Fatalf("message of %d bytes: %.200q", len(rpcErr.Message), rpcErr.Message)
		}
	})
}

func TestCutEcho(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abc", 3, "abc"},
		{"abc", 2, "ab"},
		{"aé", 2, "a"},
		{"éé", 3, "é"},
		{"é", 0, ""},
	}
	for _, tt := range tests {
		got := cutEcho(tt.s, tt.n)
		if got != tt.want || !utf8.ValidString(got) {
			t.Errorf("cutEcho(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

func TestFuncManyFields(t *testing.T) {
	// More fields than the linear lookup handles.
	type many struct {
		A, B, C, D, E, F, G, H, I, J int
		K                            *int
	}
	h := MustFunc(func(m many) int { return m.A + m.J })
	got, err := h.Handle(context.Background(), funcRequest("m", `{"A":1,"B":0,"C":0,"D":0,"E":0,"F":0,"G":0,"H":0,"I":0,"J":2}`))
	if err != nil || got != 3 {
		t.Errorf("Handle = %v, %v; want 3", got, err)
	}
	_, err = h.Handle(context.Background(), funcRequest("m", `{"A":1,"B":0,"C":0,"D":0,"E":0,"F":0,"G":0,"H":0,"I":0,"J":2,"L":0}`))
	want := &jsonrpc2.Error{Code: -32602, Message: `method "m" does not take parameter "L"`}
	if diff := cmp.Diff(error(want), err); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
}

func BenchmarkFunc(b *testing.B) {
	type point struct {
		X int `json:"x"`
		Y int `json:"y"`
	}
	add := func(ctx context.Context, a, b int) (int, error) { return a + b, nil }
	benchmarks := []struct {
		name   string
		h      session.Handler
		params string
	}{
		{"positional", MustFunc(add), "[1,2]"},
		{"named", MustFunc(add, "a", "b"), `{"a":1,"b":2}`},
		{"struct", MustFunc(func(ctx context.Context, p point) (int, error) { return p.X + p.Y, nil }), `{"x":1,"y":2}`},
		{"variadic", MustFunc(func(ctx context.Context, xs ...int) (int, error) { return len(xs), nil }), "[1,2]"},
		{"encoding-json", MustFunc(func(ctx context.Context, a, b any) (any, error) { return a, nil }), "[1,2]"},
	}
	ctx := context.Background()
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			req := funcRequest("add", bm.params)
			b.ReportAllocs()
			b.SetBytes(int64(len(bm.params)))
			for b.Loop() {
				if _, err := bm.h.Handle(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestDecodeRawMessageSameAsJSON: a json.RawMessage parameter takes its
// value as it is, as encoding/json would, for every value a session
// hands over (a whole valid value, split from the params without the
// white space around it), null included.
func TestDecodeRawMessageSameAsJSON(t *testing.T) {
	typ := reflect.TypeFor[json.RawMessage]()
	n := 0
	for _, raw := range append(funcFastSeeds, `[1,{"a":[true,null]}]`, `{"k":"v"}`, `-1.5e3`) {
		if !json.Valid([]byte(raw)) || strings.TrimSpace(raw) != raw {
			continue
		}
		funcSameAsJSON(t, typ, []byte(raw))
		n++
	}
	if n < 20 {
		t.Fatalf("only %d valid values checked", n)
	}
}

// TestDecodeRawMessageAllocatesNothing: the json.RawMessage parameter
// of an echo, the commonest of handlers, costs no decoding.
func TestDecodeRawMessageAllocatesNothing(t *testing.T) {
	raw := []byte(`"0123456789abcdef"`)
	v := reflect.New(reflect.TypeFor[json.RawMessage]()).Elem()
	k := fastKindOf(v.Type())
	if allocs := testing.AllocsPerRun(100, func() {
		if err := decodeParam(raw, v, k); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("%g allocations per json.RawMessage parameter, want 0", allocs)
	}
}
