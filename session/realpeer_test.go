package session

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/protocol"
)

// TestV1IDsOfAnyType: JSON-RPC 1.0 allows an ID of any type. A 1.0
// session answers requests whose IDs are booleans, arrays or objects
// with the ID byte for byte, and a response with such an ID, which
// answers none of its calls (its IDs are numbers), is charged as an
// error and does not disturb the call that is waiting.
func TestV1IDsOfAnyType(t *testing.T) {
	s, peer := newRawPeer(t, &Options{Dialect: protocol.V1, Handler: adder, Side: Client})
	for _, tt := range []struct{ send, want string }{
		{`{"id":true,"method":"add","params":[2,3]}`, `{"result":5,"error":null,"id":true}`},
		{`{"id":false,"method":"add","params":[2,3]}`, `{"result":5,"error":null,"id":false}`},
		{`{"id":[1, {"a": true}],"method":"add","params":[2,3]}`, `{"result":5,"error":null,"id":[1, {"a": true}]}`},
		{`{"method":"add","params":[2,3],"id":{"k": "v", "n": [1, 2]}}`, `{"result":5,"error":null,"id":{"k": "v", "n": [1, 2]}}`},
		{`{"id":[],"method":"add","params":[2]}`, `{"result":null,"error":{"code":-32602,"message":"want two numbers"},"id":[]}`},
		{`{"id":{},"method":"add","params":{"a":1}}`, `{"result":null,"error":{"code":-32602,"message":"JSON-RPC 1.0 does not allow named params"},"id":{}}`},
		{`{"id":{"x":1}}`, `{"result":null,"error":{"code":-32600,"message":"message has no \"method\", \"result\" or \"error\""},"id":{"x":1}}`},
	} {
		peer.send(tt.send)
		if got := peer.recv(); got != tt.want {
			t.Errorf("reply to %s:\n got %s\nwant %s", tt.send, got, tt.want)
		}
	}

	done := make(chan error, 1)
	var got int
	go func() { done <- s.Call(context.Background(), "add", []int{1, 1}, &got) }()
	if req := peer.recv(); req != `{"method":"add","params":[1,1],"id":0}` {
		t.Fatalf("request %s", req)
	}
	errs := s.Stats().Errors
	for _, answer := range []string{`{"result":9,"error":null,"id":true}`, `{"result":9,"error":null,"id":[0]}`, `{"result":9,"error":null,"id":{"id":0}}`} {
		peer.send(answer)
	}
	waitFor(t, "the responses to nothing to be charged", func() bool { return s.Stats().Errors >= errs+3 })
	select {
	case err := <-done:
		t.Fatalf("call ended by a response with another ID: %v", err)
	default:
	}
	peer.send(`{"result":2,"error":null,"id":0}`)
	if err := <-done; err != nil || got != 2 {
		t.Errorf("got %d, %v", got, err)
	}
}

// TestV1PeerErrors: a 1.0 peer's error reaches the caller with its own
// words, however it is shaped, and a response without "result" or
// "error" is read as real 1.0 peers (Open vSwitch's ovsdb-server) send
// it, unless protocol.Options.Strict asks for both.
func TestV1PeerErrors(t *testing.T) {
	const unknownDB = `{"error":"unknown database","details":"get_schema request specifies unknown database Foo","syntax":"[\"Foo\"]"}`
	tests := []struct {
		name, answer string
		result       string          // the result, or
		err          *jsonrpc2.Error // the peer's error
	}{
		{"result and null error", `"result":["Open_vSwitch","_Server"],"error":null`, `["Open_vSwitch","_Server"]`, nil},
		{"result alone", `"result":["Open_vSwitch","_Server"]`, `["Open_vSwitch","_Server"]`, nil},
		{"error string alone", `"error":"unknown method"`, "",
			&jsonrpc2.Error{Code: protocol.CodeUnavailable, Message: "unknown method", Data: raw(`"unknown method"`)}},
		{"error object alone", `"error":` + unknownDB, "",
			&jsonrpc2.Error{Code: protocol.CodeUnavailable, Message: "unknown database", Data: raw(unknownDB)}},
		{"error object with null result", `"result":null,"error":` + unknownDB, "",
			&jsonrpc2.Error{Code: protocol.CodeUnavailable, Message: "unknown database", Data: raw(unknownDB)}},
	}
	for _, strict := range []bool{false, true} {
		s, peer := newRawPeer(t, &Options{Dialect: protocol.V1, Protocol: &protocol.Options{Strict: strict}, Side: Client})
		for _, tt := range tests {
			done := make(chan error, 1)
			var result json.RawMessage
			go func() { done <- s.Call(context.Background(), "get_schema", []string{"Foo"}, &result) }()
			var req struct{ ID json.RawMessage }
			if err := json.Unmarshal([]byte(peer.recv()), &req); err != nil {
				t.Fatal(err)
			}
			peer.send(`{"id":` + string(req.ID) + `,` + tt.answer + `}`)
			err := <-done
			var pe *protocol.ProtocolError
			switch {
			case strict && tt.name != "result and null error" && tt.name != "error object with null result":
				if !errors.As(err, &pe) {
					t.Errorf("strict/%s: got %v, %T %v; want a *protocol.ProtocolError", tt.name, result, err, err)
				}
			case tt.err != nil:
				var je *jsonrpc2.Error
				if !errors.As(err, &je) {
					t.Fatalf("%s: got %v, %T %v; want the peer's error", tt.name, result, err, err)
				}
				if diff := cmp.Diff(tt.err, je); diff != "" {
					t.Errorf("%s: error (-want +got):\n%s", tt.name, diff)
				}
			case err != nil || string(result) != tt.result:
				t.Errorf("%s: got %s, %v; want %s", tt.name, result, err, tt.result)
			}
		}
	}
}

func raw(s string) *json.RawMessage {
	r := json.RawMessage(s)
	return &r
}

// TestMixedBatch: a 2.0 batch mixing requests and responses has its
// requests served, and each response refused on its own with -32600
// and a null ID; a refused response answers none of the session's
// calls, even one with its ID.
func TestMixedBatch(t *testing.T) {
	s, peer := newRawPeer(t, &Options{Handler: adder, Side: Client})
	done := make(chan error, 1)
	var got int
	go func() { done <- s.Call(context.Background(), "add", []int{3, 4}, &got) }()
	if req := peer.recv(); req != `{"jsonrpc":"2.0","method":"add","params":[3,4],"id":0}` {
		t.Fatalf("request %s", req)
	}
	errs := s.Stats().Errors
	peer.send(`[{"jsonrpc":"2.0","result":99,"id":0},{"jsonrpc":"2.0","method":"add","params":[2,3],"id":"r"},` +
		`{"jsonrpc":"2.0","method":"note","params":[]},{"jsonrpc":"2.0","error":{"code":1,"message":"m"},"id":0},{"jsonrpc":"2.0","result":1}]`)
	// The replies come in the order they are ready: the refusals at
	// once, the result when the handler has run.
	const refused = `{"jsonrpc":"2.0","error":{"code":-32600,"message":"response in a batch of requests"},"id":null}`
	want := []string{refused, refused, refused, `{"jsonrpc":"2.0","result":5,"id":"r"}`}
	reply := peer.recv()
	var parts []json.RawMessage
	if err := json.Unmarshal([]byte(reply), &parts); err != nil {
		t.Fatalf("reply %s: %v", reply, err)
	}
	var gotParts []string
	for _, p := range parts {
		gotParts = append(gotParts, string(p))
	}
	if diff := cmp.Diff(want, gotParts, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("reply %s (-want +got):\n%s", reply, diff)
	}
	if n := s.Stats().Errors - errs; n != 3 {
		t.Errorf("%d errors charged, want 3 (one per refused response)", n)
	}
	select {
	case err := <-done:
		t.Fatalf("call answered by a refused response: %d, %v", got, err)
	default:
	}
	peer.send(`{"jsonrpc":"2.0","result":7,"id":0}`)
	if err := <-done; err != nil || got != 7 {
		t.Errorf("got %d, %v", got, err)
	}
}
