package session

import (
	"context"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/protocol"
)

// Handler serves incoming requests and notifications.
//
// Handle is called with a context that carries the session (see
// [FromContext]) and is cancelled when the session closes or the
// processing timeout passes. req.Notif tells a notification from a
// request; req.Params, when not nil, is the raw JSON of the params and
// stays valid after Handle returns.
//
// The result is encoded with encoding/json, except a json.RawMessage,
// which is written as it is. An error that is a *jsonrpc2.Error (found
// with errors.As) becomes that error response; a [ReplyAndDisconnect]
// error sends its reply and then closes the session; any other error
// becomes -32603 "internal server error" and is logged, its text never
// sent to the peer. A panic is recovered and treated like an internal
// error. For a notification, the result is discarded.
type Handler interface {
	Handle(ctx context.Context, req *jsonrpc2.Request) (result any, err error)
}

// HandlerFunc adapts an ordinary function to a [Handler].
type HandlerFunc func(ctx context.Context, req *jsonrpc2.Request) (any, error)

// Handle calls f(ctx, req).
func (f HandlerFunc) Handle(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	return f(ctx, req)
}

// Methods is a method table: a [Handler] that dispatches each request
// to the handler registered under its method name. An unknown method
// gets -32601 `unknown method "name"`, the name cut to 100 bytes.
// Register functions of ordinary Go signatures with [Func].
type Methods map[string]Handler

// Handle dispatches req to the handler named by req.Method.
func (m Methods) Handle(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	h, ok := m[req.Method]
	if !ok || h == nil {
		return nil, protocol.MethodNotFound(req.Method)
	}
	return h.Handle(ctx, req)
}
