package session

import (
	"errors"
	"math"
	"sync/atomic"
	"testing"
	"time"
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
	// Over the hard limit: -101, the hook, and the session closes.
	parseError()
	want := `{"jsonrpc":"2.0","error":{"code":-101,"message":"excessive resource usage"},"id":1}`
	if got := call(); got != want {
		t.Errorf("got %s", got)
	}
	if err := s.Wait(); !errors.Is(err, ErrExcessiveCost) {
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
	for range 20 {
		peer.send(`{bad`)
		peer.recv()
	}
	// As in aiorpcX the decay is applied when the cost is next
	// recalculated, so the first new error pays off part of it:
	// 500 + 1,100 − 1,500 = 100, then 19 × 1,100.
	if c := s.Stats().Cost; !near(c, 21000) {
		t.Fatalf("cost = %v, want 21000", c)
	}
	clock.Advance(time.Hour)
	if c := s.Stats().Cost; !near(c, 11000) {
		t.Errorf("cost after an hour = %v, want 11000", c)
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
