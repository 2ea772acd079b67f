package server

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/gorpcx/gorpcx/internal/testcert"
	"github.com/gorpcx/gorpcx/session"
)

// Regression: a connection the server itself closed during its TLS
// handshake (evicted at MaxSessions, or closed by Shutdown) was also
// counted in Stats.FailedHandshakes and logged as "handshake failed"
// ("use of closed network connection"), as if the peer had failed it:
// 495 evictions read as 495 failed handshakes. A handshake the peer
// fails is still counted and logged.
func TestEvictedDuringHandshakeNotAFailedHandshake(t *testing.T) {
	srvCfg, _ := testcert.Configs(t)
	core, logs := observer.New(zapcore.InfoLevel)
	srv := &Server{
		MaxSessions: 2,
		TLS:         srvCfg,
		Logger:      zap.New(core),
		Options:     session.Options{Handler: hello},
	}
	if err := srv.Listen(context.Background()); err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr().String()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	dialSilent := func() net.Conn {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		return c
	}

	// A peer that does not speak TLS fails its handshake.
	plain := dialSilent()
	plain.Write([]byte(`{"jsonrpc":"2.0","method":"x","id":1}` + "\n"))
	waitFor(t, "the plain client's handshake to fail", func() bool { return srv.Stats().FailedHandshakes == 1 })

	// Five silent ones: three are evicted during their handshake.
	for range 5 {
		dialSilent()
	}
	released := func() bool {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return srv.conns.len+srv.talkers.len == 2
	}
	waitFor(t, "the evicted connections to be released", func() bool { return srv.Stats().Accepted == 6 && released() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	srv.Wait()

	st := srv.Stats()
	if st.Evicted != 3 || st.FailedHandshakes != 1 {
		t.Errorf("Evicted %d, FailedHandshakes %d; want 3 evictions and the one failed handshake", st.Evicted, st.FailedHandshakes)
	}
	if n := logs.FilterMessage("handshake failed").Len(); n != 1 {
		t.Errorf("%d \"handshake failed\" lines, want 1 (the plain client's):\n%v", n, logs.FilterMessage("handshake failed").All())
	}
}

// blockingCloser is a connection whose Close waits until released, as
// a WebSocket's does while it waits for the peer's close frame (up to
// a second).
type blockingCloser struct {
	closing, release chan struct{}
}

func (b *blockingCloser) Close() error {
	close(b.closing)
	<-b.release
	return nil
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// Regression: the connection evicted at MaxSessions was closed on the
// goroutine that admitted the new one, the accept loop: evicting a
// silent WebSocket, whose close waits up to a second for the peer's
// close frame, stopped accepting for that second, so that a flood of
// silent WebSockets let TCP clients in at one a second. Eviction no
// longer waits for the victim's close.
func TestEvictionDoesNotWaitForTheVictimsClose(t *testing.T) {
	srv := &Server{MaxSessions: 1}
	if err := srv.init(); err != nil {
		t.Fatal(err)
	}
	victim := &blockingCloser{closing: make(chan struct{}), release: make(chan struct{})}
	old, ok := srv.admit(victim, nil, netip.Addr{}, true, false)
	if !ok {
		t.Fatal("first connection refused")
	}
	admitted := make(chan *connection, 1)
	go func() {
		c, _ := srv.admit(nopCloser{}, nil, netip.Addr{}, true, false)
		admitted <- c
	}()
	var c *connection
	select {
	case c = <-admitted:
	case <-time.After(5 * time.Second):
		close(victim.release)
		t.Fatal("admitting a connection waits for the evicted one's close")
	}
	<-victim.closing
	close(victim.release)
	srv.release(old, 0, 0)
	srv.release(c, 0, 0)
	if st := srv.Stats(); st.Evicted != 1 || st.Connections != 0 {
		t.Errorf("stats %+v, want 1 evicted, none held", st)
	}
	srv.Close()
	srv.Wait()
}
