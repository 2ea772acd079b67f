package pubsub

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/goleak"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/session"
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(fanOutChild); spec != "" {
		runFanOutChild(spec)
		return
	}
	goleak.VerifyTestMain(m)
}

// note is one notification a client received.
type note struct {
	Method string
	Params string
}

// inbox collects the notifications a client session receives.
type inbox struct {
	mu    sync.Mutex
	notes []note
	more  chan struct{}
}

func newInbox() *inbox { return &inbox{more: make(chan struct{}, 1)} }

func (b *inbox) Handle(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	var p string
	if req.Params != nil {
		p = string(*req.Params)
	}
	b.mu.Lock()
	b.notes = append(b.notes, note{req.Method, p})
	b.mu.Unlock()
	select {
	case b.more <- struct{}{}:
	default:
	}
	return nil, nil
}

func (b *inbox) got() []note {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]note(nil), b.notes...)
}

// waitFor waits until the inbox holds n notifications.
func (b *inbox) waitFor(t *testing.T, n int) []note {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if got := b.got(); len(got) >= n {
			return got
		}
		select {
		case <-b.more:
		case <-deadline:
			t.Fatalf("got %d notifications, want %d: %v", len(b.got()), n, b.got())
		}
	}
}

// pair is a server session (to subscribe) and the client that
// receives its notifications, over net.Pipe.
type pair struct {
	server *session.Session
	client *session.Session
	inbox  *inbox
}

func newPair(t *testing.T, serverOpts *session.Options) *pair {
	t.Helper()
	a, b := net.Pipe()
	var so session.Options
	if serverOpts != nil {
		so = *serverOpts
	}
	so.Side = session.Server
	in := newInbox()
	p := &pair{
		server: session.New(framing.NewStream(framing.Newline{}, a), &so),
		client: session.New(framing.NewStream(framing.Newline{}, b), &session.Options{Side: session.Client, Handler: in}),
		inbox:  in,
	}
	t.Cleanup(func() {
		p.client.Abort()
		p.server.Abort()
	})
	return p
}

func newHub(t *testing.T, o *Options) *Hub {
	t.Helper()
	h, err := NewHub(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

var tip = TopicOptions{Method: "blockchain.headers.subscribe"}

func TestSubscribeReturnsLastValueAndDelivers(t *testing.T) {
	h := newHub(t, nil)
	if err := h.Declare("headers", tip); err != nil {
		t.Fatal(err)
	}
	if err := h.Publish(context.Background(), "headers", []any{map[string]any{"height": 10}}); err != nil {
		t.Fatal(err)
	}
	p := newPair(t, nil)
	last, err := h.Subscribe(context.Background(), p.server, "headers", nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(last) != `[{"height":10}]` {
		t.Errorf("initial value %s", last)
	}
	if err := h.Publish(context.Background(), "headers", json.RawMessage(`[{"height":11}]`)); err != nil {
		t.Fatal(err)
	}
	got := p.inbox.waitFor(t, 1)
	want := []note{{"blockchain.headers.subscribe", `[{"height":11}]`}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("notifications (-want +got):\n%s", diff)
	}
	// Sent counts once the write has been queued, which may follow the
	// peer's reading by a moment.
	waitUntil(t, "the send to count", func() bool { st, _ := h.Stats("headers"); return st.Sent == 1 })
	st, ok := h.Stats("headers")
	if !ok || st.Published != 2 || st.Sent != 1 || st.Subscribers != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestUnknownTopicAndBadOptions(t *testing.T) {
	h := newHub(t, nil)
	p := newPair(t, nil)
	if _, err := h.Subscribe(context.Background(), p.server, "nope", nil); !errors.Is(err, ErrUnknownTopic) {
		t.Errorf("undeclared topic without options: %v", err)
	}
	if _, err := h.Subscribe(context.Background(), p.server, "x", &TopicOptions{}); err == nil {
		t.Error("a topic without a method was accepted")
	}
	if err := h.Declare("x", TopicOptions{Method: "m", Policy: Policy(9)}); err == nil {
		t.Error("an unknown policy was accepted")
	}
	if err := h.Publish(context.Background(), "x", 5); err != nil {
		t.Errorf("publishing to a topic nobody has: %v", err)
	}
	if err := h.Declare("y", TopicOptions{Method: "m"}); err != nil {
		t.Fatal(err)
	}
	if err := h.Publish(context.Background(), "y", 5); err == nil {
		t.Error("params that are not an array or an object were published")
	}
}

// A session that ends is removed from every topic with no action from
// the program, and a topic made by Subscribe goes with its last
// subscriber.
func TestSessionEndUnsubscribes(t *testing.T) {
	h := newHub(t, nil)
	if err := h.Declare("headers", tip); err != nil {
		t.Fatal(err)
	}
	p := newPair(t, nil)
	hash := TopicOptions{Method: "blockchain.scripthash.subscribe"}
	for _, topic := range []string{"headers", "sh1", "sh2"} {
		if _, err := h.Subscribe(context.Background(), p.server, topic, &hash); err != nil {
			t.Fatal(err)
		}
	}
	// Subscribing again changes nothing.
	if _, err := h.Subscribe(context.Background(), p.server, "sh1", &hash); err != nil {
		t.Fatal(err)
	}
	if n := h.Subscriptions(p.server); n != 3 {
		t.Fatalf("Subscriptions = %d, want 3", n)
	}
	p.client.Abort()
	p.server.Wait()
	waitUntil(t, "the subscriptions to go", func() bool { return h.Subscriptions(p.server) == 0 })
	topics := h.Topics()
	if len(topics) != 1 || topics[0].Topic != "headers" || topics[0].Subscribers != 0 {
		t.Errorf("topics after the session ended: %+v", topics)
	}
	// Subscribing an ended session is refused.
	if _, err := h.Subscribe(context.Background(), p.server, "headers", nil); err == nil {
		t.Error("an ended session was subscribed")
	}
}

func TestUnsubscribe(t *testing.T) {
	h := newHub(t, nil)
	p := newPair(t, nil)
	if _, err := h.Subscribe(context.Background(), p.server, "a", &tip); err != nil {
		t.Fatal(err)
	}
	if !h.Unsubscribe(p.server, "a") {
		t.Error("Unsubscribe of a subscription said there was none")
	}
	if h.Unsubscribe(p.server, "a") || h.Unsubscribe(p.client, "a") {
		t.Error("Unsubscribe of nothing said there was something")
	}
	if _, ok := h.Stats("a"); ok {
		t.Error("a topic made by Subscribe outlived its last subscriber")
	}
	h.Publish(context.Background(), "a", []int{1})
	time.Sleep(20 * time.Millisecond)
	if got := p.inbox.got(); len(got) != 0 {
		t.Errorf("got %v after unsubscribing", got)
	}
}

func TestKeepLatestCoalescesForSlowConsumer(t *testing.T) {
	h := newHub(t, &Options{Queue: 2})
	if err := h.Declare("tip", tip); err != nil {
		t.Fatal(err)
	}
	a, b := net.Pipe()
	srv := session.New(framing.NewStream(framing.Newline{}, a), &session.Options{Side: session.Server, MaxWriteBuffer: 64})
	defer srv.Abort()
	if _, err := h.Subscribe(context.Background(), srv, "tip", nil); err != nil {
		t.Fatal(err)
	}
	// Nobody reads b yet: the first notification fills the pipe, the
	// next ones the write backlog, then the hub's queue.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 500 {
			if err := h.Publish(context.Background(), "tip", []int{i}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Publish waited for a subscriber that does not read")
	}
	st, _ := h.Stats("tip")
	if st.Coalesced == 0 {
		t.Fatalf("nothing coalesced: %+v", st)
	}
	// Now read: the last notification is the newest value.
	r := framing.Newline{}.NewReader(b)
	var last string
	for {
		b.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		msg, err := r.ReadMessage()
		if err != nil {
			break
		}
		last = string(msg)
	}
	if want := `{"jsonrpc":"2.0","method":"blockchain.headers.subscribe","params":[499]}`; last != want {
		t.Errorf("last notification %s, want %s", last, want)
	}
	st, _ = h.Stats("tip")
	if st.Sent+st.Coalesced+st.Dropped != 500 {
		t.Errorf("sent %d + coalesced %d + dropped %d != 500 published", st.Sent, st.Coalesced, st.Dropped)
	}
	b.Close()
}

func TestDropOldestAndDisconnect(t *testing.T) {
	for _, policy := range []Policy{DropOldest, Disconnect} {
		t.Run(policy.String(), func(t *testing.T) {
			h := newHub(t, &Options{Queue: 4})
			if err := h.Declare("t", TopicOptions{Method: "m", Policy: policy}); err != nil {
				t.Fatal(err)
			}
			a, b := net.Pipe()
			defer b.Close()
			srv := session.New(framing.NewStream(framing.Newline{}, a), &session.Options{Side: session.Server, MaxWriteBuffer: 64})
			defer srv.Abort()
			if _, err := h.Subscribe(context.Background(), srv, "t", nil); err != nil {
				t.Fatal(err)
			}
			for i := range 200 {
				if err := h.Publish(context.Background(), "t", []int{i}); err != nil {
					t.Fatal(err)
				}
			}
			st, _ := h.Stats("t")
			switch policy {
			case DropOldest:
				if st.Dropped == 0 || st.Disconnected != 0 {
					t.Errorf("stats %+v, want drops and no disconnection", st)
				}
			case Disconnect:
				select {
				case <-srv.Done():
				case <-time.After(10 * time.Second):
					t.Fatal("a slow subscriber of a Disconnect topic is still connected")
				}
				if !errors.Is(srv.Err(), ErrSlowConsumer) {
					t.Errorf("cause %v, want ErrSlowConsumer", srv.Err())
				}
				if st.Disconnected != 1 {
					t.Errorf("stats %+v, want one disconnection", st)
				}
				waitUntil(t, "the subscription to go", func() bool { return h.Subscriptions(srv) == 0 })
			}
		})
	}
}

func TestLimits(t *testing.T) {
	group := func(s *session.Session) string { return s.Peer() }
	h := newHub(t, &Options{MaxPerSession: 2, MaxPerGroup: 3, MaxTotal: 4, Group: group})
	one := newPair(t, &session.Options{Peer: "10.0.0.1"})
	two := newPair(t, &session.Options{Peer: "10.0.0.1"})
	three := newPair(t, &session.Options{Peer: "10.0.0.2"})
	sub := func(p *pair, topic string) error {
		_, err := h.Subscribe(context.Background(), p.server, topic, &tip)
		return err
	}
	for _, c := range []struct {
		p     *pair
		topic string
		scope string // "" for none
	}{
		{one, "a", ""}, {one, "b", ""}, {one, "c", "session"},
		{two, "a", ""}, {two, "b", "group"},
		{three, "a", ""}, {three, "b", "hub"},
	} {
		err := sub(c.p, c.topic)
		var le *LimitError
		switch {
		case c.scope == "" && err != nil:
			t.Errorf("%s: %v", c.topic, err)
		case c.scope != "" && (!errors.As(err, &le) || le.Scope != c.scope):
			t.Errorf("%s: %v, want the %s limit", c.topic, err, c.scope)
		}
	}
	// The error is a JSON-RPC error object for the peer.
	var rpcErr *jsonrpc2.Error
	if err := sub(one, "z"); !errors.As(err, &rpcErr) || rpcErr.Code != CodeTooManySubscriptions {
		t.Errorf("%v does not carry a JSON-RPC error", err)
	}
	// Room again once a session goes.
	one.client.Abort()
	one.server.Wait()
	waitUntil(t, "the room to come back", func() bool { return sub(three, "b") == nil })
}

// A handler that subscribes past a limit answers the peer with the
// limit's JSON-RPC error.
func TestLimitErrorReachesThePeer(t *testing.T) {
	h := newHub(t, &Options{MaxPerSession: 1})
	handler := session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		return h.Subscribe(context.Background(), session.FromContext(ctx), req.Method, &tip)
	})
	p := newPair(t, &session.Options{Handler: handler})
	if err := p.client.Call(context.Background(), "a", nil, nil); err != nil {
		t.Fatal(err)
	}
	err := p.client.Call(context.Background(), "b", nil, nil)
	var rpcErr *jsonrpc2.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != CodeTooManySubscriptions || rpcErr.Message != "too many subscriptions: at most 1 per session" {
		t.Errorf("got %v", err)
	}
}

// Hubs joined by a broker deliver one publication to the subscribers of
// every node, exactly once, and a node's own publication is not echoed
// back to it.
func TestFleetThroughLoopback(t *testing.T) {
	fleet := NewLoopback()
	var hubs []*Hub
	var pairs []*pair
	for range 3 {
		h := newHub(t, &Options{Broker: fleet.Broker()})
		if err := h.Declare("tip", tip); err != nil {
			t.Fatal(err)
		}
		p := newPair(t, nil)
		if _, err := h.Subscribe(context.Background(), p.server, "tip", nil); err != nil {
			t.Fatal(err)
		}
		hubs, pairs = append(hubs, h), append(pairs, p)
	}
	if err := hubs[0].Publish(context.Background(), "tip", []int{7}); err != nil {
		t.Fatal(err)
	}
	for i, p := range pairs {
		p.inbox.waitFor(t, 1)
		time.Sleep(20 * time.Millisecond)
		if got := p.inbox.got(); len(got) != 1 || got[0].Params != "[7]" {
			t.Errorf("node %d got %v, want [7] once", i, got)
		}
	}
	for i, h := range hubs {
		if st, _ := h.Stats("tip"); st.Published != 1 {
			t.Errorf("node %d: Published = %d, want 1", i, st.Published)
		}
	}
	// A closed hub publishes nothing.
	hubs[2].Close()
	if err := hubs[2].Publish(context.Background(), "tip", []int{8}); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish on a closed hub: %v", err)
	}
}

// Publishing, subscribing and sessions ending at once, under the race
// detector: every subscriber that stays gets the last value.
func TestConcurrentPublishAndChurn(t *testing.T) {
	h := newHub(t, nil)
	if err := h.Declare("tip", tip); err != nil {
		t.Fatal(err)
	}
	stay := newPair(t, nil)
	if _, err := h.Subscribe(context.Background(), stay.server, "tip", nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				p := newPair(t, nil)
				h.Subscribe(context.Background(), p.server, "tip", nil)
				h.Subscribe(context.Background(), p.server, "other", &tip)
				p.client.Abort()
			}
		}()
	}
	for i := range 200 {
		if err := h.Publish(context.Background(), "tip", []int{i}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	waitUntil(t, "the last value", func() bool {
		got := stay.inbox.got()
		return len(got) > 0 && got[len(got)-1].Params == "[199]"
	})
}

func TestPolicyString(t *testing.T) {
	for p, want := range map[Policy]string{KeepLatest: "keep-latest", DropOldest: "drop-oldest", Disconnect: "disconnect", Policy(5): "Policy(5)"} {
		if got := p.String(); got != want {
			t.Errorf("%d: %q", int(p), got)
		}
	}
}

// Regression: a value published while the subscribe handler still ran
// reached the peer before the handler's reply, which carries the older
// value (Electrum then keeps the stale tip).
func TestNotificationNeverOvertakesTheSubscribeReply(t *testing.T) {
	h := newHub(t, nil)
	if err := h.Declare("tip", tip); err != nil {
		t.Fatal(err)
	}
	h.Publish(context.Background(), "tip", []int{1})
	handler := session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		last, err := h.Subscribe(ctx, session.FromContext(ctx), "tip", nil)
		if err != nil {
			return nil, err
		}
		// A block arrives before the reply is written.
		h.Publish(ctx, "tip", []int{2})
		time.Sleep(20 * time.Millisecond)
		return last, nil
	})
	a, b := net.Pipe()
	defer b.Close()
	srv := session.New(framing.NewStream(framing.Newline{}, a), &session.Options{Side: session.Server, Handler: handler})
	defer srv.Abort()
	go b.Write([]byte(`{"jsonrpc":"2.0","method":"subscribe","id":1}` + "\n"))
	r := framing.Newline{}.NewReader(b)
	var got []string
	for range 2 {
		b.SetReadDeadline(time.Now().Add(5 * time.Second))
		msg, err := r.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(msg))
	}
	want := []string{
		`{"jsonrpc":"2.0","result":[1],"id":1}`,
		`{"jsonrpc":"2.0","method":"blockchain.headers.subscribe","params":[2]}`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order on the wire (-want +got):\n%s", diff)
	}
}

// Options.Remote sees what other nodes publish and may deliver it
// itself, with PublishLocal, which does not go back to the fleet.
func TestRemoteHookAndPublishLocal(t *testing.T) {
	fleet := NewLoopback()
	a := newHub(t, &Options{Broker: fleet.Broker()})
	var seen []string
	var b *Hub
	b = newHub(t, &Options{Broker: fleet.Broker(), Remote: func(m Message) bool {
		seen = append(seen, string(m.Params))
		b.PublishLocal(m.Topic, json.RawMessage(`[{"appended":true}]`))
		return false
	}})
	c := newHub(t, &Options{Broker: fleet.Broker()})
	for _, h := range []*Hub{a, b, c} {
		if err := h.Declare("tip", tip); err != nil {
			t.Fatal(err)
		}
	}
	pb, pc := newPair(t, nil), newPair(t, nil)
	b.Subscribe(context.Background(), pb.server, "tip", nil)
	c.Subscribe(context.Background(), pc.server, "tip", nil)
	if err := a.Publish(context.Background(), "tip", []int{5}); err != nil {
		t.Fatal(err)
	}
	if got := pb.inbox.waitFor(t, 1); got[0].Params != `[{"appended":true}]` {
		t.Errorf("node b delivered %v, want what its hook published", got)
	}
	if got := pc.inbox.waitFor(t, 1); got[0].Params != "[5]" {
		t.Errorf("node c delivered %v", got)
	}
	if len(seen) != 1 || seen[0] != "[5]" {
		t.Errorf("the hook saw %v", seen)
	}
	time.Sleep(20 * time.Millisecond)
	if n := len(pc.inbox.got()); n != 1 {
		t.Errorf("PublishLocal reached the fleet: node c got %d notifications", n)
	}
	if err := b.PublishLocal("nobody", []int{1}); err != nil {
		t.Errorf("PublishLocal to a topic nobody has: %v", err)
	}
	b.Close()
	if err := b.PublishLocal("tip", []int{1}); !errors.Is(err, ErrClosed) {
		t.Errorf("PublishLocal on a closed hub: %v", err)
	}
}

// What a subscriber is sent is charged to its session's cost, like
// every byte a session sends.
func TestSubscriberChargedForWhatItIsSent(t *testing.T) {
	h := newHub(t, nil)
	if err := h.Declare("tip", tip); err != nil {
		t.Fatal(err)
	}
	cost := session.Cost{SoftLimit: 1e9, HardLimit: 2e9, PerByte: 1, ErrorBase: 100}
	p := newPair(t, &session.Options{Cost: &cost})
	if _, err := h.Subscribe(context.Background(), p.server, "tip", nil); err != nil {
		t.Fatal(err)
	}
	before := p.server.Cost()
	h.Publish(context.Background(), "tip", []int{1, 2, 3})
	p.inbox.waitFor(t, 1)
	const wire = len(`{"jsonrpc":"2.0","method":"blockchain.headers.subscribe","params":[1,2,3]}`)
	waitUntil(t, "the cost to be charged", func() bool { return p.server.Cost()-before >= float64(wire) })
}

func TestDroppedNotificationEvents(t *testing.T) {
	var mu sync.Mutex
	var reasons []string
	obs := session.ObserverFunc(func(e session.Event) {
		if e.Kind == session.NotificationDropped && e.Topic == "t" {
			mu.Lock()
			reasons = append(reasons, e.Reason)
			mu.Unlock()
		}
	})
	h := newHub(t, &Options{Queue: 2, Observer: obs})
	if err := h.Declare("t", TopicOptions{Method: "m", Policy: DropOldest}); err != nil {
		t.Fatal(err)
	}
	a, b := net.Pipe()
	defer b.Close()
	srv := session.New(framing.NewStream(framing.Newline{}, a), &session.Options{Side: session.Server, MaxWriteBuffer: 64})
	defer srv.Abort()
	h.Subscribe(context.Background(), srv, "t", nil)
	for i := range 50 {
		h.Publish(context.Background(), "t", []int{i})
	}
	st, _ := h.Stats("t")
	mu.Lock()
	defer mu.Unlock()
	if st.Dropped == 0 || uint64(len(reasons)) != st.Dropped || reasons[0] != "dropped" {
		t.Errorf("%d drop events for %d dropped: %v", len(reasons), st.Dropped, reasons)
	}
}
