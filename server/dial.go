package server

import (
	"context"
	"crypto/tls"
	"net"
	"time"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/session"
	"github.com/gorpcx/gorpcx/transport"
)

// Dialer makes client sessions (aiorpcX's connect_rs): it dials with
// package transport, optionally through a proxy, and starts a session
// on the connection with the same options a Server would use. The zero
// Dialer dials directly, without TLS, with newline framing and
// JSON-RPC 2.0.
type Dialer struct {
	// TLS, if not nil, makes a TLS connection; its ServerName defaults
	// to the host dialed.
	TLS *tls.Config
	// Via, if not nil, makes the connection, for example a SOCKS proxy
	// dialer from package proxy.
	Via transport.ContextDialer
	// Timeout, if positive, bounds connecting and the TLS handshake.
	Timeout time.Duration
	// KeepAlive and UserTimeout find a dead server (see
	// transport.Dialer): keep-alive probes (nil: on, with transport's
	// defaults) and, on Linux, TCP_USER_TIMEOUT (0: the default;
	// negative: off). Not used through Via.
	KeepAlive   *net.KeepAliveConfig
	UserTimeout time.Duration
	// Framer cuts the connection's bytes into messages (default
	// framing.Newline{}).
	Framer framing.Framer
	// Options are the session's options; Side is always session.Client
	// and Peer defaults to the address dialed.
	Options session.Options
}

// Dial connects to address on network ("tcp", "tcp4", "tcp6" or
// "unix") and returns a running client session. ctx bounds the dial and
// the handshake only. It returns the *transport.DialError of a failed
// dial.
func (d *Dialer) Dial(ctx context.Context, network, address string) (*session.Session, error) {
	var cfg Dialer
	if d != nil {
		cfg = *d
	}
	td := transport.Dialer{TLS: cfg.TLS, Via: cfg.Via, Timeout: cfg.Timeout, KeepAlive: cfg.KeepAlive, UserTimeout: cfg.UserTimeout}
	conn, err := td.Dial(ctx, network, address)
	if err != nil {
		return nil, err
	}
	framer := cfg.Framer
	if framer == nil {
		framer = framing.Newline{}
	}
	opts := cfg.Options
	opts.Side = session.Client
	if opts.Peer == "" {
		opts.Peer = address
	}
	return session.New(framing.NewStream(framer, conn), &opts), nil
}

// Dial connects to address on network with the options o (nil for the
// defaults) and returns a running client session; see [Dialer.Dial].
func Dial(ctx context.Context, network, address string, o *session.Options) (*session.Session, error) {
	d := Dialer{}
	if o != nil {
		d.Options = *o
	}
	return d.Dial(ctx, network, address)
}
