package interop

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gorpcx/gorpcx/protocol"
)

// TestWireDifferences sends the same raw JSON-RPC 2.0 messages to
// aiorpcX's server and to gorpcx's and checks each one's answer. Where
// they differ, aiorpcX departs from the JSON-RPC 2.0 specification and
// gorpcx follows it (docs/aiorpcx.md lists these); the cases where they
// agree are here to show that the difference is the only one.
func TestWireDifferences(t *testing.T) {
	python(t)
	t.Parallel()
	py := startPyServer(t)
	gs := startGoServer(t, protocol.V2, 0)
	addrs := map[string]string{"aiorpcX": py.addr, "gorpcx": gs.Addr().String()}

	const probe = `{"jsonrpc":"2.0","id":"probe","method":"echo","params":["probe"]}`
	const probeReply = `{"jsonrpc":"2.0","result":"probe","id":"probe"}`
	for _, tc := range []struct {
		name string
		send string
		// The replies of each server; none means the message is taken
		// for a notification (checked by a request sent after it).
		aiorpcx, gorpcx []string
	}{{
		// The specification: a request with "id": null is a request (a
		// notification has no "id" member); it gets a reply with a null
		// ID. aiorpcX takes it for a notification and does not answer.
		name:    "null id",
		send:    `{"jsonrpc":"2.0","id":null,"method":"echo","params":[1]}`,
		aiorpcx: nil,
		gorpcx:  []string{`{"jsonrpc":"2.0","result":1,"id":null}`},
	}, {
		// The specification: an ID is a string, a number or null.
		// aiorpcX takes a boolean for a number (as Python does) and
		// answers with it.
		name:    "boolean id",
		send:    `{"jsonrpc":"2.0","id":true,"method":"echo","params":[1]}`,
		aiorpcx: []string{`{"jsonrpc":"2.0","result":1,"id":true}`},
		gorpcx:  []string{`{"jsonrpc":"2.0","error":{"code":-32600,"message":"invalid \"id\": true"},"id":null}`},
	}, {
		name:    "array id",
		send:    `{"jsonrpc":"2.0","id":[1],"method":"echo","params":[1]}`,
		aiorpcx: []string{`{"jsonrpc":"2.0","error":{"code":-32600,"message":"invalid \"id\": [1]"},"id":null}`},
		gorpcx:  []string{`{"jsonrpc":"2.0","error":{"code":-32600,"message":"invalid \"id\": [1]"},"id":null}`},
	}, {
		// The specification: a method that is not a string makes the
		// request invalid (-32600). aiorpcX answers "method not found".
		name:    "method not a string",
		send:    `{"jsonrpc":"2.0","id":2,"method":5,"params":[1]}`,
		aiorpcx: []string{`{"jsonrpc":"2.0","error":{"code":-32601,"message":"method must be a string"},"id":2}`},
		gorpcx:  []string{`{"jsonrpc":"2.0","error":{"code":-32600,"message":"method must be a string"},"id":2}`},
	}, {
		// The specification: params, if present, are an array or an
		// object, else the request is invalid (-32600). aiorpcX answers
		// "invalid params" (-32602).
		name:    "params not a structure",
		send:    `{"jsonrpc":"2.0","id":3,"method":"echo","params":7}`,
		aiorpcx: []string{`{"jsonrpc":"2.0","error":{"code":-32602,"message":"invalid request arguments: 7"},"id":3}`},
		gorpcx:  []string{`{"jsonrpc":"2.0","error":{"code":-32600,"message":"params must be an array or an object: 7"},"id":3}`},
	}, {
		// Both answer an invalid notification, with a null ID, as the
		// specification's examples do.
		name:    "invalid notification",
		send:    `{"jsonrpc":"2.0","method":"echo","params":7}`,
		aiorpcx: []string{`{"jsonrpc":"2.0","error":{"code":-32602,"message":"invalid request arguments: 7"},"id":null}`},
		gorpcx:  []string{`{"jsonrpc":"2.0","error":{"code":-32600,"message":"params must be an array or an object: 7"},"id":null}`},
	}, {
		// NaN is not JSON. Python's json module reads it, and aiorpcX
		// even writes it back, which no strict peer can read.
		name:    "NaN",
		send:    `{"jsonrpc":"2.0","id":4,"method":"echo","params":[NaN]}`,
		aiorpcx: []string{`{"jsonrpc":"2.0","result":NaN,"id":4}`},
		gorpcx:  []string{`{"jsonrpc":"2.0","error":{"code":-32700,"message":"invalid JSON at byte 50"},"id":null}`},
	}, {
		name:    "parse error",
		send:    `{"jsonrpc":"2.0",`,
		aiorpcx: []string{`{"jsonrpc":"2.0","error":{"code":-32700,"message":"invalid JSON"},"id":null}`},
		gorpcx:  []string{`{"jsonrpc":"2.0","error":{"code":-32700,"message":"invalid JSON: unexpected end of input"},"id":null}`},
	}, {
		name:    "empty batch",
		send:    `[]`,
		aiorpcx: []string{`{"jsonrpc":"2.0","error":{"code":-32600,"message":"batch is empty"},"id":null}`},
		gorpcx:  []string{`{"jsonrpc":"2.0","error":{"code":-32600,"message":"batch is empty"},"id":null}`},
	}, {
		name:    "batch of invalid items",
		send:    `[1,2]`,
		aiorpcx: []string{`[{"jsonrpc":"2.0","error":{"code":-32600,"message":"request object must be a dictionary"},"id":null}, {"jsonrpc":"2.0","error":{"code":-32600,"message":"request object must be a dictionary"},"id":null}]`},
		gorpcx:  []string{`[{"jsonrpc":"2.0","error":{"code":-32600,"message":"batch item is not a JSON object"},"id":null},{"jsonrpc":"2.0","error":{"code":-32600,"message":"batch item is not a JSON object"},"id":null}]`},
	}, {
		// The specification is silent on a batch mixing requests and
		// responses. Both serve the requests. aiorpcX answers the
		// response among them as a request without a method, with its
		// ID; gorpcx refuses it with -32600 and a null ID, since a reply
		// with its ID could fail the peer's own call with that ID. (The
		// response comes first so that its refusal is ready before the
		// request's reply, in both.)
		name:    "batch of a response and a request",
		send:    `[{"jsonrpc":"2.0","id":9,"result":5},{"jsonrpc":"2.0","id":1,"method":"echo","params":[1]}]`,
		aiorpcx: []string{`[{"jsonrpc":"2.0","error":{"code":-32601,"message":"method must be a string"},"id":9}, {"jsonrpc":"2.0","result":1,"id":1}]`},
		gorpcx:  []string{`[{"jsonrpc":"2.0","error":{"code":-32600,"message":"response in a batch of requests"},"id":null},{"jsonrpc":"2.0","result":1,"id":1}]`},
	}, {
		// A response to nothing pending: both ignore it.
		name:    "unexpected response",
		send:    `{"jsonrpc":"2.0","id":77,"result":5}`,
		aiorpcx: nil,
		gorpcx:  nil,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			for _, impl := range []string{"aiorpcX", "gorpcx"} {
				want := tc.aiorpcx
				if impl == "gorpcx" {
					want = tc.gorpcx
				}
				c := dialRaw(t, addrs[impl])
				c.send(tc.send)
				var got []string
				for range want {
					got = append(got, c.recv())
				}
				// Nothing else comes before the probe's reply.
				if r := c.roundTrip(probe); r != probeReply {
					got = append(got, r)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s's replies to %s (-want +got):\n%s", impl, tc.send, diff)
				}
			}
		})
	}
}

// TestWireDifferencesV1 does as TestWireDifferences for JSON-RPC 1.0,
// where an ID can be of any type: both servers answer a boolean, an
// array or an object ID. aiorpcX writes the ID as Python re-encodes it
// (compact); gorpcx writes the peer's bytes back.
func TestWireDifferencesV1(t *testing.T) {
	python(t)
	t.Parallel()
	py := startPyServer(t, "--protocol", "v1")
	gs := startGoServer(t, protocol.V1, 0)
	addrs := map[string]string{"aiorpcX": py.addr, "gorpcx": gs.Addr().String()}

	const probe = `{"id":"probe","method":"echo","params":["probe"]}`
	const probeReply = `{"result":"probe","error":null,"id":"probe"}`
	for _, tc := range []struct {
		name, send      string
		aiorpcx, gorpcx []string
	}{{
		name:    "boolean id",
		send:    `{"id":true,"method":"echo","params":[1]}`,
		aiorpcx: []string{`{"result":1,"error":null,"id":true}`},
		gorpcx:  []string{`{"result":1,"error":null,"id":true}`},
	}, {
		name:    "array id",
		send:    `{"id":[1, {"a": false}],"method":"echo","params":[1]}`,
		aiorpcx: []string{`{"result":1,"error":null,"id":[1,{"a":false}]}`},
		gorpcx:  []string{`{"result":1,"error":null,"id":[1, {"a": false}]}`},
	}, {
		name:    "object id",
		send:    `{"id":{"s": 7, "n": [1, 2.50]},"method":"echo","params":[1]}`,
		aiorpcx: []string{`{"result":1,"error":null,"id":{"s":7,"n":[1,2.5]}}`},
		gorpcx:  []string{`{"result":1,"error":null,"id":{"s": 7, "n": [1, 2.50]}}`},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			for _, impl := range []string{"aiorpcX", "gorpcx"} {
				want := tc.aiorpcx
				if impl == "gorpcx" {
					want = tc.gorpcx
				}
				c := dialRaw(t, addrs[impl])
				c.send(tc.send)
				var got []string
				for range want {
					got = append(got, c.recv())
				}
				if r := c.roundTrip(probe); r != probeReply {
					got = append(got, r)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s's replies to %s (-want +got):\n%s", impl, tc.send, diff)
				}
			}
		})
	}
}
