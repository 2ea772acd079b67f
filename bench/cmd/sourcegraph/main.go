// Sourcegraph is the github.com/sourcegraph/jsonrpc2 server of the
// benchmarks: echo(value) -> value over newline-delimited JSON-RPC 2.0.
// Each connection is a jsonrpc2.Conn over jsonrpc2.NewPlainObjectStream,
// which reads JSON values back to back and writes each as one line. The
// handler is a jsonrpc2.HandlerWithError; by default the connection
// handles one request at a time, in its read loop (serial), and with
// -async each request in a goroutine of its own (jsonrpc2.AsyncHandler).
//
// Usage:
//
//	sourcegraph [-addr 127.0.0.1:0] [-async]
//
// The first line on standard output is "listening on HOST:PORT". It
// serves until SIGINT or SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"

	"github.com/gorpcx/gorpcx/bench/internal/startup"
	"github.com/sourcegraph/jsonrpc2"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen `address`")
	async := flag.Bool("async", false, "handle each request in its own goroutine (jsonrpc2.AsyncHandler)")
	flag.Parse()
	ln := startup.Listen(*addr)
	startup.ExitOnSignal()

	var h jsonrpc2.Handler = jsonrpc2.HandlerWithError(echo).SuppressErrClosed()
	if *async {
		h = jsonrpc2.AsyncHandler(h)
	}
	ctx := context.Background()
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		jsonrpc2.NewConn(ctx, jsonrpc2.NewPlainObjectStream(c), h)
	}
}

// echo answers echo(value) with value, as it was sent.
func echo(_ context.Context, _ *jsonrpc2.Conn, req *jsonrpc2.Request) (any, error) {
	if req.Method != "echo" {
		return nil, &jsonrpc2.Error{Code: jsonrpc2.CodeMethodNotFound, Message: "method not found"}
	}
	var params []json.RawMessage
	if req.Params == nil || json.Unmarshal(*req.Params, &params) != nil || len(params) != 1 {
		return nil, &jsonrpc2.Error{Code: jsonrpc2.CodeInvalidParams, Message: "echo takes one value"}
	}
	return params[0], nil
}
