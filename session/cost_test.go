package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1 }

func TestCostThrottling(t *testing.T) {
	clock := newFakeClock()
	var excessive atomic.Int32
	cost := DefaultCost()
	cost.OnExcessive = func() { excessive.Add(1) }
	s, peer := newRawPeer(t, &Options{Handler: echoParams, Clock: clock, Cost: &cost})
	parseError := func() {
		t.Helper()
		peer.send(`{not json`)
		peer.recv()
	}
	call := func() string {
		t.Helper()
		peer.send(`{"jsonrpc":"2.0","id":1,"method":"e","params":[]}`)
		return peer.recv()
	}

	// Each parse error costs 100 + 1,000.
	parseError()
	parseError()
	if c := s.Stats().Cost; !near(c, 2200) {
		t.Fatalf("cost = %v, want 2200", c)
	}
	// Over the soft limit: each request first sleeps in proportion.
	call()
	sleeps := clock.Sleeps()
	if len(sleeps) != 1 || sleeps[0].Round(time.Millisecond) != 50*time.Millisecond {
		t.Fatalf("sleeps = %v, want [50ms]", sleeps)
	}
	if got := s.Stats().Concurrency; got != 20 {
		t.Errorf("concurrency = %d, want 20", got)
	}
	// Near the hard limit the concurrency target shrinks in proportion.
	for range 7 {
		parseError()
	}
	if c := s.Stats().Cost; !near(c, 9900) {
		t.Fatalf("cost = %v, want 9900", c)
	}
	if got := s.Stats().Concurrency; got != 1 {
		t.Errorf("concurrency = %d, want 1", got)
	}
	// Over the hard limit, whatever the peer sent: the hook, and the
	// session closes.
	parseError()
	if err := waitEnded(t, s); !errors.Is(err, ErrExcessiveCost) {
		t.Errorf("ended with %v", err)
	}
	if n := excessive.Load(); n != 1 {
		t.Errorf("OnExcessive called %d times", n)
	}
}

func TestCostDecay(t *testing.T) {
	clock := newFakeClock()
	s, peer := newRawPeer(t, &Options{Clock: clock})
	for range 5 {
		peer.send(`[]`) // an empty batch: -32600, costs 100
		peer.recv()
	}
	if c := s.Stats().Cost; !near(c, 500) {
		t.Fatalf("cost = %v", c)
	}
	clock.Advance(9 * time.Minute) // 10,000 an hour: 1,500 in 9 minutes
	if c := s.Stats().Cost; c != 0 {
		t.Errorf("cost after decay = %v, want 0", c)
	}
	for range 8 {
		peer.send(`{bad`)
		peer.recv()
	}
	// As in aiorpcX the decay is applied when the cost is next
	// recalculated, so the first new error pays off part of it:
	// 500 + 1,100 − 1,500 = 100, then 7 × 1,100.
	if c := s.Stats().Cost; !near(c, 7800) {
		t.Fatalf("cost = %v, want 7800", c)
	}
	clock.Advance(30 * time.Minute)
	if c := s.Stats().Cost; !near(c, 2800) {
		t.Errorf("cost after half an hour = %v, want 2800", c)
	}
}

func TestCostExtraHook(t *testing.T) {
	clock := newFakeClock()
	cost := DefaultCost()
	cost.Extra = func() float64 { return 5000 }
	s, peer := newRawPeer(t, &Options{Clock: clock, Cost: &cost})
	peer.send(`{bad`)
	peer.recv()
	// (1,100 + 5,000 − 2,000) / 8,000 = 0.5125 → ceil(0.4875 × 20) = 10.
	if got := s.Stats().Concurrency; got != 10 {
		t.Errorf("concurrency = %d, want 10", got)
	}
}

func TestCostOff(t *testing.T) {
	clock := newFakeClock()
	cost := DefaultCost()
	cost.HardLimit = 0
	s, peer := newRawPeer(t, &Options{Handler: echoParams, Clock: clock, Cost: &cost})
	for range 20 {
		peer.send(`{bad`)
		peer.recv()
	}
	peer.send(`{"jsonrpc":"2.0","id":1,"method":"e","params":[]}`)
	if got := peer.recv(); got != `{"jsonrpc":"2.0","result":[],"id":1}` {
		t.Errorf("got %s", got)
	}
	if got := s.Stats().Concurrency; got != 20 {
		t.Errorf("concurrency = %d", got)
	}
	if n := len(clock.Sleeps()); n != 0 {
		t.Errorf("%d throttling sleeps with cost off", n)
	}
}

// The dialing side has no hard limit by default.
func TestClientCostOffByDefault(t *testing.T) {
	clock := newFakeClock()
	s, peer := newRawPeer(t, &Options{Side: Client, Handler: echoParams, Clock: clock})
	for range 15 {
		peer.send(`{bad`)
		peer.recv()
	}
	if got := s.Stats().Concurrency; got != 20 {
		t.Errorf("concurrency = %d", got)
	}
}

func TestCostPerByte(t *testing.T) {
	clock := newFakeClock()
	s, peer := newRawPeer(t, &Options{Handler: echoParams, Clock: clock})
	peer.send(`{"jsonrpc":"2.0","id":1,"method":"e","params":["` + string(make([]byte, 0)) + `"]}`)
	peer.recv()
	st := s.Stats()
	want := float64(st.RecvBytes+st.SendBytes) / 100000
	if math.Abs(st.Cost-want) > 1e-9 {
		t.Errorf("cost = %v, want %v", st.Cost, want)
	}
}

// A request queued when the peer's cost passes the hard limit is
// answered -101, the one running finishes, and the session closes.
func TestHardLimitAnswersPendingRequestsExcessive(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock) // before the session's own cleanup, which waits for the handler
	h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		<-release
		return "done", nil
	})
	s, peer := newRawPeer(t, &Options{Handler: h, Concurrency: 1})
	// Together, so that both go to the queue and the first runs on a
	// worker: the -101 must not wait for that worker.
	peer.send(`{"jsonrpc":"2.0","id":1,"method":"slow"}` + "\n" + `{"jsonrpc":"2.0","id":2,"method":"queued"}`)
	waitFor(t, "the first request to run", func() bool { return s.Stats().Running == 1 })
	waitFor(t, "the second request to queue", func() bool { return s.Stats().Unanswered == 2 })
	for range 9 {
		peer.send(`{bad`)
		peer.recv()
	}
	peer.send(`{bad`) // 10 × 1,100 > 10,000
	// The parse error's reply and the queued request's come in either
	// order.
	want := `{"jsonrpc":"2.0","error":{"code":-101,"message":"excessive resource usage"},"id":2}`
	if a, b := peer.recv(), peer.recv(); a != want && b != want {
		t.Errorf("queued request: got %s and %s", a, b)
	}
	unblock()
	if got := peer.recv(); got != `{"jsonrpc":"2.0","result":"done","id":1}` {
		t.Errorf("running request: got %s", got)
	}
	if err := waitEnded(t, s); !errors.Is(err, ErrExcessiveCost) {
		t.Errorf("ended with %v", err)
	}
}

// Garbage alone, with no request at all, reaches the hard limit and
// closes the session (it used to pile cost up forever).
func TestGarbageOnlyPeerClosedAtHardLimit(t *testing.T) {
	s, peer := newRawPeer(t, &Options{})
	go func() {
		for range 1000 {
			if _, err := peer.conn.Write([]byte("\x00garbage\n")); err != nil {
				return
			}
		}
	}()
	go func() { _, _ = io.Copy(io.Discard, peer.conn) }()
	if err := waitEnded(t, s); !errors.Is(err, ErrExcessiveCost) {
		t.Errorf("ended with %v", err)
	}
	if c := s.Stats().Cost; c < 10000 || c > 20000 {
		t.Errorf("cost at the end = %v, want past the hard limit and bounded", c)
	}
}

// Unsolicited responses cost too, and close the session at the limit.
func TestUnsolicitedResponsesClosedAtHardLimit(t *testing.T) {
	s, peer := newRawPeer(t, &Options{})
	go func() {
		for i := range 100000 {
			line := fmt.Sprintf(`{"jsonrpc":"2.0","result":1,"id":%d}`+"\n", 1000000+i)
			if _, err := peer.conn.Write([]byte(line)); err != nil {
				return
			}
		}
	}()
	if err := waitEnded(t, s); !errors.Is(err, ErrExcessiveCost) {
		t.Errorf("ended with %v", err)
	}
	if n := s.Stats().Errors; n < 100 || n > 120 {
		t.Errorf("errors counted = %d, want about 100 (10,000 / 100)", n)
	}
}
