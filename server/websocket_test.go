package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gorpcx/gorpcx/session"
	"github.com/gorpcx/gorpcx/transport"
)

// serveWebSocket serves srv's WebSocket handler over HTTP on a free
// port and returns its ws:// URL.
func serveWebSocket(t *testing.T, srv *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv.WebSocket(nil), ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return "ws://" + ln.Addr().String() + "/"
}

func dialWebSocket(t *testing.T, url string) *session.Session {
	t.Helper()
	wc, err := transport.DialWebSocket(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	s := session.New(wc, &session.Options{Side: session.Client})
	t.Cleanup(s.Abort)
	return s
}

// WebSocket sessions go through the server's admission: they count
// against MaxSessions, are shed like any connection, and end with
// Shutdown.
func TestWebSocketSessionsUnderServerLimits(t *testing.T) {
	srv := &Server{MaxSessions: 1, Options: session.Options{Handler: hello}}
	if err := srv.Listen(context.Background()); err != nil {
		t.Fatal(err)
	}
	url := serveWebSocket(t, srv)
	silent := dialWebSocket(t, url)
	waitFor(t, "the WebSocket session to count", func() bool { return srv.SessionCount() == 1 })
	talker := dialWebSocket(t, url)
	var got string
	if err := talker.Call(context.Background(), "x", nil, &got); err != nil {
		t.Fatalf("WebSocket session: %v", err)
	}
	select {
	case <-silent.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the silent WebSocket was not shed at MaxSessions")
	}
	if st := srv.Stats(); st.Evicted != 1 || st.Connections != 1 || st.Sessions != 1 {
		t.Errorf("stats %+v", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-talker.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("WebSocket session up after Shutdown")
	}
	// Once closed, the handler refuses.
	if _, err := transport.DialWebSocket(context.Background(), url); err == nil {
		t.Error("WebSocket accepted after Shutdown")
	}
}

// A paused server at its limit refuses a WebSocket at once.
func TestWebSocketRefusedWhenPausedAtLimit(t *testing.T) {
	srv := start(t, &Server{MaxSessions: 1, AtLimit: Pause, Options: session.Options{Handler: hello}})
	url := serveWebSocket(t, srv)
	first := dialWebSocket(t, url)
	if err := first.Call(context.Background(), "x", nil, nil); err != nil {
		t.Fatal(err)
	}
	second := dialWebSocket(t, url)
	err := second.Call(context.Background(), "x", nil, nil)
	var ce *session.ConnectionError
	if !errors.As(err, &ce) {
		t.Fatalf("second WebSocket at a paused limit: %v, want a ConnectionError", err)
	}
	if got := srv.Stats().RefusedFull; got != 1 {
		t.Errorf("RefusedFull = %d", got)
	}
}

// Regression: a WebSocket that NewWebSocketSession refused made the
// handler panic (the server closed the connection's nil net.Conn), so
// the WebSocket was left open, its place was never given back and
// Shutdown waited for it forever. It is closed and released.
func TestWebSocketRefusedByHookReleased(t *testing.T) {
	srv := &Server{
		MaxSessions: 1,
		AtLimit:     Pause,
		NewWebSocketSession: func(*transport.WebSocketConn, *session.Options) error {
			return errors.New("banned")
		},
		Options: session.Options{Handler: hello},
	}
	url := serveWebSocket(t, srv)
	for i := range 2 {
		refused := dialWebSocket(t, url)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := refused.Call(ctx, "x", nil, nil)
		cancel()
		var ce *session.ConnectionError
		if !errors.As(err, &ce) {
			t.Fatalf("WebSocket %d refused by the hook: %v, want a ConnectionError", i, err)
		}
		waitFor(t, "the refused WebSocket to be released", func() bool { return srv.SessionCount() == 0 })
	}
	if st := srv.Stats(); st.RefusedByHook != 2 || st.Connections != 0 || st.RefusedFull != 0 {
		t.Errorf("stats %+v, want 2 refused by the hook, none held", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// Regression: Wait counted only accept loops as "accepting", so on a
// server that serves WebSockets alone it returned as soon as no
// session was held, while the handler went on accepting (and a session
// admitted as Wait woke up could make its WaitGroup panic). It waits
// for Close, then for the sessions.
func TestWaitOnWebSocketServerWaitsForClose(t *testing.T) {
	srv := &Server{Options: session.Options{Handler: hello}}
	url := serveWebSocket(t, srv)
	waited := make(chan struct{})
	go func() {
		srv.Wait()
		close(waited)
	}()
	cli := dialWebSocket(t, url)
	if err := cli.Call(context.Background(), "x", nil, nil); err != nil {
		t.Fatal(err)
	}
	cli.Close()
	waitFor(t, "the session to end", func() bool { return srv.SessionCount() == 0 })
	select {
	case <-waited:
		t.Fatal("Wait returned while the server still accepted WebSockets")
	case <-time.After(100 * time.Millisecond):
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not return after Shutdown")
	}
}
