package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"

	xproxy "golang.org/x/net/proxy"
)

// SOCKS5 wire values, from RFC 1928 and RFC 1929.
const (
	socks5Version      = 5
	methodNone         = 0x00 // no authentication required
	methodUserPass     = 0x02 // username and password (RFC 1929)
	methodNoAcceptable = 0xff
	userPassVersion    = 1 // VER of an RFC 1929 exchange
	atypIPv4           = 1
	atypName           = 3
	atypIPv6           = 4
)

// dial5 connects to the proxy and makes a SOCKS5 CONNECT request for t
// with golang.org/x/net/proxy, offering username and password
// authentication when user is not empty. It reports whether the
// proxy was reached.
//
// x/net/proxy reports a failed handshake with untyped errors, so the
// bytes it reads from the proxy are recorded and, whatever its
// verdict, read again with this package's parsers, which name the
// fault exactly. x/net/proxy reads each reply exactly, so the record
// holds the replies and nothing after them.
func (s *SOCKS) dial5(ctx context.Context, t target, user, password string) (*Conn, bool, error) {
	var (
		raw     net.Conn
		dialErr error
		rec     recorder
	)
	forward := dialFunc(func(ctx context.Context, _, _ string) (net.Conn, error) {
		raw, dialErr = s.dialProxy(ctx)
		if dialErr != nil {
			return nil, dialErr
		}
		rec.Conn = raw
		return &rec, nil
	})
	var auth *xproxy.Auth
	if user != "" {
		auth = &xproxy.Auth{User: user, Password: password}
	}
	d, err := xproxy.SOCKS5("tcp", s.address(), auth, forward)
	if err != nil {
		return nil, false, err
	}
	c, err := d.(xproxy.ContextDialer).DialContext(ctx, "tcp", t.String())
	if dialErr != nil {
		return nil, false, dialErr
	}
	if err != nil {
		// x/net/proxy has closed the connection.
		return nil, true, handshakeError(ctx, SOCKS5, handshake5Error(rec.bytes(), user != "", err))
	}
	bound, perr := parseSOCKS5Replies(bytes.NewReader(rec.bytes()), user != "")
	if perr != nil {
		// x/net/proxy let pass what the parsers do not: a method
		// that was not offered.
		c.Close()
		return nil, true, perr
	}
	return &Conn{conn: raw, target: t.String(), bound: bound}, true, nil
}

// handshake5Error names the fault of a handshake that x/net/proxy
// failed with err, from the replies it read.
func handshake5Error(replies []byte, userPass bool, err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		err = op.Err // x/net/proxy's own words, without the addresses
	}
	_, perr := parseSOCKS5Replies(bytes.NewReader(replies), userPass)
	switch {
	case perr == nil:
		// The replies were sound: the fault is elsewhere, such as a
		// failed write.
		return fmt.Errorf("SOCKS5 handshake: %w", err)
	case errors.Is(perr, io.EOF) || errors.Is(perr, io.ErrUnexpectedEOF):
		// The record ends there: either the proxy closed the
		// connection, or a read failed for another reason.
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return perr
		}
		return fmt.Errorf("SOCKS5 handshake: %w", err)
	}
	return perr
}

// parseSOCKS5Replies reads the proxy's side of a SOCKS5 handshake from
// r: the method selection, the RFC 1929 reply if that method was
// chosen, and the connect reply. It returns the bound address of the
// connect reply.
func parseSOCKS5Replies(r io.Reader, userPass bool) (net.Addr, error) {
	method, err := readMethodReply(r, userPass)
	if err != nil {
		return nil, err
	}
	if method == methodUserPass {
		if err := readAuthReply(r); err != nil {
			return nil, err
		}
	}
	return readConnectReply(r)
}

// readMethodReply reads a SOCKS5 method selection (VER, METHOD), exactly
// 2 bytes, and returns the method chosen. The methods offered are
// "none", and "username and password" if userPass. A VER other than 5,
// or a method not offered, is a *ProtocolError; "no acceptable
// methods" is a *RefusedError matching ErrAuth.
func readMethodReply(r io.Reader, userPass bool) (byte, error) {
	var b [2]byte
	if n, err := io.ReadFull(r, b[:]); err != nil {
		return 0, readError(SOCKS5, "method selection", n, len(b), err)
	}
	if b[0] != socks5Version {
		return 0, &ProtocolError{Protocol: SOCKS5, Reason: fmt.Sprintf("method selection version %d, want 5", b[0])}
	}
	switch m := b[1]; {
	case m == methodNone, m == methodUserPass && userPass:
		return m, nil
	case m == methodNoAcceptable:
		return 0, &RefusedError{Protocol: SOCKS5, Code: int(m), Reason: "no acceptable authentication methods", Err: ErrAuth}
	default:
		return 0, &ProtocolError{Protocol: SOCKS5, Reason: fmt.Sprintf("proxy chose authentication method %d, which was not offered", m)}
	}
}

// readAuthReply reads an RFC 1929 reply (VER, STATUS), exactly 2 bytes.
// A VER other than 1 is a *ProtocolError; a STATUS other than 0 is a
// *RefusedError matching ErrAuth.
func readAuthReply(r io.Reader) error {
	var b [2]byte
	if n, err := io.ReadFull(r, b[:]); err != nil {
		return readError(SOCKS5, "authentication reply", n, len(b), err)
	}
	if b[0] != userPassVersion {
		return &ProtocolError{Protocol: SOCKS5, Reason: fmt.Sprintf("authentication reply version %d, want 1", b[0])}
	}
	if b[1] != 0 {
		return &RefusedError{Protocol: SOCKS5, Code: int(b[1]), Reason: "username and password rejected", Err: ErrAuth}
	}
	return nil
}

// readConnectReply reads a SOCKS5 reply to CONNECT (VER, REP, RSV,
// ATYP, BND.ADDR, BND.PORT) and returns the bound address. It reads the
// 4 fixed bytes, then exactly the address and port ATYP declares (4, 16
// or 1+n bytes for a host name of n bytes, and 2), and nothing after a
// refusal. A VER other than 5, a RSV other than 0, an unknown ATYP or a
// reply cut short is a *ProtocolError; a REP other than 0 is a
// *RefusedError.
func readConnectReply(r io.Reader) (net.Addr, error) {
	var b [4 + 1 + 255 + 2]byte // the longest reply: a host name of 255 bytes
	if n, err := io.ReadFull(r, b[:4]); err != nil {
		return nil, readError(SOCKS5, "connect reply", n, 4, err)
	}
	switch {
	case b[0] != socks5Version:
		return nil, &ProtocolError{Protocol: SOCKS5, Reason: fmt.Sprintf("connect reply version %d, want 5", b[0])}
	case b[1] != 0:
		return nil, &RefusedError{Protocol: SOCKS5, Code: int(b[1]), Reason: socks5Reason(b[1])}
	case b[2] != 0:
		return nil, &ProtocolError{Protocol: SOCKS5, Reason: fmt.Sprintf("connect reply reserved byte %d, want 0", b[2])}
	}
	var size int
	switch b[3] {
	case atypIPv4:
		size = 4
	case atypIPv6:
		size = 16
	case atypName:
		if n, err := io.ReadFull(r, b[4:5]); err != nil {
			return nil, readError(SOCKS5, "connect reply", 4+n, 5, err)
		}
		size = 1 + int(b[4])
	default:
		return nil, &ProtocolError{Protocol: SOCKS5, Reason: fmt.Sprintf("connect reply address type %d", b[3])}
	}
	rest := b[4 : 4+size+2]
	if b[3] == atypName {
		rest = rest[1:]
	}
	if n, err := io.ReadFull(r, rest); err != nil {
		return nil, readError(SOCKS5, "connect reply", 4+size+2-len(rest)+n, 4+size+2, err)
	}
	addr, port := b[4:4+size], uint16(b[4+size])<<8|uint16(b[4+size+1])
	switch b[3] {
	case atypIPv4:
		return net.TCPAddrFromAddrPort(netip.AddrPortFrom(netip.AddrFrom4([4]byte(addr)), port)), nil
	case atypIPv6:
		return net.TCPAddrFromAddrPort(netip.AddrPortFrom(netip.AddrFrom16([16]byte(addr)), port)), nil
	}
	return nameAddr(net.JoinHostPort(string(addr[1:]), strconv.Itoa(int(port)))), nil
}

// nameAddr is a bound address given as a host name and port.
type nameAddr string

// Network returns "tcp".
func (a nameAddr) Network() string { return "tcp" }

// String returns "host:port".
func (a nameAddr) String() string { return string(a) }

// recorder is the connection x/net/proxy speaks SOCKS5 over: it passes
// everything through and keeps a copy of the bytes read, which are the
// proxy's replies. Replies are at most 2+2+262 bytes; more is not
// kept.
type recorder struct {
	net.Conn
	buf [512]byte
	n   int
}

// Read reads from the connection and keeps a copy.
func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.n += copy(r.buf[r.n:], p[:n])
	return n, err
}

// bytes returns what was read so far.
func (r *recorder) bytes() []byte { return r.buf[:r.n] }

// dialFunc is a function as a golang.org/x/net/proxy.Dialer and
// ContextDialer.
type dialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// DialContext calls f.
func (f dialFunc) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return f(ctx, network, address)
}

// Dial calls f with the background context.
func (f dialFunc) Dial(network, address string) (net.Conn, error) {
	return f(context.Background(), network, address)
}
