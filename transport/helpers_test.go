package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gorpcx/gorpcx/internal/testcert"
)

// testTimeout only keeps a broken test from hanging; nothing asserts on it.
const testTimeout = 10 * time.Second

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// testCert makes a self-signed certificate for 127.0.0.1, ::1 and the
// DNS name gorpcx.test, and a pool that trusts it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	return testcert.New(t, "gorpcx.test")
}

// serveEcho accepts connections on ln until it is closed and echoes
// each until its peer half-closes; accepted conns are sent on the
// returned channel (buffered) for inspection. Cleanup closes ln and
// waits for every goroutine.
func serveEcho(t *testing.T, ln *Listener) <-chan *Conn {
	t.Helper()
	accepted := make(chan *Conn, 16)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.AcceptConn()
			if err != nil {
				return
			}
			select {
			case accepted <- c:
			default:
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(testTimeout))
				io.Copy(c, c)
				c.CloseWrite()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return accepted
}

// roundTrip writes msg, half-closes, and reads the whole echo back.
func roundTrip(t *testing.T, c *Conn, msg string) {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(testTimeout)); err != nil {
		t.Fatal(err)
	}
	if err := c.SetWriteDeadline(time.Now().Add(testTimeout)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatalf("CloseWrite: %v", err)
	}
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if string(got) != msg {
		t.Fatalf("echo = %q, want %q", got, msg)
	}
}

// recordingDialer dials through a net.Dialer, recording each call, and
// optionally sends every address to fixed instead (a stand-in for a
// proxy, which connects to the target on the caller's behalf).
type recordingDialer struct {
	name  string
	fixed string

	mu    sync.Mutex
	calls []string
}

func (d *recordingDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	d.mu.Lock()
	d.calls = append(d.calls, network+" "+address)
	d.mu.Unlock()
	if d.fixed != "" {
		address = d.fixed
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, address)
}

func (d *recordingDialer) String() string { return d.name }

func (d *recordingDialer) Calls() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.calls...)
}

// dialerFunc adapts a function to ContextDialer.
type dialerFunc func(ctx context.Context, network, address string) (net.Conn, error)

func (f dialerFunc) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return f(ctx, network, address)
}
