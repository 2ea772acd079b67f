package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"
)

// ContextDialer makes network connections. It has the shape of
// golang.org/x/net/proxy.ContextDialer, so that a *net.Dialer, a SOCKS
// dialer from x/net/proxy or one from gorpcx's proxy package can be
// used as [Dialer.Via].
type ContextDialer interface {
	// DialContext connects to address on the named network. It must
	// give up and return an error when ctx is done.
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

var _ ContextDialer = (*net.Dialer)(nil)

// Dialer holds the options for making connections. The zero Dialer
// dials directly, without TLS or a time limit other than the context's.
// A Dialer may be used by several goroutines at once and must not be
// changed while in use.
type Dialer struct {
	// TLS, if not nil, is the configuration for a TLS client handshake
	// made once the connection is up. It is cloned, not modified. When
	// its ServerName is empty, the clone's is set to the host dialed
	// (the target, not a proxy): a name as given, or an IP address
	// without its zone. For a Unix socket there is no host: set
	// ServerName or InsecureSkipVerify yourself.
	TLS *tls.Config

	// Via, if not nil, makes the connection instead of a net.Dialer:
	// it is given the network and the target address, as a SOCKS
	// proxy dialer expects. It is reported by [Conn.Proxy]. It must
	// honour the context of DialContext.
	Via ContextDialer

	// Timeout, if positive, limits the time to connect and complete
	// the TLS handshake, on top of the context's deadline.
	Timeout time.Duration

	// KeepAlive configures the TCP keep-alive probes of a direct
	// connection. Nil means on, with [DefaultKeepAliveIdle],
	// [DefaultKeepAliveInterval] and [DefaultKeepAliveCount]; a config
	// whose Enable is false switches probes off. In an enabled config a
	// zero Idle, Interval or Count takes that default and a negative one
	// leaves the system's setting, as in net.KeepAliveConfig. It is not
	// used with Via or for Unix sockets.
	KeepAlive *net.KeepAliveConfig

	// UserTimeout sets TCP_USER_TIMEOUT on Linux for a direct
	// connection: how long sent data may stay unacknowledged before the
	// system drops the connection (reads and writes then fail). 0 means
	// [DefaultUserTimeout], negative switches it off (the system's
	// retransmission limit applies). It is rounded up to a millisecond
	// and capped at about 24.8 days. While it is on, Linux also drops a
	// connection whose keep-alive probes go unanswered once UserTimeout
	// has passed since the peer was last heard from, whatever the probe
	// count says. It is ignored on other systems, with Via and for Unix
	// sockets.
	UserTimeout time.Duration
}

// Dial connects to address on network, which is "tcp", "tcp4", "tcp6"
// or "unix", and returns the connection once it is up and, with TLS,
// once the handshake is complete.
//
// For TCP, address is "host:port" or "[ipv6]:port" as
// [ParseNetAddress] reads it without defaults: the host is required (it
// is not "the local system" as for net.Dial) and the port is decimal.
// An invalid address is rejected before anything is dialed. For
// "unix", address is the socket path (on Linux, "@name" for an
// abstract socket).
//
// The context bounds the whole dial, TLS handshake included: if it is
// cancelled or its deadline passes first, Dial gives up and the error
// matches context.Canceled or context.DeadlineExceeded. After Dial
// returns, the context has no effect on the connection.
//
// On failure it returns a [*DialError] wrapping the cause (an
// [*AddressError] for an invalid address); no connection is left open.
func (d *Dialer) Dial(ctx context.Context, network, address string) (*Conn, error) {
	var opts Dialer
	if d != nil {
		opts = *d
	}
	fail := func(err error) (*Conn, error) {
		return nil, &DialError{Network: network, Address: address, Via: opts.Via, Err: err}
	}
	remote, target, err := dialTarget(network, address)
	if err != nil {
		return fail(err)
	}
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	var raw net.Conn
	if opts.Via != nil {
		raw, err = opts.Via.DialContext(ctx, network, target)
	} else {
		var nd net.Dialer
		if network != "unix" {
			if cfg, off := keepAliveOptions(opts.KeepAlive); off {
				nd.KeepAlive = -1
			} else {
				nd.KeepAliveConfig = cfg
			}
			nd.Control = userTimeoutControl(userTimeout(opts.UserTimeout))
		}
		raw, err = nd.DialContext(ctx, network, target)
	}
	switch {
	case err != nil:
		if raw != nil {
			raw.Close()
		}
		return fail(err)
	case raw == nil:
		return fail(errors.New("dialer returned no connection and no error"))
	}
	if err := ctx.Err(); err != nil {
		// A Via dialer that ignores its context ends up here.
		raw.Close()
		return fail(err)
	}
	c := &Conn{conn: raw, remote: remote, via: opts.Via}
	if opts.TLS != nil {
		cfg := opts.TLS.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = serverName(remote.Host())
		}
		tc := tls.Client(raw, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return fail(fmt.Errorf("tls handshake: %w", err))
		}
		c.conn, c.tls = tc, tc
	}
	return c, nil
}

// Dial connects to address on network with the zero [Dialer]: directly,
// without TLS. See [Dialer.Dial].
func Dial(ctx context.Context, network, address string) (*Conn, error) {
	var d Dialer
	return d.Dial(ctx, network, address)
}

// dialTarget checks network and address and returns the remote address
// a connection will report and the address to dial (the canonical form
// of a TCP address).
func dialTarget(network, address string) (NetAddress, string, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
		na, err := ParseNetAddress(address, "", 0)
		if err != nil {
			return NetAddress{}, "", err
		}
		return na, na.String(), nil
	case "unix":
		if address == "" {
			return NetAddress{}, "", errors.New("empty Unix socket path")
		}
		return NetAddress{}, address, nil
	}
	return NetAddress{}, "", net.UnknownNetworkError(network)
}

// serverName is the TLS server name for host: "" for no host.
func serverName(h Host) string {
	if h.addr.IsValid() {
		return h.addr.WithZone("").String()
	}
	return h.name
}
