package server

import (
	"context"
	"net"
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
		return srv.conns.len == 2
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
