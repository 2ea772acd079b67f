package server

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/internal/testcert"
	"github.com/gorpcx/gorpcx/session"
)

// One Server serves TCP, TLS and a Unix socket at once, with one set of
// handlers and limits, and one Shutdown.
func TestSeveralEndpointsShareLimits(t *testing.T) {
	srvCfg, cliCfg := testcert.Configs(t)
	sock := filepath.Join(t.TempDir(), "rpc.sock")
	srv := start(t, &Server{
		Endpoints: []Endpoint{
			{Network: "tcp", Address: "127.0.0.1:0"},
			{Network: "tcp", Address: "127.0.0.1:0", TLS: srvCfg},
			{Network: "unix", Address: sock, Framer: framing.LengthPrefixed{}},
		},
		MaxSessions: 3,
		AtLimit:     Pause,
		Options:     session.Options{Handler: hello},
	})
	addrs := srv.Addrs()
	if len(addrs) != 3 {
		t.Fatalf("Addrs = %v", addrs)
	}
	clients := []*session.Session{
		dial(t, nil, "tcp", addrs[0].String()),
		dial(t, &Dialer{TLS: cliCfg}, "tcp", addrs[1].String()),
		dial(t, &Dialer{Framer: framing.LengthPrefixed{}}, "unix", sock),
	}
	for i, c := range clients {
		var got string
		if err := c.Call(context.Background(), "x", nil, &got); err != nil {
			t.Fatalf("endpoint %d: %v", i, err)
		}
	}
	if n := srv.SessionCount(); n != 3 {
		t.Errorf("SessionCount = %d, want 3", n)
	}
	// The limit is the server's, not each endpoint's: a fourth
	// connection, on any endpoint, waits.
	extra := dial(t, nil, "tcp", addrs[0].String())
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := extra.Call(ctx, "x", nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("fourth connection at a limit of 3: %v", err)
	}
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	if err := srv.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	for i, c := range clients {
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Errorf("client %d still up after Shutdown", i)
		}
	}
}

// Serve runs a listener the program made, under the server's limits,
// and returns ErrServerClosed once the server is closed.
func TestServeListenerOfTheProgram(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Options: session.Options{Handler: hello}}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	cli := dial(t, nil, "tcp", ln.Addr().String())
	var got string
	if err := cli.Call(context.Background(), "x", nil, &got); err != nil || !strings.HasPrefix(got, "hello ") {
		t.Fatalf("got %q, %v", got, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-served:
		if !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after Shutdown")
	}
	if err := srv.Serve(ln); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve after Close: %v", err)
	}
}

// A listener that fails on its own makes Serve return its error.
func TestServeReturnsListenerError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{}
	defer srv.Close()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	time.Sleep(10 * time.Millisecond)
	ln.Close()
	select {
	case err := <-served:
		if err == nil || errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want the listener's error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return when its listener closed")
	}
}

// Regression: with several accept loops, a paused server stopped
// accepting at MaxSessions only on the loop that found it full: another
// loop, already waiting in Accept, admitted the next connection as soon
// as one place was free, instead of waiting for the count to fall to
// 95 % as AtLimit Pause promises.
func TestPauseResumesAt95PercentOnEveryListener(t *testing.T) {
	const limit = 40 // resumes at 38
	srv := start(t, &Server{
		Endpoints:   []Endpoint{{Address: "127.0.0.1:0"}, {Address: "127.0.0.1:0"}},
		MaxSessions: limit,
		AtLimit:     Pause,
		Options:     session.Options{Handler: hello},
	})
	addrs := srv.Addrs()
	clients := make([]*session.Session, limit)
	for i := range clients {
		clients[i] = dial(t, nil, "tcp", addrs[0].String())
		if err := clients[i].Call(context.Background(), "x", nil, nil); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
	}
	waitFor(t, "the server to pause", func() bool { return srv.Stats().Pauses == 1 })
	clients[0].Close()
	waitFor(t, "one place to be free", func() bool { return srv.SessionCount() == limit-1 })
	late := dial(t, nil, "tcp", addrs[1].String())
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	err := late.Call(ctx, "x", nil, nil)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a connection on the other listener at %d of %d while paused: %v, want it to wait", limit-1, limit, err)
	}
	clients[1].Close()
	if err := late.Call(context.Background(), "x", nil, nil); err != nil {
		t.Errorf("after the count fell to 95 %%: %v", err)
	}
}
