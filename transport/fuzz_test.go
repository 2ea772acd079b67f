package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// FuzzParseNetAddress checks that any input either parses into an
// address whose string form parses back to it, or fails with an
// *AddressError that quotes it.
func FuzzParseNetAddress(f *testing.F) {
	for _, s := range []string{
		"127.0.0.1:80", "[::1]:1", "example.org:50001", "[fe80::1%eth0]:80", "example.org.",
		":80", "[", "]", "[]:", "::", "1.2.3.256:1", "a..b:1", "[::ffff:1.2.3.4]:65535",
	} {
		f.Add(s, "", 0)
		f.Add(s, "localhost", 50001)
	}
	f.Fuzz(func(t *testing.T, s, defaultHost string, defaultPort int) {
		a, err := ParseNetAddress(s, defaultHost, defaultPort)
		if err != nil {
			var ae *AddressError
			if !errors.As(err, &ae) || ae.Input != s || !strings.Contains(err.Error(), ae.Type) {
				t.Fatalf("ParseNetAddress(%q) error %v is not an *AddressError quoting the input", s, err)
			}
			return
		}
		back, err := ParseNetAddress(a.String(), "", 0)
		if err != nil || back != a {
			t.Fatalf("ParseNetAddress(%q) = %v; its string form parses to %v, %v", s, a, back, err)
		}
		if a.Port() == 0 || a.Host().IsZero() {
			t.Fatalf("ParseNetAddress(%q) = %v with a missing part", s, a)
		}
	})
}

// FuzzParseService does the same for services.
func FuzzParseService(f *testing.F) {
	for _, s := range []string{"tcp://example.org:50001", "SSL://[::1]:2", "x://a:1", "tcp://", "://", "a+b-c.d://e:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		svc, err := ParseService(s, ServiceDefaults{Protocol: "tcp", Host: "localhost", Port: 1})
		if err != nil {
			var ae *AddressError
			if !errors.As(err, &ae) || ae.Input != s {
				t.Fatalf("ParseService(%q) error %v is not an *AddressError quoting the input", s, err)
			}
			return
		}
		back, err := ParseService(svc.String(), ServiceDefaults{})
		if err != nil || back != svc {
			t.Fatalf("ParseService(%q) = %v; its string form parses to %v, %v", s, svc, back, err)
		}
		if svc.Protocol() != strings.ToLower(svc.Protocol()) {
			t.Fatalf("protocol %q not lowercased", svc.Protocol())
		}
	})
}

// FuzzProxyHeader sends arbitrary bytes as the start of a connection to
// listeners with the PROXY protocol on, in each mode, trusting the
// client or not, with the header optional or not. Each connection must
// end in a typed refusal or be served; a served connection must give
// back exactly what the client sent after the header it accepted (all
// of it without a header); nothing may panic or hang.
func FuzzProxyHeader(f *testing.F) {
	for _, seed := range [][]byte{
		nil,
		[]byte("hello\n"),
		[]byte("PROXY TCP4 203.0.113.7 198.51.100.1 40000 50001\r\nhello\n"),
		[]byte("PROXY TCP6 2001:db8::7 2001:db8::1 40000 50001\r\n"),
		[]byte("PROXY UNKNOWN\r\n{}"),
		[]byte("PROXY TCP4 1.2.3.4\r\n"),
		[]byte("PROXIMA"),
		[]byte("PROXY"),
		[]byte("PROXYPROXY \r\n"),
		v2Header("203.0.113.7:40000", "198.51.100.1:50001", []byte{4, 0, 1, 0}),
		v2Header("[2001:db8::7]:40000", "[2001:db8::1]:50001", nil),
		v2Local(),
		[]byte(v2Sig + "\x21\x31\x00\xd8" + strings.Repeat("/", 216)),
		[]byte(v2Sig + "\x21\x11\xff\xff"),
		[]byte("\r\n\r\n"),
	} {
		f.Add(seed, uint8(ProxyAny), true, false)
		f.Add(seed, uint8(ProxyV1), false, true)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.Cleanup(cancel)
	type key struct {
		mode              ProxyMode
		trusted, optional bool
	}
	listeners := map[key]*Listener{}
	for _, mode := range []ProxyMode{ProxyV1, ProxyV2, ProxyAny} {
		for _, trusted := range []bool{false, true} {
			for _, optional := range []bool{false, true} {
				pp := &ProxyProtocol{Mode: mode, Optional: optional, HeaderTimeout: time.Second}
				if !trusted {
					pp.Trusted = notLoopback
				}
				lc := ListenConfig{Proxy: pp}
				ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
				if err != nil {
					f.Fatal(err)
				}
				f.Cleanup(func() { ln.Close() })
				listeners[key{mode, trusted, optional}] = ln
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, mode uint8, trusted, optional bool) {
		data = data[:min(len(data), 16<<10)]
		m := ProxyMode(mode%3 + 1)
		ln := listeners[key{m, trusted, optional}]
		var d net.Dialer
		client, err := d.DialContext(ctx, "tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		client.SetDeadline(time.Now().Add(testTimeout))
		sent := make(chan struct{})
		go func() {
			defer close(sent)
			client.Write(data)
			client.(*net.TCPConn).CloseWrite()
		}()
		defer func() { <-sent }()
		c, err := ln.AcceptConn()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		hctx, hcancel := context.WithTimeout(ctx, testTimeout)
		defer hcancel()
		err = c.Handshake(hctx)
		signed := bytes.HasPrefix(data, []byte("PROXY ")) || bytes.HasPrefix(data, []byte(v2Sig))
		if err != nil {
			var pe *ProxyError
			if !errors.As(err, &pe) {
				t.Fatalf("Handshake = %v (%T), want a *ProxyError", err, err)
			}
			switch {
			case errors.Is(err, ErrProxyUntrusted):
				if trusted || !signed {
					t.Fatalf("ErrProxyUntrusted for trusted=%v, data %q", trusted, data)
				}
			case errors.Is(err, ErrProxyHeaderMissing):
				if !trusted || optional || signed {
					t.Fatalf("ErrProxyHeaderMissing for trusted=%v optional=%v, data %q", trusted, optional, data)
				}
			case errors.Is(err, ErrProxyVersion), errors.Is(err, ErrProxyHeaderInvalid):
				if !trusted || !signed {
					t.Fatalf("%v for trusted=%v, data %q", err, trusted, data)
				}
			default:
				t.Fatalf("Handshake = %v, with no known reason", err)
			}
			return
		}
		if !trusted && signed {
			t.Fatalf("an untrusted source's header %q was accepted", data)
		}
		c.SetReadDeadline(time.Now().Add(testTimeout))
		got, err := io.ReadAll(c)
		if err != nil {
			t.Fatalf("read after an accepted start: %v", err)
		}
		h := c.ProxyHeader()
		if h == nil {
			if !bytes.Equal(got, data) {
				t.Fatalf("served without a header, read %q; want all of %q", got, data)
			}
			return
		}
		if !signed || !bytes.HasSuffix(data, got) || len(got) == len(data) {
			t.Fatalf("header %+v from %q leaves %q", *h, data, got)
		}
		if !m.allows(h.Version) {
			t.Fatalf("a version %d header accepted in mode %v", h.Version, m)
		}
		if b, ok := c.Balancer(); !ok || b.String() != client.LocalAddr().String() {
			t.Fatalf("Balancer = %v, %v", b, ok)
		}
	})
}
