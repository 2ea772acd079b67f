package interop

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/client"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// TestAiorpcxServerRestartClient runs a client.Client against aiorpcX's
// server, killed while a call waits and started again on the same
// port: the call fails with a ConnectionError, the client reconnects,
// its OnConnect subscribes again (notify_back, which the server answers
// with a notification), and the application ping (echo, every 50 ms)
// is answered by aiorpcX throughout, so that only the kill ends the
// session.
func TestAiorpcxServerRestartClient(t *testing.T) {
	python(t)
	t.Parallel()
	py := startPyServer(t)
	_, port, err := net.SplitHostPort(py.addr)
	if err != nil {
		t.Fatal(err)
	}
	notes := make(chan string, 16)
	states := make(chan client.State, 256)
	var connections atomic.Int64
	c, err := client.New(&client.Options{
		Endpoints: []client.Endpoint{{Address: py.addr}},
		Dialer: server.Dialer{Timeout: procWait, Options: session.Options{
			Handler: session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
				if req.Params != nil {
					notes <- req.Method + " " + canonical(*req.Params)
				}
				return nil, nil
			}),
			Ping: &session.Ping{Method: "echo", Params: []any{"ping"}, Interval: 50 * time.Millisecond, Misses: 2},
		}},
		MinBackoff: 20 * time.Millisecond,
		MaxBackoff: 500 * time.Millisecond,
		OnConnect: func(ctx context.Context, s *session.Session) error {
			n := connections.Add(1)
			return s.Call(ctx, "notify_back", []any{"tip", []any{n}}, nil)
		},
		OnState: func(st client.State) {
			select {
			case states <- st:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	next := func(kind client.StateKind) client.State {
		t.Helper()
		timeout := time.After(procWait)
		for {
			select {
			case st := <-states:
				if st.Kind == kind {
					return st
				}
			case <-timeout:
				t.Fatalf("no %v notice within %v", kind, procWait)
			}
		}
	}
	wantNote := func(want string) {
		t.Helper()
		select {
		case got := <-notes:
			if got != want {
				t.Errorf("notification %q, want %q", got, want)
			}
		case <-time.After(procWait):
			t.Fatalf("notification %q not received within %v", want, procWait)
		}
	}
	if st := next(client.Connected); st.Connection != 1 {
		t.Errorf("first Connected notice %+v", st)
	}
	wantNote("tip [1]")

	inFlight := make(chan error, 1)
	go func() { inFlight <- c.Call(context.Background(), "sleep", []any{30}, nil) }()
	if ev := py.event(t); ev["event"] != "sleep_started" {
		t.Fatalf("aiorpcX server reported %v, want sleep_started", ev)
	}
	// Several ping intervals pass with the call pending: aiorpcX answers
	// the pings meanwhile, or the session would end with ErrPingTimeout.
	time.Sleep(300 * time.Millisecond)
	py.kill()
	var ce *session.ConnectionError
	select {
	case err := <-inFlight:
		if !errors.As(err, &ce) {
			t.Errorf("call in flight: %v (%T), want a *session.ConnectionError", err, err)
		}
	case <-time.After(procWait):
		t.Fatal("the call in flight did not end")
	}
	if lost := next(client.Disconnected); lost.Err == nil || errors.Is(lost.Err, session.ErrPingTimeout) {
		t.Errorf("Disconnected notice %+v, want the server's end, not a ping timeout", lost)
	}

	py = startPyServer(t, "--port", port)
	if st := next(client.Connected); st.Connection != 2 || st.Endpoint.Address != py.addr {
		t.Errorf("Connected notice %+v, want connection 2 to %s", st, py.addr)
	}
	wantNote("tip [2]")
	var echo string
	if err := c.Call(callCtx(t), "echo", []any{"again"}, &echo); err != nil || echo != "again" {
		t.Errorf("echo after the restart: %q, %v", echo, err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	next(client.Closed)
}
