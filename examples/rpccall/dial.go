package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/session"
	"github.com/gorpcx/gorpcx/transport"
)

// dialer makes rpccall's connections: transport.Dialer connects (with
// its keep-alive probes, or through the proxy), then, with TLS, the
// handshake has a bound of its own, so that a plain TCP port is found
// out in seconds rather than at the end of -timeout; server.Dialer
// bounds connecting and the handshake together.
type dialer struct {
	network, address string
	transport        transport.Dialer // Via and Timeout set by parse
	tls              *tls.Config      // nil: no TLS
	tlsTimeout       time.Duration
	framer           framing.Framer
	opts             session.Options
}

// setAddress sets the network and address to dial from arg: unix:PATH
// for a Unix socket, else a TCP host:port.
func (d *dialer) setAddress(arg string) error {
	path, ok := strings.CutPrefix(arg, "unix:")
	if !ok {
		d.network, d.address = "tcp", arg
		return nil
	}
	switch {
	case path == "":
		return usagef("unix: needs the socket's path, as unix:/run/app/admin.sock")
	case d.transport.Via != nil:
		return usagef("-proxy cannot carry a Unix socket connection")
	}
	d.network, d.address = "unix", path
	return nil
}

// handshakeError is a failed TLS handshake, with a hint for the user
// ("" if none). fatal reports that trying again cannot help: the port
// does not speak TLS or the certificate is not trusted.
type handshakeError struct {
	err   error
	hint  string
	fatal bool
}

// Error returns the cause.
func (e *handshakeError) Error() string { return "tls handshake: " + e.err.Error() }

// Unwrap returns the cause.
func (e *handshakeError) Unwrap() error { return e.err }

// dial connects and returns a running client session whose handler is
// h (nil: the session's default, which refuses the server's requests).
// ctx bounds connecting and the handshake. It returns the
// *transport.DialError of a failed connection, or a *handshakeError.
func (d *dialer) dial(ctx context.Context, h session.Handler) (*session.Session, error) {
	conn, err := d.transport.Dial(ctx, d.network, d.address)
	if err != nil {
		return nil, err
	}
	var rwc io.ReadWriteCloser = conn
	if d.tls != nil {
		tc, err := d.handshake(ctx, conn)
		if err != nil {
			conn.Close()
			return nil, err
		}
		rwc = tc
	}
	opts := d.opts
	opts.Side = session.Client
	opts.Peer = d.address
	if h != nil {
		opts.Handler = h
	}
	return session.New(framing.NewStream(d.framer, rwc), &opts), nil
}

// handshake makes the TLS client handshake on conn within d.tlsTimeout.
func (d *dialer) handshake(ctx context.Context, conn net.Conn) (*tls.Conn, error) {
	cfg := d.tls.Clone()
	if cfg.ServerName == "" && d.network == "tcp" {
		if host, _, err := net.SplitHostPort(d.address); err == nil {
			host, _, _ = strings.Cut(host, "%") // an IPv6 zone is no name
			cfg.ServerName = host
		}
	}
	hctx, cancel := context.WithTimeout(ctx, d.tlsTimeout)
	defer cancel()
	tc := tls.Client(conn, cfg)
	err := tc.HandshakeContext(hctx)
	if err == nil {
		return tc, nil
	}
	he := &handshakeError{err: err}
	var rh tls.RecordHeaderError
	var cv *tls.CertificateVerificationError
	switch {
	case errors.As(err, &rh):
		he.hint = fmt.Sprintf("%s answered, but not with TLS: it looks like a plain TCP port (try without -tls)", d.address)
		he.fatal = true
	case ctx.Err() == nil && hctx.Err() != nil:
		he.err = fmt.Errorf("no TLS answer within %v (-tls-timeout): %w", d.tlsTimeout, err)
		he.hint = fmt.Sprintf("%s may be a plain TCP port (try without -tls), or a slow one (raise -tls-timeout)", d.address)
	case errors.As(err, &cv):
		he.hint = "for a server with a self-signed certificate, trust it with -ca FILE (its PEM certificate), or skip verification with -insecure"
		he.fatal = true
	}
	return nil, he
}
