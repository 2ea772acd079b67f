package session

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/goleak"

	"github.com/gorpcx/gorpcx/framing"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pair returns two sessions talking over net.Pipe: a client (which
// dialed) and a server. Both are aborted when the test ends.
func pair(t testing.TB, client, server *Options) (*Session, *Session) {
	t.Helper()
	a, b := net.Pipe()
	if client == nil {
		client = &Options{}
	}
	client.Side = Client
	srv := New(framing.NewStream(framing.Newline{}, b), server)
	cli := New(framing.NewStream(framing.Newline{}, a), client)
	t.Cleanup(func() {
		cli.Abort()
		srv.Abort()
	})
	return cli, srv
}

// tcpPair is pair over loopback TCP.
func tcpPair(t testing.TB, client, server *Options) (*Session, *Session) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	if client == nil {
		client = &Options{}
	}
	client.Side = Client
	srv := New(framing.NewStream(framing.Newline{}, b), server)
	cli := New(framing.NewStream(framing.Newline{}, a), client)
	t.Cleanup(func() {
		cli.Abort()
		srv.Abort()
	})
	return cli, srv
}

// rawPeer is the far end of a session driven by hand: the test writes
// raw lines and reads raw lines.
type rawPeer struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

// newRawPeer starts a session with opts over net.Pipe and returns it
// with the raw end.
func newRawPeer(t testing.TB, opts *Options) (*Session, *rawPeer) {
	t.Helper()
	a, b := net.Pipe()
	s := New(framing.NewStream(framing.Newline{}, a), opts)
	p := &rawPeer{t: t, conn: b, r: bufio.NewReader(b)}
	t.Cleanup(func() {
		s.Abort()
		b.Close()
	})
	return s, p
}

func (p *rawPeer) send(line string) {
	p.t.Helper()
	p.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := p.conn.Write([]byte(line + "\n")); err != nil {
		p.t.Fatalf("raw peer write: %v", err)
	}
}

func (p *rawPeer) recv() string {
	p.t.Helper()
	p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := p.r.ReadString('\n')
	if err != nil {
		p.t.Fatalf("raw peer read: %v (got %q)", err, line)
	}
	return line[:len(line)-1]
}

// recvJSON reads one line and decodes it into a generic value, for
// comparisons that ignore member order.
func (p *rawPeer) recvJSON() any {
	p.t.Helper()
	line := p.recv()
	var v any
	if err := json.Unmarshal([]byte(line), &v); err != nil {
		p.t.Fatalf("raw peer got invalid JSON %q: %v", line, err)
	}
	return v
}

func mustJSON(t testing.TB, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad test JSON %q: %v", s, err)
	}
	return v
}

func params(req *jsonrpc2.Request, v any) error {
	if req.Params == nil {
		return nil
	}
	return json.Unmarshal(*req.Params, v)
}

// fakeClock is a Clock whose time moves only when told; Sleep records
// the durations asked for and returns at once.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// waitFor polls cond until it holds, failing the test after 5 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func newLineReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }
