package server

import (
	"bufio"
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/gorpcx/gorpcx/session"
	"github.com/gorpcx/gorpcx/transport"
)

// dialFrom connects to addr from the loopback address from (any of
// 127.0.0.0/8 works on Linux).
func dialFrom(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// echoOK sends a request on c and reports whether an answer came back.
func echoOK(c net.Conn) bool {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write([]byte(`{"jsonrpc":"2.0","method":"x","id":1}` + "\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && len(line) > 0
}

func noExempt() []netip.Prefix { return []netip.Prefix{} }

func TestPerIPLimitRefusesPastIt(t *testing.T) {
	srv := start(t, &Server{
		Peers:   PeerGroups{PerIP: 2, Exempt: noExempt()},
		Options: session.Options{Handler: hello},
	})
	addr := srv.Addr().String()
	a := dialFrom(t, "127.0.0.2", addr)
	b := dialFrom(t, "127.0.0.2", addr)
	if !echoOK(a) || !echoOK(b) {
		t.Fatal("the first two connections of the IP are not served")
	}
	c := dialFrom(t, "127.0.0.2", addr)
	if echoOK(c) {
		t.Fatal("third connection of one IP served, want it closed")
	}
	// Another address is not affected.
	if d := dialFrom(t, "127.0.0.3", addr); !echoOK(d) {
		t.Fatal("connection of another IP refused")
	}
	if got := srv.Stats().RefusedPerIP; got != 1 {
		t.Errorf("RefusedPerIP = %d, want 1", got)
	}
	want := []GroupStats{
		{Prefix: netip.MustParsePrefix("127.0.0.2/32"), Connections: 2},
		{Prefix: netip.MustParsePrefix("127.0.0.3/32"), Connections: 1},
		{Prefix: netip.MustParsePrefix("127.0.0.0/24"), Subnet: true, Connections: 3},
	}
	got := srv.Groups()
	for i := range got {
		got[i].Cost, got[i].Retained = 0, 0 // the bytes of the echoes
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("Groups (-want +got):\n%s", diff)
	}
	// Below the limit again, the IP is served.
	a.Close()
	waitFor(t, "the closed connection to leave its group", func() bool { return srv.Groups()[0].Connections == 1 })
	if e := dialFrom(t, "127.0.0.2", addr); !echoOK(e) {
		t.Error("IP refused after going below its limit")
	}
}

func TestPerSubnetLimitRefusesPastIt(t *testing.T) {
	srv := start(t, &Server{
		Peers:   PeerGroups{PerIP: -1, PerSubnet: 2, Exempt: noExempt()},
		Options: session.Options{Handler: hello},
	})
	addr := srv.Addr().String()
	if !echoOK(dialFrom(t, "127.0.0.2", addr)) || !echoOK(dialFrom(t, "127.0.0.3", addr)) {
		t.Fatal("first two connections of the subnet not served")
	}
	if echoOK(dialFrom(t, "127.0.0.4", addr)) {
		t.Fatal("third connection of one /24 served, want it closed")
	}
	if !echoOK(dialFrom(t, "127.0.1.4", addr)) {
		t.Fatal("connection of another /24 refused")
	}
	if got := srv.Stats().RefusedPerSubnet; got != 1 {
		t.Errorf("RefusedPerSubnet = %d, want 1", got)
	}
}

// Loopback is exempt by default: a Tor hidden service's clients all
// come from 127.0.0.1.
func TestLoopbackExemptByDefault(t *testing.T) {
	srv := start(t, &Server{Peers: PeerGroups{PerIP: 1}, Options: session.Options{Handler: hello}})
	addr := srv.Addr().String()
	for i := range 3 {
		if !echoOK(dialFrom(t, "127.0.0.1", addr)) {
			t.Fatalf("connection %d from loopback refused", i)
		}
	}
	if got := srv.Groups(); len(got) != 0 {
		t.Errorf("exempt peers are in groups: %+v", got)
	}
}

func TestInvalidPeerGroupsRefusedAtListen(t *testing.T) {
	srv := &Server{Peers: PeerGroups{SubnetBitsV4: 33}}
	if err := srv.Listen(context.Background()); err == nil {
		srv.Close()
		t.Fatal("Listen accepted a /33 subnet")
	}
}

// The cost of a peer's sessions is shared by its group and retained
// after they end: reconnecting does not reset the bill, and it weighs
// on the next session's throttling.
func TestGroupCostSharedAndRetained(t *testing.T) {
	cost := session.Cost{SoftLimit: 0, HardLimit: 100_000, DecayPerSecond: 1e-6, ErrorBase: 100, MaxSleep: time.Millisecond}
	srv := start(t, &Server{
		Peers:   PeerGroups{Exempt: noExempt()},
		Options: session.Options{Handler: hello, Cost: &cost},
	})
	addr := srv.Addr().String()
	bad := dialFrom(t, "127.0.0.5", addr)
	r := bufio.NewReader(bad)
	for range 20 {
		bad.Write([]byte("not json\n"))
		if _, err := r.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	var spent float64
	waitFor(t, "the cost to show in the group", func() bool {
		g := srv.Groups()
		if len(g) == 0 {
			return false
		}
		spent = g[0].Cost
		return spent > 2000
	})
	bad.Close()
	waitFor(t, "the session to leave its group", func() bool {
		g := srv.Groups()
		return len(g) == 2 && g[0].Connections == 0
	})
	g := srv.Groups()[0]
	if g.Retained < spent*0.99 || g.Cost != g.Retained {
		t.Fatalf("group after the session ended: %+v, want about %v retained", g, spent)
	}
	// A new session of the same IP starts throttled by what its group
	// retains: its concurrency target is below the configured 20.
	good := dialFrom(t, "127.0.0.5", addr)
	if !echoOK(good) {
		t.Fatal("new session not served")
	}
	sessions := srv.Sessions()
	if len(sessions) != 1 {
		t.Fatalf("%d sessions", len(sessions))
	}
	st := sessions[0].Stats()
	if st.Concurrency >= session.DefaultConcurrency || st.Cost > 100 {
		t.Errorf("new session of the IP: concurrency %d, own cost %v; want throttled by the group's cost alone", st.Concurrency, st.Cost)
	}
	// Another IP of the subnet feels half of it.
	other := dialFrom(t, "127.0.0.6", addr)
	if !echoOK(other) {
		t.Fatal("session of another IP not served")
	}
	for _, s := range srv.Sessions() {
		if s == sessions[0] {
			continue
		}
		if c := s.Stats().Concurrency; c >= session.DefaultConcurrency || c <= st.Concurrency {
			t.Errorf("session of a neighbour: concurrency %d, want between %d and %d", c, st.Concurrency, session.DefaultConcurrency)
		}
	}
}

// Without shared cost each session stands alone.
func TestNoSharedCost(t *testing.T) {
	cost := session.Cost{SoftLimit: 0, HardLimit: 100_000, DecayPerSecond: 1e-6, ErrorBase: 100, MaxSleep: time.Millisecond}
	srv := start(t, &Server{
		Peers:   PeerGroups{Exempt: noExempt(), NoSharedCost: true},
		Options: session.Options{Handler: hello, Cost: &cost},
	})
	addr := srv.Addr().String()
	bad := dialFrom(t, "127.0.0.5", addr)
	r := bufio.NewReader(bad)
	for range 20 {
		bad.Write([]byte("not json\n"))
		if _, err := r.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	bad.Close()
	waitFor(t, "the session to end", func() bool { return srv.SessionCount() == 0 })
	if g := srv.Groups(); len(g) != 0 {
		t.Errorf("groups retain cost with NoSharedCost: %+v", g)
	}
}

func TestAtLimitString(t *testing.T) {
	for _, c := range []struct {
		a    AtLimit
		want string
	}{{Shed, "shed"}, {Pause, "pause"}, {AtLimit(7), "AtLimit(7)"}} {
		if got := c.a.String(); got != c.want {
			t.Errorf("%d: %q, want %q", c.a, got, c.want)
		}
	}
}

func TestUsefulnessOrder(t *testing.T) {
	silentOld := usefulness{idle: 9 * time.Second}
	silentNew := usefulness{idle: time.Second}
	idleLong := usefulness{talked: true, idle: time.Minute}
	idleShortCheap := usefulness{talked: true, idle: time.Second, cost: 1}
	idleShortDear := usefulness{talked: true, idle: 1500 * time.Millisecond, cost: 500}
	order := []usefulness{silentOld, silentNew, idleLong, idleShortDear, idleShortCheap}
	for i := range order {
		for j := range order {
			if got, want := order[i].less(order[j]), i < j; got != want {
				t.Errorf("%+v less %+v = %v, want %v", order[i], order[j], got, want)
			}
		}
	}
}

// Refusals are logged at a bounded rate: 300 refused connections give
// at most the cap's burst of lines (plus its rate over the test's
// time), and the lines written plus those reported suppressed add up
// to every refusal.
func TestRefusalLogsAreCapped(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	srv := start(t, &Server{
		Peers:   PeerGroups{PerIP: 1, Exempt: noExempt()},
		Options: session.Options{Handler: hello},
		Logger:  zap.New(core),
	})
	addr := srv.Addr().String()
	began := time.Now()
	keep := dialFrom(t, "127.0.0.7", addr)
	if !echoOK(keep) {
		t.Fatal("first connection not served")
	}
	const refusals = 300
	for range refusals {
		c := dialFrom(t, "127.0.0.7", addr)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		c.Read(make([]byte, 1)) // until the server closes it
		c.Close()
	}
	waitFor(t, "the refusals to count", func() bool { return srv.Stats().RefusedPerIP == refusals })
	elapsed := time.Since(began)
	lines := logs.FilterMessage("refusing connection: per-IP limit reached")
	bound := 50 + int(elapsed.Seconds()*10) + 10
	if lines.Len() > bound {
		t.Errorf("%d refusal lines for %d refusals in %v, want at most %d", lines.Len(), refusals, elapsed, bound)
	}
	var reported int64
	for _, e := range lines.All() {
		if v, ok := e.ContextMap()["suppressed"]; ok {
			reported += v.(int64)
		}
	}
	suppressed := srv.Stats().LogLinesSuppressed
	if suppressed == 0 {
		t.Errorf("nothing suppressed for %d refusals", refusals)
	}
	if got := int64(lines.Len()) + suppressed; got != refusals {
		t.Errorf("%d lines + %d suppressed = %d, want %d", lines.Len(), suppressed, got, refusals)
	}
	if reported > suppressed {
		t.Errorf("lines report %d suppressed, the cap counted %d", reported, suppressed)
	}
}

// Regression: at the bound of groups kept for their retained cost
// alone, every disconnection that left a group behind forgot just one
// group, after sorting them all under the groups' lock: with the
// default 10,000 retained groups, about a millisecond of the server's
// time for each connection a flood from many addresses (an IPv6 /64
// has plenty) made and closed. Past the bound the groups are now
// pruned to three quarters of it at once, so that the next prune is a
// quarter of the bound away, and the bound still holds.
func TestRetainedGroupsPrunedInBatches(t *testing.T) {
	const maxKept = 100
	gs := newGroups(PeerGroups{MaxRetained: maxKept}, 10)
	now := time.Now()
	base := netip.MustParseAddr("2001:db8::").As16()
	prunes := 0
	const leaves = 1000 // each leaves an IP group and a /48 behind
	for n := range leaves {
		a := base
		a[4], a[5] = byte(n>>8), byte(n)
		c := &connection{}
		if r := gs.join(c, netip.AddrFrom16(a)); r != admitted {
			t.Fatalf("join refused: %v", r)
		}
		before := gs.retained
		gs.leave(c, 1000, 1e-9, now)
		if gs.retained < before+2 { // some were forgotten
			prunes++
		}
		if gs.retained > maxKept || gs.retained != len(gs.byPrefix) {
			t.Fatalf("after %d: %d groups retained, %d kept, want at most %d", n, gs.retained, len(gs.byPrefix), maxKept)
		}
	}
	// 2,000 groups left behind, 25 forgotten per prune at least.
	if max := 2*leaves/(maxKept/4) + 1; prunes > max {
		t.Errorf("%d prunes for %d disconnections, want at most %d", prunes, leaves, max)
	}
}

// Regression: at MaxSessions every new connection had the whole list of
// connections walked from the oldest, taking each talking session's
// cost lock, until the first that never completed a message: with
// clients that talk connected before a flood of silent connections
// (the usual case), about 80 µs under the server's lock for each
// connection of the flood, among 1,000. A connection seen to have
// talked is now moved out of the way once, so that the next choice
// starts at the silent ones.
func TestSheddingLooksAtEachTalkerOnce(t *testing.T) {
	srv := start(t, &Server{MaxSessions: 6, Options: session.Options{Handler: hello}})
	addr := srv.Addr().String()
	for range 4 {
		if !echoOK(dialFrom(t, "127.0.0.1", addr)) {
			t.Fatal("talker not served")
		}
	}
	for range 2 {
		dialFrom(t, "127.0.0.1", addr)
	}
	waitFor(t, "six connections", func() bool { return srv.SessionCount() == 6 })
	for i := range 3 {
		dialFrom(t, "127.0.0.1", addr)
		waitFor(t, "an eviction", func() bool {
			srv.mu.Lock()
			defer srv.mu.Unlock()
			return srv.evicted.Load() == uint64(i+1) && srv.conns.len+srv.talkers.len == 6
		})
		srv.mu.Lock()
		silentFirst := srv.conns.len
		srv.mu.Unlock()
		// The four talkers are out of the list a choice walks first:
		// it holds the two silent connections left.
		if silentFirst != 2 {
			t.Errorf("eviction %d: %d connections to walk before a silent one, want the talkers out of the way", i+1, silentFirst)
		}
	}
}

// Regression: Groups listed a group kept for its retained cost after
// that cost had decayed to nothing (Retained 0, no connection), until
// a prune at the bound forgot it, though it is documented to list the
// groups with connections and those that retain cost.
func TestGroupsOmitsGroupsDecayedToNothing(t *testing.T) {
	gs := newGroups(PeerGroups{}, 10)
	c := &connection{}
	if gs.join(c, netip.MustParseAddr("192.0.2.1")) != admitted {
		t.Fatal("join refused")
	}
	gs.leave(c, 1, 1, time.Now().Add(-time.Hour)) // 1 decaying by 1 a second, an hour ago
	if got := gs.snapshot(); len(got) != 0 {
		t.Errorf("Groups = %+v, want none: their cost has decayed", got)
	}
}

// Regression: a NewSession hook that sets its own Cost dropped the
// shared cost of the peer's groups, which was added before the hook ran.
func TestNewSessionCostKeepsSharedCost(t *testing.T) {
	cost := session.Cost{SoftLimit: 0, HardLimit: 100_000, DecayPerSecond: 1e-6, ErrorBase: 100, MaxSleep: time.Millisecond}
	srv := start(t, &Server{
		Peers:   PeerGroups{Exempt: noExempt()},
		Options: session.Options{Handler: hello},
		NewSession: func(_ *transport.Conn, o *session.Options) error {
			c := cost
			o.Cost = &c
			return nil
		},
	})
	addr := srv.Addr().String()
	bad := dialFrom(t, "127.0.0.5", addr)
	r := bufio.NewReader(bad)
	for range 20 {
		bad.Write([]byte("not json\n"))
		if _, err := r.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	bad.Close()
	waitFor(t, "the session to leave its group", func() bool {
		g := srv.Groups()
		return len(g) == 2 && g[0].Connections == 0
	})
	good := dialFrom(t, "127.0.0.5", addr)
	if !echoOK(good) {
		t.Fatal("new session not served")
	}
	if c := srv.Sessions()[0].Stats().Concurrency; c >= session.DefaultConcurrency {
		t.Errorf("a session whose hook set Cost is not throttled by its group's cost: concurrency %d", c)
	}
}

// A panic in NewSession refuses the connection, as an error would, and
// gives its place back.
func TestNewSessionPanicRefuses(t *testing.T) {
	srv := start(t, &Server{
		Options:    session.Options{Handler: hello},
		NewSession: func(*transport.Conn, *session.Options) error { panic("hook bug") },
	})
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if echoOK(c) {
		t.Fatal("served despite a panicking hook")
	}
	waitFor(t, "the place to be released", func() bool { return srv.SessionCount() == 0 })
	if got := srv.Stats().RefusedByHook; got != 1 {
		t.Errorf("RefusedByHook = %d, want 1", got)
	}
}

func TestGroupOf(t *testing.T) {
	got := make(chan string, 2)
	h := session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		got <- GroupOf(session.FromContext(ctx))
		return nil, nil
	})
	grouped := start(t, &Server{Peers: PeerGroups{Exempt: noExempt()}, Options: session.Options{Handler: h}})
	exempt := start(t, &Server{Options: session.Options{Handler: h}})
	if !echoOK(dialFrom(t, "127.0.0.9", grouped.Addr().String())) || !echoOK(dialFrom(t, "127.0.0.9", exempt.Addr().String())) {
		t.Fatal("not served")
	}
	if g := <-got; g != "127.0.0.9/32" {
		t.Errorf("GroupOf a grouped session = %q", g)
	}
	if g := <-got; g != "" {
		t.Errorf("GroupOf an exempt session = %q, want none", g)
	}
}

// The server tells its Observer of refusals and evictions, and its
// sessions' events.
func TestServerEvents(t *testing.T) {
	var mu sync.Mutex
	kinds := map[session.EventKind][]string{}
	obs := session.ObserverFunc(func(e session.Event) {
		mu.Lock()
		kinds[e.Kind] = append(kinds[e.Kind], e.Reason)
		mu.Unlock()
	})
	srv := start(t, &Server{
		MaxSessions: 2,
		Peers:       PeerGroups{PerIP: 1, Exempt: noExempt()},
		Observer:    obs,
		Options:     session.Options{Handler: hello},
	})
	addr := srv.Addr().String()
	if !echoOK(dialFrom(t, "127.0.0.20", addr)) {
		t.Fatal("not served")
	}
	dialFrom(t, "127.0.0.20", addr) // refused: per IP
	silent := dialFrom(t, "127.0.0.21", addr)
	waitFor(t, "the silent connection", func() bool { return srv.SessionCount() == 2 })
	if !echoOK(dialFrom(t, "127.0.0.22", addr)) { // evicts the silent one
		t.Fatal("not served at the limit")
	}
	silent.SetReadDeadline(time.Now().Add(5 * time.Second))
	silent.Read(make([]byte, 1))
	waitFor(t, "the events", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(kinds[session.ConnectionRefused]) == 1 && len(kinds[session.ConnectionEvicted]) == 1 &&
			len(kinds[session.SessionOpened]) >= 3 && len(kinds[session.SessionClosed]) >= 1
	})
	mu.Lock()
	defer mu.Unlock()
	if kinds[session.ConnectionRefused][0] != "per-ip" {
		t.Errorf("refusal reason %v", kinds[session.ConnectionRefused])
	}
}
