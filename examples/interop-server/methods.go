package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/protocol"
	"github.com/gorpcx/gorpcx/session"
	"github.com/gorpcx/gorpcx/transport"
)

// methods is the server's method table. Func binds the params, by
// position or by the names given, and answers params that do not fit
// with -32602 naming the method.
var methods = handler.Methods{
	"echo":         handler.MustFunc(echo, "value"),
	"add":          handler.MustFunc(add, "a", "b"),
	"sleep":        handler.MustFunc(sleep),
	"fail":         handler.MustFunc(fail),
	"notify_back":  handler.MustFunc(notifyBack),
	"request_back": handler.MustFunc(requestBack),
	"bye":          handler.MustFunc(bye),
	"stats":        handler.MustFunc(stats),
	"whoami":       handler.MustFunc(whoami),
}

// echo returns its argument, byte for byte.
func echo(value json.RawMessage) json.RawMessage { return value }

// number is a JSON number: an integer when it is one that fits in 64
// bits, else a float64.
type number struct {
	i     int64
	f     float64
	exact bool // i holds it
}

// UnmarshalJSON accepts a JSON number and nothing else.
func (n *number) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
		return fmt.Errorf("%.20s is not a number", s)
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = number{i: i, exact: true}
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("%.20s is out of range", s)
	}
	*n = number{f: f}
	return nil
}

func (n number) float() float64 {
	if n.exact {
		return float64(n.i)
	}
	return n.f
}

// add returns a + b: an exact integer when both are integers and the
// sum fits in 64 bits, else a float64.
func add(a, b number) any {
	if a.exact && b.exact {
		sum := a.i + b.i
		if (sum > a.i) == (b.i > 0) { // no overflow
			return sum
		}
	}
	return a.float() + b.float()
}

// sleep sleeps for seconds (0 to 60) and returns true. It gives up when
// the request is cancelled (the processing timeout has already answered
// the peer, or the session is aborted).
func sleep(ctx context.Context, seconds float64) (bool, error) {
	if !(seconds >= 0 && seconds <= 60) {
		return false, protocol.InvalidParams(fmt.Sprintf(`invalid argument to method "sleep": %v seconds is not between 0 and 60`, seconds))
	}
	t := time.NewTimer(time.Duration(seconds * float64(time.Second)))
	defer t.Stop()
	select {
	case <-t.C:
		return true, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// fail answers with an error object of the code and message given.
func fail(code int64, message string) error {
	return &jsonrpc2.Error{Code: code, Message: message}
}

// checkParams returns the params to send to the caller in a notify_back
// or request_back (nil for null), or -32602 naming the method if the
// session's dialect cannot carry them.
func checkParams(s *session.Session, method string, params json.RawMessage) (json.RawMessage, error) {
	p := bytes.TrimSpace(params)
	switch {
	case bytes.Equal(p, []byte("null")):
		return nil, nil
	case len(p) > 0 && p[0] == '[':
		return p, nil
	case len(p) > 0 && p[0] == '{':
		if s.Dialect() == protocol.V1 {
			return nil, protocol.InvalidParams(fmt.Sprintf(`invalid argument 2 ("params") to method %q: JSON-RPC 1.0 does not allow named params`, method))
		}
		return p, nil
	}
	return nil, protocol.InvalidParams(fmt.Sprintf(`invalid argument 2 ("params") to method %q: must be an array, an object or null`, method))
}

// notifyBack sends the caller a notification, then returns true.
func notifyBack(ctx context.Context, method string, params json.RawMessage) (bool, error) {
	s := session.FromContext(ctx)
	p, err := checkParams(s, "notify_back", params)
	if err != nil {
		return false, err
	}
	if p == nil {
		err = s.Notify(ctx, method, nil)
	} else {
		err = s.Notify(ctx, method, p)
	}
	if err != nil {
		return false, err
	}
	return true, nil
}

// requestBack calls the caller and returns its result, or its error
// answer as this request's error.
func requestBack(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, error) {
	s := session.FromContext(ctx)
	p, err := checkParams(s, "request_back", params)
	if err != nil {
		return nil, err
	}
	var result json.RawMessage
	if p == nil {
		err = s.Call(ctx, method, nil, &result)
	} else {
		err = s.Call(ctx, method, p, &result)
	}
	var perr *protocol.ProtocolError
	var rpcErr *jsonrpc2.Error
	switch {
	case err == nil:
		return result, nil
	case errors.As(err, &perr):
		// A malformed answer: the caller's fault, reported as such.
		return nil, protocol.InternalError("malformed response to request_back: " + perr.Error())
	case errors.As(err, &rpcErr):
		return nil, rpcErr
	}
	return nil, err
}

// bye answers "bye" and closes the connection.
func bye() error {
	return &session.ReplyAndDisconnect{Result: "bye"}
}

// sessionStats is the result of stats.
type sessionStats struct {
	RecvCount uint64 `json:"recv_count"`
	SendCount uint64 `json:"send_count"`
	Errors    uint64 `json:"errors"`
}

// stats returns the calling session's own counters.
func stats(ctx context.Context) sessionStats {
	st := session.FromContext(ctx).Stats()
	return sessionStats{RecvCount: st.RecvCount, SendCount: st.SendCount, Errors: st.Errors}
}

// connKey is where NewSession keeps the connection for whoami.
type connKey struct{}

// rememberConn is the server's NewSession hook: it keeps the connection
// in the session's context, for whoami.
func rememberConn(conn *transport.Conn, opts *session.Options) error {
	parent := opts.Context
	if parent == nil {
		parent = context.Background()
	}
	opts.Context = context.WithValue(parent, connKey{}, conn)
	return nil
}

// whoamiResult is the result of whoami.
type whoamiResult struct {
	Peer  string  `json:"peer"`
	Local string  `json:"local"`
	Via   *string `json:"via"`
}

// whoami returns the peer's address as the session sees it (the real
// client behind a trusted PROXY header), the server's own address, and
// the balancer's that sent the header (null without one).
func whoami(ctx context.Context) whoamiResult {
	conn, _ := ctx.Value(connKey{}).(*transport.Conn)
	if conn == nil {
		return whoamiResult{Peer: session.FromContext(ctx).Peer()}
	}
	res := whoamiResult{Peer: conn.RemoteAddr().String(), Local: conn.LocalAddr().String()}
	if b, ok := conn.Balancer(); ok && !b.IsZero() {
		via := b.String()
		res.Via = &via
	}
	return res
}
