package session

import (
	"context"
	"encoding/json"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/protocol"
)

// Request is an incoming request or notification as an [Interceptor]
// sees it. Its fields must not be changed, except that an interceptor
// may pass a Request of its own (with other Params, say) to next.
type Request struct {
	// Request is the decoded message: Method, Params, ID, Notif.
	*jsonrpc2.Request
	// RawID is the request's ID exactly as the peer sent it (nil for a
	// notification).
	RawID []byte
	// Session is the session it arrived on; Peer, Stats and the
	// session's values (server.GroupOf) tell who sent it.
	Session *Session
	// Received is when the session read it.
	Received time.Time
}

// Handle serves a request: the handler at the end of a chain of
// interceptors, or the rest of the chain.
type Handle func(ctx context.Context, req *Request) (result any, err error)

// Interceptor wraps the serving of every incoming request and
// notification of a session (Options.Interceptors): it sees the request
// before the handler and the outcome after (result or error; it may
// time next for the duration). It may:
//
//   - pass it on: return next(ctx, req), maybe with a derived ctx;
//   - answer it itself: return a result without calling next;
//   - reject it: return an error (a *jsonrpc2.Error goes to the peer as
//     it is; another error is -32603, as from a handler);
//   - close the session after the reply: return a *ReplyAndDisconnect,
//     or call Close or Abort on req.Session.
//
// Interceptors run on the goroutine that serves the request, inside the
// processing timeout, and a panic in one is handled like a handler's
// (-32603, logged). For a notification the result is discarded.
type Interceptor func(ctx context.Context, req *Request, next Handle) (result any, err error)

// OutgoingCall is an outgoing call or notification as an
// [OutgoingInterceptor] sees it.
type OutgoingCall struct {
	Method string
	// Params are the encoded params (nil for none).
	Params json.RawMessage
	// Notification is true for Notify, false for Call.
	Notification bool
	// Result receives a call's result, as given to Call (nil for a
	// notification, or when the caller does not want it).
	Result  any
	Session *Session
}

// SendFunc sends an outgoing call or notification: the session's own
// sending at the end of a chain, or the rest of the chain.
type SendFunc func(ctx context.Context, call *OutgoingCall) error

// OutgoingInterceptor wraps every Call and Notify of a session
// (Options.OutgoingInterceptors, batches excepted): it sees the call
// before it is sent and its outcome after (the error, nil when a call
// was answered with a result; it may time next). It may change the
// params by passing a call of its own to next, refuse to send by
// returning an error without calling next, or answer a call itself
// (then it must fill call.Result as Call would). A panic in one
// propagates to the caller of Call or Notify, as a panic in the
// caller's own code would.
type OutgoingInterceptor func(ctx context.Context, call *OutgoingCall, next SendFunc) error

// chain returns h wrapped by interceptors, the first outermost.
func chain(interceptors []Interceptor, h Handle) Handle {
	for i := len(interceptors) - 1; i >= 0; i-- {
		ic, next := interceptors[i], h
		h = func(ctx context.Context, req *Request) (any, error) { return ic(ctx, req, next) }
	}
	return h
}

// chainOutgoing returns send wrapped by interceptors, the first
// outermost.
func chainOutgoing(interceptors []OutgoingInterceptor, send SendFunc) SendFunc {
	for i := len(interceptors) - 1; i >= 0; i-- {
		ic, next := interceptors[i], send
		send = func(ctx context.Context, call *OutgoingCall) error { return ic(ctx, call, next) }
	}
	return send
}

// intercepted serves in through the session's interceptors.
func (s *Session) intercepted(in *incoming) (any, error) {
	req := &Request{
		Request:  &in.item.Request,
		RawID:    in.item.RawID,
		Session:  s,
		Received: s.start.Add(in.readAt),
	}
	return s.incomingChain(in, req)
}

// handle is the end of the incoming chain: the session's handler.
func (s *Session) handle(ctx context.Context, req *Request) (any, error) {
	if s.handler == nil {
		return nil, protocol.MethodNotFound(req.Method)
	}
	return s.handler.Handle(ctx, req.Request)
}

// send is the end of the outgoing chain: the session's own sending.
func (s *Session) send(ctx context.Context, c *OutgoingCall) error {
	if c.Notification {
		return s.notify(ctx, c.Method, c.Params)
	}
	return s.call(ctx, c.Method, c.Params, c.Result)
}

// setInterceptors builds the chains of o's interceptors, if any.
func (s *Session) setInterceptors(o *Options) {
	if len(o.Interceptors) > 0 {
		s.incomingChain = chain(o.Interceptors, s.handle)
	}
	if len(o.OutgoingInterceptors) > 0 {
		s.outgoingChain = chainOutgoing(o.OutgoingInterceptors, s.send)
	}
}
