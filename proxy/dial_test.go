package proxy_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gorpcx/gorpcx/proxy"
)

func TestDialThroughRelay(t *testing.T) {
	echo := startEcho(t)
	_, port, _ := net.SplitHostPort(echo)
	resolver := &fakeResolver{Hosts: map[string][]netip.Addr{
		"echo.test": {netip.MustParseAddr("127.0.0.1")},
	}}
	anyUser := func(user, pass string) bool { return true }
	tests := []struct {
		name   string
		socks  proxy.SOCKS
		check  func(user, pass string) bool
		target string
		want   request // what the proxy is asked for (Methods not compared)
	}{
		{
			name:   "SOCKS5 IPv4",
			target: echo,
			want:   request{Version: 5, Host: "127.0.0.1"},
		},
		{
			name:   "SOCKS5 host name resolved by the proxy",
			target: "localhost:" + port,
			want:   request{Version: 5, Host: "localhost"},
		},
		{
			name:   "SOCKS5 host name resolved locally",
			socks:  proxy.SOCKS{ResolveLocally: true, Resolver: resolver},
			target: "echo.test:" + port,
			want:   request{Version: 5, Host: "127.0.0.1"},
		},
		{
			name:   "SOCKS5 IPv4-mapped IPv6 address sent as IPv4",
			target: "[::ffff:127.0.0.1]:" + port,
			want:   request{Version: 5, Host: "127.0.0.1"},
		},
		{
			name:   "SOCKS5 username and password",
			socks:  proxy.SOCKS{Auth: proxy.Auth{Username: "alice", Password: "s3cret"}},
			check:  func(user, pass string) bool { return user == "alice" && pass == "s3cret" },
			target: echo,
			want:   request{Version: 5, Host: "127.0.0.1", User: "alice", Pass: "s3cret"},
		},
		{
			name:   "SOCKS5 username, empty password",
			socks:  proxy.SOCKS{Auth: proxy.Auth{Username: "alice"}},
			check:  anyUser,
			target: echo,
			want:   request{Version: 5, Host: "127.0.0.1", User: "alice"},
		},
		{
			name:   "SOCKS5 username offered, not asked for",
			socks:  proxy.SOCKS{Auth: proxy.Auth{Username: "alice", Password: "s3cret"}},
			target: echo,
			want:   request{Version: 5, Host: "127.0.0.1"},
		},
		{
			name:   "SOCKS4 IPv4 with user ID",
			socks:  proxy.SOCKS{Protocol: proxy.SOCKS4, Auth: proxy.Auth{Username: "bob", Password: "unused"}},
			target: echo,
			want:   request{Version: 4, Host: "127.0.0.1", User: "bob"},
		},
		{
			name:   "SOCKS4 host name resolved locally",
			socks:  proxy.SOCKS{Protocol: proxy.SOCKS4, ResolveLocally: true, Resolver: resolver},
			target: "echo.test:" + port,
			want:   request{Version: 4, Host: "127.0.0.1"},
		},
		{
			name:   "SOCKS4a host name resolved by the proxy",
			socks:  proxy.SOCKS{Protocol: proxy.SOCKS4a, Auth: proxy.Auth{Username: "bob"}},
			target: "localhost:" + port,
			want:   request{Version: 4, Host: "localhost", User: "bob"},
		},
		{
			name:   "SOCKS4a IPv4 sent as SOCKS4",
			socks:  proxy.SOCKS{Protocol: proxy.SOCKS4a},
			target: echo,
			want:   request{Version: 4, Host: "127.0.0.1"},
		},
		{
			name:   "SOCKS4a host name resolved locally",
			socks:  proxy.SOCKS{Protocol: proxy.SOCKS4a, ResolveLocally: true, Resolver: resolver},
			target: "echo.test:" + port,
			want:   request{Version: 4, Host: "127.0.0.1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &relay{Check: tt.check}
			fp := startFakeProxy(t, r.Serve)
			s := tt.socks
			s.Address = fp.Addr()
			nc, err := s.DialContext(testContext(t), "tcp", tt.target)
			if err != nil {
				t.Fatalf("DialContext: %v", err)
			}
			defer nc.Close()
			c := nc.(*proxy.Conn)
			echoCheck(t, c, "hello through "+tt.name)

			tt.want.Port = mustPort(t, echo)
			if diff := cmp.Diff([]request{tt.want}, r.Requests(), cmpopts.IgnoreFields(request{}, "Methods")); diff != "" {
				t.Errorf("requests: (-want +got)\n%s", diff)
			}
			wantTarget := tt.target
			if tt.want.Host == "127.0.0.1" {
				wantTarget = echo
			}
			if c.Target() != wantTarget {
				t.Errorf("Target() = %q, want %q", c.Target(), wantTarget)
			}
			if got := c.RemoteAddr().String(); got != fp.Addr() {
				t.Errorf("RemoteAddr() = %s, want the proxy's %s", got, fp.Addr())
			}
			if got := c.BoundAddr().String(); !strings.HasPrefix(got, "127.0.0.1:") || got == "127.0.0.1:0" {
				t.Errorf("BoundAddr() = %s, want the relay's 127.0.0.1 port", got)
			}
		})
	}
}

func TestDialIPv6Target(t *testing.T) {
	echo6, err := newFakeProxyOn("[::1]:0", echo)
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	t.Cleanup(echo6.Close)
	r := &relay{}
	fp := startFakeProxy(t, r.Serve)
	s := &proxy.SOCKS{Address: fp.Addr()}
	c, err := s.DialContext(testContext(t), "tcp6", echo6.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	echoCheck(t, c, "hello over IPv6")
	if diff := cmp.Diff([]string{"::1"}, hosts(r.Requests())); diff != "" {
		t.Errorf("hosts asked for: (-want +got)\n%s", diff)
	}
}

func mustPort(t testing.TB, addr string) int {
	t.Helper()
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return int(ap.Port())
}

func mustPortString(t testing.TB, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func TestRandomCredentials(t *testing.T) {
	echo := startEcho(t)
	for _, p := range []proxy.Protocol{proxy.SOCKS5, proxy.SOCKS4} {
		t.Run(p.String(), func(t *testing.T) {
			r := &relay{Check: func(user, pass string) bool { return true }}
			fp := startFakeProxy(t, r.Serve)
			s := &proxy.SOCKS{Protocol: p, Address: fp.Addr(), Auth: proxy.Auth{Username: "ignored", Random: true}}
			for range 3 {
				c, err := s.DialContext(testContext(t), "tcp", echo)
				if err != nil {
					t.Fatal(err)
				}
				c.Close()
			}
			seen := map[string]bool{}
			for _, req := range r.Requests() {
				if len(req.User) < 20 || req.User == "ignored" || p == proxy.SOCKS5 && (len(req.Pass) < 20 || req.Pass == req.User) {
					t.Errorf("weak or fixed credentials %q, %q", req.User, req.Pass)
				}
				if seen[req.User] || seen[req.Pass] {
					t.Errorf("credentials %q, %q used twice", req.User, req.Pass)
				}
				seen[req.User], seen[req.Pass] = true, p == proxy.SOCKS5
			}
			if len(r.Requests()) != 3 {
				t.Errorf("%d requests, want 3", len(r.Requests()))
			}
		})
	}
}

func TestDialRejectedBeforeSending(t *testing.T) {
	long := strings.Repeat("a", 256)
	tests := []struct {
		name    string
		socks   proxy.SOCKS
		network string
		target  string
		is      error
	}{
		{"SOCKS4 host name", proxy.SOCKS{Protocol: proxy.SOCKS4}, "tcp", "localhost:80", proxy.ErrIPv4Only},
		{"SOCKS4 IPv6", proxy.SOCKS{Protocol: proxy.SOCKS4}, "tcp", "[::1]:80", proxy.ErrIPv4Only},
		{"SOCKS4a IPv6", proxy.SOCKS{Protocol: proxy.SOCKS4a}, "tcp", "[2001:db8::1]:80", proxy.ErrIPv4Only},
		{"SOCKS4 tcp6 resolved locally", proxy.SOCKS{Protocol: proxy.SOCKS4, ResolveLocally: true}, "tcp6", "localhost:80", proxy.ErrIPv4Only},
		{"network udp", proxy.SOCKS{}, "udp", "127.0.0.1:53", net.UnknownNetworkError("udp")},
		{"no port", proxy.SOCKS{}, "tcp", "127.0.0.1", nil},
		{"port 0", proxy.SOCKS{}, "tcp", "127.0.0.1:0", nil},
		{"port too large", proxy.SOCKS{}, "tcp", "127.0.0.1:65536", nil},
		{"port name", proxy.SOCKS{}, "tcp", "127.0.0.1:http", nil},
		{"signed port", proxy.SOCKS{}, "tcp", "127.0.0.1:+80", nil},
		{"empty host", proxy.SOCKS{}, "tcp", ":80", nil},
		{"IPv6 zone", proxy.SOCKS{}, "tcp", "[fe80::1%eth0]:80", nil},
		{"host name too long", proxy.SOCKS{}, "tcp", long + ":80", nil},
		{"NUL in host name", proxy.SOCKS{Protocol: proxy.SOCKS4a}, "tcp", "a\x00b:80", nil},
		{"tcp4 to IPv6", proxy.SOCKS{}, "tcp4", "[::1]:80", nil},
		{"tcp6 to IPv4", proxy.SOCKS{}, "tcp6", "127.0.0.1:80", nil},
		{"unknown protocol", proxy.SOCKS{Protocol: 7}, "tcp", "127.0.0.1:80", nil},
		{"username too long", proxy.SOCKS{Auth: proxy.Auth{Username: long}}, "tcp", "127.0.0.1:80", nil},
		{"password too long", proxy.SOCKS{Auth: proxy.Auth{Username: "u", Password: long}}, "tcp", "127.0.0.1:80", nil},
		{"password without username", proxy.SOCKS{Auth: proxy.Auth{Password: "p"}}, "tcp", "127.0.0.1:80", nil},
		{"NUL in SOCKS4 user ID", proxy.SOCKS{Protocol: proxy.SOCKS4, Auth: proxy.Auth{Username: "a\x00b"}}, "tcp", "127.0.0.1:80", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fp := startFakeProxy(t, (&relay{}).Serve)
			s := tt.socks
			s.Address = fp.Addr()
			c, err := s.DialContext(testContext(t), tt.network, tt.target)
			if err == nil {
				c.Close()
				t.Fatal("DialContext succeeded")
			}
			pe := asError(t, err)
			if pe.Target != tt.target || pe.Proxy != s.String() {
				t.Errorf("error names %q via %q, want %q via %q", pe.Target, pe.Proxy, tt.target, s.String())
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v does not match %v", err, tt.is)
			}
			if n := fp.Accepted(); n != 0 {
				t.Errorf("the proxy was contacted %d times", n)
			}
			t.Log(err)
		})
	}
}

func TestLocalResolution(t *testing.T) {
	echo := startEcho(t)
	port := mustPortString(t, echo)
	unreachable := func(host string) bool { return strings.HasPrefix(host, "192.0.2.") }
	resolver := &fakeResolver{Hosts: map[string][]netip.Addr{
		"two.test":    {netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("::ffff:127.0.0.1")},
		"dead.test":   {netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")},
		"v6.test":     {netip.MustParseAddr("2001:db8::1")},
		"mixed.test":  {netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("192.0.2.3"), netip.MustParseAddr("127.0.0.1")},
		"linked.test": {netip.MustParseAddr("fe80::1%lo"), netip.MustParseAddr("127.0.0.1")},
	}}

	t.Run("first that connects", func(t *testing.T) {
		r := &relay{Refuse: unreachable}
		fp := startFakeProxy(t, r.Serve)
		s := &proxy.SOCKS{Address: fp.Addr(), ResolveLocally: true, Resolver: resolver}
		c, err := s.DialContext(testContext(t), "tcp", "two.test:"+port)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		echoCheck(t, c, "resolved")
		if got := c.(*proxy.Conn).Target(); got != echo {
			t.Errorf("Target() = %s, want %s", got, echo)
		}
		if diff := cmp.Diff([]string{"192.0.2.1", "127.0.0.1"}, hosts(r.Requests())); diff != "" {
			t.Errorf("hosts asked for: (-want +got)\n%s", diff)
		}
	})

	t.Run("every attempt named", func(t *testing.T) {
		r := &relay{Refuse: unreachable}
		fp := startFakeProxy(t, r.Serve)
		s := &proxy.SOCKS{Address: fp.Addr(), ResolveLocally: true, Resolver: resolver}
		_, err := s.DialContext(testContext(t), "tcp", "dead.test:"+port)
		asError(t, err)
		var refused *proxy.RefusedError
		if !errors.As(err, &refused) || refused.Code != 4 {
			t.Errorf("error %v: want a refusal, host unreachable", err)
		}
		for _, want := range []string{"dead.test:" + port, "tried 2 addresses", "192.0.2.1:" + port, "192.0.2.2:" + port, "host unreachable"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %q", err, want)
			}
		}
	})

	t.Run("SOCKS4 uses IPv4 only", func(t *testing.T) {
		r := &relay{Refuse: unreachable}
		fp := startFakeProxy(t, r.Serve)
		s := &proxy.SOCKS{Protocol: proxy.SOCKS4, Address: fp.Addr(), ResolveLocally: true, Resolver: resolver}
		c, err := s.DialContext(testContext(t), "tcp", "mixed.test:"+port)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		if diff := cmp.Diff([]string{"192.0.2.3", "127.0.0.1"}, hosts(r.Requests())); diff != "" {
			t.Errorf("hosts asked for: (-want +got)\n%s", diff)
		}
		_, err = s.DialContext(testContext(t), "tcp", "v6.test:"+port)
		if err == nil || !strings.Contains(err.Error(), "no ip4 address found for v6.test") {
			t.Errorf("SOCKS4 to an IPv6-only name: %v", err)
		}
	})

	t.Run("zone dropped", func(t *testing.T) {
		r := &relay{}
		fp := startFakeProxy(t, r.Serve)
		s := &proxy.SOCKS{Address: fp.Addr(), ResolveLocally: true, Resolver: resolver}
		c, err := s.DialContext(testContext(t), "tcp", "linked.test:"+port)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		if got := hosts(r.Requests()); len(got) == 0 || got[0] != "fe80::1" {
			t.Errorf("hosts asked for: %v, want fe80::1 first", got)
		}
	})

	t.Run("proxy unreachable stops at once", func(t *testing.T) {
		s := &proxy.SOCKS{Address: closedPort(t), ResolveLocally: true, Resolver: resolver}
		_, err := s.DialContext(testContext(t), "tcp", "dead.test:"+port)
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("error %v does not match ECONNREFUSED", err)
		}
		if strings.Contains(err.Error(), "192.0.2.2") {
			t.Errorf("error %q: the second address was tried", err)
		}
	})

	t.Run("lookup failure", func(t *testing.T) {
		fp := startFakeProxy(t, (&relay{}).Serve)
		s := &proxy.SOCKS{Address: fp.Addr(), ResolveLocally: true, Resolver: resolver}
		_, err := s.DialContext(testContext(t), "tcp", "missing.test:"+port)
		var dnsErr *net.DNSError
		if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
			t.Errorf("error %v: want the resolver's *net.DNSError", err)
		}
		if fp.Accepted() != 0 {
			t.Error("the proxy was contacted")
		}
	})

	t.Run("networks looked up", func(t *testing.T) {
		res := &fakeResolver{Err: errors.New("offline")}
		for _, c := range []struct {
			p       proxy.Protocol
			network string
		}{{proxy.SOCKS5, "tcp"}, {proxy.SOCKS5, "tcp4"}, {proxy.SOCKS5, "tcp6"}, {proxy.SOCKS4, "tcp"}, {proxy.SOCKS4a, "tcp4"}} {
			s := &proxy.SOCKS{Protocol: c.p, ResolveLocally: true, Resolver: res}
			if _, err := s.DialContext(testContext(t), c.network, "x.test:1"); !errors.Is(err, res.Err) {
				t.Errorf("%v %s: %v", c.p, c.network, err)
			}
		}
		want := []string{"ip x.test", "ip4 x.test", "ip6 x.test", "ip4 x.test", "ip4 x.test"}
		if diff := cmp.Diff(want, res.Lookups()); diff != "" {
			t.Errorf("lookups: (-want +got)\n%s", diff)
		}
	})

	t.Run("default resolver", func(t *testing.T) {
		r := &relay{}
		fp := startFakeProxy(t, r.Serve)
		s := &proxy.SOCKS{Address: fp.Addr(), ResolveLocally: true}
		c, err := s.DialContext(testContext(t), "tcp4", "localhost:"+port)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		if diff := cmp.Diff([]string{"127.0.0.1"}, hosts(r.Requests())); diff != "" {
			t.Errorf("hosts asked for: (-want +got)\n%s", diff)
		}
	})
}

func TestForward(t *testing.T) {
	echo := startEcho(t)

	t.Run("chained proxies", func(t *testing.T) {
		inner, outer := &relay{}, &relay{}
		innerFP, outerFP := startFakeProxy(t, inner.Serve), startFakeProxy(t, outer.Serve)
		s := &proxy.SOCKS{
			Protocol: proxy.SOCKS4a,
			Address:  outerFP.Addr(),
			Forward:  &proxy.SOCKS{Address: innerFP.Addr()},
		}
		c, err := s.DialContext(testContext(t), "tcp", echo)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		echoCheck(t, c, "through two proxies")
		if got, want := inner.Requests()[0].Target(), outerFP.Addr(); got != want {
			t.Errorf("inner proxy asked for %s, want the outer proxy %s", got, want)
		}
	})

	t.Run("forward error", func(t *testing.T) {
		cause := errors.New("no route")
		s := &proxy.SOCKS{Forward: dialerFunc(func(context.Context, string, string) (net.Conn, error) { return nil, cause })}
		if _, err := s.DialContext(testContext(t), "tcp", echo); !errors.Is(err, cause) {
			t.Errorf("error %v does not wrap the forward dialer's", err)
		}
	})

	t.Run("forward ignoring the context", func(t *testing.T) {
		s := &proxy.SOCKS{Timeout: 20 * time.Millisecond, Forward: dialerFunc(func(ctx context.Context, _, _ string) (net.Conn, error) {
			<-ctx.Done()
			return nil, errors.New("gave up")
		})}
		_, err := s.DialContext(testContext(t), "tcp", echo)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "gave up") {
			t.Errorf("error %v: want the forward dialer's, matching the deadline", err)
		}
	})

	t.Run("forward returns a connection and an error", func(t *testing.T) {
		a, b := net.Pipe()
		defer b.Close()
		s := &proxy.SOCKS{Forward: dialerFunc(func(context.Context, string, string) (net.Conn, error) {
			return a, errors.New("half done")
		})}
		if _, err := s.DialContext(testContext(t), "tcp", echo); err == nil {
			t.Fatal("DialContext succeeded")
		}
		if _, err := a.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
			t.Errorf("the connection was not closed: write: %v", err)
		}
	})

	t.Run("forward returns nothing", func(t *testing.T) {
		for _, p := range []proxy.Protocol{proxy.SOCKS5, proxy.SOCKS4} {
			s := &proxy.SOCKS{Protocol: p, Forward: dialerFunc(func(context.Context, string, string) (net.Conn, error) { return nil, nil })}
			if _, err := s.DialContext(testContext(t), "tcp", echo); err == nil || !strings.Contains(err.Error(), "no connection") {
				t.Errorf("%v: error %v", p, err)
			}
		}
	})

	t.Run("default address", func(t *testing.T) {
		var got string
		s := &proxy.SOCKS{Forward: dialerFunc(func(_ context.Context, network, address string) (net.Conn, error) {
			got = network + " " + address
			return nil, errors.New("stop")
		})}
		s.DialContext(testContext(t), "tcp", echo)
		if want := "tcp " + proxy.DefaultAddress; got != want {
			t.Errorf("dialed %q, want %q", got, want)
		}
	})
}

// dialerFunc is a function as a proxy.ContextDialer.
type dialerFunc func(ctx context.Context, network, address string) (net.Conn, error)

func (f dialerFunc) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return f(ctx, network, address)
}

func TestDialWithoutContext(t *testing.T) {
	echo := startEcho(t)
	fp := startFakeProxy(t, (&relay{}).Serve)
	s := &proxy.SOCKS{Protocol: proxy.SOCKS4, Address: fp.Addr()}
	c, err := s.Dial("tcp", echo)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	echoCheck(t, c, "no context")
}

func TestDialCancelledBeforehand(t *testing.T) {
	fp := startFakeProxy(t, (&relay{}).Serve)
	s := &proxy.SOCKS{Address: fp.Addr()}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.DialContext(ctx, "tcp", "127.0.0.1:1")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if fp.Accepted() != 0 {
		t.Error("the proxy was contacted")
	}
}
