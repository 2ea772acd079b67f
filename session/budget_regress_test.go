package session

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/framing"
)

// gatedPeer starts a session over a Gate of budget b, with opts, and
// returns it with the raw far end.
func gatedPeer(t *testing.T, b *Budget, framer framing.Framer, opts *Options) (*Session, *rawPeer) {
	t.Helper()
	a, c := net.Pipe()
	g := b.Gate(a)
	opts.Gate = g
	s := New(framing.NewStream(framer, g), opts)
	p := &rawPeer{t: t, conn: c, r: newLineReader(c)}
	t.Cleanup(func() {
		s.Abort()
		c.Close()
	})
	return s, p
}

func echoRequest(id, size int) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"e","params":["%s"]}`, id, strings.Repeat("z", size))
}

// Requests that arrive together, each near the session's byte bound,
// are all served: the reader used to spin waiting for room it never
// re-checked for the request's size, and with a Gate it counted the
// next message's bytes against the current one and stalled for good.
func TestRequestsNearByteBoundArrivingTogetherServed(t *testing.T) {
	for _, gated := range []bool{false, true} {
		t.Run(fmt.Sprint("gated=", gated), func(t *testing.T) {
			opts := &Options{Handler: echoParams, MaxIncomingBytes: 1000, Concurrency: 1}
			var s *Session
			var peer *rawPeer
			if gated {
				s, peer = gatedPeer(t, NewBudget(0), framing.Newline{}, opts)
			} else {
				s, peer = newRawPeer(t, opts)
			}
			peer.send(echoRequest(1, 700) + "\n" + echoRequest(2, 700) + "\n" + echoRequest(3, 700))
			got := map[string]bool{}
			for range 3 {
				line := peer.recv()
				got[line[strings.LastIndex(line, `"id"`):]] = true
			}
			if len(got) != 3 {
				t.Errorf("replies: %v", got)
			}
			_ = s
		})
	}
}

// A line over the framer's limit is dropped as it arrives; the bytes
// dropped are given back to the budget (they used to stay counted, so
// one endless line could pin a server's budget).
func TestGateReleasesBytesTheFramerDrops(t *testing.T) {
	b := NewBudget(1 << 20)
	_, peer := gatedPeer(t, b, framing.Newline{Max: 1000}, &Options{Handler: echoParams})
	for range 100 { // 400,000 bytes of a line that has not ended
		peer.conn.Write([]byte(strings.Repeat("q", 4000)))
	}
	// While the line is still arriving, only the read buffer is held.
	waitFor(t, "the dropped bytes to be released", func() bool { return b.Held() < 16<<10 })
	peer.send("\n" + echoRequest(1, 10))
	if got := peer.recv(); !strings.Contains(got, `"id":1`) {
		t.Fatalf("reply %s", got)
	}
}

// A batch holds its message's bytes until its last item is answered
// (they used to go back with its first).
func TestBatchHoldsBytesUntilLastItem(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		if req.Method == "slow" {
			<-release
		}
		return 1, nil
	})
	s, peer := newRawPeer(t, &Options{Handler: h})
	batch := `[{"jsonrpc":"2.0","id":1,"method":"fast"},{"jsonrpc":"2.0","id":2,"method":"slow","params":["` + strings.Repeat("p", 5000) + `"]}]`
	peer.send(batch)
	waitFor(t, "the fast item to be answered", func() bool { return s.Stats().Unanswered == 1 })
	if held := s.acct.held.Load(); held != int64(len(batch)) {
		t.Errorf("held %d bytes while the slow item runs, want the batch's %d", held, len(batch))
	}
}

// A message session read through a Gate releases what it has read
// (it used to stall once MaxIncomingBytes had passed in all).
func TestMessageSessionThroughGate(t *testing.T) {
	a, c := net.Pipe()
	defer c.Close()
	g := NewBudget(0).Gate(a)
	var handled atomic.Int32
	ms := NewMessageSession(g, framing.Bitcoin{}, MessageHandlerFunc(func(ctx context.Context, cmd string, p []byte) error {
		handled.Add(1)
		return nil
	}), &Options{Gate: g, MaxIncomingBytes: 4000})
	defer ms.Abort()
	payload := make([]byte, 500)
	go func() {
		for range 20 {
			msg, _ := framing.Bitcoin{}.AppendMessage(nil, "ping", payload)
			c.Write(msg)
		}
	}()
	// 20 × 524 bytes pass a bound of 4,000 only if what was read is
	// released.
	waitFor(t, "20 messages handled", func() bool { return handled.Load() == 20 })
}
