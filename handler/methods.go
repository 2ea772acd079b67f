package handler

import (
	"context"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/protocol"
	"github.com/gorpcx/gorpcx/session"
)

// Methods is a method table: a [session.Handler] that dispatches each
// request to the handler registered under its method name. Register
// functions of ordinary Go signatures with [Func] or [MustFunc].
//
// A Methods is safe for concurrent use as long as no one modifies it:
// build it before handing it to a session.
type Methods map[string]session.Handler

// Handle calls the handler registered under req.Method and returns what
// it returns. For a method that is not in the table, or registered as
// nil, it returns a -32601 *jsonrpc2.Error, `unknown method "name"`,
// with a name over 100 bytes cut and marked "..." (see
// [protocol.MethodNotFound]).
func (m Methods) Handle(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	h, ok := m[req.Method]
	if !ok || h == nil {
		return nil, protocol.MethodNotFound(req.Method)
	}
	return h.Handle(ctx, req)
}
