package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/client"
	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/pubsub"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// guard bounds every wait of these tests, to avoid hangs only, never to
// measure anything.
const guard = 10 * time.Second

const (
	subscribeMethod = "tip.subscribe"
	tipMethod       = "tip"
)

// testServer is a gorpcx server whose clients subscribe to the topic
// "tip" of a hub that outlives it.
type testServer struct {
	*server.Server
	addr    string
	blocked chan struct{} // a block call is being served
}

func newHub(t *testing.T) *pubsub.Hub {
	t.Helper()
	hub, err := pubsub.NewHub(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := hub.Declare("tip", pubsub.TopicOptions{Method: tipMethod, Policy: pubsub.KeepLatest}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hub.Close() })
	return hub
}

// startServer listens on addr ("127.0.0.1:0" for a free port) and
// serves tip.subscribe, echo and block (which waits until its context
// ends).
func startServer(t *testing.T, addr string, hub *pubsub.Hub) *testServer {
	t.Helper()
	blocked := make(chan struct{}, 16)
	methods := handler.Methods{
		subscribeMethod: handler.MustFunc(func(ctx context.Context) (json.RawMessage, error) {
			return hub.Subscribe(ctx, session.FromContext(ctx), "tip", nil)
		}),
		"echo": handler.MustFunc(func(v any) any { return v }),
		"block": handler.MustFunc(func(ctx context.Context) error {
			blocked <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		}),
	}
	srv := &server.Server{Address: addr, Options: session.Options{Handler: methods}}
	if err := srv.Listen(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: srv, addr: srv.Addr().String(), blocked: blocked}
	t.Cleanup(ts.kill)
	return ts
}

// kill stops listening, aborts every session and waits for them.
func (ts *testServer) kill() {
	_ = ts.Close()
	for _, s := range ts.Sessions() {
		s.Abort()
	}
	ts.Wait()
}

// closedPort returns an address of 127.0.0.1 where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// states keeps the client's notices.
type states chan client.State

func (ch states) record(st client.State) {
	select {
	case ch <- st:
	default:
	}
}

// next waits for the next notice of kind, and fails the test if none
// comes within the guard.
func (ch states) next(t *testing.T, kind client.StateKind) client.State {
	t.Helper()
	timeout := time.After(guard)
	for {
		select {
		case st := <-ch:
			if st.Kind == kind {
				return st
			}
		case <-timeout:
			t.Fatalf("no %v notice within %v", kind, guard)
		}
	}
}

// notes collects the tips pushed to the client.
type notes chan string

func (n notes) handler() session.Handler {
	return session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		if req.Method == tipMethod && req.Params != nil {
			n <- string(*req.Params)
		}
		return nil, nil
	})
}

// want waits for the tip p.
func (n notes) want(t *testing.T, p string) {
	t.Helper()
	timeout := time.After(guard)
	for {
		select {
		case got := <-n:
			if got == p {
				return
			}
		case <-timeout:
			t.Fatalf("tip %s not pushed within %v", p, guard)
		}
	}
}

// subscribe is an OnConnect that subscribes to the tip.
func subscribe(ctx context.Context, s *session.Session) error {
	return s.Call(ctx, subscribeMethod, nil, nil)
}

func newClient(t *testing.T, o *client.Options) *client.Client {
	t.Helper()
	if o.MinBackoff == 0 {
		o.MinBackoff, o.MaxBackoff = 10*time.Millisecond, 200*time.Millisecond
	}
	c, err := client.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ready(t *testing.T, c *client.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if err := c.Ready(ctx); err != nil {
		t.Fatalf("Ready: %v", err)
	}
}

// TestRestart kills the server and starts another on the same port:
// the call in flight fails with a ConnectionError, the client reports
// the loss, reconnects, re-subscribes in OnConnect, and gets the tips
// published after the restart.
func TestRestart(t *testing.T) {
	hub := newHub(t)
	srv := startServer(t, "127.0.0.1:0", hub)
	st, tips := make(states, 256), make(notes, 16)
	c := newClient(t, &client.Options{
		Endpoints: []client.Endpoint{{Address: srv.addr}},
		Dialer:    server.Dialer{Options: session.Options{Handler: tips.handler()}},
		OnConnect: subscribe,
		OnState:   st.record,
	})
	if got := st.next(t, client.Connected); got.Connection != 1 || got.Attempt != 1 || got.Endpoint.Address != srv.addr {
		t.Errorf("first Connected notice %+v, want connection 1 at attempt 1 to %s", got, srv.addr)
	}
	ctx := context.Background()
	hub.Publish(ctx, "tip", []int{1})
	tips.want(t, "[1]")

	inFlight := make(chan error, 1)
	go func() { inFlight <- c.Call(ctx, "block", nil, nil) }()
	select {
	case <-srv.blocked:
	case <-time.After(guard):
		t.Fatal("the block call was not served")
	}
	srv.kill()
	var ce *session.ConnectionError
	select {
	case err := <-inFlight:
		if !errors.As(err, &ce) {
			t.Errorf("call in flight: %v (%T), want a *session.ConnectionError", err, err)
		}
	case <-time.After(guard):
		t.Fatal("the call in flight did not end")
	}
	lost := st.next(t, client.Disconnected)
	if lost.Err == nil || lost.Session == nil || lost.Connection != 1 {
		t.Errorf("Disconnected notice %+v, want connection 1's session and its cause", lost)
	}

	restarted := startServer(t, srv.addr, hub)
	back := st.next(t, client.Connected)
	if back.Connection != 2 || back.Endpoint.Address != restarted.addr {
		t.Errorf("reconnection notice %+v, want connection 2 to %s", back, restarted.addr)
	}
	hub.Publish(ctx, "tip", []int{2})
	tips.want(t, "[2]")
	var echo string
	cctx, cancel := context.WithTimeout(ctx, guard)
	defer cancel()
	if err := c.Call(cctx, "echo", []any{"after"}, &echo); err != nil || echo != "after" {
		t.Errorf("echo after the restart: %q, %v", echo, err)
	}
	if c.Session() == nil || c.Session() != back.Session {
		t.Errorf("Session() is not the session of the last Connected notice")
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	st.next(t, client.Closed)
	if c.Session() != nil {
		t.Error("Session() after Close is not nil")
	}
	if err := c.Call(ctx, "echo", []any{1}, nil); !errors.Is(err, client.ErrClosed) {
		t.Errorf("call after Close: %v, want ErrClosed", err)
	}
}

// TestFailover: the first endpoint refuses connections, the client
// connects to the second in the same round.
func TestFailover(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", newHub(t))
	refused := closedPort(t)
	st := make(states, 256)
	c := newClient(t, &client.Options{
		Endpoints: []client.Endpoint{{Address: refused}, {Network: "tcp", Address: srv.addr}},
		OnState:   st.record,
	})
	failed := st.next(t, client.Failed)
	if failed.Endpoint.Address != refused || failed.Err == nil || failed.Retry != 0 {
		t.Errorf("Failed notice %+v, want the refused %s, with an error and no wait", failed, refused)
	}
	got := st.next(t, client.Connected)
	if got.Endpoint.Address != srv.addr || got.Attempt != 2 {
		t.Errorf("Connected notice %+v, want %s at attempt 2", got, srv.addr)
	}
	ready(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if err := c.Call(ctx, "echo", []any{1}, nil); err != nil {
		t.Errorf("call: %v", err)
	}
	if err := c.Notify(ctx, "echo", []any{1}); err != nil {
		t.Errorf("notify: %v", err)
	}
}

// TestOnConnectError: an OnConnect that fails drops the connection and
// the client tries again after its back-off.
func TestOnConnectError(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", newHub(t))
	st := make(states, 256)
	var mu sync.Mutex
	tries := 0
	errHandshake := errors.New("handshake refused")
	newClient(t, &client.Options{
		Endpoints: []client.Endpoint{{Address: srv.addr}},
		OnConnect: func(ctx context.Context, s *session.Session) error {
			mu.Lock()
			defer mu.Unlock()
			tries++
			if tries < 3 {
				return errHandshake
			}
			return s.Call(ctx, "echo", []any{1}, nil)
		},
		OnState: st.record,
	})
	for range 2 {
		if f := st.next(t, client.Failed); !errors.Is(f.Err, errHandshake) {
			t.Errorf("Failed notice %+v, want the OnConnect error", f)
		}
	}
	if got := st.next(t, client.Connected); got.Attempt != 3 || got.Connection != 1 {
		t.Errorf("Connected notice %+v, want connection 1 at attempt 3", got)
	}
}

// TestOutage: calls made while no server is up wait up to their
// context, or fail at once with FailFast.
func TestOutage(t *testing.T) {
	tests := []struct {
		name     string
		failFast bool
	}{
		{"wait", false},
		{"fail fast", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := make(states, 256)
			c := newClient(t, &client.Options{
				Endpoints: []client.Endpoint{{Address: closedPort(t)}},
				FailFast:  tt.failFast,
				OnState:   st.record,
			})
			st.next(t, client.Failed)
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			err := c.Call(ctx, "echo", []any{1}, nil)
			if !errors.Is(err, client.ErrDisconnected) {
				t.Errorf("call: %v, want ErrDisconnected", err)
			}
			if got := errors.Is(err, context.DeadlineExceeded); got == tt.failFast {
				t.Errorf("call: %v; DeadlineExceeded %v, want %v", err, got, !tt.failFast)
			}
			if err := c.Notify(ctx, "echo", []any{1}); !errors.Is(err, client.ErrDisconnected) {
				t.Errorf("notify: %v, want ErrDisconnected", err)
			}
			rctx, rcancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer rcancel()
			if err := c.Ready(rctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Ready: %v, want DeadlineExceeded", err)
			}
		})
	}
}

// TestCallWaitsForConnection: a call made before the server is up goes
// out once the client connects.
func TestCallWaitsForConnection(t *testing.T) {
	addr := closedPort(t)
	st := make(states, 256)
	c := newClient(t, &client.Options{Endpoints: []client.Endpoint{{Address: addr}}, OnState: st.record})
	st.next(t, client.Failed)
	done := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	go func() { done <- c.Call(ctx, "echo", []any{1}, nil) }()
	startServer(t, addr, newHub(t))
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("call: %v", err)
		}
	case <-time.After(guard):
		t.Fatal("the waiting call did not go out")
	}
}

// TestCloseDuringBackoff: Close while the client waits for its next
// attempt returns promptly, ends waiting calls with ErrClosed and
// leaves no goroutine (TestMain's goleak).
func TestCloseDuringBackoff(t *testing.T) {
	st := make(states, 256)
	c, err := client.New(&client.Options{
		Endpoints:  []client.Endpoint{{Address: closedPort(t)}},
		MinBackoff: time.Hour,
		MaxBackoff: time.Hour,
		OnState:    st.record,
	})
	if err != nil {
		t.Fatal(err)
	}
	st.next(t, client.Failed)
	waiting := make(chan error, 1)
	go func() { waiting <- c.Call(context.Background(), "echo", nil, nil) }()
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(guard):
		t.Fatal("Close during the back-off did not return")
	}
	if err := <-waiting; !errors.Is(err, client.ErrClosed) {
		t.Errorf("waiting call: %v, want ErrClosed", err)
	}
	if err := c.Ready(context.Background()); !errors.Is(err, client.ErrClosed) {
		t.Errorf("Ready after Close: %v, want ErrClosed", err)
	}
	st.next(t, client.Closed)
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestNewErrors: bad options are refused without starting anything.
func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		o    *client.Options
		is   error
	}{
		{"nil", nil, client.ErrNoEndpoints},
		{"no endpoints", &client.Options{}, client.ErrNoEndpoints},
		{"no address", &client.Options{Endpoints: []client.Endpoint{{Network: "tcp"}}}, nil},
		{"negative", &client.Options{Endpoints: []client.Endpoint{{Address: "x:1"}}, MinBackoff: -1}, nil},
		{"max below min", &client.Options{Endpoints: []client.Endpoint{{Address: "x:1"}}, MinBackoff: time.Second, MaxBackoff: time.Millisecond}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := client.New(tt.o)
			if err == nil {
				c.Close()
				t.Fatal("New accepted the options")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("New: %v, want %v", err, tt.is)
			}
		})
	}
}

// TestBackoffBounds: the wait after the n-th failed round in a row is
// below min(MaxBackoff, MinBackoff·2ⁿ⁻¹), as the Failed notices report.
func TestBackoffBounds(t *testing.T) {
	const minB, maxB = 2 * time.Millisecond, 16 * time.Millisecond
	st := make(states, 256)
	newClient(t, &client.Options{
		Endpoints:  []client.Endpoint{{Address: closedPort(t)}},
		MinBackoff: minB,
		MaxBackoff: maxB,
		OnState:    st.record,
	})
	ceiling := minB
	for n := 1; n <= 8; n++ {
		f := st.next(t, client.Failed)
		if f.Attempt != n || f.Retry < 0 || f.Retry >= ceiling {
			t.Errorf("failure %d: attempt %d, retry %v; want attempt %d, retry in [0, %v)", n, f.Attempt, f.Retry, n, ceiling)
		}
		ceiling = min(2*ceiling, maxB)
	}
}
