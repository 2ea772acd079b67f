package proxy_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/gorpcx/gorpcx/proxy"
)

// testContext returns a context that ends with the test, and at the
// latest after 20 s, so that a hang fails rather than blocks.
func testContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// echoCheck sends msg through c to an echo server, half-closes, and
// checks that msg comes back followed by the end of the stream, which
// proves that the half-close went through.
func echoCheck(t testing.TB, c net.Conn, msg string) {
	t.Helper()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatalf("write: %v", err)
	}
	cw, ok := c.(interface{ CloseWrite() error })
	if !ok {
		t.Fatalf("%T has no CloseWrite", c)
	}
	if err := cw.CloseWrite(); err != nil {
		t.Fatalf("CloseWrite: %v", err)
	}
	got, err := io.ReadAll(c)
	if err != nil || string(got) != msg {
		t.Fatalf("echo: got %q, %v; want %q and the end of the stream", got, err, msg)
	}
}

// asError returns err as a *proxy.Error, failing the test if it is not
// one.
func asError(t testing.TB, err error) *proxy.Error {
	t.Helper()
	var pe *proxy.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *proxy.Error", err, err)
	}
	return pe
}

// fakeResolver answers lookups from a table and records them.
type fakeResolver struct {
	Hosts map[string][]netip.Addr
	Err   error

	mu     sync.Mutex
	lookup []string // "network host"
}

func (r *fakeResolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	r.lookup = append(r.lookup, network+" "+host)
	r.mu.Unlock()
	if r.Err != nil {
		return nil, r.Err
	}
	addrs, ok := r.Hosts[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return addrs, nil
}

// Lookups returns the lookups made, as "network host".
func (r *fakeResolver) Lookups() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lookup...)
}

// closedPort returns a loopback address on which nothing listens.
func closedPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// hosts returns the hosts of requests.
func hosts(reqs []request) []string {
	var h []string
	for _, r := range reqs {
		h = append(h, r.Host)
	}
	return h
}
