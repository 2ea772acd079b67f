package transport

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// v1Header writes a PROXY protocol version 1 header by hand.
func v1Header(src, dst string) []byte {
	s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
	family := "TCP4"
	if s.Addr().Is6() {
		family = "TCP6"
	}
	return fmt.Appendf(nil, "PROXY %s %s %s %d %d\r\n", family, s.Addr(), d.Addr(), s.Port(), d.Port())
}

const v2Sig = "\r\n\r\n\x00\r\nQUIT\n"

// v2Header writes a PROXY protocol version 2 header by hand: the
// PROXY command with TCP over IPv4 or IPv6, followed by tlvs.
func v2Header(src, dst string, tlvs []byte) []byte {
	s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
	b := []byte(v2Sig)
	b = append(b, 0x21) // version 2, PROXY
	var addrs []byte
	if s.Addr().Is4() {
		b = append(b, 0x11) // AF_INET, STREAM
		a4, d4 := s.Addr().As4(), d.Addr().As4()
		addrs = append(append(addrs, a4[:]...), d4[:]...)
	} else {
		b = append(b, 0x21) // AF_INET6, STREAM
		a16, d16 := s.Addr().As16(), d.Addr().As16()
		addrs = append(append(addrs, a16[:]...), d16[:]...)
	}
	addrs = binary.BigEndian.AppendUint16(addrs, s.Port())
	addrs = binary.BigEndian.AppendUint16(addrs, d.Port())
	addrs = append(addrs, tlvs...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(addrs)))
	return append(b, addrs...)
}

// v2Local is a version 2 header with the LOCAL command and no address.
func v2Local() []byte { return []byte(v2Sig + "\x20\x00\x00\x00") }

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// notLoopback trusts only a documentation network, so that a loopback
// client is not trusted.
var notLoopback = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}

func proxyListen(t *testing.T, network, address string, pp *ProxyProtocol) *Listener {
	t.Helper()
	lc := ListenConfig{Proxy: pp}
	ln, err := lc.Listen(testContext(t), network, address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func acceptConn(t *testing.T, ln *Listener) *Conn {
	t.Helper()
	c, err := ln.AcceptConn()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func dialRaw(t *testing.T, ln *Listener) net.Conn {
	t.Helper()
	var d net.Dialer
	c, err := d.DialContext(testContext(t), ln.Addr().Network(), ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(testTimeout))
	return c
}

func mustAddress(t *testing.T, s string) NetAddress {
	t.Helper()
	a, err := ParseNetAddress(s, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// expectClosed checks that the server closed the connection: the
// client reads no data, only an end (EOF, or a reset when the server
// closed with unread bytes).
func expectClosed(t *testing.T, client net.Conn) {
	t.Helper()
	client.SetReadDeadline(time.Now().Add(testTimeout))
	n, err := client.Read(make([]byte, 64))
	if n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("client read %d bytes, %v; want the connection closed by the server", n, err)
	}
}

func TestProxyProtocol(t *testing.T) {
	const (
		client4 = "203.0.113.7:40000"
		front4  = "198.51.100.1:50001"
		client6 = "[2001:db8::7]:40000"
		front6  = "[2001:db8::1]:50001"
	)
	hello := []byte("hello\n")
	short := 100 * time.Millisecond
	tlv := []byte{0x04, 0x00, 0x03, 1, 2, 3} // PP2_TYPE_NOOP, 3 bytes
	longV1 := []byte("PROXY TCP4 " + strings.Repeat("1", 120) + "\r\n")
	tests := []struct {
		name  string
		pp    ProxyProtocol
		first []byte // sent before the server's Handshake
		// later is sent once Handshake has returned, then the client
		// half-closes; with closeEarly it half-closes right after first.
		later      []byte
		closeEarly bool

		wantErr   []error // each must match the Handshake error; nil: success
		wantPeer  string  // RemoteAddress; "" means the socket's peer
		balancer  bool
		header    *ProxyHeader
		wantData  string
		mustClose bool
	}{
		{
			name: "v1 TCP4", pp: ProxyProtocol{Mode: ProxyAny},
			first:    cat(v1Header(client4, front4), hello),
			wantPeer: client4, balancer: true, wantData: "hello\n",
			header: &ProxyHeader{Version: 1, Source: mustAddress(t, client4), Destination: mustAddress(t, front4)},
		},
		{
			name: "v1 TCP6 on a v1 listener", pp: ProxyProtocol{Mode: ProxyV1},
			first:    cat(v1Header(client6, front6), hello),
			wantPeer: client6, balancer: true, wantData: "hello\n",
			header: &ProxyHeader{Version: 1, Source: mustAddress(t, client6), Destination: mustAddress(t, front6)},
		},
		{
			name: "v2 TCPv4 on a v2 listener", pp: ProxyProtocol{Mode: ProxyV2},
			first:    cat(v2Header(client4, front4, nil), hello),
			wantPeer: client4, balancer: true, wantData: "hello\n",
			header: &ProxyHeader{Version: 2, Source: mustAddress(t, client4), Destination: mustAddress(t, front4)},
		},
		{
			name: "v2 TCPv6 with a TLV", pp: ProxyProtocol{Mode: ProxyAny},
			first:    cat(v2Header(client6, front6, tlv), hello),
			wantPeer: client6, balancer: true, wantData: "hello\n",
			header: &ProxyHeader{Version: 2, Source: mustAddress(t, client6), Destination: mustAddress(t, front6)},
		},
		{
			name: "v2 header alone, data later", pp: ProxyProtocol{Mode: ProxyAny},
			first: v2Header(client4, front4, nil), later: hello,
			wantPeer: client4, balancer: true, wantData: "hello\n",
			header: &ProxyHeader{Version: 2, Source: mustAddress(t, client4), Destination: mustAddress(t, front4)},
		},
		{
			name: "v2 LOCAL keeps the socket address", pp: ProxyProtocol{Mode: ProxyAny},
			first:    cat(v2Local(), hello),
			balancer: true, wantData: "hello\n",
			header: &ProxyHeader{Version: 2, Local: true},
		},
		{
			name: "v1 UNKNOWN keeps the socket address", pp: ProxyProtocol{Mode: ProxyAny},
			first:    cat([]byte("PROXY UNKNOWN\r\n"), hello),
			balancer: true, wantData: "hello\n",
			header: &ProxyHeader{Version: 1, Local: true},
		},
		{
			name: "untrusted without a header is a direct client", pp: ProxyProtocol{Mode: ProxyAny, Trusted: notLoopback},
			first: []byte(`{"jsonrpc":"2.0"}` + "\n"), wantData: `{"jsonrpc":"2.0"}` + "\n",
		},
		{
			name: "untrusted direct client starting like a v1 signature", pp: ProxyProtocol{Mode: ProxyAny, Trusted: notLoopback},
			first: []byte("PROXIMA\n"), wantData: "PROXIMA\n",
		},
		{
			name: "untrusted direct client starting with PROXY but no space", pp: ProxyProtocol{Mode: ProxyAny, Trusted: notLoopback},
			first: []byte("PROXYZ\n"), wantData: "PROXYZ\n",
		},
		{
			name: "trusted, PROXY without a space", pp: ProxyProtocol{Mode: ProxyAny},
			first:   []byte("PROXYTCP4 203.0.113.7 198.51.100.1 40000 50001\r\n"),
			wantErr: []error{ErrProxyHeaderMissing}, mustClose: true,
		},
		{
			name: "untrusted direct client starting like a v2 signature", pp: ProxyProtocol{Mode: ProxyAny, Trusted: notLoopback},
			first: []byte("\r\n\r\nhi\n"), wantData: "\r\n\r\nhi\n",
		},
		{
			name: "untrusted v1 header", pp: ProxyProtocol{Mode: ProxyAny, Trusted: notLoopback},
			first:   cat(v1Header(client4, front4), hello),
			wantErr: []error{ErrProxyUntrusted}, mustClose: true,
		},
		{
			name: "untrusted v2 header", pp: ProxyProtocol{Mode: ProxyAny, Trusted: []netip.Prefix{}},
			first:   cat(v2Header(client4, front4, nil), hello),
			wantErr: []error{ErrProxyUntrusted}, mustClose: true,
		},
		{
			name: "trusted without a header", pp: ProxyProtocol{Mode: ProxyAny},
			first:   hello,
			wantErr: []error{ErrProxyHeaderMissing}, mustClose: true,
		},
		{
			name: "trusted without a header, optional", pp: ProxyProtocol{Mode: ProxyAny, Optional: true},
			first: hello, wantData: "hello\n",
		},
		{
			name: "trusted, optional, with a header", pp: ProxyProtocol{Mode: ProxyAny, Optional: true},
			first:    cat(v1Header(client4, front4), hello),
			wantPeer: client4, balancer: true, wantData: "hello\n",
			header: &ProxyHeader{Version: 1, Source: mustAddress(t, client4), Destination: mustAddress(t, front4)},
		},
		{
			name: "trusted closes before any byte", pp: ProxyProtocol{Mode: ProxyAny},
			closeEarly: true,
			wantErr:    []error{ErrProxyHeaderMissing, io.EOF},
		},
		{
			name: "v2 header on a v1 listener", pp: ProxyProtocol{Mode: ProxyV1},
			first:   v2Header(client4, front4, nil),
			wantErr: []error{ErrProxyVersion}, mustClose: true,
		},
		{
			name: "v1 header on a v2 listener", pp: ProxyProtocol{Mode: ProxyV2},
			first:   v1Header(client4, front4),
			wantErr: []error{ErrProxyVersion}, mustClose: true,
		},
		{
			name: "v1 missing fields", pp: ProxyProtocol{Mode: ProxyAny},
			first:   []byte("PROXY TCP4 203.0.113.7\r\nhello\n"),
			wantErr: []error{ErrProxyHeaderInvalid}, mustClose: true,
		},
		{
			name: "v1 port out of range", pp: ProxyProtocol{Mode: ProxyAny},
			first:   []byte("PROXY TCP4 203.0.113.7 198.51.100.1 40000 65536\r\n"),
			wantErr: []error{ErrProxyHeaderInvalid}, mustClose: true,
		},
		{
			name: "v1 IPv6 address in TCP4", pp: ProxyProtocol{Mode: ProxyAny},
			first:   []byte("PROXY TCP4 2001:db8::7 198.51.100.1 40000 50001\r\n"),
			wantErr: []error{ErrProxyHeaderInvalid}, mustClose: true,
		},
		{
			name: "v1 without CRLF past 107 bytes", pp: ProxyProtocol{Mode: ProxyAny},
			first:   longV1,
			wantErr: []error{ErrProxyHeaderInvalid}, mustClose: true,
		},
		{
			name: "v2 unknown command", pp: ProxyProtocol{Mode: ProxyAny},
			first:   []byte(v2Sig + "\x22\x11\x00\x0c" + strings.Repeat("\x01", 12)),
			wantErr: []error{ErrProxyHeaderInvalid}, mustClose: true,
		},
		{
			name: "v2 undefined family", pp: ProxyProtocol{Mode: ProxyAny},
			first:   []byte(v2Sig + "\x21\x13\x00\x0c" + strings.Repeat("\x01", 12)),
			wantErr: []error{ErrProxyHeaderInvalid}, mustClose: true,
		},
		{
			name: "v2 length too short for IPv4", pp: ProxyProtocol{Mode: ProxyAny},
			first:   []byte(v2Sig + "\x21\x11\x00\x04\x01\x02\x03\x04"),
			wantErr: []error{ErrProxyHeaderInvalid}, mustClose: true,
		},
		{
			name: "v2 length over the limit", pp: ProxyProtocol{Mode: ProxyAny},
			first:   []byte(v2Sig + "\x21\x11\xff\xff"),
			wantErr: []error{ErrProxyHeaderInvalid}, mustClose: true,
		},
		{
			name: "v2 cut short by the peer", pp: ProxyProtocol{Mode: ProxyAny},
			first: []byte(v2Sig + "\x21\x11\x00\x0c\x01\x02"), closeEarly: true,
			wantErr: []error{ErrProxyHeaderInvalid},
		},
		{
			name: "trusted and silent past the header timeout", pp: ProxyProtocol{Mode: ProxyAny, HeaderTimeout: short},
			wantErr: []error{ErrProxyHeaderMissing, os.ErrDeadlineExceeded}, mustClose: true,
		},
		{
			name: "trusted, a partial signature, then silent", pp: ProxyProtocol{Mode: ProxyAny, HeaderTimeout: short},
			first:   []byte("PROX"),
			wantErr: []error{ErrProxyHeaderMissing, os.ErrDeadlineExceeded}, mustClose: true,
		},
		{
			name: "trusted, a partial v2 header, then silent", pp: ProxyProtocol{Mode: ProxyAny, HeaderTimeout: short},
			first:   []byte(v2Sig + "\x21\x11"),
			wantErr: []error{ErrProxyHeaderInvalid, os.ErrDeadlineExceeded}, mustClose: true,
		},
		{
			name: "untrusted and silent past the header timeout", pp: ProxyProtocol{Mode: ProxyAny, Trusted: notLoopback, HeaderTimeout: short},
			later: hello, wantData: "hello\n",
		},
		{
			name: "untrusted, a partial signature, then silent", pp: ProxyProtocol{Mode: ProxyAny, Trusted: notLoopback, HeaderTimeout: short},
			first: []byte("\r\n\r\n"), later: hello, wantData: "\r\n\r\nhello\n",
		},
		{
			name: "trusted and silent, optional", pp: ProxyProtocol{Mode: ProxyAny, Optional: true, HeaderTimeout: short},
			later: hello, wantData: "hello\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pp := tt.pp
			ln := proxyListen(t, "tcp", "127.0.0.1:0", &pp)
			client := dialRaw(t, ln)
			if len(tt.first) > 0 {
				if _, err := client.Write(tt.first); err != nil {
					t.Fatal(err)
				}
			}
			if tt.closeEarly {
				client.(*net.TCPConn).CloseWrite()
			}
			c := acceptConn(t, ln)
			socketPeer := mustAddress(t, client.LocalAddr().String())
			if c.RemoteAddress() != socketPeer {
				t.Errorf("RemoteAddress before Handshake = %v, want the socket's peer %v", c.RemoteAddress(), socketPeer)
			}
			err := c.Handshake(testContext(t))
			if tt.wantErr != nil {
				var pe *ProxyError
				if !errors.As(err, &pe) {
					t.Fatalf("Handshake = %v, want a *ProxyError", err)
				}
				for _, want := range tt.wantErr {
					if !errors.Is(err, want) {
						t.Errorf("Handshake = %v, want it to match %v", err, want)
					}
				}
				if pe.Peer.String() != client.LocalAddr().String() {
					t.Errorf("ProxyError.Peer = %v, want %v", pe.Peer, client.LocalAddr())
				}
				if _, rerr := c.Read(make([]byte, 1)); rerr != err {
					t.Errorf("Read after a refusal = %v, want the refusal %v", rerr, err)
				}
				if _, werr := c.Write([]byte("x")); werr != err {
					t.Errorf("Write after a refusal = %v, want the refusal %v", werr, err)
				}
				if c.RemoteAddress() != socketPeer {
					t.Errorf("RemoteAddress after a refusal = %v, want the socket's peer %v", c.RemoteAddress(), socketPeer)
				}
				if _, ok := c.Balancer(); ok || c.ProxyHeader() != nil {
					t.Errorf("a refused connection reports a balancer or a header")
				}
				if tt.mustClose {
					expectClosed(t, client)
				}
				return
			}
			if err != nil {
				t.Fatalf("Handshake: %v", err)
			}
			wantPeer := socketPeer
			if tt.wantPeer != "" {
				wantPeer = mustAddress(t, tt.wantPeer)
			}
			if got := c.RemoteAddress(); got != wantPeer {
				t.Errorf("RemoteAddress = %v, want %v", got, wantPeer)
			}
			if got := c.RemoteAddr().String(); got != wantPeer.String() {
				t.Errorf("RemoteAddr = %v, want %v", got, wantPeer)
			}
			if got := c.LocalAddr().String(); got != ln.Addr().String() {
				t.Errorf("LocalAddr = %v, want the socket's %v", got, ln.Addr())
			}
			b, ok := c.Balancer()
			if ok != tt.balancer || (ok && b != socketPeer) || (!ok && !b.IsZero()) {
				t.Errorf("Balancer = %v, %v; want %v and the socket's peer %v", b, ok, tt.balancer, socketPeer)
			}
			h := c.ProxyHeader()
			switch {
			case tt.header == nil && h != nil:
				t.Errorf("ProxyHeader = %+v, want nil", *h)
			case tt.header != nil && (h == nil || *h != *tt.header):
				t.Errorf("ProxyHeader = %+v, want %+v", h, *tt.header)
			}
			if len(tt.later) > 0 {
				if _, err := client.Write(tt.later); err != nil {
					t.Fatal(err)
				}
			}
			if !tt.closeEarly {
				client.(*net.TCPConn).CloseWrite()
			}
			c.SetReadDeadline(time.Now().Add(testTimeout))
			got, err := io.ReadAll(c)
			if err != nil || string(got) != tt.wantData {
				t.Errorf("read %q, %v; want %q", got, err, tt.wantData)
			}
		})
	}
}

// TestProxyHeaderReadOnFirstRead checks the header is read lazily by
// a Read when Handshake is not called.
func TestProxyHeaderReadOnFirstRead(t *testing.T) {
	ln := proxyListen(t, "tcp", "127.0.0.1:0", &ProxyProtocol{Mode: ProxyAny})
	client := dialRaw(t, ln)
	if _, err := client.Write(cat(v2Header("203.0.113.9:1234", "127.0.0.1:1", nil), []byte("ab"))); err != nil {
		t.Fatal(err)
	}
	c := acceptConn(t, ln)
	if c.ProxyHeader() != nil {
		t.Fatal("a header before anything was read")
	}
	c.SetReadDeadline(time.Now().Add(testTimeout))
	buf := make([]byte, 1)
	for _, want := range "ab" {
		if n, err := c.Read(buf); n != 1 || err != nil || rune(buf[0]) != want {
			t.Fatalf("Read = %d %q, %v; want %q", n, buf[:n], err, want)
		}
	}
	if got := c.RemoteAddress().String(); got != "203.0.113.9:1234" {
		t.Errorf("RemoteAddress = %v after the first Read", got)
	}
}

// TestProxyWriteWaitsForHeader checks that a Write before any read
// sends nothing until the header has been read and accepted, and that
// a refused connection gets nothing at all.
func TestProxyWriteWaitsForHeader(t *testing.T) {
	t.Run("accepted", func(t *testing.T) {
		ln := proxyListen(t, "tcp", "127.0.0.1:0", &ProxyProtocol{Mode: ProxyAny})
		client := dialRaw(t, ln)
		c := acceptConn(t, ln)
		done := make(chan error, 1)
		go func() {
			_, err := c.Write([]byte("welcome\n"))
			done <- err
		}()
		if _, err := client.Write(v1Header("203.0.113.9:1234", "127.0.0.1:1")); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("Write: %v", err)
		}
		if c.ProxyHeader() == nil {
			t.Fatal("Write returned before the header was read")
		}
		got := make([]byte, 8)
		if _, err := io.ReadFull(client, got); err != nil || string(got) != "welcome\n" {
			t.Fatalf("client read %q, %v", got, err)
		}
	})
	t.Run("refused", func(t *testing.T) {
		ln := proxyListen(t, "tcp", "127.0.0.1:0", &ProxyProtocol{Mode: ProxyAny, Trusted: notLoopback})
		client := dialRaw(t, ln)
		if _, err := client.Write(v1Header("203.0.113.9:1234", "127.0.0.1:1")); err != nil {
			t.Fatal(err)
		}
		c := acceptConn(t, ln)
		if _, err := c.Write([]byte("welcome\n")); !errors.Is(err, ErrProxyUntrusted) {
			t.Fatalf("Write = %v, want ErrProxyUntrusted", err)
		}
		expectClosed(t, client)
	})
}

// TestProxyHandshakeContext checks that a Handshake whose context ends
// while the header is awaited closes the connection and reports the
// context's error.
func TestProxyHandshakeContext(t *testing.T) {
	ln := proxyListen(t, "tcp", "127.0.0.1:0", &ProxyProtocol{Mode: ProxyAny, HeaderTimeout: -1})
	client := dialRaw(t, ln)
	c := acceptConn(t, ln)
	ctx, cancel := context.WithTimeout(testContext(t), 50*time.Millisecond)
	defer cancel()
	err := c.Handshake(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Handshake = %v, want context.DeadlineExceeded", err)
	}
	if err2 := c.Handshake(testContext(t)); err2 != err {
		t.Errorf("second Handshake = %v, want the first error %v", err2, err)
	}
	expectClosed(t, client)
}

// TestProxyHeaderDeadline checks that the header's deadline does not
// outlive the header read, and that the caller's read deadline, set
// before, is kept.
func TestProxyHeaderDeadline(t *testing.T) {
	t.Run("header deadline is lifted", func(t *testing.T) {
		ln := proxyListen(t, "tcp", "127.0.0.1:0", &ProxyProtocol{Mode: ProxyAny, HeaderTimeout: 50 * time.Millisecond})
		client := dialRaw(t, ln)
		if _, err := client.Write(v2Header("203.0.113.9:1234", "127.0.0.1:1", nil)); err != nil {
			t.Fatal(err)
		}
		c := acceptConn(t, ln)
		if err := c.Handshake(testContext(t)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(150 * time.Millisecond) // past the header timeout
		if _, err := client.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if n, err := c.Read(make([]byte, 1)); n != 1 || err != nil {
			t.Fatalf("Read after the header timeout = %d, %v", n, err)
		}
	})
	t.Run("caller deadline is kept", func(t *testing.T) {
		ln := proxyListen(t, "tcp", "127.0.0.1:0", &ProxyProtocol{Mode: ProxyAny})
		client := dialRaw(t, ln)
		if _, err := client.Write(v2Header("203.0.113.9:1234", "127.0.0.1:1", nil)); err != nil {
			t.Fatal(err)
		}
		c := acceptConn(t, ln)
		if err := c.SetReadDeadline(time.Now().Add(200 * time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if err := c.Handshake(testContext(t)); err != nil {
			t.Fatal(err)
		}
		// Without the caller's deadline the Read would wait for the
		// client, which closes only after the test's timeout.
		timer := time.AfterFunc(testTimeout, func() { client.Close() })
		defer timer.Stop()
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Read = %v, want the caller's deadline to pass", err)
		}
	})
}

// TestProxyAcceptDoesNotRead checks that a connection that sends
// nothing does not hold up the accept loop.
func TestProxyAcceptDoesNotRead(t *testing.T) {
	ln := proxyListen(t, "tcp", "127.0.0.1:0", &ProxyProtocol{Mode: ProxyAny, HeaderTimeout: -1})
	dialRaw(t, ln) // silent
	silent := acceptConn(t, ln)
	client := dialRaw(t, ln)
	if _, err := client.Write(v1Header("203.0.113.9:1234", "127.0.0.1:1")); err != nil {
		t.Fatal(err)
	}
	c := acceptConn(t, ln)
	if err := c.Handshake(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if c.RemoteAddress().String() != "203.0.113.9:1234" {
		t.Errorf("RemoteAddress = %v", c.RemoteAddress())
	}
	if silent.ProxyHeader() != nil {
		t.Error("the silent connection has a header")
	}
}

// TestProxyTLS checks that TLS runs over the connection after the
// header.
func TestProxyTLS(t *testing.T) {
	cert, pool := testCert(t)
	lc := ListenConfig{
		TLS:   &tls.Config{Certificates: []tls.Certificate{cert}},
		Proxy: &ProxyProtocol{Mode: ProxyV2},
	}
	ln, err := lc.Listen(testContext(t), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := serveEcho(t, ln)
	raw := dialRaw(t, ln)
	if _, err := raw.Write(v2Header("[2001:db8::7]:40000", "[2001:db8::1]:50002", nil)); err != nil {
		t.Fatal(err)
	}
	tc := tls.Client(raw, &tls.Config{RootCAs: pool, ServerName: "gorpcx.test"})
	if err := tc.HandshakeContext(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := tc.Write([]byte("over TLS")); err != nil {
		t.Fatal(err)
	}
	tc.CloseWrite()
	got, err := io.ReadAll(tc)
	if err != nil || string(got) != "over TLS" {
		t.Fatalf("echo %q, %v", got, err)
	}
	c := <-accepted
	if got := c.RemoteAddress().String(); got != "[2001:db8::7]:40000" {
		t.Errorf("RemoteAddress = %v", got)
	}
	if state, ok := c.TLSState(); !ok || !state.HandshakeComplete {
		t.Errorf("TLSState = %v, %v", state.HandshakeComplete, ok)
	}
	if b, ok := c.Balancer(); !ok || b.String() != raw.LocalAddr().String() {
		t.Errorf("Balancer = %v, %v; want %v", b, ok, raw.LocalAddr())
	}
}

// TestProxyUnixSocket checks that on a Unix socket every peer is
// trusted, even with no trusted network.
func TestProxyUnixSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.sock")
	ln := proxyListen(t, "unix", path, &ProxyProtocol{Mode: ProxyAny, Trusted: []netip.Prefix{}})
	client := dialRaw(t, ln)
	if _, err := client.Write(cat(v1Header("203.0.113.9:1234", "198.51.100.1:50001"), []byte("hi"))); err != nil {
		t.Fatal(err)
	}
	client.(*net.UnixConn).CloseWrite()
	c := acceptConn(t, ln)
	if err := c.Handshake(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if got := c.RemoteAddress().String(); got != "203.0.113.9:1234" {
		t.Errorf("RemoteAddress = %v", got)
	}
	if b, ok := c.Balancer(); !ok || !b.IsZero() {
		t.Errorf("Balancer = %v, %v; want the zero NetAddress and true", b, ok)
	}
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "hi" {
		t.Errorf("read %q, %v", got, err)
	}

	// Without a header a Unix peer is a trusted source that must send one.
	client2 := dialRaw(t, ln)
	client2.Write([]byte("hi"))
	c2 := acceptConn(t, ln)
	if err := c2.Handshake(testContext(t)); !errors.Is(err, ErrProxyHeaderMissing) {
		t.Errorf("Handshake without a header = %v, want ErrProxyHeaderMissing", err)
	}
}

// TestProxyDualStackPeer checks that an IPv4 peer of a dual-stack
// listener is compared with the trusted networks as an IPv4 address,
// and that an IPv4-mapped trusted prefix means its IPv4 network.
func TestProxyDualStackPeer(t *testing.T) {
	for _, trusted := range []string{"127.0.0.0/8", "::ffff:127.0.0.0/104"} {
		t.Run(trusted, func(t *testing.T) {
			lc := ListenConfig{Proxy: &ProxyProtocol{Mode: ProxyAny, Trusted: []netip.Prefix{netip.MustParsePrefix(trusted)}}}
			ln, err := lc.Listen(testContext(t), "tcp", "[::]:0")
			if err != nil {
				t.Skipf("no dual-stack listener here: %v", err)
			}
			t.Cleanup(func() { ln.Close() })
			var d net.Dialer
			client, err := d.DialContext(testContext(t), "tcp4", "127.0.0.1:"+itoa(int(ln.Address().Port())))
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			client.Write(v1Header("203.0.113.9:1234", "198.51.100.1:50001"))
			c := acceptConn(t, ln)
			if err := c.Handshake(testContext(t)); err != nil {
				t.Fatal(err)
			}
			if got := c.RemoteAddress().String(); got != "203.0.113.9:1234" {
				t.Errorf("RemoteAddress = %v", got)
			}
		})
	}
}

// TestProxyConcurrentUse reads the addresses from other goroutines
// while the header is read and the connection is used, for the race
// detector.
func TestProxyConcurrentUse(t *testing.T) {
	ln := proxyListen(t, "tcp", "127.0.0.1:0", &ProxyProtocol{Mode: ProxyAny})
	client := dialRaw(t, ln)
	c := acceptConn(t, ln)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = c.RemoteAddress()
				_, _ = c.Balancer()
				_ = c.ProxyHeader()
				_ = c.RemoteAddr().String()
				c.SetReadDeadline(time.Now().Add(testTimeout))
			}
		})
	}
	var reads sync.WaitGroup
	got := make([][]byte, 2)
	for i := range got {
		reads.Go(func() {
			buf := make([]byte, 1)
			n, _ := c.Read(buf)
			got[i] = buf[:n]
		})
	}
	wg.Go(func() { c.Write([]byte("w")) })
	if _, err := client.Write(cat(v2Header("203.0.113.9:1234", "127.0.0.1:1", nil), []byte("xy"))); err != nil {
		t.Fatal(err)
	}
	reads.Wait()
	close(stop)
	wg.Wait()
	if all := string(got[0]) + string(got[1]); all != "xy" && all != "yx" {
		t.Errorf("two concurrent reads got %q and %q", got[0], got[1])
	}
	if c.RemoteAddress().String() != "203.0.113.9:1234" {
		t.Errorf("RemoteAddress = %v", c.RemoteAddress())
	}
}

// TestProxyOff checks that with the PROXY protocol off a header is
// data like any other.
func TestProxyOff(t *testing.T) {
	for _, pp := range []*ProxyProtocol{nil, {Mode: ProxyOff}} {
		ln := proxyListen(t, "tcp", "127.0.0.1:0", pp)
		client := dialRaw(t, ln)
		h := v1Header("203.0.113.9:1234", "127.0.0.1:1")
		client.Write(h)
		client.(*net.TCPConn).CloseWrite()
		c := acceptConn(t, ln)
		if err := c.Handshake(testContext(t)); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(c)
		if err != nil || string(got) != string(h) {
			t.Errorf("read %q, %v; want the header as data", got, err)
		}
		if _, ok := c.Balancer(); ok || c.ProxyHeader() != nil {
			t.Error("a balancer or header with the PROXY protocol off")
		}
		if c.RemoteAddress().String() != client.LocalAddr().String() {
			t.Errorf("RemoteAddress = %v", c.RemoteAddress())
		}
	}
}

func TestListenProxyConfigErrors(t *testing.T) {
	for _, pp := range []*ProxyProtocol{
		{Mode: ProxyMode(9)},
		{Mode: ProxyMode(-1)},
		{Mode: ProxyAny, Trusted: []netip.Prefix{{}}},
	} {
		lc := ListenConfig{Proxy: pp}
		ln, err := lc.Listen(testContext(t), "tcp", "127.0.0.1:0")
		if err == nil {
			ln.Close()
			t.Errorf("Listen with %+v succeeded", *pp)
			continue
		}
		var op *net.OpError
		if !errors.As(err, &op) || !strings.Contains(err.Error(), "PROXY protocol") {
			t.Errorf("Listen with %+v = %v, want a *net.OpError about the PROXY protocol", *pp, err)
		}
	}
}

func TestParseProxyMode(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want ProxyMode
	}{
		{"off", ProxyOff}, {"v1", ProxyV1}, {"V2", ProxyV2}, {"any", ProxyAny}, {"ANY", ProxyAny},
	} {
		got, err := ParseProxyMode(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseProxyMode(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if !strings.EqualFold(got.String(), tt.in) {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), tt.in)
		}
	}
	for _, in := range []string{"", "on", "v3", "1", "any "} {
		_, err := ParseProxyMode(in)
		var ae *AddressError
		if !errors.As(err, &ae) || ae.Input != in || !strings.Contains(err.Error(), "off, v1, v2 or any") {
			t.Errorf("ParseProxyMode(%q) = %v, want an *AddressError listing the modes", in, err)
		}
	}
	if got := ProxyMode(7).String(); got != "ProxyMode(7)" {
		t.Errorf("ProxyMode(7).String() = %q", got)
	}
}

func TestParsePrefixes(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string // the prefixes joined with ","; "error" for an error
	}{
		{"", ""},
		{"  ", ""},
		{"127.0.0.1/32,::1/128", "127.0.0.1/32,::1/128"},
		{"10.0.0.0/8, 192.0.2.7 ,2001:db8::/32", "10.0.0.0/8,192.0.2.7/32,2001:db8::/32"},
		{"2001:db8::1", "2001:db8::1/128"},
		{"10.1.2.3/8", "10.0.0.0/8"},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8"},
		{"::ffff:10.1.2.3", "10.1.2.3/32"},
		{"10.0.0.0/8,,::1", "error"},
		{"10.0.0.0/33", "error"},
		{"localhost", "error"},
		{"fe80::1%eth0", "error"},
		{"fe80::%eth0/64", "error"},
		{"10.0.0.0/8,", "error"},
	} {
		got, err := ParsePrefixes(tt.in)
		if tt.want == "error" {
			var ae *AddressError
			if !errors.As(err, &ae) || ae.Input != tt.in || ae.Type != "network list" {
				t.Errorf("ParsePrefixes(%q) = %v, %v; want an *AddressError quoting it", tt.in, got, err)
			}
			continue
		}
		if err != nil || got == nil {
			t.Errorf("ParsePrefixes(%q) = %v, %v", tt.in, got, err)
			continue
		}
		var s []string
		for _, p := range got {
			s = append(s, p.String())
		}
		if strings.Join(s, ",") != tt.want {
			t.Errorf("ParsePrefixes(%q) = %v, want %s", tt.in, s, tt.want)
		}
	}
}

func TestDefaultTrusted(t *testing.T) {
	got := DefaultTrusted()
	if len(got) != 2 || got[0].String() != "127.0.0.1/32" || got[1].String() != "::1/128" {
		t.Fatalf("DefaultTrusted() = %v", got)
	}
	got[0] = netip.Prefix{}
	if DefaultTrusted()[0].String() != "127.0.0.1/32" {
		t.Fatal("DefaultTrusted shares its slice")
	}
}

func TestProxyErrorMessage(t *testing.T) {
	peer := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 41000}
	for _, tt := range []struct {
		err  *ProxyError
		want string
	}{
		{&ProxyError{Reason: ErrProxyUntrusted, Peer: peer},
			"transport: PROXY protocol header from an untrusted source (peer 127.0.0.1:41000)"},
		{&ProxyError{Reason: ErrProxyHeaderInvalid, Peer: peer, Err: errors.New("proxyproto: invalid address")},
			"transport: malformed PROXY protocol header (peer 127.0.0.1:41000): invalid address"},
		{&ProxyError{Err: io.EOF}, "transport: PROXY protocol header refused: EOF"},
	} {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	if (&ProxyError{}).Unwrap() != nil {
		t.Error("an empty ProxyError unwraps to something")
	}
}
