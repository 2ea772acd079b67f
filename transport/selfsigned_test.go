package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"
)

func TestSelfSignedServesTLS(t *testing.T) {
	cert, err := SelfSigned(0, "127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	if got := time.Until(cert.Leaf.NotAfter); got < 364*24*time.Hour {
		t.Errorf("valid for %v, want a year", got)
	}
	lc := ListenConfig{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.AcceptConn()
		if err != nil {
			return
		}
		defer c.Close()
		c.Handshake(context.Background())
	}()
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	c, err := (&Dialer{TLS: &tls.Config{RootCAs: pool}}).Dial(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := cert.Leaf.VerifyHostname("localhost"); err != nil {
		t.Error(err)
	}
}

func TestSelfSignedNeedsAHost(t *testing.T) {
	if _, err := SelfSigned(time.Hour); err == nil {
		t.Error("no error without hosts")
	}
}
