package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

func tlsListen(t *testing.T, network, address string) (*Listener, *x509.CertPool) {
	t.Helper()
	cert, pool := testCert(t)
	lc := &ListenConfig{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}}
	ln, err := lc.Listen(testContext(t), network, address)
	if err != nil {
		t.Fatal(err)
	}
	return ln, pool
}

func TestTLSDialIP(t *testing.T) {
	ctx := testContext(t)
	ln, pool := tlsListen(t, "tcp", "127.0.0.1:0")
	accepted := serveEcho(t, ln)
	cfg := &tls.Config{RootCAs: pool}
	c, err := (&Dialer{TLS: cfg}).Dial(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if cfg.ServerName != "" {
		t.Errorf("Dial changed the caller's tls.Config: ServerName = %q", cfg.ServerName)
	}
	// Verification against the IP address needs the ServerName that
	// Dial filled in (crypto/tls refuses to verify without one); no SNI
	// is sent for an IP address.
	st, ok := c.TLSState()
	if !ok || !st.HandshakeComplete || len(st.VerifiedChains) == 0 {
		t.Errorf("TLSState() = complete %v, %d verified chains, %v", st.HandshakeComplete, len(st.VerifiedChains), ok)
	}
	if _, ok := c.NetConn().(*tls.Conn); !ok {
		t.Errorf("NetConn() is %T, want *tls.Conn", c.NetConn())
	}
	if err := c.Handshake(ctx); err != nil {
		t.Errorf("Handshake() after Dial = %v", err)
	}
	roundTrip(t, c, "hello over tls")

	sc := <-accepted
	sst, ok := sc.TLSState()
	if !ok || !sst.HandshakeComplete {
		t.Errorf("accepted TLSState() = complete %v, %v", sst.HandshakeComplete, ok)
	}
}

func TestTLSServerNameDefaultsToTarget(t *testing.T) {
	ctx := testContext(t)
	ln, pool := tlsListen(t, "tcp", "127.0.0.1:0")
	accepted := serveEcho(t, ln)
	// A "proxy" at the listener's address carries the connection to
	// gorpcx.test: the name checked is the target's, not the proxy's.
	via := &recordingDialer{name: "proxy", fixed: ln.Addr().String()}
	c, err := (&Dialer{TLS: &tls.Config{RootCAs: pool}, Via: via}).Dial(ctx, "tcp", "gorpcx.test:443")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, _ := c.TLSState()
	if st.ServerName != "gorpcx.test" {
		t.Errorf("ServerName = %q, want gorpcx.test", st.ServerName)
	}
	if c.RemoteAddress().String() != "gorpcx.test:443" || c.Proxy() != via {
		t.Errorf("RemoteAddress() = %v, Proxy() = %v", c.RemoteAddress(), c.Proxy())
	}
	roundTrip(t, c, "sni")
	sc := <-accepted
	if sst, _ := sc.TLSState(); sst.ServerName != "gorpcx.test" {
		t.Errorf("server saw SNI %q", sst.ServerName)
	}

	// An explicit ServerName wins, and a wrong one fails verification.
	_, err = (&Dialer{TLS: &tls.Config{RootCAs: pool, ServerName: "other.test"}, Via: via}).Dial(ctx, "tcp", "gorpcx.test:443")
	var verr *tls.CertificateVerificationError
	var de *DialError
	if !errors.As(err, &verr) || !errors.As(err, &de) || de.Address != "gorpcx.test:443" {
		t.Errorf("Dial with a wrong ServerName = %v", err)
	}
}

func TestServerName(t *testing.T) {
	tests := []struct {
		host, want string
	}{
		{"fe80::1%lo", "fe80::1"},
		{"192.0.2.1", "192.0.2.1"},
		{"Gorpcx.Test.", "Gorpcx.Test."},
	}
	for _, tt := range tests {
		h, err := ParseHost(tt.host)
		if err != nil {
			t.Fatal(err)
		}
		if got := serverName(h); got != tt.want {
			t.Errorf("serverName(%q) = %q, want %q", tt.host, got, tt.want)
		}
	}
	if got := serverName(Host{}); got != "" {
		t.Errorf("serverName(zero) = %q", got)
	}
}

func TestTLSHandshakeCutByDeadline(t *testing.T) {
	// A listener that accepts and then says nothing.
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := raw.Accept()
		if err != nil {
			return
		}
		io.Copy(io.Discard, c) // until the client gives up
		c.Close()
	}()
	defer wg.Wait()
	defer raw.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	c, err := (&Dialer{TLS: &tls.Config{InsecureSkipVerify: true}}).Dial(ctx, "tcp", raw.Addr().String())
	if c != nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("TLS dial to a silent server = %v, %v; want context.DeadlineExceeded", c, err)
	}
	var de *DialError
	if !errors.As(err, &de) || de.Address != raw.Addr().String() {
		t.Errorf("error = %v, want a *DialError naming the address", err)
	}
}

func TestTLSAcceptDoesNotHandshake(t *testing.T) {
	ctx := testContext(t)
	ln, _ := tlsListen(t, "tcp", "127.0.0.1:0")
	defer ln.Close()
	// A client that connects but never starts TLS.
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	sc, err := ln.AcceptConn()
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	st, ok := sc.TLSState()
	if !ok || st.HandshakeComplete {
		t.Errorf("TLSState() right after accept = complete %v, %v", st.HandshakeComplete, ok)
	}
	hctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := sc.Handshake(hctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Handshake with a silent client = %v", err)
	}
}

func TestTLSCloseWriteBeforeHandshake(t *testing.T) {
	ln, _ := tlsListen(t, "tcp", "127.0.0.1:0")
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	sc, err := ln.AcceptConn()
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if err := sc.CloseWrite(); err == nil {
		t.Error("CloseWrite before the handshake succeeded")
	}
}

func TestTLSListenNeedsCertificate(t *testing.T) {
	_, err := (&ListenConfig{TLS: &tls.Config{}}).Listen(testContext(t), "tcp", "127.0.0.1:0")
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "listen" {
		t.Errorf("Listen with a TLS config without certificates = %v", err)
	}
}
