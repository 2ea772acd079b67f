package handler_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/session"
)

// handle sends one request with the given params to h and prints what
// comes back.
func handle(h session.Handler, method, params string) {
	raw := json.RawMessage(params)
	result, err := h.Handle(context.Background(), &jsonrpc2.Request{Method: method, Params: &raw})
	var rpcErr *jsonrpc2.Error
	if errors.As(err, &rpcErr) {
		fmt.Printf("%s: error %d: %s\n", params, rpcErr.Code, rpcErr.Message)
		return
	}
	fmt.Printf("%s: %v\n", params, result)
}

func add(a, b int) int { return a + b }

// methods is a method table built once, at package initialisation.
var methods = handler.Methods{
	"add": handler.MustFunc(add, "a", "b"),
}

// A method table serves a session; an unknown method gets -32601.
func ExampleMethods() {
	a, b := net.Pipe()
	server := session.New(framing.NewStream(framing.Newline{}, a), &session.Options{
		Handler: handler.Methods{
			"add": handler.MustFunc(add, "a", "b"),
			"greet": handler.MustFunc(func(name string) string {
				return "Hello, " + name + "!"
			}, "name"),
		},
	})
	client := session.New(framing.NewStream(framing.Newline{}, b), &session.Options{Side: session.Client})
	defer server.Abort()
	defer client.Abort()

	ctx := context.Background()
	var sum int
	if err := client.Call(ctx, "add", []int{2, 3}, &sum); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("sum:", sum)
	var greeting string
	if err := client.Call(ctx, "greet", map[string]string{"name": "Ada"}, &greeting); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(greeting)

	err := client.Call(ctx, "sub", []int{2, 3}, &sum)
	var rpcErr *jsonrpc2.Error
	if errors.As(err, &rpcErr) {
		fmt.Println("error:", rpcErr.Code, rpcErr.Message)
	}
	// Output:
	// sum: 5
	// Hello, Ada!
	// error: -32601 unknown method "sub"
}

func ExampleFunc() {
	handle(methods, "add", `[1, 2]`)
	handle(methods, "add", `{"a": 3, "b": 4}`)
	handle(methods, "add", `[1]`)
	handle(methods, "add", `{"a": 1, "c": 2}`)
	handle(methods, "add", `[1, "two"]`)
	// Output:
	// [1, 2]: 3
	// {"a": 3, "b": 4}: 7
	// [1]: error -32602: 1 argument passed to method "add" but it requires 2
	// {"a": 1, "c": 2}: error -32602: method "add" requires parameter "b"
	// [1, "two"]: error -32602: invalid argument 2 ("b") to method "add": json: cannot unmarshal string into Go value of type int
}

// A name ending in "?" makes its parameter optional; a leading
// context.Context gets the request's context.
func ExampleFunc_optional() {
	version := func(ctx context.Context, client string, protocol float64) (string, error) {
		if protocol == 0 {
			protocol = 1.4
		}
		return fmt.Sprintf("%s speaks %.1f", client, protocol), nil
	}
	h, err := handler.Func(version, "client_name", "protocol_version?")
	if err != nil {
		fmt.Println(err)
		return
	}
	handle(h, "server.version", `{"client_name": "electrum"}`)
	handle(h, "server.version", `["electrum", 1.6]`)
	// Output:
	// {"client_name": "electrum"}: electrum speaks 1.4
	// ["electrum", 1.6]: electrum speaks 1.6
}

// Without names, the fields of a single struct parameter take named
// params; pointer fields and fields tagged omitempty are optional.
func ExampleFunc_struct() {
	type query struct {
		Address string `json:"address"`
		Limit   *int   `json:"limit"`
	}
	h := handler.MustFunc(func(q query) string {
		if q.Limit == nil {
			return q.Address + ", no limit"
		}
		return fmt.Sprintf("%s, limit %d", q.Address, *q.Limit)
	})
	handle(h, "history", `{"address": "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"}`)
	handle(h, "history", `{"address": "1Boat", "limit": 10}`)
	handle(h, "history", `{"limit": 10, "page": 2}`)
	// Output:
	// {"address": "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"}: 1BoatSLRHtKNngkdXEeobR76b53LETtpyT, no limit
	// {"address": "1Boat", "limit": 10}: 1Boat, limit 10
	// {"limit": 10, "page": 2}: error -32602: method "history" requires parameter "address"
}

// A variadic parameter takes the positional params beyond the fixed
// ones, or, by name, an array or a single value.
func ExampleFunc_variadic() {
	sum := func(xs ...float64) float64 {
		total := 0.0
		for _, x := range xs {
			total += x
		}
		return total
	}
	handle(handler.MustFunc(sum), "sum", `[1, 2, 3.5]`)
	handle(handler.MustFunc(sum, "xs"), "sum", `{"xs": [1, 2]}`)
	handle(handler.MustFunc(sum, "xs"), "sum", `{"xs": 4}`)
	// Output:
	// [1, 2, 3.5]: 6.5
	// {"xs": [1, 2]}: 3
	// {"xs": 4}: 4
}

// Positional reads positional params without reflection, here in an
// echo handler that returns its one param unchanged.
func ExamplePositional() {
	echo := session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		var buf [2]json.RawMessage // room for the params: no allocation
		params, err := handler.Positional(req, buf[:0])
		if err != nil {
			return nil, err
		}
		if len(params) != 1 {
			return nil, &jsonrpc2.Error{Code: jsonrpc2.CodeInvalidParams, Message: "echo takes one value"}
		}
		return params[0], nil
	})
	for _, params := range []string{`["hello"]`, `[{"a": [1, 2]}]`, `[1, 2]`, `{"value": 1}`} {
		raw := json.RawMessage(params)
		result, err := echo.Handle(context.Background(), &jsonrpc2.Request{Method: "echo", Params: &raw})
		if err != nil {
			fmt.Printf("%s: %v\n", params, err)
			continue
		}
		fmt.Printf("%s: %s\n", params, result)
	}
	// Output:
	// ["hello"]: "hello"
	// [{"a": [1, 2]}]: {"a": [1, 2]}
	// [1, 2]: jsonrpc2: code -32602 message: echo takes one value
	// {"value": 1}: jsonrpc2: code -32602 message: invalid request arguments: method "echo" takes positional params, not named ones
}
