package session

import (
	"context"

	"github.com/sourcegraph/jsonrpc2"
)

// Handler serves incoming requests and notifications.
//
// Handle is called with a context that carries the session (see
// [FromContext]) and is cancelled when the session closes, the
// processing timeout passes or, with Options.Cancel, the peer cancels
// the request (see [Cancellation]). req.Notif tells a notification from a
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
