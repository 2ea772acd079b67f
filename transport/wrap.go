package transport

import (
	"crypto/tls"
	"net"
)

// NewConn wraps a connection made elsewhere (by a listener of the
// program's own, say) as a [*Conn], so that code written for accepted
// connections serves it too. A *tls.Conn keeps its TLS state
// (TLSState and Handshake work on it); its RemoteAddress is the peer's
// address as for an accepted connection. If conn already is a *Conn it
// is returned as it is.
func NewConn(conn net.Conn) *Conn {
	if c, ok := conn.(*Conn); ok {
		return c
	}
	c := &Conn{conn: conn, remote: netAddressOf(conn.RemoteAddr())}
	if tc, ok := conn.(*tls.Conn); ok {
		c.tls = tc
	}
	return c
}
