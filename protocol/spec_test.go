package protocol

import (
	"encoding/json"
	"errors"
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
