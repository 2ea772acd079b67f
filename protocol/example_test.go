package protocol_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gorpcx/gorpcx/protocol"
	"github.com/sourcegraph/jsonrpc2"
)

// Decode a request and encode its reply. The reply carries the
// request's ID exactly as it was sent, here a number that
// jsonrpc2.ID cannot hold.
func Example() {
	codec := protocol.New(protocol.V2, nil)
	msg := []byte(`{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": -5}`)

	m, err := codec.Decode(msg)
	if err != nil {
		fmt.Println(err)
		return
	}
	it := &m.Items[0]
	var args []int
	if err := json.Unmarshal(it.RawParams, &args); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(it.Kind == protocol.KindRequest, it.Request.Method, args, string(it.RawID))

	var buf []byte // reuse it for the next reply
	buf, err = codec.AppendResult(buf[:0], it.RawID, json.RawMessage(fmt.Sprint(args[0]-args[1])))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(buf))
	// Output:
	// true subtract [42 23] -5
	// {"jsonrpc":"2.0","result":19,"id":-5}
}

// Answer a batch: each request gets a result or an error, invalid
// items their error, and notifications nothing.
func ExampleAppendBatch() {
	codec := protocol.New(protocol.V2, nil)
	msg := []byte(`[
		{"jsonrpc": "2.0", "method": "echo", "params": ["hi"], "id": "1"},
		{"jsonrpc": "2.0", "method": "log", "params": ["x"]},
		{"jsonrpc": "2.0", "method": "nope", "id": 2},
		{"foo": "boo"}
	]`)
	m, err := codec.Decode(msg)
	if err != nil {
		fmt.Println(err)
		return
	}
	reply := func(dst []byte, i int) ([]byte, error) {
		it := &m.Items[i]
		switch {
		case it.Kind == protocol.KindInvalid && it.Err.Reply != nil:
			return codec.AppendError(dst, it.RawID, it.Err.Reply)
		case it.Kind == protocol.KindRequest && it.Request.Method == "echo":
			return codec.AppendResult(dst, it.RawID, it.RawParams)
		case it.Kind == protocol.KindRequest:
			return codec.AppendError(dst, it.RawID, protocol.MethodNotFound(it.Request.Method))
		}
		return dst, nil // a notification
	}
	out, err := protocol.AppendBatch(nil, len(m.Items), reply)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out))
	// Output:
	// [{"jsonrpc":"2.0","result":["hi"],"id":"1"},{"jsonrpc":"2.0","error":{"code":-32601,"message":"unknown method \"nope\""},"id":2},{"jsonrpc":"2.0","error":{"code":-32600,"message":"message has no \"method\", \"result\" or \"error\""},"id":null}]
}

// A message that cannot be read as a whole returns a *ProtocolError
// holding the error reply to send. It is not a *jsonrpc2.Error: that
// is an error object the peer sent.
func ExampleProtocolError() {
	codec := protocol.New(protocol.V2, nil)
	_, err := codec.Decode([]byte(`{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]`))

	var pe *protocol.ProtocolError
	if errors.As(err, &pe) && pe.Reply != nil {
		out, _ := codec.AppendError(nil, pe.RawID, pe.Reply)
		fmt.Println(string(out))
	}
	var je *jsonrpc2.Error
	fmt.Println(errors.As(err, &je), pe.Err.Code == protocol.CodeParseError)
	// Output:
	// {"jsonrpc":"2.0","error":{"code":-32700,"message":"invalid JSON at byte 39"},"id":null}
	// false true
}

// An auto-detecting codec takes the dialect of the first message it
// decodes and keeps it. Here that message has no "jsonrpc", which
// selects the loose dialect (as in aiorpcX): a later 1.0 message does
// not change it, and the codec writes 2.0. A V1 codec writes 1.0.
func ExampleNew_auto() {
	codec := protocol.New(protocol.Auto, nil) // one per connection
	m, err := codec.Decode([]byte(`{"method": "echo", "params": ["hi"], "id": 1}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(codec.Dialect())

	m2, _ := codec.Decode([]byte(`{"jsonrpc": "1.0", "method": "echo", "params": ["hi"], "id": 2}`))
	fmt.Println(codec.Dialect(), m2.Items[0].Kind == protocol.KindRequest)

	out, _ := codec.AppendResult(nil, m.Items[0].RawID, json.RawMessage(`"hi"`))
	fmt.Println(string(out))

	v1 := protocol.New(protocol.V1, nil)
	out, _ = v1.AppendNotification(nil, "tick", nil)
	fmt.Println(string(out))
	// Output:
	// loose
	// loose true
	// {"jsonrpc":"2.0","result":"hi","id":1}
	// {"method":"tick","params":[],"id":null}
}

// A JSON-RPC 1.0 peer such as Open vSwitch's ovsdb-server answers
// errors without a "result" member, and its error is not a JSON-RPC 2.0
// error object. A V1 codec reads such a response as the peer meant it,
// keeping the peer's words in the message and its whole error value in
// Data; Options.Strict wants both members, as the 1.0 specification.
func ExampleOptions_strict() {
	reply := []byte(`{"id":0,"error":{"error":"unknown database","details":"get_schema request specifies unknown database Foo"}}`)

	m, _ := protocol.New(protocol.V1, nil).Decode(reply)
	e := m.Items[0].Response.Error
	fmt.Println(e.Code, e.Message)
	fmt.Println(string(*e.Data))

	m, _ = protocol.New(protocol.V1, &protocol.Options{Strict: true}).Decode(reply)
	fmt.Println(m.Items[0].Kind == protocol.KindInvalid, m.Items[0].Err)
	// Output:
	// -100 unknown database
	// {"error":"unknown database","details":"get_schema request specifies unknown database Foo"}
	// true protocol: response must have both "result" and "error" (code -32600, id 0)
}

// JSON-RPC 1.0 allows an ID of any type; a V1 codec answers it byte for
// byte.
func ExampleNew_v1IDs() {
	codec := protocol.New(protocol.V1, nil)
	m, _ := codec.Decode([]byte(`{"method": "echo", "params": ["hi"], "id": {"session": 7, "seq": 1}}`))
	out, _ := codec.AppendResult(nil, m.Items[0].RawID, *m.Items[0].Request.Params)
	fmt.Println(string(out))
	// Output:
	// {"result":["hi"],"error":null,"id":{"session": 7, "seq": 1}}
}

// A reader decodes a message where its framing left it, and copies
// the bytes only for an item it keeps: Rebase moves the item's raw
// parts to the copy, and the framing's buffer can be reused.
func ExampleItem_Rebase() {
	codec := protocol.New(protocol.V2, nil)
	frame := []byte(`{"jsonrpc":"2.0","method":"echo","params":["hi"],"id":"a1"}`)

	m, err := codec.Decode(frame)
	if err != nil {
		fmt.Println(err)
		return
	}
	var kept protocol.Item
	m.Items[0].CopyTo(&kept)
	own := append([]byte(nil), frame...)
	kept.Rebase(frame, own)

	copy(frame, `{"jsonrpc":"2.0","method":"next","params":["xx"],"id":"b2"}`) // the next message
	fmt.Println(kept.Request.Method, string(kept.RawID), string(*kept.Request.Params))
	// Output: echo "a1" ["hi"]
}
