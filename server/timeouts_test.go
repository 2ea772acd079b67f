package server

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/gorpcx/gorpcx/internal/testcert"
	"github.com/gorpcx/gorpcx/session"
	"github.com/gorpcx/gorpcx/transport"
)

// A server turns the admission timeouts on when its Options leave them
// zero, and keeps what the program set, negative (off) included.
func TestServerTimeoutsOnByDefault(t *testing.T) {
	for _, c := range []struct {
		name      string
		set, want session.Options
	}{
		{"defaults", session.Options{}, session.Options{FirstMessageTimeout: DefaultFirstMessageTimeout, MessageTimeout: DefaultMessageTimeout, IdleTimeout: DefaultIdleTimeout}},
		{"set", session.Options{FirstMessageTimeout: time.Second, MessageTimeout: 2 * time.Second, IdleTimeout: -1}, session.Options{FirstMessageTimeout: time.Second, MessageTimeout: 2 * time.Second, IdleTimeout: -1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := make(chan session.Options, 1)
			opts := c.set
			opts.Handler = hello
			before := time.Now()
			srv := start(t, &Server{Options: opts, NewSession: func(_ *transport.Conn, o *session.Options) error {
				got <- *o
				return nil
			}})
			dial(t, nil, "tcp", srv.Addr().String())
			o := <-got
			if o.FirstMessageTimeout != c.want.FirstMessageTimeout || o.MessageTimeout != c.want.MessageTimeout || o.IdleTimeout != c.want.IdleTimeout {
				t.Errorf("timeouts %v, %v, %v; want %v, %v, %v", o.FirstMessageTimeout, o.MessageTimeout, o.IdleTimeout,
					c.want.FirstMessageTimeout, c.want.MessageTimeout, c.want.IdleTimeout)
			}
			if o.Accepted.Before(before) || o.Accepted.After(time.Now()) {
				t.Errorf("Accepted = %v, want the time of accept", o.Accepted)
			}
		})
	}
}

// The first-message timeout counts from accept: a client that never
// starts its TLS handshake is closed by it, and so is one that shakes
// hands and then stays silent.
func TestFirstMessageTimeoutCountsTheHandshake(t *testing.T) {
	srvCfg, cliCfg := testcert.Configs(t)
	srv := start(t, &Server{TLS: srvCfg, Options: session.Options{Handler: hello, FirstMessageTimeout: 300 * time.Millisecond}})
	addr := srv.Addr().String()
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := raw.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a client silent before its handshake: %v, want the connection closed", err)
	}
	silent := dial(t, &Dialer{TLS: cliCfg}, "tcp", addr)
	select {
	case <-silent.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("a TLS client silent after its handshake is still connected")
	}
	if got := srv.Stats().FailedHandshakes; got != 1 {
		t.Errorf("FailedHandshakes = %d, want 1", got)
	}
	// A client that talks is served.
	talker := dial(t, &Dialer{TLS: cliCfg}, "tcp", addr)
	if err := talker.Call(context.Background(), "x", nil, nil); err != nil {
		t.Fatal(err)
	}
}
