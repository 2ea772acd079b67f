package server_test

import (
	"context"
	"fmt"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/protocol"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// A server on a free loopback port, a client that calls it, and a
// graceful shutdown.
func Example() {
	srv := &server.Server{
		Address: "127.0.0.1:0",
		Options: session.Options{Handler: handler.Methods{
			"greet": session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
				return "hello, gopher", nil
			}),
		}},
	}
	ctx := context.Background()
	if err := srv.Listen(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown(ctx)

	client, err := server.Dial(ctx, "tcp", srv.Addr().String(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	var greeting string
	if err := client.Call(ctx, "greet", nil, &greeting); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(greeting, "-", srv.SessionCount(), "session")
	// Output: hello, gopher - 1 session
}

// NewLocal tests handlers without a socket.
func ExampleNewLocal() {
	local := server.NewLocal(&session.Options{Handler: handler.Methods{
		"version": session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
			return []string{"gorpcx", "1.4"}, nil
		}),
	}}, nil)
	defer local.Close()

	var version []string
	err := local.Client.Call(context.Background(), "version", nil, &version)
	fmt.Println(version, err)
	err = local.Client.Call(context.Background(), "nope", nil, nil)
	fmt.Println(err.(*jsonrpc2.Error).Code == protocol.CodeMethodNotFound)
	// Output:
	// [gorpcx 1.4] <nil>
	// true
}
