package proxy

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// Conn is a connection through a proxy, as [SOCKS.DialContext] returns
// it once the proxy has granted it: reads and writes go to the target.
// Reads, writes and deadlines go to the connection to the proxy
// beneath (see [Conn.NetConn]), with the same rules for concurrent use.
//
// Used as transport.Dialer.Via, a SOCKS gives its Conns to package
// transport, whose Conn reports the target as RemoteAddress and the
// SOCKS as Proxy.
type Conn struct {
	conn   net.Conn
	target string
	bound  net.Addr
}

var _ net.Conn = (*Conn)(nil)

// Read reads from the connection, as net.Conn.Read.
func (c *Conn) Read(b []byte) (int, error) { return c.conn.Read(b) }

// Write writes to the connection, as net.Conn.Write.
func (c *Conn) Write(b []byte) (int, error) { return c.conn.Write(b) }

// Close closes the connection.
func (c *Conn) Close() error { return c.conn.Close() }

// LocalAddr returns the local address of the connection to the proxy.
func (c *Conn) LocalAddr() net.Addr { return c.conn.LocalAddr() }

// RemoteAddr returns the address of the socket's peer, which is the
// proxy. See [Conn.Target] for the address asked for.
func (c *Conn) RemoteAddr() net.Addr { return c.conn.RemoteAddr() }

// SetDeadline sets the read and write deadlines, as
// net.Conn.SetDeadline.
func (c *Conn) SetDeadline(t time.Time) error { return c.conn.SetDeadline(t) }

// SetReadDeadline sets the read deadline, as net.Conn.SetReadDeadline.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.conn.SetReadDeadline(t) }

// SetWriteDeadline sets the write deadline, as
// net.Conn.SetWriteDeadline.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.conn.SetWriteDeadline(t) }

// NetConn returns the connection to the proxy, as the Forward dialer
// made it (a *net.TCPConn by default). Closing it closes c.
func (c *Conn) NetConn() net.Conn { return c.conn }

// Target returns the address the proxy connected to, "host:port" or
// "[ipv6]:port": the one asked for, or with local resolution the
// address that succeeded.
func (c *Conn) Target() string { return c.target }

// BoundAddr returns the address the proxy reported in its reply: for
// SOCKS5 the address of its end of the connection to the target
// (BND.ADDR and BND.PORT; a *net.TCPAddr, or a host and port), for
// SOCKS4 the DSTIP and DSTPORT of the reply (a *net.TCPAddr). Many
// proxies report 0.0.0.0:0.
func (c *Conn) BoundAddr() net.Addr { return c.bound }

// CloseWrite shuts down the writing side of the connection, so that
// the target reads end of stream while c can still read its answer
// (half-close), if the proxy passes it on. It works when the
// connection to the proxy has a CloseWrite method, or a NetConn method
// leading to one, as a *net.TCPConn has; otherwise it returns an error
// matching errors.ErrUnsupported.
func (c *Conn) CloseWrite() error {
	conn := c.conn
	for range 8 { // bounded against wrappers that lead back to themselves
		if cw, ok := conn.(interface{ CloseWrite() error }); ok {
			return cw.CloseWrite()
		}
		nc, ok := conn.(interface{ NetConn() net.Conn })
		if !ok || nc.NetConn() == nil {
			break
		}
		conn = nc.NetConn()
	}
	return fmt.Errorf("proxy: close write on %T: %w", conn, errors.ErrUnsupported)
}
