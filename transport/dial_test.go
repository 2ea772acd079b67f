package transport

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/proxy"
)

// A ContextDialer is an x/net/proxy.ContextDialer and back.
var (
	_ proxy.ContextDialer = ContextDialer(nil)
	_ ContextDialer       = proxy.ContextDialer(nil)
)

func TestDialTCP(t *testing.T) {
	ctx := testContext(t)
	ln, err := Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := serveEcho(t, ln)
	addr := ln.Address().String()
	if !strings.HasPrefix(addr, "127.0.0.1:") || ln.Address().Port() == 0 {
		t.Fatalf("Listener.Address() = %q", addr)
	}

	c, err := Dial(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.RemoteAddress().String(); got != addr {
		t.Errorf("RemoteAddress() = %q, want %q", got, addr)
	}
	if c.Proxy() != nil {
		t.Errorf("Proxy() = %v, want nil", c.Proxy())
	}
	if _, ok := c.TLSState(); ok {
		t.Error("TLSState() reports TLS on a plain connection")
	}
	if err := c.Handshake(ctx); err != nil {
		t.Errorf("Handshake() without TLS = %v", err)
	}
	if _, ok := c.NetConn().(*net.TCPConn); !ok {
		t.Errorf("NetConn() is %T, want *net.TCPConn", c.NetConn())
	}
	if c.RemoteAddr().String() != addr || c.LocalAddr() == nil {
		t.Errorf("RemoteAddr() = %v, LocalAddr() = %v", c.RemoteAddr(), c.LocalAddr())
	}
	roundTrip(t, c, "hello over tcp")

	// The server side sees the client's address.
	sc := <-accepted
	if got, want := sc.RemoteAddress().String(), c.LocalAddr().String(); got != want {
		t.Errorf("accepted RemoteAddress() = %q, want %q", got, want)
	}
	if sc.Proxy() != nil {
		t.Errorf("accepted Proxy() = %v", sc.Proxy())
	}
}

func TestDialTCPByName(t *testing.T) {
	ctx := testContext(t)
	ln, err := Listen(ctx, "tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveEcho(t, ln)
	addr := "localhost:" + itoa(int(ln.Address().Port()))
	c, err := Dial(ctx, "tcp4", addr)
	if err != nil {
		t.Skipf("localhost does not resolve to 127.0.0.1 here: %v", err)
	}
	defer c.Close()
	// The address as the caller meant it: the name, not 127.0.0.1.
	if got := c.RemoteAddress(); got.String() != addr || got.Host().Kind() != HostName {
		t.Errorf("RemoteAddress() = %q (%v), want %q", got, got.Host().Kind(), addr)
	}
	roundTrip(t, c, "by name")
}

func TestDialTCP6(t *testing.T) {
	ctx := testContext(t)
	ln, err := Listen(ctx, "tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	accepted := serveEcho(t, ln)
	addr := ln.Address().String()
	if !strings.HasPrefix(addr, "[::1]:") {
		t.Fatalf("Listener.Address() = %q", addr)
	}
	// Any form of the address works and is reported canonically.
	c, err := Dial(ctx, "tcp6", "[0:0::1]:"+itoa(int(ln.Address().Port())))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.RemoteAddress(); got.String() != addr || got.Host().Kind() != HostIPv6 {
		t.Errorf("RemoteAddress() = %q, want %q", got, addr)
	}
	roundTrip(t, c, "hello over tcp6")
	sc := <-accepted
	if got := sc.RemoteAddress().Host().Kind(); got != HostIPv6 {
		t.Errorf("accepted RemoteAddress() kind = %v", got)
	}
}

func TestDialDualStackPeerIsIPv4(t *testing.T) {
	ctx := testContext(t)
	ln, err := Listen(ctx, "tcp", "[::]:0")
	if err != nil {
		t.Skipf("no dual-stack listener: %v", err)
	}
	accepted := serveEcho(t, ln)
	c, err := Dial(ctx, "tcp4", "127.0.0.1:"+itoa(int(ln.Address().Port())))
	if err != nil {
		t.Skipf("dual-stack listener does not take IPv4: %v", err)
	}
	defer c.Close()
	roundTrip(t, c, "mapped")
	sc := <-accepted
	if got := sc.RemoteAddress(); got.Host().Kind() != HostIPv4 || got.Host().String() != "127.0.0.1" {
		t.Errorf("accepted RemoteAddress() = %v (%v), want 127.0.0.1 as IPv4", got, got.Host().Kind())
	}
}

func TestDialVia(t *testing.T) {
	ctx := testContext(t)
	ln, err := Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := serveEcho(t, ln)
	// The "proxy" connects wherever the listener is; the target is a
	// name that resolves nowhere.
	via := &recordingDialer{name: "socks5://proxy.test:1080", fixed: ln.Addr().String()}
	d := &Dialer{Via: via}
	c, err := d.Dial(ctx, "tcp", "electrum.gorpcx.test:50001")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if diff := cmp.Diff([]string{"tcp electrum.gorpcx.test:50001"}, via.Calls()); diff != "" {
		t.Errorf("Via calls (-want +got):\n%s", diff)
	}
	if got := c.RemoteAddress().String(); got != "electrum.gorpcx.test:50001" {
		t.Errorf("RemoteAddress() = %q, want the target", got)
	}
	if c.Proxy() != via {
		t.Errorf("Proxy() = %v, want the Via dialer", c.Proxy())
	}
	if c.RemoteAddr().String() != ln.Addr().String() {
		t.Errorf("RemoteAddr() = %v, want the socket peer %v", c.RemoteAddr(), ln.Addr())
	}
	roundTrip(t, c, "through a proxy")
	<-accepted

	// The Via dialer is given the canonical address.
	c2, err := d.Dial(ctx, "tcp", "[0::1]:50001")
	if err != nil {
		t.Fatal(err)
	}
	c2.Close()
	if got := via.Calls(); len(got) != 2 || got[1] != "tcp [::1]:50001" {
		t.Errorf("Via calls = %q", got)
	}
}

func TestDialAddressRejectedBeforeDialing(t *testing.T) {
	ctx := testContext(t)
	tests := []struct {
		network, address string
		check            func(error) bool
	}{
		{"tcp", "", isAddressError},
		{"tcp", "127.0.0.1", isAddressError},
		{"tcp", ":80", isAddressError},
		{"tcp", "127.0.0.1:0", isAddressError},
		{"tcp4", "127.0.0.1:http", isAddressError},
		{"tcp6", "::1:80", isAddressError},
		{"tcp", "[::1:80", isAddressError},
		{"tcp", "exa mple.org:80", isAddressError},
		{"unix", "", func(err error) bool { return strings.Contains(err.Error(), "empty Unix socket path") }},
		{"udp", "127.0.0.1:53", func(err error) bool { return errors.As(err, new(net.UnknownNetworkError)) }},
		{"", "127.0.0.1:53", func(err error) bool { return errors.As(err, new(net.UnknownNetworkError)) }},
	}
	for _, tt := range tests {
		via := &recordingDialer{name: "rec"}
		c, err := (&Dialer{Via: via}).Dial(ctx, tt.network, tt.address)
		var de *DialError
		if !errors.As(err, &de) || c != nil {
			t.Errorf("Dial(%q, %q) = %v, %v; want a *DialError", tt.network, tt.address, c, err)
			continue
		}
		if de.Network != tt.network || de.Address != tt.address || de.Via != via {
			t.Errorf("Dial(%q, %q) DialError = %+v", tt.network, tt.address, de)
		}
		if !tt.check(err) {
			t.Errorf("Dial(%q, %q) error = %v: wrong cause", tt.network, tt.address, err)
		}
		if calls := via.Calls(); len(calls) != 0 {
			t.Errorf("Dial(%q, %q) dialed %q", tt.network, tt.address, calls)
		}
	}
}

func isAddressError(err error) bool { return errors.As(err, new(*AddressError)) }

func TestDialRefused(t *testing.T) {
	ctx := testContext(t)
	ln, err := Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := Dial(ctx, "tcp", addr)
	if c != nil || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Dial to a closed port = %v, %v; want connection refused", c, err)
	}
	var op *net.OpError
	if !errors.As(err, &op) {
		t.Errorf("error %v does not wrap the *net.OpError", err)
	}
	// The message names the address once, with the cause.
	msg := err.Error()
	if !strings.HasPrefix(msg, "transport: dial tcp "+addr+": ") || strings.Count(msg, addr) != 1 || !strings.Contains(msg, "refused") {
		t.Errorf("error message = %q", msg)
	}
}

func TestDialErrorMessage(t *testing.T) {
	cause := errors.New("boom")
	tests := []struct {
		err  *DialError
		want string
	}{
		{&DialError{Network: "tcp", Address: "a.test:1", Err: cause}, "transport: dial tcp a.test:1: boom"},
		{&DialError{Network: "tcp", Address: "a.test:1", Via: &recordingDialer{name: "socks5://p:1080"}, Err: cause}, "transport: dial tcp a.test:1 via socks5://p:1080: boom"},
		{&DialError{Network: "tcp", Address: "a.test:1", Via: dialerFunc(nil), Err: cause}, "transport: dial tcp a.test:1 via transport.dialerFunc: boom"},
		{&DialError{Network: "tcp", Address: "a.test:1", Err: &net.OpError{Op: "read", Net: "tcp", Err: cause}}, "transport: dial tcp a.test:1: read tcp: boom"},
		{&DialError{Network: "tcp", Address: "a.test:1", Err: &net.OpError{Op: "dial", Net: "tcp", Err: cause}}, "transport: dial tcp a.test:1: boom"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
		if !errors.Is(tt.err, cause) {
			t.Errorf("%v does not wrap its cause", tt.err)
		}
	}
}

func TestDialCancelled(t *testing.T) {
	// blocking waits for the context, as a proxy that does not answer
	// would make its dialer do.
	entered := make(chan struct{}, 1)
	blocking := dialerFunc(func(ctx context.Context, network, address string) (net.Conn, error) {
		entered <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	})

	t.Run("before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		via := &recordingDialer{name: "rec"}
		_, err := (&Dialer{Via: via}).Dial(ctx, "tcp", "127.0.0.1:9")
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Dial with a cancelled context = %v", err)
		}
		if len(via.Calls()) != 0 {
			t.Errorf("dialed with a cancelled context: %q", via.Calls())
		}
		// The same with a direct dial.
		if _, err := Dial(ctx, "tcp", "127.0.0.1:9"); !errors.Is(err, context.Canceled) {
			t.Errorf("direct Dial with a cancelled context = %v", err)
		}
	})

	t.Run("during", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		errc := make(chan error, 1)
		go func() {
			_, err := (&Dialer{Via: blocking}).Dial(ctx, "tcp", "gorpcx.test:1")
			errc <- err
		}()
		<-entered
		cancel()
		err := <-errc
		var de *DialError
		if !errors.Is(err, context.Canceled) || !errors.As(err, &de) || de.Address != "gorpcx.test:1" {
			t.Errorf("Dial cancelled during the dial = %v", err)
		}
	})

	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := (&Dialer{Via: blocking}).Dial(ctx, "tcp", "gorpcx.test:1")
		<-entered
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Dial past its deadline = %v", err)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		_, err := (&Dialer{Via: blocking, Timeout: 20 * time.Millisecond}).Dial(context.Background(), "tcp", "gorpcx.test:1")
		<-entered
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Dial past Dialer.Timeout = %v", err)
		}
	})
}

// stubConn is a net.Conn that records Close; its other methods are
// those of a net.Pipe end, which has neither CloseWrite nor NetConn.
type stubConn struct {
	net.Conn
	closed chan struct{}
}

func (c *stubConn) Close() error {
	close(c.closed)
	return c.Conn.Close()
}

func newStubConn() *stubConn {
	a, b := net.Pipe()
	b.Close()
	return &stubConn{Conn: a, closed: make(chan struct{})}
}

func TestDialMisbehavingVia(t *testing.T) {
	ctx := testContext(t)

	t.Run("conn and error", func(t *testing.T) {
		sc := newStubConn()
		cause := errors.New("half done")
		via := dialerFunc(func(context.Context, string, string) (net.Conn, error) { return sc, cause })
		_, err := (&Dialer{Via: via}).Dial(ctx, "tcp", "gorpcx.test:1")
		if !errors.Is(err, cause) {
			t.Errorf("Dial = %v, want %v", err, cause)
		}
		select {
		case <-sc.closed:
		default:
			t.Error("the connection returned with an error was not closed")
		}
	})

	t.Run("nil and nil", func(t *testing.T) {
		via := dialerFunc(func(context.Context, string, string) (net.Conn, error) { return nil, nil })
		c, err := (&Dialer{Via: via}).Dial(ctx, "tcp", "gorpcx.test:1")
		if c != nil || err == nil || !strings.Contains(err.Error(), "no connection and no error") {
			t.Errorf("Dial = %v, %v", c, err)
		}
	})

	t.Run("ignores its context", func(t *testing.T) {
		sc := newStubConn()
		cctx, cancel := context.WithCancel(ctx)
		via := dialerFunc(func(context.Context, string, string) (net.Conn, error) {
			cancel() // the context ends while the dialer is busy...
			return sc, nil
		})
		_, err := (&Dialer{Via: via}).Dial(cctx, "tcp", "gorpcx.test:1")
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Dial = %v, want context.Canceled", err)
		}
		select {
		case <-sc.closed:
		default:
			t.Error("the late connection was not closed")
		}
	})

	t.Run("no CloseWrite", func(t *testing.T) {
		sc := newStubConn()
		via := dialerFunc(func(context.Context, string, string) (net.Conn, error) { return sc, nil })
		c, err := (&Dialer{Via: via}).Dial(ctx, "tcp", "gorpcx.test:1")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.CloseWrite(); !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("CloseWrite on a conn without it = %v", err)
		}
	})
}

// wrappedConn hides a connection's CloseWrite behind a NetConn method,
// as a proxy's connection type may.
type wrappedConn struct{ inner net.Conn }

func (w wrappedConn) Read(b []byte) (int, error)         { return w.inner.Read(b) }
func (w wrappedConn) Write(b []byte) (int, error)        { return w.inner.Write(b) }
func (w wrappedConn) Close() error                       { return w.inner.Close() }
func (w wrappedConn) LocalAddr() net.Addr                { return w.inner.LocalAddr() }
func (w wrappedConn) RemoteAddr() net.Addr               { return w.inner.RemoteAddr() }
func (w wrappedConn) SetDeadline(t time.Time) error      { return w.inner.SetDeadline(t) }
func (w wrappedConn) SetReadDeadline(t time.Time) error  { return w.inner.SetReadDeadline(t) }
func (w wrappedConn) SetWriteDeadline(t time.Time) error { return w.inner.SetWriteDeadline(t) }
func (w wrappedConn) NetConn() net.Conn                  { return w.inner }

func TestCloseWriteThroughWrapper(t *testing.T) {
	ctx := testContext(t)
	ln, err := Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveEcho(t, ln)
	via := dialerFunc(func(ctx context.Context, network, address string) (net.Conn, error) {
		var nd net.Dialer
		c, err := nd.DialContext(ctx, network, ln.Addr().String())
		if err != nil {
			return nil, err
		}
		return wrappedConn{c}, nil
	})
	c, err := (&Dialer{Via: via}).Dial(ctx, "tcp", "gorpcx.test:1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, "half-closed through a wrapper")

	// A NetConn chain that ends without CloseWrite is unsupported.
	if err := closeWrite(wrappedConn{wrappedConn{newStubConn()}}); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("closeWrite(no CloseWrite at the end) = %v", err)
	}
	if err := closeWrite(wrappedConn{nil}); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("closeWrite(nil inside) = %v", err)
	}
}
