package gorpcxprom_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sourcegraph/jsonrpc2"

	gorpcxprom "github.com/gorpcx/gorpcx/contrib/prometheus"
	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/protocol"
	"github.com/gorpcx/gorpcx/pubsub"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts gorpcxprom.Options
	}{
		{"buckets not increasing", gorpcxprom.Options{Buckets: []float64{1, 1}}},
		{"buckets NaN", gorpcxprom.Options{Buckets: []float64{1, math.NaN()}}},
		{"cost buckets decreasing", gorpcxprom.Options{CostBuckets: []float64{10, 1}}},
		{"method named other", gorpcxprom.Options{Methods: []string{"a", "other"}}},
		{"method not UTF-8", gorpcxprom.Options{Methods: []string{"\xff"}}},
		{"topic named other", gorpcxprom.Options{Topics: []string{"other"}}},
		{"topic not UTF-8", gorpcxprom.Options{Topics: []string{"a\xfe"}}},
		{"bad namespace", gorpcxprom.Options{Namespace: "1-bad"}},
		{"bad const label", gorpcxprom.Options{ConstLabels: prometheus.Labels{"__reserved": "x"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if m, err := gorpcxprom.New(&tc.opts); err == nil {
				t.Errorf("New returned %v and no error", m)
			}
		})
	}
}

func TestRegister(t *testing.T) {
	m := mustNew(t, &gorpcxprom.Options{Methods: []string{"a", "a", "b"}, Codes: []int64{-32601, 7}})
	reg := prometheus.NewRegistry()
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	var already prometheus.AlreadyRegisteredError
	if err := m.Register(reg); !errors.As(err, &already) {
		t.Errorf("second Register: %v", err)
	}
	// Two Metrics with the same names collide in one registry, unless
	// told apart.
	if err := mustNew(t, nil).Register(reg); err == nil {
		t.Error("a second Metrics registered beside the first")
	}
	if err := mustNew(t, &gorpcxprom.Options{Namespace: "other_app"}).Register(reg); err != nil {
		t.Errorf("another namespace: %v", err)
	}
	// Told apart by a constant label, two Metrics share one registry.
	shared := prometheus.NewRegistry()
	for _, node := range []string{"a", "b"} {
		if err := mustNew(t, &gorpcxprom.Options{ConstLabels: prometheus.Labels{"node": node}}).Register(shared); err != nil {
			t.Errorf("node %s: %v", node, err)
		}
	}
	if _, err := shared.Gather(); err != nil {
		t.Errorf("gathering two nodes: %v", err)
	}
	// The Handler's registry has the Go runtime's metrics too.
	e := scrape(t, endpoint(t, m))
	if e["go_goroutines"] == nil {
		t.Error("no go_goroutines")
	}
}

// TestInstrument: the interceptors go first, in a new slice, and the
// Observer beside the program's.
func TestInstrument(t *testing.T) {
	m := mustNew(t, &gorpcxprom.Options{Methods: []string{"a"}})
	var order []string
	mine := func(ctx context.Context, req *session.Request, next session.Handle) (any, error) {
		order = append(order, "mine")
		return next(ctx, req)
	}
	shared := make([]session.Interceptor, 1, 4)
	shared[0] = mine
	var seen int
	srv := &server.Server{
		Observer: session.ObserverFunc(func(e session.Event) {
			if e.Kind == session.SessionOpened {
				seen++
			}
		}),
		Options: session.Options{
			Handler: session.HandlerFunc(func(context.Context, *jsonrpc2.Request) (any, error) {
				order = append(order, "handler")
				return nil, nil
			}),
			Interceptors: shared,
		},
	}
	m.Instrument(srv)
	if len(srv.Options.Interceptors) != 2 || len(srv.Options.OutgoingInterceptors) != 1 {
		t.Fatalf("%d interceptors, %d outgoing", len(srv.Options.Interceptors), len(srv.Options.OutgoingInterceptors))
	}
	if shared[:2][1] != nil {
		t.Error("Instrument wrote into the program's slice")
	}
	addr := listen(t, srv)
	url := endpoint(t, m)
	c := dial(t, addr, nil)
	if err := c.Call(context.Background(), "a", nil, nil); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(order) != "[mine handler]" {
		t.Errorf("order %v", order)
	}
	e := scrape(t, url)
	if e.value("gorpcx_requests_total", "method", "a", "outcome", "ok") != 1 || seen != 1 {
		t.Errorf("requests %v, the program's observer saw %d", e["gorpcx_requests_total"], seen)
	}
}

// TestOutcomes calls the interceptors directly with each kind of error
// a handler, an interceptor or a peer can produce.
func TestOutcomes(t *testing.T) {
	m := mustNew(t, &gorpcxprom.Options{Methods: []string{"m"}, Codes: []int64{5}})
	url := endpoint(t, m)
	in := m.Interceptor()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	req := &session.Request{Request: &jsonrpc2.Request{Method: "m"}} // Received unset: timed from the interceptor
	for _, tc := range []struct {
		ctx     context.Context
		err     error
		outcome string
	}{
		{context.Background(), nil, "ok"},
		{context.Background(), protocol.NewError(5, "five"), "5"},
		{context.Background(), fmt.Errorf("wrapped: %w", protocol.InvalidParams("")), "-32602"},
		{context.Background(), protocol.NewError(6, "six"), "other"},
		{context.Background(), io.ErrUnexpectedEOF, "-32603"},
		{context.Background(), &session.ReplyAndDisconnect{Result: "bye"}, "ok"},
		{context.Background(), &session.ReplyAndDisconnect{Result: protocol.NewError(5, "bye")}, "5"},
		{cancelled, context.Canceled, "canceled"},
		{cancelled, nil, "ok"},
		{expired, nil, "-102"},
	} {
		_, err := in(tc.ctx, req, func(context.Context, *session.Request) (any, error) { return nil, tc.err })
		if err != tc.err {
			t.Errorf("the interceptor returned %v, not %v", err, tc.err)
		}
	}
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v", p)
			}
		}()
		in(context.Background(), req, func(context.Context, *session.Request) (any, error) { panic("boom") })
	}()

	out := m.OutgoingInterceptor()
	call := &session.OutgoingCall{Method: "m"}
	for _, err := range []error{
		nil,
		protocol.NewError(5, "five"),
		protocol.NewError(-32000, "server error"),
		&session.TimeoutError{Method: "m", After: time.Second},
		context.Canceled,
		&session.ConnectionError{Err: io.EOF},
	} {
		if got := out(context.Background(), call, func(context.Context, *session.OutgoingCall) error { return err }); got != err {
			t.Errorf("the outgoing interceptor returned %v, not %v", got, err)
		}
	}
	func() {
		defer func() { recover() }()
		out(context.Background(), call, func(context.Context, *session.OutgoingCall) error { panic("boom") })
	}()

	e := scrape(t, url)
	expect(t, e, map[string]float64{
		`gorpcx_requests_total{method="m",outcome="ok"}`:       3,
		`gorpcx_requests_total{method="m",outcome="5"}`:        2,
		`gorpcx_requests_total{method="m",outcome="-32602"}`:   1,
		`gorpcx_requests_total{method="m",outcome="other"}`:    1,
		`gorpcx_requests_total{method="m",outcome="-32603"}`:   1,
		`gorpcx_requests_total{method="m",outcome="canceled"}`: 1,
		`gorpcx_requests_total{method="m",outcome="-102"}`:     1,
		`gorpcx_requests_total{method="m",outcome="panic"}`:    1,
		`gorpcx_requests_in_flight{method="m"}`:                0,

		`gorpcx_outgoing_requests_total{method="m",outcome="ok"}`:       1,
		`gorpcx_outgoing_requests_total{method="m",outcome="5"}`:        1,
		`gorpcx_outgoing_requests_total{method="m",outcome="other"}`:    1,
		`gorpcx_outgoing_requests_total{method="m",outcome="timeout"}`:  1,
		`gorpcx_outgoing_requests_total{method="m",outcome="canceled"}`: 1,
		`gorpcx_outgoing_requests_total{method="m",outcome="failed"}`:   1,
		`gorpcx_outgoing_requests_total{method="m",outcome="panic"}`:    1,
		`gorpcx_outgoing_requests_in_flight{method="m"}`:                0,
	})
	// Outcomes that did not happen have no series.
	if e.find("gorpcx_requests_total", "outcome", "-32700") != nil {
		t.Error("a series for an outcome that never happened")
	}
}

// TestSessionEnds: the cause of a session's end, from what Wait
// returns, and an opening or closing seen twice counted once.
func TestSessionEnds(t *testing.T) {
	m := mustNew(t, nil)
	url := endpoint(t, m)
	obs := m.Observer()
	l := server.NewLocal(&session.Options{Observer: session.Observers(obs, obs)}, &session.Options{Observer: obs})
	if err := l.Client.Call(context.Background(), "x", nil, nil); err == nil {
		t.Fatal("x succeeded")
	}
	// The client closes first: the server's session ends on EOF.
	if err := l.Client.Close(); err != nil {
		t.Fatal(err)
	}
	<-l.Server.Done()
	l.Close()
	e := scrape(t, url)
	expect(t, e, map[string]float64{
		`gorpcx_sessions_opened_total`:                 1 + 1,
		`gorpcx_sessions_closed_total{cause="eof"}`:    1, // the server's: the client closed
		`gorpcx_sessions_closed_total{cause="closed"}`: 1, // the client's
		`gorpcx_sessions_open`:                         0,
		`gorpcx_messages_total{direction="received"}`:  2,
		`gorpcx_messages_total{direction="sent"}`:      2,
	})

	// Each cause, as a session's closing event carries it.
	m = mustNew(t, nil)
	obs = m.Observer()
	want := map[string]float64{}
	for _, tc := range []struct {
		err   error
		cause string
	}{
		{nil, "closed"},
		{session.ErrClosed, "closed"},
		{io.EOF, "eof"},
		{&session.ConnectionError{Err: io.EOF}, "eof"},
		{server.ErrEvicted, "evicted"},
		{session.ErrIdle, "idle"},
		{session.ErrFirstMessageTimeout, "first_message_timeout"},
		{session.ErrMessageTimeout, "message_timeout"},
		{session.ErrPingTimeout, "ping_timeout"},
		{session.ErrExcessiveCost, "excessive_cost"},
		{session.ErrSendStalled, "send_stalled"},
		{&framing.TooLargeError{Limit: 10}, "framing"},
		{errors.New("connection reset by peer"), "error"},
	} {
		a, b := net.Pipe()
		s := session.New(framing.NewStream(framing.Newline{}, a), nil)
		s.Abort()
		<-s.Done()
		b.Close()
		obs.Observe(session.Event{Kind: session.SessionOpened, Session: s})
		obs.Observe(session.Event{Kind: session.SessionClosed, Session: s, Cause: tc.err})
		want[`gorpcx_sessions_closed_total{cause="`+tc.cause+`"}`]++
	}
	expect(t, scrape(t, endpoint(t, m)), want)
}

// TestEventLabels: each event's reason maps to a bounded label.
func TestEventLabels(t *testing.T) {
	m := mustNew(t, &gorpcxprom.Options{Topics: []string{"tip"}})
	o := m.Observer()
	for _, r := range []string{"framing", "incoming bytes", "response size", "processing timeout", "something new"} {
		o.Observe(session.Event{Kind: session.LimitReached, Reason: r})
	}
	for _, r := range []string{"per-ip", "per-subnet", "full", "hook", "handshake", "a peer's text"} {
		o.Observe(session.Event{Kind: session.ConnectionRefused, Reason: r})
	}
	o.Observe(session.Event{Kind: session.NotificationDropped, Topic: "tip", Reason: "dropped"})
	o.Observe(session.Event{Kind: session.NotificationDropped, Topic: "x", Reason: "disconnected"})
	o.Observe(session.Event{Kind: session.Throttled, Value: 3})
	o.Observe(session.Event{Kind: session.CostLimit})
	o.Observe(session.Event{Kind: session.ConnectionEvicted})
	o.Observe(session.Event{Kind: session.SessionOpened}) // no session: ignored
	o.Observe(session.Event{Kind: 200})
	e := scrape(t, endpoint(t, m))
	want := map[string]float64{
		`gorpcx_pubsub_notifications_dropped_total{topic="tip",reason="dropped"}`:        1,
		`gorpcx_pubsub_notifications_dropped_total{topic="other",reason="disconnected"}`: 1,
		`gorpcx_pubsub_notifications_dropped_total{topic="tip",reason="disconnected"}`:   0,
		`gorpcx_throttling_changes_total`:                                                1,
		`gorpcx_cost_limit_disconnections_total`:                                         1,
		`gorpcx_connections_evicted_total`:                                               1,
		`gorpcx_sessions_opened_total`:                                                   0,
	}
	for _, l := range []string{"framing", "incoming_bytes", "response_size", "processing_timeout", "other"} {
		want[`gorpcx_limit_reached_total{limit="`+l+`"}`] = 1
	}
	for _, r := range []string{"per_ip", "per_subnet", "full", "hook", "handshake", "other"} {
		want[`gorpcx_connections_refused_total{reason="`+r+`"}`] = 1
	}
	expect(t, e, want)
}

// TestHub: a hub's topics, subscriptions and counters, dropped
// notifications by reason, and counters that only grow when a topic is
// forgotten and made again.
func TestHub(t *testing.T) {
	m := mustNew(t, &gorpcxprom.Options{Topics: []string{"tip", "gone"}})
	url := endpoint(t, m)
	hub, err := pubsub.NewHub(&pubsub.Options{Queue: 2, Observer: m.Observer()})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	m.Hub(hub)
	m.Hub(hub) // once is enough
	ctx := context.Background()
	if err := hub.Declare("tip", pubsub.TopicOptions{Method: "tip", Policy: pubsub.DropOldest}); err != nil {
		t.Fatal(err)
	}
	if err := hub.Declare("strict", pubsub.TopicOptions{Method: "strict", Policy: pubsub.Disconnect}); err != nil {
		t.Fatal(err)
	}
	e := scrape(t, url)
	expect(t, e, map[string]float64{
		`gorpcx_pubsub_topics`:                                2,
		`gorpcx_pubsub_subscriptions{topic="tip"}`:            0,
		`gorpcx_pubsub_subscriptions{topic="other"}`:          0, // strict
		`gorpcx_pubsub_published_total{topic="tip"}`:          0,
		`gorpcx_pubsub_subscriptions{topic="gone"}`:           -1, // not seen yet
		`gorpcx_pubsub_notifications_sent_total{topic="tip"}`: 0,
	})

	// A subscriber that never reads: its queue fills, and the policies
	// drop or disconnect.
	a, b := net.Pipe()
	defer b.Close()
	slow := session.New(framing.NewStream(framing.Newline{}, a), &session.Options{Side: session.Server, MaxWriteBuffer: 64, Observer: m.Observer()})
	defer slow.Abort()
	if _, err := hub.Subscribe(ctx, slow, "tip", nil); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		hub.Publish(ctx, "tip", []int{i})
	}
	st, _ := hub.Stats("tip")
	e = scrape(t, url)
	expect(t, e, map[string]float64{
		`gorpcx_pubsub_notifications_dropped_total{topic="tip",reason="dropped"}`: float64(st.Dropped),
		`gorpcx_pubsub_published_total{topic="tip"}`:                              50,
		`gorpcx_pubsub_subscriptions{topic="tip"}`:                                1,
		`gorpcx_pubsub_notifications_coalesced_total{topic="tip"}`:                0,
	})
	if st.Dropped == 0 {
		t.Error("nothing dropped")
	}
	if _, err := hub.Subscribe(ctx, slow, "strict", nil); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		hub.Publish(ctx, "strict", []int{i})
	}
	<-slow.Done()
	eventually(t, url, "the disconnection", func(e exposition) bool {
		return e.value("gorpcx_pubsub_notifications_dropped_total", "topic", "other", "reason", "disconnected") >= 1 &&
			e.value("gorpcx_sessions_open") == 0
	})

	// A topic made by Subscribe is forgotten with its last subscriber,
	// counters and all; its label's counters go on from where they
	// were, exactly when a scrape sees each life of the topic after its
	// last publication and a scrape falls between two lives (see the
	// package doc).
	l := server.NewLocal(nil, nil)
	defer l.Close()
	opts := &pubsub.TopicOptions{Method: "gone"}
	for round := 1; round <= 3; round++ {
		if _, err := hub.Subscribe(ctx, l.Server, "gone", opts); err != nil {
			t.Fatal(err)
		}
		hub.Publish(ctx, "gone", []int{round})
		hub.Publish(ctx, "gone", []int{round})
		e = scrape(t, url)
		if got := e.value("gorpcx_pubsub_published_total", "topic", "gone"); got != float64(2*round) {
			t.Errorf("round %d: published %v, want %d", round, got, 2*round)
		}
		if !hub.Unsubscribe(l.Server, "gone") {
			t.Fatal("not subscribed")
		}
		if _, ok := hub.Stats("gone"); ok {
			t.Fatal("the topic was kept")
		}
		scrape(t, url)
	}
	e = scrape(t, url)
	expect(t, e, map[string]float64{
		`gorpcx_pubsub_published_total{topic="gone"}`: 6,
		`gorpcx_pubsub_subscriptions{topic="gone"}`:   0,
	})
}

// TestConcurrentScrapes: scrapes while sessions open, serve and close,
// under the race detector; the totals only grow.
func TestConcurrentScrapes(t *testing.T) {
	m := mustNew(t, &gorpcxprom.Options{Methods: []string{"echo"}})
	srv := &server.Server{Options: session.Options{Handler: methods(nil)}}
	m.Instrument(srv)
	addr := listen(t, srv)
	url := endpoint(t, m)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 10 {
				c, err := server.Dial(context.Background(), "tcp", addr, nil)
				if err != nil {
					t.Error(err)
					return
				}
				for range 5 {
					if err := c.Call(context.Background(), "echo", []int{w, i}, nil); err != nil {
						t.Error(err)
					}
				}
				c.Close()
			}
		})
	}
	done := make(chan struct{})
	var scrapes sync.WaitGroup
	for range 2 {
		scrapes.Go(func() {
			last := 0.0
			for {
				select {
				case <-done:
					return
				default:
				}
				e := scrape(t, url)
				v := e.value("gorpcx_bytes_total", "direction", "received")
				if v < last {
					t.Errorf("bytes received went from %v down to %v", last, v)
				}
				last = v
			}
		})
	}
	wg.Wait()
	e := eventually(t, url, "every session closed", func(e exposition) bool {
		return e.value("gorpcx_sessions_closed_total", "cause", "eof") == 40 &&
			e.value("gorpcx_sessions_open") == 0 &&
			e.value("gorpcx_messages_total", "direction", "sent") == 200
	})
	close(done)
	scrapes.Wait()
	expect(t, e, map[string]float64{
		`gorpcx_requests_total{method="echo",outcome="ok"}`: 200,
		`gorpcx_messages_total{direction="received"}`:       200,
		`gorpcx_sessions_opened_total`:                      40,
	})
}
