package proxy_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gorpcx/gorpcx/proxy"
)

// failure sums up a dial error for comparison.
type failure struct {
	Kind   string // "protocol", "refused" or "other"
	Code   int    // a refusal's code
	Reason string // a refusal's reason
	Auth   bool   // matches proxy.ErrAuth
	EOF    bool   // matches io.EOF or io.ErrUnexpectedEOF
}

func failureOf(t *testing.T, err error) failure {
	t.Helper()
	asError(t, err)
	var f failure
	var pe *proxy.ProtocolError
	var re *proxy.RefusedError
	switch {
	case errors.As(err, &pe):
		f.Kind = "protocol"
	case errors.As(err, &re):
		f.Kind, f.Code, f.Reason = "refused", re.Code, re.Reason
	default:
		f.Kind = "other"
	}
	f.Auth = errors.Is(err, proxy.ErrAuth)
	f.EOF = errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
	return f
}

func TestProxyFailures(t *testing.T) {
	ok5 := "\x05\x00"
	zero := netip.MustParseAddrPort("0.0.0.0:0")
	refused5 := func(code byte, reason string) failure {
		return failure{Kind: "refused", Code: int(code), Reason: reason}
	}
	refused4 := func(code byte, reason string) failure {
		return failure{Kind: "refused", Code: int(code), Reason: reason}
	}
	tests := []struct {
		name   string
		p      proxy.Protocol
		auth   proxy.Auth
		script script
		want   failure
	}{
		// Every SOCKS5 reply code.
		{"SOCKS5 code 1", proxy.SOCKS5, proxy.Auth{}, script{Method: ok5, Reply: string(reply5(1, zero))}, refused5(1, "general SOCKS server failure")},
		{"SOCKS5 code 2", proxy.SOCKS5, proxy.Auth{}, script{Method: ok5, Reply: string(reply5(2, zero))}, refused5(2, "connection not allowed by ruleset")},
		{"SOCKS5 code 3", proxy.SOCKS5, proxy.Auth{}, script{Method: ok5, Reply: string(reply5(3, zero))}, refused5(3, "network unreachable")},
		{"SOCKS5 code 4", proxy.SOCKS5, proxy.Auth{}, script{Method: ok5, Reply: string(reply5(4, zero))}, refused5(4, "host unreachable")},
		{"SOCKS5 code 5", proxy.SOCKS5, proxy.Auth{}, script{Method: ok5, Reply: string(reply5(5, zero))}, refused5(5, "connection refused")},
		{"SOCKS5 code 6", proxy.SOCKS5, proxy.Auth{}, script{Method: ok5, Reply: string(reply5(6, zero))}, refused5(6, "TTL expired")},
		{"SOCKS5 code 7", proxy.SOCKS5, proxy.Auth{}, script{Method: ok5, Reply: string(reply5(7, zero))}, refused5(7, "command not supported")},
		{"SOCKS5 code 8", proxy.SOCKS5, proxy.Auth{}, script{Method: ok5, Reply: string(reply5(8, zero))}, refused5(8, "address type not supported")},
		{"SOCKS5 code 9", proxy.SOCKS5, proxy.Auth{}, script{Method: ok5, Reply: string(reply5(9, zero))}, refused5(9, "unassigned reply code")},
		{"SOCKS5 code 255", proxy.SOCKS5, proxy.Auth{}, script{Method: ok5, Reply: "\x05\xff\x00\x01"}, refused5(255, "unassigned reply code")},
		// Every SOCKS4 reply code.
		{"SOCKS4 code 91", proxy.SOCKS4, proxy.Auth{}, script{Reply: string(reply4(91, zero))}, refused4(91, "request rejected or failed")},
		{"SOCKS4 code 92", proxy.SOCKS4, proxy.Auth{}, script{Reply: string(reply4(92, zero))},
			refused4(92, "request rejected because the SOCKS server cannot connect to identd on the client")},
		{"SOCKS4a code 93", proxy.SOCKS4a, proxy.Auth{}, script{Reply: string(reply4(93, zero))},
			refused4(93, "request rejected because the client program and identd report different user-ids")},
		{"SOCKS4 unknown code", proxy.SOCKS4, proxy.Auth{}, script{Reply: string(reply4(0, zero))}, refused4(0, "unknown reply code")},
		// Authentication.
		{"no acceptable method", proxy.SOCKS5, proxy.Auth{}, script{Method: "\x05\xff"},
			failure{Kind: "refused", Code: 255, Reason: "no acceptable authentication methods", Auth: true}},
		{"password rejected", proxy.SOCKS5, proxy.Auth{Username: "u", Password: "wrong"}, script{Method: "\x05\x02", Auth: "\x01\x01"},
			failure{Kind: "refused", Code: 1, Reason: "username and password rejected", Auth: true}},
		{"random credentials rejected", proxy.SOCKS5, proxy.Auth{Random: true}, script{Method: "\x05\x02", Auth: "\x01\x02"},
			failure{Kind: "refused", Code: 2, Reason: "username and password rejected", Auth: true}},
		{"method not offered", proxy.SOCKS5, proxy.Auth{}, script{Method: "\x05\x02", Auth: "\x01\x00"}, failure{Kind: "protocol"}},
		{"GSSAPI chosen", proxy.SOCKS5, proxy.Auth{Username: "u"}, script{Method: "\x05\x01"}, failure{Kind: "protocol"}},
		{"auth reply version", proxy.SOCKS5, proxy.Auth{Username: "u"}, script{Method: "\x05\x02", Auth: "\x05\x00"}, failure{Kind: "protocol"}},
		// Malformed replies.
		{"method reply version", proxy.SOCKS5, proxy.Auth{}, script{Method: "\x04\x00"}, failure{Kind: "protocol"}},
		{"connect reply version", proxy.SOCKS5, proxy.Auth{}, script{Method: ok5, Reply: "\x04\x00\x00\x01\x00\x00\x00\x00\x00\x00"}, failure{Kind: "protocol"}},
		{"reserved byte", proxy.SOCKS5, proxy.Auth{}, script{Method: ok5, Reply: "\x05\x00\x01\x01\x00\x00\x00\x00\x00\x00"}, failure{Kind: "protocol"}},
		{"address type 2", proxy.SOCKS5, proxy.Auth{}, script{Method: ok5, Reply: "\x05\x00\x00\x02\x00\x00\x00\x00\x00\x00"}, failure{Kind: "protocol"}},
		{"address type 0", proxy.SOCKS5, proxy.Auth{}, script{Method: ok5, Reply: "\x05\x00\x00\x00\x00\x00"}, failure{Kind: "protocol"}},
		{"SOCKS4 reply version 4", proxy.SOCKS4, proxy.Auth{}, script{Reply: "\x04\x5a\x00\x00\x00\x00\x00\x00"}, failure{Kind: "protocol"}},
		{"SOCKS5 answer to SOCKS4", proxy.SOCKS4, proxy.Auth{}, script{Reply: "\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00"}, failure{Kind: "protocol"}},
		// Truncated replies: the proxy closes the connection.
		{"no method reply", proxy.SOCKS5, proxy.Auth{}, script{}, failure{Kind: "protocol", EOF: true}},
		{"method reply cut short", proxy.SOCKS5, proxy.Auth{}, script{Method: "\x05"}, failure{Kind: "protocol", EOF: true}},
		{"auth reply cut short", proxy.SOCKS5, proxy.Auth{Username: "u"}, script{Method: "\x05\x02", Auth: "\x01"}, failure{Kind: "protocol", EOF: true}},
		{"no connect reply", proxy.SOCKS5, proxy.Auth{}, script{Method: ok5}, failure{Kind: "protocol", EOF: true}},
		{"connect reply cut short", proxy.SOCKS5, proxy.Auth{}, script{Method: ok5, Reply: "\x05\x00\x00\x01\x7f\x00"}, failure{Kind: "protocol", EOF: true}},
		{"IPv6 cut short", proxy.SOCKS5, proxy.Auth{}, script{Method: ok5, Reply: "\x05\x00\x00\x04\x00\x00\x00\x00"}, failure{Kind: "protocol", EOF: true}},
		{"host name cut short", proxy.SOCKS5, proxy.Auth{}, script{Method: ok5, Reply: "\x05\x00\x00\x03\x20short"}, failure{Kind: "protocol", EOF: true}},
		{"no SOCKS4 reply", proxy.SOCKS4, proxy.Auth{}, script{}, failure{Kind: "protocol", EOF: true}},
		{"SOCKS4 reply cut short", proxy.SOCKS4, proxy.Auth{}, script{Reply: "\x00\x5a\x00\x50"}, failure{Kind: "protocol", EOF: true}},
		{"SOCKS4 reply cut short, trickled", proxy.SOCKS4a, proxy.Auth{}, script{Reply: "\x00\x5a\x00\x50", Trickle: true}, failure{Kind: "protocol", EOF: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := tt.script
			fp := startFakeProxy(t, sc.Serve)
			s := &proxy.SOCKS{Protocol: tt.p, Address: fp.Addr(), Auth: tt.auth}
			c, err := s.DialContext(testContext(t), "tcp", "127.0.0.1:9")
			if err == nil {
				c.Close()
				t.Fatal("DialContext succeeded")
			}
			if diff := cmp.Diff(tt.want, failureOf(t, err)); diff != "" {
				t.Errorf("error %q: (-want +got)\n%s", err, diff)
			}
			if tt.auth.Password != "" && strings.Contains(err.Error(), tt.auth.Password) {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func TestTrickledReplies(t *testing.T) {
	bound := netip.MustParseAddrPort("192.0.2.7:4242")
	tests := []struct {
		name   string
		p      proxy.Protocol
		auth   proxy.Auth
		script script
		want   string // the bound address
	}{
		{"SOCKS5 IPv4", proxy.SOCKS5, proxy.Auth{}, script{Method: "\x05\x00", Reply: string(reply5(0, bound))}, "192.0.2.7:4242"},
		{"SOCKS5 IPv6", proxy.SOCKS5, proxy.Auth{}, script{Method: "\x05\x00", Reply: string(reply5(0, netip.MustParseAddrPort("[2001:db8::7]:80")))}, "[2001:db8::7]:80"},
		{"SOCKS5 host name with auth", proxy.SOCKS5, proxy.Auth{Username: "u", Password: "p"},
			script{Method: "\x05\x02", Auth: "\x01\x00", Reply: "\x05\x00\x00\x03\x0bexample.org\x01\xbb"}, "example.org:443"},
		{"SOCKS4", proxy.SOCKS4, proxy.Auth{}, script{Reply: string(reply4(90, bound))}, "192.0.2.7:4242"},
		{"SOCKS4a", proxy.SOCKS4a, proxy.Auth{}, script{Reply: string(reply4(90, bound))}, "192.0.2.7:4242"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := tt.script
			sc.Trickle, sc.Hang = true, true
			fp := startFakeProxy(t, sc.Serve)
			s := &proxy.SOCKS{Protocol: tt.p, Address: fp.Addr(), Auth: tt.auth}
			c, err := s.DialContext(testContext(t), "tcp", "127.0.0.1:9")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got := c.(*proxy.Conn).BoundAddr().String(); got != tt.want {
				t.Errorf("BoundAddr() = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestSilentProxy(t *testing.T) {
	tests := []struct {
		name   string
		p      proxy.Protocol
		script script
	}{
		{"SOCKS5 silent from the start", proxy.SOCKS5, script{Hang: true}},
		{"SOCKS5 silent after the method", proxy.SOCKS5, script{Method: "\x05\x00", Hang: true}},
		{"SOCKS5 silent mid-reply", proxy.SOCKS5, script{Method: "\x05\x00", Reply: "\x05\x00\x00", Hang: true}},
		{"SOCKS4 silent", proxy.SOCKS4, script{Hang: true}},
		{"SOCKS4a silent mid-reply", proxy.SOCKS4a, script{Reply: "\x00\x5a", Hang: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := tt.script
			fp := startFakeProxy(t, sc.Serve)

			// The Timeout ends it.
			s := &proxy.SOCKS{Protocol: tt.p, Address: fp.Addr(), Timeout: 50 * time.Millisecond}
			_, err := s.DialContext(testContext(t), "tcp", "127.0.0.1:9")
			if !errors.Is(err, context.DeadlineExceeded) || failureOf(t, err).Kind != "other" {
				t.Errorf("with Timeout: %v, want a deadline error", err)
			}

			// The context's deadline ends it.
			s.Timeout = -1
			ctx, cancel := context.WithTimeout(testContext(t), 50*time.Millisecond)
			defer cancel()
			_, err = s.DialContext(ctx, "tcp", "127.0.0.1:9")
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("with a context deadline: %v, want a deadline error", err)
			}

			// Cancelling the context ends it.
			requested := make(chan request, 1)
			sc2 := tt.script
			sc2.Requested = requested
			fp = startFakeProxy(t, sc2.Serve)
			s.Address = fp.Addr()
			ctx, cancel = context.WithCancel(testContext(t))
			defer cancel()
			go func() {
				select {
				case <-requested:
				case <-time.After(50 * time.Millisecond): // silent before the request
				}
				cancel()
			}()
			_, err = s.DialContext(ctx, "tcp", "127.0.0.1:9")
			if !errors.Is(err, context.Canceled) {
				t.Errorf("with a cancelled context: %v, want context.Canceled", err)
			}
		})
	}
}

func TestProxyResets(t *testing.T) {
	reset := func(_ *fakeProxy, c net.Conn) {
		if _, err := readGreeting(c); err != nil {
			return
		}
		c.Write([]byte{5, 0})
		c.(*net.TCPConn).SetLinger(0)
	}
	for _, tt := range []struct {
		name    string
		p       proxy.Protocol
		handler func(*fakeProxy, net.Conn)
	}{
		{"SOCKS5", proxy.SOCKS5, reset},
		{"SOCKS4", proxy.SOCKS4, func(_ *fakeProxy, c net.Conn) {
			readRequest4(c)
			c.(*net.TCPConn).SetLinger(0)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fp := startFakeProxy(t, tt.handler)
			s := &proxy.SOCKS{Protocol: tt.p, Address: fp.Addr()}
			_, err := s.DialContext(testContext(t), "tcp", "127.0.0.1:9")
			if f := failureOf(t, err); f.Kind != "other" {
				t.Errorf("error %v: %+v, want a network error", err, f)
			}
		})
	}
}

func TestUnreachableProxy(t *testing.T) {
	for _, p := range []proxy.Protocol{proxy.SOCKS5, proxy.SOCKS4} {
		addr := closedPort(t)
		s := &proxy.SOCKS{Protocol: p, Address: addr}
		_, err := s.DialContext(testContext(t), "tcp", "127.0.0.1:9")
		if failureOf(t, err).Kind != "other" || !strings.Contains(err.Error(), addr) {
			t.Errorf("%v: error %v, want one naming %s", p, err, addr)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	fp := startFakeProxy(t, (&script{Method: "\x05\x02", Auth: "\x01\x01"}).Serve)
	s := &proxy.SOCKS{Address: fp.Addr(), Auth: proxy.Auth{Username: "alice", Password: "hunter2"}}
	_, err := s.DialContext(testContext(t), "tcp", "example.org:443")
	want := `proxy: SOCKS5 proxy at ` + fp.Addr() + `, user "alice": connect to example.org:443: SOCKS5 proxy refused: username and password rejected (code 1)`
	if err == nil || err.Error() != want {
		t.Errorf("error %v,\nwant %s", err, want)
	}
	pe := asError(t, err)
	var re *proxy.RefusedError
	if !errors.As(pe.Err, &re) || errors.Unwrap(err) != pe.Err || errors.Unwrap(re) != proxy.ErrAuth {
		t.Errorf("error chain of %v is not Error → RefusedError → ErrAuth", err)
	}
}
