package protocol

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sourcegraph/jsonrpc2"
)

// specMessages are the error messages the specification's examples use.
var specMessages = map[int64]string{
	CodeParseError:     "Parse error",
	CodeInvalidRequest: "Invalid Request",
	CodeMethodNotFound: "Method not found",
}

// specCall runs the methods of the specification's examples.
func specCall(method string, params json.RawMessage) (json.RawMessage, *jsonrpc2.Error) {
	switch method {
	case "subtract":
		var pos []int
		if json.Unmarshal(params, &pos) == nil && len(pos) == 2 {
			return json.RawMessage(itoa(pos[0] - pos[1])), nil
		}
		var named struct{ Minuend, Subtrahend int }
		if json.Unmarshal(params, &named) == nil {
			return json.RawMessage(itoa(named.Minuend - named.Subtrahend)), nil
		}
		return nil, InvalidParams("")
	case "sum":
		var nums []int
		if json.Unmarshal(params, &nums) != nil {
			return nil, InvalidParams("")
		}
		total := 0
		for _, n := range nums {
			total += n
		}
		return json.RawMessage(itoa(total)), nil
	case "get_data":
		return json.RawMessage(`["hello", 5]`), nil
	}
	return nil, NewError(CodeMethodNotFound, specMessages[CodeMethodNotFound])
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// specError is e with the specification's wording for its code.
func specError(e *jsonrpc2.Error) *jsonrpc2.Error {
	return NewError(e.Code, specMessages[e.Code])
}

// specServer answers one message as the server of the specification's
// examples does, and returns the reply ("" for none).
func specServer(t *testing.T, c Codec, in string) string {
	t.Helper()
	m, err := c.Decode([]byte(in))
	if err != nil {
		var pe *ProtocolError
		if !errors.As(err, &pe) || pe.Reply == nil {
			t.Fatalf("Decode error %v owes no reply", err)
		}
		out, err := c.AppendError(nil, pe.RawID, specError(pe.Reply))
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	reply := func(dst []byte, it *Item) ([]byte, error) {
		switch it.Kind {
		case KindInvalid:
			return c.AppendError(dst, it.RawID, specError(it.Err.Reply))
		case KindRequest:
			result, e := specCall(it.Request.Method, it.RawParams)
			if e != nil {
				return c.AppendError(dst, it.RawID, e)
			}
			return c.AppendResult(dst, it.RawID, result)
		}
		return dst, nil
	}
	var out []byte
	if m.Batch {
		out, err = AppendBatch(nil, len(m.Items), func(dst []byte, i int) ([]byte, error) {
			return reply(dst, &m.Items[i])
		})
	} else {
		out, err = reply(nil, &m.Items[0])
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestSpecExamples runs every example of section 7 of the JSON-RPC 2.0
// specification: the exact bytes sent, and the exact (compact) bytes of
// the reply.
func TestSpecExamples(t *testing.T) {
	tests := []struct {
		name, in, out string
	}{
		{"positional params",
			`{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}`,
			`{"jsonrpc":"2.0","result":19,"id":1}`},
		{"positional params, reversed",
			`{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}`,
			`{"jsonrpc":"2.0","result":-19,"id":2}`},
		{"named params",
			`{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}`,
			`{"jsonrpc":"2.0","result":19,"id":3}`},
		{"named params, reordered",
			`{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}`,
			`{"jsonrpc":"2.0","result":19,"id":4}`},
		{"notification",
			`{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}`,
			``},
		{"notification without params",
			`{"jsonrpc": "2.0", "method": "foobar"}`,
			``},
		{"non-existent method",
			`{"jsonrpc": "2.0", "method": "foobar", "id": "1"}`,
			`{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":"1"}`},
		{"invalid JSON",
			`{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]`,
			`{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}`},
		{"invalid request object",
			`{"jsonrpc": "2.0", "method": 1, "params": "bar"}`,
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":null}`},
		{"batch, invalid JSON",
			`[
  {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
  {"jsonrpc": "2.0", "method"
]`,
			`{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}`},
		{"empty array",
			`[]`,
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":null}`},
		{"invalid batch, not empty",
			`[1]`,
			`[{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":null}]`},
		{"invalid batch",
			`[1,2,3]`,
			`[{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":null},` +
				`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":null},` +
				`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":null}]`},
		{"batch",
			`[
        {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "get_data", "id": "9"} 
    ]`,
			`[{"jsonrpc":"2.0","result":7,"id":"1"},` +
				`{"jsonrpc":"2.0","result":19,"id":"2"},` +
				`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":null},` +
				`{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":"5"},` +
				`{"jsonrpc":"2.0","result":["hello",5],"id":"9"}]`},
		{"batch of notifications",
			`[
        {"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}
    ]`,
			``},
		// Not in the specification, which is silent on a batch mixing
		// requests and responses: the requests are served and each
		// response refused on its own, with a null ID.
		{"batch mixing requests and responses",
			`[
        {"jsonrpc": "2.0", "result": 5, "id": "1"},
        {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "error": {"code": 1, "message": "m"}, "id": 2},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        {"jsonrpc": "2.0", "result": 5}
    ]`,
			`[{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":null},` +
				`{"jsonrpc":"2.0","result":7,"id":"1"},` +
				`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":null},` +
				`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":null}]`},
		{"batch of notifications and a response",
			`[{"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}, {"jsonrpc": "2.0", "result": 5, "id": 3}]`,
			`[{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":null}]`},
	}
	for _, d := range []Dialect{V2, Loose, Auto} {
		for _, tt := range tests {
			t.Run(d.String()+"/"+tt.name, func(t *testing.T) {
				if got := specServer(t, New(d, nil), tt.in); got != tt.out {
					t.Errorf("reply:\n got %s\nwant %s", got, tt.out)
				}
			})
		}
	}
}

// TestSpecItems checks the items decoded from the specification's
// batch example, which alias the message.
func TestSpecItems(t *testing.T) {
	in := `[
        {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "get_data", "id": "9"} 
    ]`
	m, err := New(V2, nil).Decode([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if !m.Batch {
		t.Error("Batch = false")
	}
	want := []view{
		{Kind: KindRequest, Method: "sum", Params: `[1,2,4]`, RawID: `"1"`, ID: jsonrpc2.ID{Str: "1", IsString: true}},
		{Kind: KindNotification, Method: "notify_hello", Params: `[7]`, Notif: true},
		{Kind: KindRequest, Method: "subtract", Params: `[42,23]`, RawID: `"2"`, ID: jsonrpc2.ID{Str: "2", IsString: true}},
		{Kind: KindInvalid, Code: CodeInvalidRequest, Reply: true},
		{Kind: KindRequest, Method: "foo.get", Params: `{"name": "myself"}`, RawID: `"5"`, ID: jsonrpc2.ID{Str: "5", IsString: true}},
		{Kind: KindRequest, Method: "get_data", RawID: `"9"`, ID: jsonrpc2.ID{Str: "9", IsString: true}},
	}
	if diff := cmp.Diff(want, views(t, m)); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
}

// TestV1AnyID runs a JSON-RPC 1.0 server on requests whose IDs are of
// every JSON type (1.0: "The request id. This can be of any type."):
// the exact bytes sent, and the exact bytes of the reply, which carries
// the ID byte for byte.
func TestV1AnyID(t *testing.T) {
	tests := []struct {
		name, in, out string
	}{
		{"number", `{"method": "sum", "params": [1, 2], "id": 1.50}`,
			`{"result":3,"error":null,"id":1.50}`},
		{"string", `{"method": "sum", "params": [1, 2], "id": "a\u00e9"}`,
			`{"result":3,"error":null,"id":"a\u00e9"}`},
		{"true", `{"method": "sum", "params": [1, 2], "id": true}`,
			`{"result":3,"error":null,"id":true}`},
		{"false", `{"method": "sum", "params": [1, 2], "id": false}`,
			`{"result":3,"error":null,"id":false}`},
		{"array", `{"method": "sum", "params": [1, 2], "id": [1, "two", [3]]}`,
			`{"result":3,"error":null,"id":[1, "two", [3]]}`},
		{"object", `{"id": {"session": 7, "seq": [1, 2]}, "method": "sum", "params": [1, 2]}`,
			`{"result":3,"error":null,"id":{"session": 7, "seq": [1, 2]}}`},
		{"empty object", `{"method": "foobar", "params": [], "id": {}}`,
			`{"result":null,"error":{"code":-32601,"message":"Method not found"},"id":{}}`},
		{"array, invalid request", `{"method": "sum", "params": {"a": 1}, "id": [0]}`,
			`{"result":null,"error":{"code":-32602,"message":""},"id":[0]}`},
		{"object, neither request nor response", `{"id": {"k": null}}`,
			`{"result":null,"error":{"code":-32600,"message":"Invalid Request"},"id":{"k": null}}`},
		{"line breaks between tokens", "{\"method\": \"sum\", \"params\": [1, 2], \"id\": [1,\r\n 2]}",
			`{"result":3,"error":null,"id":[1,2]}`},
		{"null: a notification", `{"method": "sum", "params": [1, 2], "id": null}`,
			``},
	}
	for _, mode := range []string{"lenient", "strict"} {
		strict := mode == "strict"
		for _, tt := range tests {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				if got := specServer(t, New(V1, &Options{Strict: strict}), tt.in); got != tt.out {
					t.Errorf("reply:\n got %s\nwant %s", got, tt.out)
				}
			})
		}
	}
}

// TestRealPeerResponses decodes responses as real JSON-RPC peers send
// them, byte for byte (Open vSwitch's ovsdb-server among them: RFC 7047,
// JSON-RPC 1.0, errors without "result"), and checks what the caller
// gets: the result, or the error with the peer's words and its whole
// error value.
func TestRealPeerResponses(t *testing.T) {
	const unknownDB = `{"error":"unknown database","details":"get_schema request specifies unknown database Foo","syntax":"[\"Foo\"]"}`
	tests := []struct {
		name, in string
		d        Dialect
		result   string          // the raw result, or
		err      *jsonrpc2.Error // the error, or
		strict   bool            // the response is malformed with Options.Strict
	}{
		{name: "ovsdb list_dbs", d: V1, in: `{"id":0,"result":["Open_vSwitch","_Server"],"error":null}`,
			result: `["Open_vSwitch","_Server"]`},
		{name: "ovsdb result without error", d: V1, in: `{"id":0,"result":["Open_vSwitch","_Server"]}`,
			result: `["Open_vSwitch","_Server"]`, strict: true},
		{name: "ovsdb unknown method", d: V1, in: `{"id":0,"error":"unknown method"}`,
			err: rpcErr(CodeUnavailable, "unknown method", `"unknown method"`), strict: true},
		{name: "ovsdb unknown database", d: V1, in: `{"id":0,"error":` + unknownDB + `}`,
			err: rpcErr(CodeUnavailable, "unknown database", unknownDB), strict: true},
		{name: "ovsdb unknown database, result null", d: V1, in: `{"id":0,"result":null,"error":` + unknownDB + `}`,
			err: rpcErr(CodeUnavailable, "unknown database", unknownDB)},
		{name: "ovsdb unknown method, loose", d: Loose, in: `{"id":0,"error":"unknown method"}`,
			err: rpcErr(CodeUnavailable, "unknown method", `"unknown method"`)},
		{name: "ovsdb unknown database, auto", d: Auto, in: `{"id":0,"error":` + unknownDB + `}`,
			err: rpcErr(CodeUnavailable, "unknown database", unknownDB)},
		{name: "2.0 standard error", d: V2, in: `{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":1}`,
			err: rpcErr(-32601, "Method not found", "")},
		{name: "2.0 error with data", d: V2, in: `{"jsonrpc":"2.0","error":{"code":-32000,"message":"execution reverted","data":"0x08c379a0"},"id":1}`,
			err: rpcErr(-32000, "execution reverted", `"0x08c379a0"`)},
		{name: "2.0 error with extra members", d: V2, in: `{"jsonrpc":"2.0","error":{"code":-32000,"message":"failed","data":1,"stack":"at f (x.js:1)"},"id":1}`,
			err: rpcErr(-32000, "failed", `{"code":-32000,"message":"failed","data":1,"stack":"at f (x.js:1)"}`)},
		{name: "2.0 error a string", d: V2, in: `{"jsonrpc":"2.0","error":"backend unavailable","id":1}`,
			err: rpcErr(CodeUnavailable, "backend unavailable", `"backend unavailable"`), strict: true},
		{name: "2.0 error with a string code", d: V2, in: `{"jsonrpc":"2.0","error":{"code":"E42","message":"nope"},"id":1}`,
			err: rpcErr(CodeUnavailable, "nope", `{"code":"E42","message":"nope"}`), strict: true},
		{name: "long error value", d: V1, in: `{"id":0,"error":{"n":[` + strings.Repeat(`1, `, 200) + `1]}}`,
			err: rpcErr(CodeUnavailable, `{"n":[`+strings.Repeat(`1,`, 47)+`...`, `{"n":[`+strings.Repeat(`1, `, 200)+`1]}`), strict: true},
	}
	for _, mode := range []string{"lenient", "strict"} {
		strict := mode == "strict"
		for _, tt := range tests {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				m, err := New(tt.d, &Options{Strict: strict}).Decode([]byte(tt.in))
				if err != nil {
					t.Fatal(err)
				}
				var want view
				switch {
				case strict && tt.strict:
					want = malformed(`0`)
					if tt.d == V2 {
						want.RawID = `1`
					}
				case tt.err != nil:
					want = view{Kind: KindResponse, Error: tt.err}
				default:
					want = view{Kind: KindResponse, Result: tt.result}
				}
				got := views(t, m)[0]
				got.RawID, got.ID = want.RawID, want.ID
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			})
		}
	}
}
