package proxy

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"
)

// SOCKS4 wire values, from the SOCKS4 and SOCKS4a specifications.
const (
	socks4Version   = 4  // VN of a request
	socks4ReplyVN   = 0  // VN of a reply
	socks4Connect   = 1  // CD of a CONNECT request
	socks4Granted   = 90 // CD of a reply: request granted
	socks4ReplySize = 8  // VN, CD, DSTPORT (2), DSTIP (4)
)

// dial4 connects to the proxy and makes a SOCKS4 or SOCKS4a CONNECT
// request for t with the user ID user. It reports whether the proxy
// was reached.
func (s *SOCKS) dial4(ctx context.Context, t target, user string) (*Conn, bool, error) {
	c, err := s.dialProxy(ctx)
	if err != nil {
		return nil, false, err
	}
	var bound netip.AddrPort
	err = bindContext(ctx, c, func() error {
		if _, err := c.Write(socks4Request(t, user)); err != nil {
			return err
		}
		var err error
		bound, err = readSOCKS4Reply(c, s.Protocol)
		return err
	})
	if err != nil {
		c.Close()
		return nil, true, handshakeError(ctx, s.Protocol, err)
	}
	return &Conn{conn: c, target: t.String(), bound: net.TCPAddrFromAddrPort(bound)}, true, nil
}

// socks4Request returns the CONNECT request for t: an IPv4 target as
// SOCKS4, a host name as SOCKS4a (DSTIP 0.0.0.1, the name after the
// user ID).
func socks4Request(t target, user string) []byte {
	b := make([]byte, 0, 9+len(user)+len(t.host)+1)
	b = append(b, socks4Version, socks4Connect, byte(t.port>>8), byte(t.port))
	if t.addr.IsValid() {
		ip := t.addr.As4()
		b = append(b, ip[:]...)
	} else {
		b = append(b, 0, 0, 0, 1)
	}
	b = append(b, user...)
	b = append(b, 0)
	if !t.addr.IsValid() {
		b = append(b, t.host...)
		b = append(b, 0)
	}
	return b
}

// readSOCKS4Reply reads a SOCKS4 reply from r, exactly 8 bytes, and
// returns the address in it (DSTIP and DSTPORT, which proxies often
// leave zero). A reply with a VN other than 0, or cut short, is a
// *ProtocolError; a CD other than 90 (request granted) is a
// *RefusedError.
func readSOCKS4Reply(r io.Reader, p Protocol) (netip.AddrPort, error) {
	var b [socks4ReplySize]byte
	if n, err := io.ReadFull(r, b[:]); err != nil {
		return netip.AddrPort{}, readError(p, "reply", n, len(b), err)
	}
	if b[0] != socks4ReplyVN {
		return netip.AddrPort{}, &ProtocolError{Protocol: p, Reason: fmt.Sprintf("reply version %d, want 0", b[0])}
	}
	if b[1] != socks4Granted {
		return netip.AddrPort{}, &RefusedError{Protocol: p, Code: int(b[1]), Reason: socks4Reason(b[1])}
	}
	port := uint16(b[2])<<8 | uint16(b[3])
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), port), nil
}

// readError is the error of a read of a want-byte part of a reply that
// stopped after n bytes with err: a *ProtocolError for the end of the
// stream, else err (a network error or a deadline).
func readError(p Protocol, what string, n, want int, err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return &ProtocolError{Protocol: p, Reason: fmt.Sprintf("%s cut short after %d of %d bytes", what, n, want), Err: err}
	}
	return fmt.Errorf("read %s %s: %w", p, what, err)
}

// longAgo is a deadline in the past: setting it interrupts blocked
// reads and writes.
var longAgo = time.Unix(1, 0)

// bindContext runs the exchange f on c so that ctx bounds it: c's
// deadline is ctx's for the duration, and c's reads and writes are
// interrupted at once if ctx is cancelled. It returns f's error, or
// ctx's error if ctx ended before f returned.
func bindContext(ctx context.Context, c net.Conn, f func() error) error {
	if d, ok := ctx.Deadline(); ok {
		c.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(longAgo) })
	err := f()
	if !stop() {
		// ctx ended during the exchange; a success at the same
		// moment is given up, as the caller closes c.
		return ctx.Err()
	}
	c.SetDeadline(time.Time{})
	return err
}
