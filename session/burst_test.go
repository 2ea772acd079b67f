package session

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/framing"
)

// countingConn counts the Write calls made on a connection.
type countingConn struct {
	net.Conn
	mu     sync.Mutex
	writes int
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.writes++
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *countingConn) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes
}

// Requests that arrive together are answered together: one write.
func TestBurstRepliesWrittenTogether(t *testing.T) {
	a, b := net.Pipe()
	conn := &countingConn{Conn: a}
	s := New(framing.NewStream(framing.Newline{}, conn), &Options{Handler: echoParams})
	s.w.mu.Lock()
	s.w.holdWait = time.Minute // only the last answer may release the burst
	s.w.mu.Unlock()
	defer s.Abort()
	defer b.Close()
	peer := &rawPeer{t: t, conn: b, r: newLineReader(b)}
	var burst strings.Builder
	for i := range 5 {
		burst.WriteString(`{"jsonrpc":"2.0","id":` + string(rune('0'+i)) + `,"method":"e","params":[` + string(rune('0'+i)) + `]}` + "\n")
	}
	peer.send(strings.TrimSuffix(burst.String(), "\n"))
	got := map[string]bool{}
	for range 5 {
		got[peer.recv()] = true
	}
	for i := range 5 {
		d := string(rune('0' + i))
		if !got[`{"jsonrpc":"2.0","result":[`+d+`],"id":`+d+`}`] {
			t.Errorf("no reply to request %s in %v", d, got)
		}
	}
	if n := conn.count(); n != 1 {
		t.Errorf("%d writes for a burst of 5 requests, want 1", n)
	}
}

// A slow request does not hold the replies of the rest of its burst
// for longer than the burst wait.
func TestBurstSlowRequestDoesNotHoldOthers(t *testing.T) {
	release := make(chan struct{})
	h := Methods{
		"slow": HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
			<-release
			return "slow", nil
		}),
		"fast": HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) { return "fast", nil }),
	}
	_, peer := newRawPeer(t, &Options{Handler: h})
	peer.send(`{"jsonrpc":"2.0","id":1,"method":"slow"}` + "\n" + `{"jsonrpc":"2.0","id":2,"method":"fast"}`)
	if got := peer.recv(); got != `{"jsonrpc":"2.0","result":"fast","id":2}` {
		t.Errorf("first reply %s, want the fast one", got)
	}
	close(release)
	if got := peer.recv(); got != `{"jsonrpc":"2.0","result":"slow","id":1}` {
		t.Errorf("second reply %s", got)
	}
}

// A request that arrives alone is served on the reader goroutine; if it
// takes long, reading goes on elsewhere: a request sent after it is
// answered while it still runs.
func TestInlineRequestHandsOffReading(t *testing.T) {
	release := make(chan struct{})
	h := Methods{
		"slow": HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
			<-release
			return "slow", nil
		}),
		"fast": HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) { return "fast", nil }),
	}
	s, peer := newRawPeer(t, &Options{Handler: h})
	peer.send(`{"jsonrpc":"2.0","id":1,"method":"slow"}`)
	waitFor(t, "the slow request to run", func() bool { return s.Stats().Running == 1 })
	for i := range 3 {
		peer.send(`{"jsonrpc":"2.0","id":2,"method":"fast"}`)
		if got := peer.recv(); got != `{"jsonrpc":"2.0","result":"fast","id":2}` {
			t.Fatalf("fast request %d: got %s", i, got)
		}
	}
	close(release)
	if got := peer.recv(); got != `{"jsonrpc":"2.0","result":"slow","id":1}` {
		t.Errorf("got %s", got)
	}
}
