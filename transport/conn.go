package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"
)

// Conn is a connection made by [Dialer.Dial] or accepted by a
// [Listener]. It is a net.Conn that also knows the details a session
// and its logs need: the remote address as the caller meant it, the
// proxy that carried it, its TLS state, and on a listener with the
// PROXY protocol on, the real client and the balancer that sent it.
//
// On such a listener ([ListenConfig].Proxy) the header is read by
// [Conn.Handshake] or by the first Read or Write, never by Accept; a
// server calls Handshake first, so that [Conn.RemoteAddress] names the
// real client before anything else is done with the connection.
//
// Reads, writes and deadlines go to the underlying connection (see
// [Conn.NetConn]), with the same rules for concurrent use: one reader
// and one writer may work at the same time, and Close may be called
// from any goroutine. Conns come from Dial and Accept: the zero Conn is
// not usable.
type Conn struct {
	conn   net.Conn   // what Read and Write use: tlsConn when TLS is on
	tls    *tls.Conn  // nil without TLS
	proxy  *proxyConn // nil without the PROXY protocol; under tls if both
	remote NetAddress // the socket's peer (for a dial, the target)
	via    ContextDialer
	local  net.Addr // if not nil, what LocalAddr reports
}

var _ net.Conn = (*Conn)(nil)

// Read reads from the connection, as net.Conn.Read.
func (c *Conn) Read(b []byte) (int, error) { return c.conn.Read(b) }

// Write writes to the connection, as net.Conn.Write.
func (c *Conn) Write(b []byte) (int, error) { return c.conn.Write(b) }

// Close closes the connection; blocked reads and writes return errors.
// For TLS it sends a close_notify alert first, as crypto/tls does.
func (c *Conn) Close() error { return c.conn.Close() }

// LocalAddr returns the local network address. For a connection
// accepted on a Unix socket path, that is the path given to Listen.
func (c *Conn) LocalAddr() net.Addr {
	if c.local != nil {
		return c.local
	}
	return c.conn.LocalAddr()
}

// RemoteAddr returns the address of the socket's peer as the network
// sees it: for a connection dialed through a proxy, that is the proxy.
// See [Conn.RemoteAddress] for the address the caller meant. For a
// connection that began with an accepted PROXY protocol header, it is
// the client's address from the header once the header has been read
// (before that, the balancer's).
func (c *Conn) RemoteAddr() net.Addr { return c.conn.RemoteAddr() }

// SetDeadline sets the read and write deadlines, as net.Conn.SetDeadline.
func (c *Conn) SetDeadline(t time.Time) error { return c.conn.SetDeadline(t) }

// SetReadDeadline sets the read deadline, as net.Conn.SetReadDeadline.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.conn.SetReadDeadline(t) }

// SetWriteDeadline sets the write deadline, as net.Conn.SetWriteDeadline.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.conn.SetWriteDeadline(t) }

// RemoteAddress returns the remote address as the caller meant it
// (aiorpcX's remote_address()):
//
//   - for a dialed TCP connection, the host and port given to Dial,
//     host name included, even when a proxy carried the connection;
//   - for an accepted TCP connection, the peer's IP address and port
//     (an IPv4 peer of a dual-stack listener is reported as IPv4);
//   - for a Unix socket, which has no host and port, the zero
//     NetAddress: [Conn.RemoteAddr] gives the socket's *net.UnixAddr;
//   - for an accepted connection that began with a PROXY protocol
//     header naming a client, that client's IP address and port, once
//     the header has been read ([Conn.Handshake], or the first Read or
//     Write); before that, and for a header that names no client (a
//     LOCAL or UNKNOWN one), the socket's peer as above.
//
// It is safe to call at any time, from any goroutine; it never waits
// for the header.
func (c *Conn) RemoteAddress() NetAddress {
	if c.proxy != nil {
		if h := c.proxy.accepted(); h != nil && !h.Local && !h.Source.IsZero() {
			return h.Source
		}
	}
	return c.remote
}

// Balancer returns the address of the load balancer that sent the
// connection's PROXY protocol header (the socket's peer) and true, once
// a header has been read and accepted, including a LOCAL or UNKNOWN one.
// Without a header (the PROXY protocol off, a direct client, a header
// not read yet) it returns the zero NetAddress and false. On a Unix
// socket the balancer has no address: the zero NetAddress and true.
func (c *Conn) Balancer() (NetAddress, bool) {
	if c.proxy == nil || c.proxy.accepted() == nil {
		return NetAddress{}, false
	}
	return c.remote, true
}

// ProxyHeader returns a copy of the PROXY protocol header the
// connection began with, once it has been read and accepted, or nil:
// without a header, or before it is read. It never waits for the
// header.
func (c *Conn) ProxyHeader() *ProxyHeader {
	if c.proxy == nil {
		return nil
	}
	h := c.proxy.accepted()
	if h == nil {
		return nil
	}
	cp := *h
	return &cp
}

// Proxy returns the dialer that carried the connection ([Dialer.Via]),
// or nil for a direct or accepted connection (aiorpcX's proxy()). For
// logs, fmt prints it with its String method when it has one; a proxy
// from gorpcx's proxy package never shows a password there.
func (c *Conn) Proxy() ContextDialer { return c.via }

// TLSState returns the TLS connection state and true if the connection
// uses TLS, or the zero state and false if it does not. For an accepted
// connection the handshake runs on the first Read or Write, or on
// [Conn.Handshake]; before that, the state's HandshakeComplete is
// false.
func (c *Conn) TLSState() (tls.ConnectionState, bool) {
	if c.tls == nil {
		return tls.ConnectionState{}, false
	}
	return c.tls.ConnectionState(), true
}

// Handshake does what an accepted connection needs before it carries
// data, bounded by ctx: it reads the PROXY protocol header, if the
// listener expects one and it has not been read (bounded also by
// [ProxyProtocol].HeaderTimeout), then runs the TLS handshake, if TLS
// is on and it has not run (TLS runs over the connection after the
// header). It returns nil at once when there is nothing left to do; a
// dialed connection has already shaken hands.
//
// A server calls Handshake on an accepted connection before anything
// else, so that [Conn.RemoteAddress] names the real client and
// [Conn.TLSState] the client's TLS state before the first read.
//
// A refused header is a [*ProxyError] (see [ErrProxyUntrusted] and the
// others), and the connection is closed; every later call returns the
// same error. If ctx ends first the connection is closed and the error
// matches ctx.Err(), as with tls.Conn.HandshakeContext.
func (c *Conn) Handshake(ctx context.Context) error {
	if c.proxy != nil {
		if err := c.proxy.ensure(ctx); err != nil {
			return err
		}
	}
	if c.tls == nil {
		return nil
	}
	return c.tls.HandshakeContext(ctx)
}

// HasHandshake reports whether the connection has a handshake step
// that [Conn.Handshake] would run (or has run): a PROXY protocol header
// to read, or TLS. A server runs Handshake on a goroutine of its own for
// such connections, since it may wait for the peer.
func (c *Conn) HasHandshake() bool { return c.proxy != nil || c.tls != nil }

// HasProxyHeader reports whether the connection was accepted on a
// listener with the PROXY protocol on, so that [Conn.Handshake] reads a
// header first (or finds that a source allowed to send none sent
// none): until then [Conn.RemoteAddress] names the socket's peer, which
// may be the balancer. A server groups such a connection by its peer
// after the handshake.
func (c *Conn) HasProxyHeader() bool { return c.proxy != nil }

// NetConn returns the connection that Read and Write use: a *tls.Conn
// when TLS is on (its NetConn method gives the connection beneath),
// else the socket itself or the connection the proxy dialer returned.
// On a listener with the PROXY protocol on, the connection beneath TLS
// (or the one returned, without TLS) is a net.Conn that reads the
// header first and whose NetConn method gives the socket: reading the
// socket directly would skip bytes already buffered behind the header.
// Closing it closes c.
func (c *Conn) NetConn() net.Conn { return c.conn }

// CloseWrite shuts down the writing side of the connection, so that the
// peer reads end of stream while c can still read its reply
// (half-close). It works on TCP and Unix sockets and on any connection
// from a proxy dialer that has a CloseWrite method or a NetConn method
// leading to one; on others it returns an error matching
// errors.ErrUnsupported. With TLS it sends a close_notify alert, which
// needs the handshake to be complete and is enough for the peer to see
// the end of the stream, then shuts down the writing side of the
// connection beneath where that is supported.
func (c *Conn) CloseWrite() error {
	if c.tls == nil {
		return closeWrite(c.conn)
	}
	if err := c.tls.CloseWrite(); err != nil {
		return err
	}
	if err := closeWrite(c.tls.NetConn()); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return nil
}

type closeWriter interface{ CloseWrite() error }

type netConner interface{ NetConn() net.Conn }

// closeWrite half-closes conn, looking through wrappers that expose
// the connection they wrap. The depth is bounded against cycles.
func closeWrite(conn net.Conn) error {
	for range 8 {
		if cw, ok := conn.(closeWriter); ok {
			return cw.CloseWrite()
		}
		nc, ok := conn.(netConner)
		if !ok {
			break
		}
		inner := nc.NetConn()
		if inner == nil {
			break
		}
		conn = inner
	}
	return fmt.Errorf("transport: close write on %T: %w", conn, errors.ErrUnsupported)
}
