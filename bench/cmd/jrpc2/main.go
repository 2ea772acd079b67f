// Jrpc2 is the github.com/creachadair/jrpc2 server of the benchmarks:
// echo(value) -> value over newline-delimited JSON-RPC 2.0. Connections
// are served by server.Loop with channel.Line framing and a jrpc2.Server
// per connection, with default options, dispatching through a handler.Map
// to a jrpc2.Handler that decodes the params into []json.RawMessage and
// returns the first element unchanged.
//
// Usage:
//
//	jrpc2 [-addr 127.0.0.1:0]
//
// The first line on standard output is "listening on HOST:PORT". It
// serves until SIGINT or SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"os/signal"
	"syscall"

	"github.com/creachadair/jrpc2"
	"github.com/creachadair/jrpc2/channel"
	"github.com/creachadair/jrpc2/handler"
	"github.com/creachadair/jrpc2/server"
	"github.com/gorpcx/gorpcx/bench/internal/startup"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen `address`")
	flag.Parse()
	ln := startup.Listen(*addr)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = ln.Close()
	}()
	mux := handler.Map{"echo": echo}
	_ = server.Loop(ctx, server.NetAccepter(ln, channel.Line), server.Static(mux), nil)
}

// echo answers echo(value) with value, as it was sent.
func echo(_ context.Context, req *jrpc2.Request) (any, error) {
	var params []json.RawMessage
	if err := req.UnmarshalParams(&params); err != nil || len(params) != 1 {
		return nil, &jrpc2.Error{Code: jrpc2.InvalidParams, Message: "echo takes one value"}
	}
	return params[0], nil
}
