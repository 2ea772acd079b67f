package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// DefaultAddress is the proxy address of a [SOCKS] whose Address is
// empty: the SOCKS port of the local machine.
const DefaultAddress = "127.0.0.1:1080"

// DefaultTimeout bounds each attempt of a [SOCKS] dial, connecting to
// the proxy and the handshake, when [SOCKS.Timeout] is zero.
const DefaultTimeout = 30 * time.Second

// Protocol is a version of the SOCKS protocol. The zero Protocol is
// SOCKS5.
type Protocol uint8

// The protocols, as aiorpcX's SOCKS5, SOCKS4 and SOCKS4a.
const (
	// SOCKS5 is RFC 1928, with username and password authentication
	// from RFC 1929. It carries IPv4 and IPv6 addresses and host names.
	SOCKS5 Protocol = iota
	// SOCKS4 carries IPv4 addresses only.
	SOCKS4
	// SOCKS4a is SOCKS4 extended to carry host names, which the proxy
	// resolves.
	SOCKS4a
)

// String returns "SOCKS5", "SOCKS4", "SOCKS4a", or "Protocol(N)" for a
// value that is none of these.
func (p Protocol) String() string {
	switch p {
	case SOCKS5:
		return "SOCKS5"
	case SOCKS4:
		return "SOCKS4"
	case SOCKS4a:
		return "SOCKS4a"
	}
	return "Protocol(" + strconv.Itoa(int(p)) + ")"
}

// ContextDialer makes network connections. It has the shape of
// golang.org/x/net/proxy.ContextDialer and transport.ContextDialer: a
// *net.Dialer is one, and so is a [*SOCKS], so that proxies can be
// chained.
type ContextDialer interface {
	// DialContext connects to address on the named network. It must
	// give up and return an error when ctx is done.
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// SOCKS is a SOCKS proxy and the way to use it (aiorpcX's SOCKSProxy):
// a dialer whose connections go through the proxy. It satisfies
// transport.ContextDialer, so it can be given as transport.Dialer.Via
// or server.Dialer.Via, and golang.org/x/net/proxy's Dialer and
// ContextDialer.
//
// The zero SOCKS is a SOCKS5 proxy at 127.0.0.1:1080, without
// credentials, that resolves host names itself, with a 30 s limit on
// each attempt. A SOCKS may be used by several goroutines at once and
// must not be changed while in use.
type SOCKS struct {
	// Protocol is the version of SOCKS the proxy speaks (SOCKS5 when
	// zero).
	Protocol Protocol
	// Address is the proxy's "host:port" or "[ipv6]:port"
	// (DefaultAddress when empty).
	Address string
	// Auth is the credentials given to the proxy (none when zero).
	Auth Auth

	// ResolveLocally, when true, makes the dialer look up a target's
	// host name itself and ask the proxy to connect to each address
	// found in turn until one connects (aiorpcX's resolve=True). When
	// false, the proxy is given the host name to resolve (SOCKS5 and
	// SOCKS4a; SOCKS4 cannot carry a host name and reports
	// ErrIPv4Only). Resolving remotely keeps the name from the local
	// network, as Tor users want.
	ResolveLocally bool
	// Resolver looks up host names for ResolveLocally
	// (net.DefaultResolver when nil).
	Resolver Resolver

	// Timeout bounds each attempt, connecting to the proxy and the
	// SOCKS handshake, on top of the context's deadline
	// (DefaultTimeout when zero, no limit but the context's when
	// negative). It does not apply to the connection once made.
	Timeout time.Duration

	// Forward makes the connection to the proxy (a net.Dialer when
	// nil). Another *SOCKS chains proxies.
	Forward ContextDialer
}

var _ ContextDialer = (*SOCKS)(nil)

// direct is the Forward dialer of a SOCKS without one.
var direct = &net.Dialer{}

// DialContext connects to address, a "host:port" or "[ipv6]:port" with
// a decimal port, on network "tcp", "tcp4" or "tcp6", through the
// proxy, and returns the connection as a [*Conn] once the proxy has
// granted it. The host is an IP address or, with SOCKS5 and SOCKS4a,
// a host name (see [SOCKS.ResolveLocally]); with "tcp4" or "tcp6" an
// IP address, or a locally resolved one, must be of that family.
//
// The context and [SOCKS.Timeout] bound the dial: a proxy that stops
// answering makes it fail, not hang. On failure it returns an [*Error]
// naming the proxy and the target and wrapping the cause, and no
// connection is left open.
func (s *SOCKS) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := s.dial(ctx, network, address)
	if err != nil {
		return nil, &Error{Proxy: s.String(), Target: address, Err: err}
	}
	return c, nil
}

// Dial is DialContext with the background context, for
// golang.org/x/net/proxy.Dialer; only [SOCKS.Timeout] bounds it.
func (s *SOCKS) Dial(network, address string) (net.Conn, error) {
	return s.DialContext(context.Background(), network, address)
}

// String describes the proxy for logs, such as
// `SOCKS5 proxy at 127.0.0.1:9050, user "alice"`: the protocol, the
// address, the user name or "random credentials", and "local
// resolution" when [SOCKS.ResolveLocally] is set. It never shows the
// password.
func (s *SOCKS) String() string {
	if s == nil {
		return "<nil>"
	}
	var b strings.Builder
	b.WriteString(s.Protocol.String())
	b.WriteString(" proxy at ")
	b.WriteString(s.address())
	switch {
	case s.Auth.Random:
		b.WriteString(", random credentials")
	case s.Auth.Username != "":
		b.WriteString(", user ")
		b.WriteString(strconv.Quote(s.Auth.Username))
	}
	if s.ResolveLocally {
		b.WriteString(", local resolution")
	}
	return b.String()
}

// address is the proxy's address.
func (s *SOCKS) address() string {
	if s.Address == "" {
		return DefaultAddress
	}
	return s.Address
}

// forward is the dialer to the proxy.
func (s *SOCKS) forward() ContextDialer {
	if s.Forward == nil {
		return direct
	}
	return s.Forward
}

// dial is DialContext without the *Error around the cause.
func (s *SOCKS) dial(ctx context.Context, network, address string) (*Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, net.UnknownNetworkError(network)
	}
	if s.Protocol > SOCKS4a {
		return nil, fmt.Errorf("unknown protocol %v", s.Protocol)
	}
	if err := s.Auth.check(s.Protocol); err != nil {
		return nil, err
	}
	t, err := parseTarget(address)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !t.addr.IsValid() && s.ResolveLocally {
		return s.dialResolved(ctx, network, t)
	}
	if t.addr.IsValid() {
		if !fits(network, t.addr) {
			return nil, fmt.Errorf("address %s is not for network %s", t.addr, network)
		}
		if s.Protocol != SOCKS5 && !t.addr.Is4() {
			return nil, fmt.Errorf("%w, not IPv6 address %s", ErrIPv4Only, t.addr)
		}
	} else if s.Protocol == SOCKS4 {
		return nil, fmt.Errorf("%w, not host name %q (use SOCKS4a or local resolution)", ErrIPv4Only, t.host)
	}
	c, _, err := s.dialOnce(ctx, t)
	return c, err
}

// dialOnce makes one attempt: it connects to the proxy and asks it for
// a connection to t, within s.Timeout. It reports whether the proxy
// was reached.
func (s *SOCKS) dialOnce(ctx context.Context, t target) (c *Conn, reached bool, err error) {
	timeout := s.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	user, password := s.Auth.credentials()
	if s.Protocol == SOCKS5 {
		return s.dial5(ctx, t, user, password)
	}
	return s.dial4(ctx, t, user)
}

// dialProxy connects to the proxy with the Forward dialer. An error
// matches the context's error when the context ended.
func (s *SOCKS) dialProxy(ctx context.Context) (net.Conn, error) {
	c, err := s.forward().DialContext(ctx, "tcp", s.address())
	if err != nil {
		if c != nil {
			c.Close()
		}
		return nil, withContext(ctx, err)
	}
	if c == nil {
		return nil, errors.New("forward dialer returned no connection and no error")
	}
	return c, nil
}

// withContext returns err, made to match ctx's error too if ctx has
// ended and err does not already.
func withContext(ctx context.Context, err error) error {
	if cerr := contextError(ctx, err); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%w)", err, cerr)
	}
	return err
}

// handshakeError is the error of a handshake that failed with err: the
// context's error if the context ended, since a deadline set from it
// is then what stopped the exchange.
func handshakeError(ctx context.Context, p Protocol, err error) error {
	if cerr := contextError(ctx, err); cerr != nil {
		return fmt.Errorf("%v handshake: %w", p, cerr)
	}
	return err
}

// contextError returns ctx's error, if it has ended, after an
// operation failed with err. A timeout at or after ctx's deadline is
// taken as ctx's: a socket deadline set from ctx can pass a moment
// before ctx itself reports it, which it then does at once.
func contextError(ctx context.Context, err error) error {
	var ne net.Error
	if d, ok := ctx.Deadline(); ok && errors.As(err, &ne) && ne.Timeout() && !time.Now().Before(d) {
		<-ctx.Done()
	}
	return ctx.Err()
}

// target is an address to ask the proxy for: an IP address or a host
// name, and a port.
type target struct {
	addr netip.Addr // valid for an IP address
	host string     // the host name when addr is not valid
	port uint16
}

// String returns "host:port" or "[ipv6]:port".
func (t target) String() string {
	if t.addr.IsValid() {
		return netip.AddrPortFrom(t.addr, t.port).String()
	}
	return net.JoinHostPort(t.host, strconv.Itoa(int(t.port)))
}

// parseTarget reads a "host:port" or "[ipv6]:port" address with a
// decimal port from 1 to 65535. The host is an IP address without a
// zone (an IPv4-mapped IPv6 address is taken as IPv4) or a host name
// of at most 255 bytes without NUL bytes; the proxy judges the name.
func parseTarget(address string) (target, error) {
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return target{}, err
	}
	port, err := parsePort(portText)
	if err != nil {
		return target{}, err
	}
	if host == "" {
		return target{}, errors.New("missing host")
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		if addr.Zone() != "" {
			return target{}, errors.New("a proxy cannot use an IPv6 zone")
		}
		return target{addr: addr.Unmap(), port: port}, nil
	}
	switch {
	case len(host) > 255:
		return target{}, errors.New("host name longer than 255 bytes")
	case strings.IndexByte(host, 0) >= 0:
		return target{}, fmt.Errorf("host name %q contains a NUL byte", host)
	}
	return target{host: host, port: port}, nil
}

// parsePort reads a decimal port from 1 to 65535.
func parsePort(s string) (uint16, error) {
	if s == "" || len(s) > 5 || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("invalid port %q", s)
	}
	n, _ := strconv.Atoi(s)
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %d out of range", n)
	}
	return uint16(n), nil
}

// fits reports whether addr may be dialed on network.
func fits(network string, addr netip.Addr) bool {
	switch network {
	case "tcp4":
		return addr.Is4()
	case "tcp6":
		return !addr.Is4()
	}
	return true
}
