package interop

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/protocol"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// goServer is a gorpcx server run inside the test, serving the methods
// of the interop-server contract, so that the race detector watches the
// SDK while a real peer talks to it. sleeping receives the session of
// every sleep request when its handler starts.
type goServer struct {
	*server.Server
	sleeping chan *session.Session
}

// startGoServer starts a server with dialect d and newline framing of
// limit maxMessage (0: the default), and shuts it down in t.Cleanup.
func startGoServer(t *testing.T, d protocol.Dialect, maxMessage int) *goServer {
	t.Helper()
	gs := &goServer{sleeping: make(chan *session.Session, 16)}
	gs.Server = &server.Server{
		Framer: framing.Newline{Max: maxMessage},
		Options: session.Options{
			Handler: gs.methods(),
			Dialect: d,
		},
		Logger: zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel)),
	}
	if err := gs.Listen(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), procWait)
		defer cancel()
		if err := gs.Shutdown(ctx); err != nil {
			t.Errorf("server shutdown: %v", err)
		}
	})
	return gs
}

// port returns the port the server listens on.
func (gs *goServer) port() string {
	_, port, err := net.SplitHostPort(gs.Addr().String())
	if err != nil {
		panic(err)
	}
	return port
}

func (gs *goServer) methods() handler.Methods {
	return handler.Methods{
		"echo": handler.MustFunc(func(v json.RawMessage) json.RawMessage { return v }, "value"),
		"add":  handler.MustFunc(func(a, b float64) float64 { return a + b }, "a", "b"),
		"sleep": handler.MustFunc(func(ctx context.Context, seconds float64) (bool, error) {
			gs.sleeping <- session.FromContext(ctx)
			timer := time.NewTimer(time.Duration(seconds * float64(time.Second)))
			defer timer.Stop()
			select {
			case <-timer.C:
				return true, nil
			case <-ctx.Done():
				return false, ctx.Err()
			}
		}),
		"fail": handler.MustFunc(func(code int64, message string) error {
			return &jsonrpc2.Error{Code: code, Message: message}
		}),
		"notify_back": handler.MustFunc(func(ctx context.Context, method string, params json.RawMessage) (bool, error) {
			return true, session.FromContext(ctx).Notify(ctx, method, params)
		}),
		"request_back": handler.MustFunc(func(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, error) {
			var result json.RawMessage
			err := session.FromContext(ctx).Call(ctx, method, params, &result)
			var rpcErr *jsonrpc2.Error
			if errors.As(err, &rpcErr) {
				return nil, rpcErr
			}
			return result, err
		}),
		"bye": handler.MustFunc(func() error { return &session.ReplyAndDisconnect{Result: "bye"} }),
		"stats": handler.MustFunc(func(ctx context.Context) map[string]uint64 {
			st := session.FromContext(ctx).Stats()
			return map[string]uint64{"recv_count": st.RecvCount, "send_count": st.SendCount, "errors": st.Errors}
		}),
	}
}
