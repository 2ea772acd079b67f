package main

import (
	"context"
	"fmt"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/session"
)

// clientMethods returns what the client serves to the server: its name
// on request, and the news notifications, sent to events for main to
// print.
func clientMethods(events chan<- string) handler.Methods {
	return handler.Methods{
		"client.name": handler.MustFunc(func() string { return "demo-client" }),
		"news": session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
			events <- fmt.Sprintf("client got notification %s %s", req.Method, raw(req.Params))
			return nil, nil
		}),
	}
}
