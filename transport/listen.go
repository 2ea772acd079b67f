package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// ListenConfig holds the options for listening. The zero ListenConfig
// listens without TLS, finds dead TCP peers with the default keep-alive
// and user timeout, and leaves a Unix socket's permissions as the
// process's umask makes them.
type ListenConfig struct {
	// TLS, if not nil, makes every accepted connection a TLS server
	// connection with this configuration, which must have Certificates,
	// GetCertificate or GetConfigForClient. It is cloned at Listen.
	TLS *tls.Config

	// UnixMode, if not 0, is the permission bits of a Unix socket file
	// (0o660 lets the group connect). The socket is made in a new
	// directory beside the path that only this user may enter, given
	// the mode there, and then linked to the path: it never appears at
	// the path with other permissions. The temporary name is up to 16
	// bytes longer than the path; where that passes the system's limit
	// on socket names (108 bytes on Linux) while the path does not,
	// Linux binds through /proc/self/fd and other systems fail. On
	// Windows the mode is set after the socket is made. UnixMode is not
	// used for TCP or Linux abstract sockets.
	UnixMode os.FileMode

	// KeepAlive configures the TCP keep-alive probes of accepted
	// connections. Nil means on, with [DefaultKeepAliveIdle],
	// [DefaultKeepAliveInterval] and [DefaultKeepAliveCount]; a config
	// whose Enable is false switches probes off. In an enabled config a
	// zero Idle, Interval or Count takes that default and a negative one
	// leaves the system's setting, as in net.KeepAliveConfig. It is not
	// used for Unix sockets.
	KeepAlive *net.KeepAliveConfig

	// UserTimeout sets TCP_USER_TIMEOUT on Linux: how long data sent on
	// an accepted connection may stay unacknowledged before the system
	// drops the connection (reads and writes then fail). 0 means
	// [DefaultUserTimeout], negative switches it off (the system's
	// retransmission limit applies). It is rounded up to a millisecond
	// and capped at about 24.8 days. While it is on, Linux also drops a
	// connection whose keep-alive probes go unanswered once UserTimeout
	// has passed since the peer was last heard from, whatever the
	// probe count says. It is ignored on other systems and for Unix
	// sockets.
	UserTimeout time.Duration

	// Proxy, if not nil and its Mode is not ProxyOff, makes every
	// accepted connection begin with a PROXY protocol header from a
	// trusted load balancer, which names the real client; see
	// [ProxyProtocol]. It works on TCP and Unix sockets, and with TLS
	// (the header comes first, then the TLS handshake). It is copied at
	// Listen.
	Proxy *ProxyProtocol
}

// Listen announces on the local network address and returns a
// [Listener] whose connections are [*Conn] values.
//
// The network is "tcp", "tcp4" or "tcp6", with an address that
// net.Listen accepts ("127.0.0.1:0", "[::1]:50001", ":50001"; port 0
// picks a free port, which [Listener.Addr] then tells), or "unix" with
// the socket path (on Linux, "@name" for an abstract socket, which has
// no file).
//
// For a Unix socket path:
//
//   - the lock file path + ".lock" (created with mode 0600 if missing)
//     is locked first, with flock, and held until the Listener is
//     closed, so that only one listener at a time works on the path:
//     while another holds it, Listen fails at once with an error
//     matching [ErrAddressInUse]. The lock goes when its process ends,
//     so a lock file left by a process that died is reused. Close
//     removes it. Systems without flock (Windows, Solaris, AIX) make
//     no lock file, and listeners replacing one stale socket at the
//     same moment are not kept apart there;
//   - a socket file left behind by a process that has gone (connecting
//     to it is refused) is removed and replaced;
//   - a socket on which a process still accepts connections is an error
//     matching [ErrAddressInUse];
//   - an existing file that is not a socket is an error matching
//     [ErrNotSocket], and the file is left alone;
//   - the file is removed when the Listener is closed, if it is still
//     the one Listen made.
//
// The context only bounds the set-up (name resolution, the check of
// an existing socket); it has no effect on the Listener afterwards.
// Errors are *net.OpError values naming the network and address, as
// from net.Listen; an address already taken matches [ErrAddressInUse].
// A TLS configuration without a certificate, or a Proxy with an unknown
// Mode or an invalid trusted network, is an error before anything is
// opened.
func (lc *ListenConfig) Listen(ctx context.Context, network, address string) (*Listener, error) {
	var opts ListenConfig
	if lc != nil {
		opts = *lc
	}
	opErr := func(err error) error {
		return &net.OpError{Op: "listen", Net: network, Addr: listenAddr(network, address), Err: err}
	}
	l := &Listener{}
	if opts.TLS != nil {
		if len(opts.TLS.Certificates) == 0 && opts.TLS.GetCertificate == nil && opts.TLS.GetConfigForClient == nil {
			return nil, opErr(errors.New("transport: TLS config has neither Certificates, GetCertificate nor GetConfigForClient"))
		}
		l.tls = opts.TLS.Clone()
	}
	proxy, err := newProxyConfig(opts.Proxy)
	if err != nil {
		return nil, opErr(err)
	}
	l.proxy = proxy
	switch network {
	case "tcp", "tcp4", "tcp6":
		var nlc net.ListenConfig
		if cfg, off := keepAliveOptions(opts.KeepAlive); off {
			nlc.KeepAlive = -1
		} else {
			nlc.KeepAliveConfig = cfg
		}
		nlc.Control = userTimeoutControl(userTimeout(opts.UserTimeout))
		ln, err := nlc.Listen(ctx, network, address)
		if err != nil {
			return nil, markInUse(err)
		}
		l.ln = ln
	case "unix":
		ln, file, err := listenUnix(ctx, address, opts.UnixMode)
		if err != nil {
			return nil, opErr(err)
		}
		l.ln, l.file = ln, file
		if file != nil {
			// The socket may have been bound under a temporary name,
			// which the system would report.
			l.unixAddr = &net.UnixAddr{Name: address, Net: network}
		}
	default:
		return nil, opErr(net.UnknownNetworkError(network))
	}
	return l, nil
}

// Listen announces on the local network address with the zero
// [ListenConfig]: without TLS. See [ListenConfig.Listen].
func Listen(ctx context.Context, network, address string) (*Listener, error) {
	var lc ListenConfig
	return lc.Listen(ctx, network, address)
}

func listenAddr(network, address string) net.Addr {
	if network == "unix" {
		return &net.UnixAddr{Name: address, Net: network}
	}
	return addrString{network, address}
}

// addrString is a net.Addr for an address that could not be resolved.
type addrString struct{ network, address string }

func (a addrString) Network() string { return a.network }
func (a addrString) String() string  { return a.address }

// Listener accepts connections as [*Conn] values. It implements
// net.Listener; it is safe for concurrent use.
type Listener struct {
	ln        net.Listener
	tls       *tls.Config
	proxy     *proxyConfig // nil without the PROXY protocol
	file      *socketFile  // the Unix socket file to remove on Close
	unixAddr  net.Addr     // a *net.UnixAddr of the socket path, for Addr and accepted conns
	closeOnce sync.Once
	closeErr  error
}

var _ net.Listener = (*Listener)(nil)

// Accept waits for the next connection and returns it; its dynamic
// type is always [*Conn] (see [Listener.AcceptConn]). After Close it
// returns an error matching net.ErrClosed.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.AcceptConn()
	if err != nil {
		return nil, err
	}
	return c, nil
}

// AcceptConn waits for the next connection and returns it. Neither
// the PROXY protocol header nor the TLS handshake is read here, so that
// a slow or silent client does not hold up the accept loop: they run on
// [Conn.Handshake], or on the connection's first Read or Write. After
// Close it returns an error matching net.ErrClosed; other errors come
// from the operating system (such as too many open files) and may be
// temporary.
func (l *Listener) AcceptConn() (*Conn, error) {
	raw, err := l.ln.Accept()
	if err != nil {
		return nil, err
	}
	c := &Conn{conn: raw, remote: netAddressOf(raw.RemoteAddr()), local: l.unixAddr}
	if l.proxy != nil {
		c.proxy = newProxyConn(raw, l.proxy)
		c.conn = c.proxy
	}
	if l.tls != nil {
		tc := tls.Server(c.conn, l.tls)
		c.conn, c.tls = tc, tc
	}
	return c, nil
}

// Close stops listening; blocked Accept calls return errors. It does
// not close connections already accepted. For a Unix socket it removes
// the socket file, unless another file has since taken its place, then
// the lock file, and releases the lock. It returns the error of the
// first call on every call.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() {
		l.closeErr = l.ln.Close()
		if l.file != nil {
			if err := l.file.close(); err != nil && l.closeErr == nil {
				l.closeErr = err
			}
		}
	})
	return l.closeErr
}

// Addr returns the listener's network address: a *net.TCPAddr, with
// the port chosen by the system when port 0 was asked for, or a
// *net.UnixAddr with the socket path given to Listen.
func (l *Listener) Addr() net.Addr {
	if l.unixAddr != nil {
		return l.unixAddr
	}
	return l.ln.Addr()
}

// Address returns the listener's TCP address as a NetAddress (an
// unspecified host such as :: or 0.0.0.0 included), or the zero
// NetAddress for a Unix socket.
func (l *Listener) Address() NetAddress { return netAddressOf(l.ln.Addr()) }

// inUseError marks an "address already in use" error so that it
// matches ErrAddressInUse, keeping its message and chain.
type inUseError struct{ err error }

func (e *inUseError) Error() string        { return e.err.Error() }
func (e *inUseError) Unwrap() error        { return e.err }
func (e *inUseError) Is(target error) bool { return target == ErrAddressInUse }

func markInUse(err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return &inUseError{err}
	}
	return err
}
