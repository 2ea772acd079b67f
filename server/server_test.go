package server

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/goleak"

	"github.com/gorpcx/gorpcx/internal/testcert"
	"github.com/gorpcx/gorpcx/session"
	"github.com/gorpcx/gorpcx/transport"
)

func TestMain(m *testing.M) {
	if os.Getenv(emfileChild) != "" {
		runEMFILEChild()
		return
	}
	if mode := os.Getenv(stdioChild); mode != "" {
		os.Exit(runStdioChild(mode))
	}
	goleak.VerifyTestMain(m)
}

var hello = session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	return "hello " + session.FromContext(ctx).Peer(), nil
})

// start listens with srv and shuts it down when the test ends.
func start(t *testing.T, srv *Server) *Server {
	t.Helper()
	if err := srv.Listen(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return srv
}

func dial(t *testing.T, d *Dialer, network, address string) *session.Session {
	t.Helper()
	s, err := d.Dial(context.Background(), network, address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Abort)
	return s
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestServeTCP(t *testing.T) {
	for _, tt := range []struct{ network, address string }{
		{"tcp", "127.0.0.1:0"},
		{"tcp6", "[::1]:0"},
		{"", ""}, // defaults
	} {
		t.Run(tt.network+" "+tt.address, func(t *testing.T) {
			srv := &Server{Network: tt.network, Address: tt.address, Options: session.Options{Handler: hello}}
			if err := srv.Listen(context.Background()); err != nil {
				if tt.network == "tcp6" {
					t.Skipf("no IPv6 loopback: %v", err)
				}
				t.Fatal(err)
			}
			t.Cleanup(func() { srv.Shutdown(context.Background()) })
			addr := srv.Addr().(*net.TCPAddr)
			if addr.Port == 0 {
				t.Fatal("port 0 after Listen")
			}
			network := tt.network
			if network == "" {
				network = "tcp"
			}
			cli := dial(t, nil, network, addr.String())
			var got string
			if err := cli.Call(context.Background(), "hi", nil, &got); err != nil {
				t.Fatal(err)
			}
			if host, _, err := net.SplitHostPort(got[len("hello "):]); err != nil || net.ParseIP(host) == nil || !net.ParseIP(host).IsLoopback() {
				t.Errorf("got %q, want hello and the client's loopback address", got)
			}
			if n := srv.SessionCount(); n != 1 {
				t.Errorf("SessionCount = %d", n)
			}
			if ss := srv.Sessions(); len(ss) != 1 || ss[0].Side() != session.Server {
				t.Errorf("Sessions = %v", ss)
			}
		})
	}
}

func TestServeTLSAndNewSession(t *testing.T) {
	srvCfg, cliCfg := testcert.Configs(t)
	var sawTLS atomic.Bool
	srv := start(t, &Server{
		TLS: srvCfg,
		NewSession: func(conn *transport.Conn, opts *session.Options) error {
			st, ok := conn.TLSState()
			sawTLS.Store(ok && st.HandshakeComplete)
			opts.Handler = session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
				return "tls peer", nil
			})
			return nil
		},
	})
	cli := dial(t, &Dialer{TLS: cliCfg}, "tcp", srv.Addr().String())
	var got string
	if err := cli.Call(context.Background(), "x", nil, &got); err != nil {
		t.Fatal(err)
	}
	if got != "tls peer" || !sawTLS.Load() {
		t.Errorf("got %q, TLS seen %v", got, sawTLS.Load())
	}
	// A client that does not speak TLS is dropped after the handshake fails.
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte(`{"jsonrpc":"2.0","id":1,"method":"x"}` + "\n"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(c); err != nil {
		t.Errorf("plain client: %v", err)
	}
	if n := srv.SessionCount(); n != 1 {
		t.Errorf("SessionCount = %d, want 1", n)
	}
}

func TestServeUnix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rpc.sock")
	srv := start(t, &Server{Network: "unix", Address: path, UnixMode: 0o600, Options: session.Options{Handler: hello}})
	cli := dial(t, nil, "unix", path)
	var got string
	if err := cli.Call(context.Background(), "hi", nil, &got); err != nil {
		t.Fatal(err)
	}
	if got != "hello @" && got[:6] != "hello " {
		t.Errorf("got %q", got)
	}
	if n := srv.SessionCount(); n != 1 {
		t.Errorf("SessionCount = %d", n)
	}
}

func TestNewSessionRefuses(t *testing.T) {
	srv := start(t, &Server{NewSession: func(*transport.Conn, *session.Options) error {
		return errors.New("banned")
	}})
	cli := dial(t, nil, "tcp", srv.Addr().String())
	err := cli.Call(context.Background(), "x", nil, nil)
	var ce *session.ConnectionError
	if !errors.As(err, &ce) {
		t.Errorf("got %v", err)
	}
}

// At MaxSessions a new connection is admitted and the least useful one
// held (here the one that never sent a message) is evicted.
func TestMaxSessionsShedsLeastUseful(t *testing.T) {
	srv := start(t, &Server{MaxSessions: 2, Options: session.Options{Handler: hello}})
	addr := srv.Addr().String()
	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	waitFor(t, "the silent connection to count", func() bool { return srv.SessionCount() == 1 })
	b := dial(t, nil, "tcp", addr)
	if err := b.Call(context.Background(), "x", nil, nil); err != nil {
		t.Fatal(err)
	}
	c := dial(t, nil, "tcp", addr)
	if err := c.Call(context.Background(), "x", nil, nil); err != nil {
		t.Fatalf("third connection: %v", err)
	}
	// The silent one was closed to make room.
	silent.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := silent.Read(make([]byte, 1)); err == nil {
		t.Fatalf("silent connection read %d bytes, want it closed", n)
	}
	if err := b.Call(context.Background(), "x", nil, nil); err != nil {
		t.Errorf("the talking session was evicted: %v", err)
	}
	st := srv.Stats()
	if st.Evicted != 1 || st.Connections != 2 || st.Accepted != 3 {
		t.Errorf("stats %+v, want 1 evicted, 2 connections, 3 accepted", st)
	}
}

// With AtLimit Pause the server stops accepting at MaxSessions and
// accepts again once the count has fallen to 95 % of it.
func TestMaxSessionsPause(t *testing.T) {
	srv := start(t, &Server{MaxSessions: 2, AtLimit: Pause, Options: session.Options{Handler: hello}})
	addr := srv.Addr().String()
	a := dial(t, nil, "tcp", addr)
	b := dial(t, nil, "tcp", addr)
	for _, s := range []*session.Session{a, b} {
		if err := s.Call(context.Background(), "x", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	// The third waits in the backlog: connected, not served.
	c := dial(t, nil, "tcp", addr)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	err := c.Call(ctx, "x", nil, nil)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("third session while paused: %v, want no answer", err)
	}
	if got := srv.Stats().Pauses; got != 1 {
		t.Errorf("Pauses = %d, want 1", got)
	}
	// Below the limit again, it is accepted and served.
	a.Close()
	if err := c.Call(context.Background(), "x", nil, nil); err != nil {
		t.Errorf("after a session ended: %v", err)
	}
	if err := b.Call(context.Background(), "x", nil, nil); err != nil {
		t.Errorf("b: %v", err)
	}
}

func TestCloseKeepsSessions(t *testing.T) {
	srv := start(t, &Server{Options: session.Options{Handler: hello}})
	addr := srv.Addr().String()
	cli := dial(t, nil, "tcp", addr)
	waitFor(t, "the session to start", func() bool { return len(srv.Sessions()) == 1 })
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if srv.Addr() != nil || srv.Listener() != nil {
		t.Error("still reports a listener after Close")
	}
	if err := cli.Call(context.Background(), "x", nil, nil); err != nil {
		t.Errorf("live session after Close: %v", err)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("still accepting after Close")
	}
	if err := srv.Listen(context.Background()); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Listen after Close: %v", err)
	}
}

func TestListenTwice(t *testing.T) {
	srv := start(t, &Server{})
	if err := srv.Listen(context.Background()); !errors.Is(err, ErrListening) {
		t.Errorf("got %v", err)
	}
	bad := &Server{Network: "tcp", Address: "not an address"}
	if err := bad.Listen(context.Background()); err == nil {
		t.Error("listening on a bad address")
	}
}

func TestShutdownGraceful(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	srv := &Server{Options: session.Options{Handler: session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		close(started)
		<-release
		return "finished", nil
	})}}
	if err := srv.Listen(context.Background()); err != nil {
		t.Fatal(err)
	}
	cli := dial(t, nil, "tcp", srv.Addr().String())
	got := make(chan error, 1)
	go func() {
		var s string
		err := cli.Call(context.Background(), "slow", nil, &s)
		if err == nil && s != "finished" {
			err = errors.New("wrong result " + s)
		}
		got <- err
	}()
	<-started
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(context.Background()) }()
	time.Sleep(10 * time.Millisecond)
	close(release)
	if err := <-got; err != nil {
		t.Errorf("call during shutdown: %v", err)
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if n := srv.SessionCount(); n != 0 {
		t.Errorf("%d sessions after Shutdown", n)
	}
}

func TestShutdownDeadline(t *testing.T) {
	srv := &Server{Options: session.Options{Handler: session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})}}
	if err := srv.Listen(context.Background()); err != nil {
		t.Fatal(err)
	}
	cli := dial(t, nil, "tcp", srv.Addr().String())
	go cli.Call(context.Background(), "stuck", nil, nil)
	waitFor(t, "request running", func() bool {
		ss := srv.Sessions()
		return len(ss) == 1 && ss[0].Stats().Running == 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v", err)
	}
	srv.Wait()
}

func TestWaitWithoutListen(t *testing.T) {
	var srv Server
	srv.Wait()
	if err := srv.Close(); err != nil {
		t.Error(err)
	}
}

func TestDialErrors(t *testing.T) {
	if _, err := Dial(context.Background(), "tcp", "no-port", nil); err == nil {
		t.Error("dialed an invalid address")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = Dial(context.Background(), "tcp", addr, &session.Options{})
	var de *transport.DialError
	if !errors.As(err, &de) {
		t.Errorf("got %T %v", err, err)
	}
	_, err = (&Dialer{TLS: &tls.Config{}}).Dial(context.Background(), "tcp", addr)
	if err == nil {
		t.Error("TLS dial to a closed port succeeded")
	}
}

func TestLocal(t *testing.T) {
	l := NewLocal(&session.Options{Handler: hello}, nil)
	var got string
	if err := l.Client.Call(context.Background(), "x", nil, &got); err != nil {
		t.Fatal(err)
	}
	if got != "hello local" {
		t.Errorf("got %q", got)
	}
	if err := l.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
}
