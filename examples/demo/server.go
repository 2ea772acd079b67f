package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/protocol"
	"github.com/gorpcx/gorpcx/session"
)

// codeDivisionByZero is an application error code: JSON-RPC leaves the
// codes outside -32768 to -32000 to applications.
const codeDivisionByZero = 1001

// serverMethods returns the server's method table. What the handlers
// see happen is sent to events, for main to print in order; started is
// signalled when the slow method begins.
func serverMethods(events chan<- string, started chan<- struct{}) handler.Methods {
	return handler.Methods{
		// Ordinary Go functions, adapted by handler.Func: params by
		// position, or by the names given.
		"add":   handler.MustFunc(func(a, b float64) float64 { return a + b }, "a", "b"),
		"greet": handler.MustFunc(func(name string) string { return "Hello, " + name + "!" }, "name"),
		"divide": handler.MustFunc(func(a, b float64) (float64, error) {
			if b == 0 {
				return 0, protocol.NewError(codeDivisionByZero, "division by zero")
			}
			return a / b, nil
		}, "a", "b"),

		// A handler of the raw request, here for a notification.
		"log": session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
			events <- fmt.Sprintf("server got notification %s %s", req.Method, raw(req.Params))
			return nil, nil
		}),

		// Server push: a notification to the caller, then the reply.
		"subscribe": handler.MustFunc(func(ctx context.Context, topic string) (string, error) {
			peer := session.FromContext(ctx)
			if err := peer.Notify(ctx, "news", []string{topic + ": gorpcx demo started"}); err != nil {
				return "", err
			}
			return "subscribed to " + topic, nil
		}, "topic"),

		// A request from the server to the client, while serving the
		// client's own request.
		"whoami": handler.MustFunc(func(ctx context.Context) (string, error) {
			var name string
			if err := session.FromContext(ctx).Call(ctx, "client.name", nil, &name); err != nil {
				return "", err
			}
			return "you are " + name, nil
		}),

		// A request still running when the server shuts down.
		"slow": handler.MustFunc(func(ctx context.Context) (string, error) {
			started <- struct{}{}
			select {
			case <-time.After(200 * time.Millisecond):
				return "finished", nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}),
	}
}

// raw renders raw JSON params for printing.
func raw(p *json.RawMessage) string {
	if p == nil {
		return "(no params)"
	}
	return string(*p)
}
