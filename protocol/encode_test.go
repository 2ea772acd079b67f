package protocol

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sourcegraph/jsonrpc2"
)

// encoding is one call of an Append method.
type encoding struct {
	name   string
	encode func(c Codec, dst []byte) ([]byte, error)
	v2, v1 string // the output of each dialect ("" for an error)
	code   int64  // the error's code, if one
}

func request(id, method, params string) func(c Codec, dst []byte) ([]byte, error) {
	return func(c Codec, dst []byte) ([]byte, error) {
		return c.AppendRequest(dst, raw(id), method, raw(params))
	}
}

func notification(method, params string) func(c Codec, dst []byte) ([]byte, error) {
	return func(c Codec, dst []byte) ([]byte, error) {
		return c.AppendNotification(dst, method, raw(params))
	}
}

func response(id, res string) func(c Codec, dst []byte) ([]byte, error) {
	return func(c Codec, dst []byte) ([]byte, error) {
		return c.AppendResult(dst, raw(id), raw(res))
	}
}

func errorResponse(id string, e *jsonrpc2.Error) func(c Codec, dst []byte) ([]byte, error) {
	return func(c Codec, dst []byte) ([]byte, error) {
		return c.AppendError(dst, raw(id), e)
	}
}

// raw returns s as raw JSON, nil for "".
func raw(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

var encodings = []encoding{
	{name: "request", encode: request("1", "subtract", "[42,23]"),
		v2: `{"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":1}`,
		v1: `{"method":"subtract","params":[42,23],"id":1}`},
	{name: "request without params", encode: request(`"a"`, "ping", ""),
		v2: `{"jsonrpc":"2.0","method":"ping","id":"a"}`,
		v1: `{"method":"ping","params":[],"id":"a"}`},
	{name: "request with named params", encode: request("1", "a", `{"x":1}`),
		v2: `{"jsonrpc":"2.0","method":"a","params":{"x":1},"id":1}`, code: CodeInvalidParams},
	{name: "request with null ID", encode: request("null", "a", "[]"),
		v2: `{"jsonrpc":"2.0","method":"a","params":[],"id":null}`,
		v1: `{"method":"a","params":[],"id":null}`},
	{name: "request with spaced params", encode: request("1", "a", " [ 1 ,\n\t\"a b\\\" c\" , { \"k\" : [ ] } ]\r\n"),
		v2: `{"jsonrpc":"2.0","method":"a","params":[1,"a b\" c",{"k":[]}],"id":1}`,
		v1: `{"method":"a","params":[1,"a b\" c",{"k":[]}],"id":1}`},
	{name: "request with escaped method", encode: request("1", "a\"\\\n\r\t\b\f\x00\x1f\x7f<>&\u2028é\xffz", "[]"),
		v2: `{"jsonrpc":"2.0","method":"a\"\\\n\r\t\b\f\u0000\u001f` + "\x7f<>&\u2028é" + `\ufffdz","params":[],"id":1}`,
		v1: `{"method":"a\"\\\n\r\t\b\f\u0000\u001f` + "\x7f<>&\u2028é" + `\ufffdz","params":[],"id":1}`},
	{name: "request with a truncated rune", encode: request("1", "a\xe2\x82", "[]"),
		v2: `{"jsonrpc":"2.0","method":"a\ufffd\ufffd","params":[],"id":1}`,
		v1: `{"method":"a\ufffd\ufffd","params":[],"id":1}`},
	{name: "request without ID", encode: request("", "a", "[]"), code: CodeInvalidRequest},
	{name: "request with object ID", encode: request("{}", "a", "[]"),
		v1: `{"method":"a","params":[],"id":{}}`, code: CodeInvalidRequest},
	{name: "request with spaced array ID", encode: request(`[1, {"a": true}]`, "a", "[]"),
		v1: `{"method":"a","params":[],"id":[1, {"a": true}]}`, code: CodeInvalidRequest},
	{name: "request with a line break in its ID", encode: request("[1,\r\n2]", "a", "[]"),
		v1: `{"method":"a","params":[],"id":[1,2]}`, code: CodeInvalidRequest},
	{name: "request with an invalid array ID", encode: request(`[1,]`, "a", "[]"), code: CodeInvalidRequest},
	{name: "request with an ID of two values", encode: request(`[1] [2]`, "a", "[]"), code: CodeInvalidRequest},
	{name: "request with a spaced ID", encode: request(` [1]`, "a", "[]"), code: CodeInvalidRequest},
	{name: "request with an ID too deep", encode: request(strings.Repeat("[", 256)+strings.Repeat("]", 256), "a", "[]"), code: CodeInvalidRequest},
	{name: "request with an ID of 255 levels", encode: request(strings.Repeat("[", 255)+strings.Repeat("]", 255), "a", "[]"),
		v1: `{"method":"a","params":[],"id":` + strings.Repeat("[", 255) + strings.Repeat("]", 255) + `}`, code: CodeInvalidRequest},
	{name: "request with params null", encode: request("1", "a", "null"), code: CodeInvalidParams},
	{name: "request with params a string", encode: request("1", "a", `"x"`), code: CodeInvalidParams},
	{name: "request with params invalid", encode: request("1", "a", `[1,]`), code: CodeInternalError},
	{name: "request with params NaN", encode: request("1", "a", `[NaN]`), code: CodeInternalError},
	{name: "request with two params values", encode: request("1", "a", `[1] [2]`), code: CodeInternalError},
	{name: "request with params not UTF-8", encode: request("1", "a", "[\"\xff\"]"), code: CodeInternalError},
	{name: "request with params too deep", encode: request("1", "a", strings.Repeat("[", 256)+strings.Repeat("]", 256)), code: CodeInternalError},
	{name: "error data too deep", encode: errorResponse("1", rpcErr(1, "m", strings.Repeat("[", 255)+strings.Repeat("]", 255))), code: CodeInternalError},
	{name: "request with params of 255 levels", encode: request("1", "a", strings.Repeat("[", 255)+strings.Repeat("]", 255)),
		v2: `{"jsonrpc":"2.0","method":"a","params":` + strings.Repeat("[", 255) + strings.Repeat("]", 255) + `,"id":1}`,
		v1: `{"method":"a","params":` + strings.Repeat("[", 255) + strings.Repeat("]", 255) + `,"id":1}`},

	{name: "notification", encode: notification("update", "[1,2]"),
		v2: `{"jsonrpc":"2.0","method":"update","params":[1,2]}`,
		v1: `{"method":"update","params":[1,2],"id":null}`},
	{name: "notification without params", encode: notification("tick", ""),
		v2: `{"jsonrpc":"2.0","method":"tick"}`,
		v1: `{"method":"tick","params":[],"id":null}`},
	{name: "notification with bad params", encode: notification("tick", "[1"), code: CodeInternalError},

	{name: "result", encode: response("1", "19"),
		v2: `{"jsonrpc":"2.0","result":19,"id":1}`,
		v1: `{"result":19,"error":null,"id":1}`},
	{name: "nil result", encode: response(`"x"`, ""),
		v2: `{"jsonrpc":"2.0","result":null,"id":"x"}`,
		v1: `{"result":null,"error":null,"id":"x"}`},
	{name: "result with null ID", encode: response("", `{"a":[true,false,null,-1.5e-3]}`),
		v2: `{"jsonrpc":"2.0","result":{"a":[true,false,null,-1.5e-3]},"id":null}`,
		v1: `{"result":{"a":[true,false,null,-1.5e-3]},"error":null,"id":null}`},
	{name: "spaced result", encode: response("1", "  \"a\"\n"),
		v2: `{"jsonrpc":"2.0","result":"a","id":1}`,
		v1: `{"result":"a","error":null,"id":1}`},
	{name: "invalid result", encode: response("1", `{"a"}`), code: CodeInternalError},
	{name: "only whitespace result", encode: response("1", ` `), code: CodeInternalError},
	{name: "Infinity result", encode: response("1", `Infinity`), code: CodeInternalError},

	{name: "error", encode: errorResponse(`"1"`, NewError(-32601, "Method not found")),
		v2: `{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":"1"}`,
		v1: `{"result":null,"error":{"code":-32601,"message":"Method not found"},"id":"1"}`},
	{name: "error with null ID", encode: errorResponse("", ParseError("")),
		v2: `{"jsonrpc":"2.0","error":{"code":-32700,"message":"invalid JSON"},"id":null}`,
		v1: `{"result":null,"error":{"code":-32700,"message":"invalid JSON"},"id":null}`},
	{name: "error with data", encode: errorResponse("1", rpcErr(5, "a\tb", ` {"k": [1]} `)),
		v2: `{"jsonrpc":"2.0","error":{"code":5,"message":"a\tb","data":{"k":[1]}},"id":1}`,
		v1: `{"result":null,"error":{"code":5,"message":"a\tb","data":{"k":[1]}},"id":1}`},
	{name: "error with empty data", encode: errorResponse("1", &jsonrpc2.Error{Code: 1, Message: "m", Data: new(json.RawMessage)}),
		v2: `{"jsonrpc":"2.0","error":{"code":1,"message":"m"},"id":1}`,
		v1: `{"result":null,"error":{"code":1,"message":"m"},"id":1}`},
	{name: "error with invalid data", encode: errorResponse("1", rpcErr(5, "m", `{`)), code: CodeInternalError},
	{name: "nil error", encode: errorResponse("1", nil), code: CodeInternalError},
	{name: "error with bad ID", encode: errorResponse("true", NewError(1, "m")),
		v1: `{"result":null,"error":{"code":1,"message":"m"},"id":true}`, code: CodeInvalidRequest},
	{name: "result with an object ID", encode: response(`{"k": "v"}`, "1"),
		v1: `{"result":1,"error":null,"id":{"k": "v"}}`, code: CodeInvalidRequest},
	{name: "error with a bad object ID", encode: errorResponse(`{"k"}`, NewError(1, "m")), code: CodeInvalidRequest},
}

func TestEncode(t *testing.T) {
	for _, d := range []Dialect{V2, V1, Loose, Auto} {
		for _, tt := range encodings {
			t.Run(d.String()+"/"+tt.name, func(t *testing.T) {
				want := tt.v2
				if d == V1 {
					want = tt.v1
				}
				prefix := []byte("prefix")
				got, err := tt.encode(New(d, nil), prefix)
				if want != "" {
					if err != nil {
						t.Fatal(err)
					}
					if s := string(got); s != "prefix"+want {
						t.Errorf("\n got %s\nwant prefix%s", s, want)
					}
					if !json.Valid(got[len(prefix):]) {
						t.Errorf("invalid JSON %s", got)
					}
					return
				}
				var je *jsonrpc2.Error
				if !errors.As(err, &je) {
					t.Fatalf("error %v, want a *jsonrpc2.Error", err)
				}
				if je.Code != tt.code {
					t.Errorf("error %v, want code %d", err, tt.code)
				}
				if string(got) != "prefix" {
					t.Errorf("dst changed to %q on error", got)
				}
			})
		}
	}
}

// TestEncodeIDs checks that every valid raw ID is written verbatim and
// every invalid one refused.
func TestEncodeIDs(t *testing.T) {
	c := New(V2, nil)
	for _, id := range []string{`0`, `-0`, `-5`, `1.5`, `1e3`, `-1.5E+30`, `18446744073709551617`,
		`9007199254740993`, `-9007199254740993`, `""`, `"1"`, `"a\"\\\u00e9"`, `null`} {
		out, err := c.AppendResult(nil, []byte(id), []byte("1"))
		if err != nil {
			t.Errorf("%s: %v", id, err)
			continue
		}
		if want := `{"jsonrpc":"2.0","result":1,"id":` + id + `}`; string(out) != want {
			t.Errorf("got %s, want %s", out, want)
		}
		m, err := c.Decode(out)
		if err != nil || string(m.Items[0].RawID) != id {
			t.Errorf("%s: decoded back as %q, %v", id, m.Items[0].RawID, err)
		}
	}
	for _, id := range []string{`true`, `false`, `{}`, `[1]`, `nul`, `nullx`, ` 1`, `1 `, `01`, `1.`, `"a`, `"a"b`, `"` + "\xff" + `"`, `+1`, `NaN`, `x`} {
		if _, err := c.AppendResult(nil, []byte(id), []byte("1")); err == nil {
			t.Errorf("ID %q accepted", id)
		}
		if _, err := c.AppendRequest(nil, []byte(id), "m", nil); err == nil {
			t.Errorf("request ID %q accepted", id)
		}
	}

	// In 1.0 an ID can be of any type: written back byte for byte.
	v1 := New(V1, nil)
	for _, id := range []string{`true`, `false`, `{}`, `[]`, `[1]`, `{"a":[1,{"b":null}]}`, `[ 1 , "x" ]`, "[1,\t2]",
		`{"\u00e9":"\""}`, `0`, `"s"`, `null`} {
		out, err := v1.AppendResult(nil, []byte(id), []byte("1"))
		if err != nil {
			t.Errorf("1.0 ID %s: %v", id, err)
			continue
		}
		if want := `{"result":1,"error":null,"id":` + id + `}`; string(out) != want {
			t.Errorf("got %s, want %s", out, want)
		}
		m, err := v1.Decode(out)
		if err != nil || string(m.Items[0].RawID) != id {
			t.Errorf("1.0 ID %s: decoded back as %q, %v", id, m.Items[0].RawID, err)
		}
	}
	for _, id := range []string{`tru`, `{`, `[1,]`, `{"a"}`, `{1:2}`, ` []`, `[] `, `[]]`, "[\"\xff\"]", `[NaN]`} {
		if _, err := v1.AppendResult(nil, []byte(id), []byte("1")); err == nil {
			t.Errorf("1.0 ID %q accepted", id)
		}
		if _, err := v1.AppendRequest(nil, []byte(id), "m", nil); err == nil {
			t.Errorf("1.0 request ID %q accepted", id)
		}
	}
}

// TestEncodeRoundTrip encodes items in each dialect and decodes them
// back.
func TestEncodeRoundTrip(t *testing.T) {
	for _, d := range []Dialect{V2, V1, Loose} {
		c := New(d, nil)
		var buf []byte
		var err error
		buf, err = c.AppendRequest(buf[:0], []byte(`"k"`), "a\u00e9\n", []byte(`[1, {"b": null}]`))
		if err != nil {
			t.Fatal(err)
		}
		m, err := c.Decode(buf)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]view{req("a\u00e9\n", `[1,{"b":null}]`, `"k"`, str("k"))}, views(t, m)); diff != "" {
			t.Errorf("%v request (-want +got):\n%s", d, diff)
		}

		buf, err = c.AppendNotification(buf[:0], "n", nil)
		if err != nil {
			t.Fatal(err)
		}
		wantParams := ""
		if d == V1 {
			wantParams = "[]"
		}
		if m, err = c.Decode(buf); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]view{notif("n", wantParams)}, views(t, m)); diff != "" {
			t.Errorf("%v notification (-want +got):\n%s", d, diff)
		}

		e := rpcErr(-3, "bad \"thing\"", `[1]`)
		if buf, err = c.AppendError(buf[:0], []byte("-1.5"), e); err != nil {
			t.Fatal(err)
		}
		if m, err = c.Decode(buf); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]view{errResp(e, `-1.5`, noID())}, views(t, m)); diff != "" {
			t.Errorf("%v error (-want +got):\n%s", d, diff)
		}

		if buf, err = c.AppendResult(buf[:0], []byte("7"), nil); err != nil {
			t.Fatal(err)
		}
		if m, err = c.Decode(buf); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]view{result(`null`, `7`, num(7))}, views(t, m)); diff != "" {
			t.Errorf("%v result (-want +got):\n%s", d, diff)
		}
	}
}

// TestEncodeAllocs checks that encoding into a reused buffer allocates
// nothing.
func TestEncodeAllocs(t *testing.T) {
	for _, d := range []Dialect{V2, V1, Auto} {
		c := New(d, nil)
		buf := make([]byte, 0, 1024)
		id, params := []byte(`"abc"`), json.RawMessage(`[1, "two", {"three": 3}]`)
		e := rpcErr(CodeInvalidParams, "bad \"params\"\n", `{"at": 1}`)
		allocs := testing.AllocsPerRun(100, func() {
			buf, _ = c.AppendRequest(buf[:0], id, "blockchain.headers.subscribe", params)
			buf, _ = c.AppendNotification(buf[:0], "blockchain.headers.subscribe", params)
			buf, _ = c.AppendResult(buf[:0], id, benchResult)
			buf, _ = c.AppendError(buf[:0], id, e)
		})
		if allocs != 0 {
			t.Errorf("%v: %v allocations per run, want 0", d, allocs)
		}
	}
}

// TestAppendString compares the escaping of strings with encoding/json
// (which also escapes <, > and &, and U+2028 and U+2029).
func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", "quote\" backslash\\ slash/", "\x00\x01\x1f\x20\x7f", "é😀\u2029",
		"\xff", "a\xc3", "\xed\xa0\x80", "\xf4\x90\x80\x80", strings.Repeat("long ", 50)} {
		got := appendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("%q: %s is not a JSON string: %v", s, got, err)
			continue
		}
		want, _ := json.Marshal(s)
		want = []byte(strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&", `\u2028`, "\u2028", `\u2029`, "\u2029").Replace(string(want)))
		if string(got) != string(want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
}
