package gorpcxprom_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/sourcegraph/jsonrpc2"

	gorpcxprom "github.com/gorpcx/gorpcx/contrib/prometheus"
	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/protocol"
	"github.com/gorpcx/gorpcx/pubsub"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// methods are the handlers of the test server, one per outcome.
func methods(release <-chan struct{}) handler.Methods {
	f := func(fn func(ctx context.Context, req *jsonrpc2.Request) (any, error)) session.Handler {
		return session.HandlerFunc(fn)
	}
	return handler.Methods{
		"echo": f(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
			if req.Params == nil {
				return nil, nil
			}
			return json.RawMessage(*req.Params), nil
		}),
		"invalid": f(func(context.Context, *jsonrpc2.Request) (any, error) { return nil, protocol.InvalidParams("") }),
		"app":     f(func(context.Context, *jsonrpc2.Request) (any, error) { return nil, protocol.NewError(1, "app error") }),
		"odd":     f(func(context.Context, *jsonrpc2.Request) (any, error) { return nil, protocol.NewError(42, "odd") }),
		"plain":   f(func(context.Context, *jsonrpc2.Request) (any, error) { return nil, errors.New("plain") }),
		"boom":    f(func(context.Context, *jsonrpc2.Request) (any, error) { panic("boom") }),
		"slow": f(func(context.Context, *jsonrpc2.Request) (any, error) {
			<-release
			return "done", nil
		}),
		"late": f(func(ctx context.Context, _ *jsonrpc2.Request) (any, error) {
			<-ctx.Done()
			return "too late", nil
		}),
		"big": f(func(context.Context, *jsonrpc2.Request) (any, error) { return strings.Repeat("x", 4096), nil }),
		"callback": f(func(ctx context.Context, _ *jsonrpc2.Request) (any, error) {
			var pong string
			err := session.FromContext(ctx).Call(ctx, "client.ping", nil, &pong)
			return pong, err
		}),
		"bye": f(func(context.Context, *jsonrpc2.Request) (any, error) {
			return nil, &session.ReplyAndDisconnect{Result: "bye"}
		}),
	}
}

var known = []string{"echo", "invalid", "app", "odd", "plain", "boom", "slow", "late", "big", "callback", "bye", "client.ping"}

// TestScrapeRequests runs a real server and client, each with Metrics of
// its own, and reads every request metric from a real scrape over HTTP.
func TestScrapeRequests(t *testing.T) {
	release := make(chan struct{})
	m := mustNew(t, &gorpcxprom.Options{Methods: known, Codes: []int64{1}})
	srv := &server.Server{Options: session.Options{
		Handler:         methods(release),
		MaxResponseSize: 1024,
	}}
	m.Instrument(srv)
	addr := listen(t, srv)
	url := endpoint(t, m)

	mc := mustNew(t, &gorpcxprom.Options{Methods: known})
	clientOpts := &session.Options{
		Handler: handler.Methods{"client.ping": session.HandlerFunc(func(context.Context, *jsonrpc2.Request) (any, error) {
			return "pong", nil
		})},
		Interceptors:         []session.Interceptor{mc.Interceptor()},
		OutgoingInterceptors: []session.OutgoingInterceptor{mc.OutgoingInterceptor()},
		Observer:             mc.Observer(),
	}
	client := dial(t, addr, clientOpts)
	curl := endpoint(t, mc)
	ctx := context.Background()

	call := func(method string, wantCode int64) {
		t.Helper()
		err := client.Call(ctx, method, []int{1}, nil)
		var je *jsonrpc2.Error
		switch {
		case wantCode == 0 && err != nil:
			t.Errorf("%s: %v", method, err)
		case wantCode != 0 && (!errors.As(err, &je) || je.Code != wantCode):
			t.Errorf("%s: %v, want code %d", method, err, wantCode)
		}
	}
	for range 3 {
		call("echo", 0)
	}
	call("invalid", protocol.CodeInvalidParams)
	call("app", 1)
	call("odd", 42)
	call("plain", protocol.CodeInternalError)
	call("boom", protocol.CodeInternalError)
	call("nope", protocol.CodeMethodNotFound)
	call("callback", 0)
	call("big", protocol.CodeInvalidRequest) // replaced at MaxResponseSize
	if err := client.Notify(ctx, "echo", nil); err != nil {
		t.Fatal(err)
	}

	// A request under way shows in flight.
	slow := make(chan error, 1)
	go func() { slow <- client.Call(ctx, "slow", nil, nil) }()
	eventually(t, url, "slow in flight", func(e exposition) bool {
		return e.value("gorpcx_requests_in_flight", "method", "slow") == 1
	})
	close(release)
	if err := <-slow; err != nil {
		t.Fatal(err)
	}

	e := eventually(t, url, "every request counted", func(e exposition) bool {
		return e.value("gorpcx_requests_total", "method", "echo", "outcome", "ok") == 4 &&
			e.value("gorpcx_requests_total", "method", "slow", "outcome", "ok") == 1
	})
	expect(t, e, map[string]float64{
		`gorpcx_requests_total{method="invalid",outcome="-32602"}`:                    1,
		`gorpcx_requests_total{method="app",outcome="1"}`:                             1,
		`gorpcx_requests_total{method="odd",outcome="other"}`:                         1,
		`gorpcx_requests_total{method="plain",outcome="-32603"}`:                      1,
		`gorpcx_requests_total{method="boom",outcome="panic"}`:                        1,
		`gorpcx_requests_total{method="other",outcome="-32601"}`:                      1,
		`gorpcx_requests_total{method="callback",outcome="ok"}`:                       1,
		`gorpcx_requests_total{method="big",outcome="ok"}`:                            1,
		`gorpcx_request_duration_seconds{method="echo",outcome="ok"}`:                 4,
		`gorpcx_requests_in_flight{method="slow"}`:                                    0,
		`gorpcx_requests_in_flight{method="other"}`:                                   0,
		`gorpcx_outgoing_requests_total{method="client.ping",outcome="ok"}`:           1,
		`gorpcx_limit_reached_total{limit="processing_timeout"}`:                      0,
		`gorpcx_limit_reached_total{limit="response_size"}`:                           1,
		`gorpcx_limit_reached_total{limit="incoming_bytes"}`:                          0,
		`gorpcx_sessions_opened_total`:                                                1,
		`gorpcx_sessions_open`:                                                        1,
		`gorpcx_server_connections{state="session"}`:                                  1,
		`gorpcx_server_connections{state="handshake"}`:                                0,
		`gorpcx_server_connections_accepted_total`:                                    1,
		`gorpcx_session_cost`:                                                         1,
		`gorpcx_connections_refused_total{reason="per_ip"}`:                           0,
		`gorpcx_outgoing_request_duration_seconds{method="client.ping",outcome="ok"}`: 1,
	})
	if e.value("gorpcx_bytes_total", "direction", "received") <= 0 || e.value("gorpcx_messages_total", "direction", "sent") <= 0 {
		t.Errorf("bytes and messages not counted: %v %v", e["gorpcx_bytes_total"], e["gorpcx_messages_total"])
	}

	// The client's side: its calls, and the server's call to it.
	ce := scrape(t, curl)
	expect(t, ce, map[string]float64{
		`gorpcx_outgoing_requests_total{method="echo",outcome="ok"}`:        4,
		`gorpcx_outgoing_requests_total{method="invalid",outcome="-32602"}`: 1,
		`gorpcx_outgoing_requests_total{method="odd",outcome="other"}`:      1,
		`gorpcx_outgoing_requests_total{method="other",outcome="-32601"}`:   1,
		`gorpcx_outgoing_requests_total{method="app",outcome="other"}`:      1, // 1 is not among the client's codes
		`gorpcx_requests_total{method="client.ping",outcome="ok"}`:          1,
		`gorpcx_sessions_open`: 1,
	})

	// When the client goes, both sides count each message once: what one
	// sent the other received.
	client.Close()
	// (A scrape is no snapshot: a counter is read a moment after the
	// set of live sessions, and the server forgets a connection a moment
	// after its session's end.)
	e = eventually(t, url, "the session closed", func(e exposition) bool {
		return e.value("gorpcx_sessions_closed_total", "cause", "eof") == 1 &&
			e.value("gorpcx_sessions_open") == 0 &&
			e.value("gorpcx_server_connections", "state", "session") == 0
	})
	ce = scrape(t, curl)
	for _, dir := range [][2]string{{"received", "sent"}, {"sent", "received"}} {
		for _, name := range []string{"gorpcx_bytes_total", "gorpcx_messages_total"} {
			if s, c := e.value(name, "direction", dir[0]), ce.value(name, "direction", dir[1]); s != c || s <= 0 {
				t.Errorf("server %s %s = %v, client %s = %v", name, dir[0], s, dir[1], c)
			}
		}
	}
	expect(t, ce, map[string]float64{
		`gorpcx_sessions_closed_total{cause="closed"}`: 1,
		`gorpcx_sessions_open`:                         0,
	})
	expect(t, e, map[string]float64{
		`gorpcx_sessions_open`:                        0,
		`gorpcx_server_connections{state="session"}`:  0,
		`gorpcx_peer_errors_total`:                    6, // invalid, app, odd, plain, boom, nope
		`gorpcx_sessions_closed_total{cause="error"}`: 0,
	})

	// A reply-and-disconnect is an ok reply, and the session ends closed.
	c2 := dial(t, addr, nil)
	var bye string
	if err := c2.Call(ctx, "bye", nil, &bye); err != nil || bye != "bye" {
		t.Fatalf("bye: %q %v", bye, err)
	}
	eventually(t, url, "bye's session closed", func(e exposition) bool {
		return e.value("gorpcx_requests_total", "method", "bye", "outcome", "ok") == 1 &&
			e.value("gorpcx_sessions_closed_total", "cause", "closed") == 1
	})
}

// TestProcessingTimeout: a request answered -102 by the processing
// timeout while its handler runs has that outcome, whatever the handler
// returns later, and a duration of at least the timeout.
func TestProcessingTimeout(t *testing.T) {
	m := mustNew(t, &gorpcxprom.Options{Methods: known})
	srv := &server.Server{Options: session.Options{Handler: methods(nil), ProcessingTimeout: 200 * time.Millisecond}}
	m.Instrument(srv)
	addr := listen(t, srv)
	url := endpoint(t, m)
	client := dial(t, addr, nil)
	var je *jsonrpc2.Error
	if err := client.Call(context.Background(), "late", nil, nil); !errors.As(err, &je) || je.Code != protocol.CodeServerBusy {
		t.Fatalf("late: %v", err)
	}
	e := eventually(t, url, "the late request", func(e exposition) bool {
		return e.value("gorpcx_requests_total", "method", "late", "outcome", "-102") == 1
	})
	expect(t, e, map[string]float64{
		`gorpcx_limit_reached_total{limit="processing_timeout"}`:        1,
		`gorpcx_request_duration_seconds{method="late",outcome="-102"}`: 1,
		`gorpcx_requests_in_flight{method="late"}`:                      0,
	})
	if h := e.find("gorpcx_request_duration_seconds", "method", "late").GetHistogram(); h.GetSampleSum() < 0.2 {
		t.Errorf("late took %vs, want ≥ 0.2", h.GetSampleSum())
	}
}

// TestCardinality: a peer calling 10,000 distinct unknown methods, and
// subscribing to 1,000 distinct topics, adds no series.
func TestCardinality(t *testing.T) {
	m := mustNew(t, &gorpcxprom.Options{Methods: []string{"echo", "subscribe"}, Topics: []string{"tip"}})
	hub, err := pubsub.NewHub(&pubsub.Options{Observer: m.Observer(), MaxPerSession: -1, MaxTotal: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	m.Hub(hub)
	h := methods(nil)
	h["subscribe"] = handler.MustFunc(func(ctx context.Context, topic string) (any, error) {
		return hub.Subscribe(ctx, session.FromContext(ctx), topic, &pubsub.TopicOptions{Method: "note"})
	})
	// Each unknown method costs the peer an error: no cost limit here.
	srv := &server.Server{Options: session.Options{Handler: h, Cost: &session.Cost{}}}
	m.Instrument(srv)
	addr := listen(t, srv)
	url := endpoint(t, m)
	client := dial(t, addr, nil)
	ctx := context.Background()

	round := func(prefix string, calls, topics int) {
		t.Helper()
		for i := range calls {
			if err := client.Notify(ctx, fmt.Sprintf("%s-%d", prefix, i), nil); err != nil {
				t.Fatal(err)
			}
		}
		for i := range topics {
			if err := client.Call(ctx, "subscribe", []string{fmt.Sprintf("%s-topic-%d", prefix, i)}, nil); err != nil {
				t.Fatal(err)
			}
			if err := hub.Publish(ctx, fmt.Sprintf("%s-topic-%d", prefix, i), []int{i}); err != nil {
				t.Fatal(err)
			}
		}
		// A call answered after the notifications: they have been served.
		if err := client.Call(ctx, "echo", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	round("first", 1, 1)
	before := eventually(t, url, "the first round", func(e exposition) bool {
		return e.value("gorpcx_requests_total", "method", "other", "outcome", "-32601") == 1 &&
			e.value("gorpcx_pubsub_notifications_sent_total", "topic", "other") == 1
	})
	round("second", 10000, 1000)
	after := eventually(t, url, "the second round", func(e exposition) bool {
		return e.value("gorpcx_requests_total", "method", "other", "outcome", "-32601") == 10001 &&
			e.value("gorpcx_pubsub_notifications_sent_total", "topic", "other") == 1001
	})
	if b, a := before.series("gorpcx_"), after.series("gorpcx_"); a != b {
		t.Errorf("series: %d before, %d after 10,000 unknown methods and 1,000 topics", b, a)
	}
	expect(t, after, map[string]float64{
		`gorpcx_pubsub_subscriptions{topic="other"}`:             1001,
		`gorpcx_pubsub_published_total{topic="other"}`:           1001,
		`gorpcx_pubsub_topics`:                                   1001,
		`gorpcx_requests_total{method="subscribe",outcome="ok"}`: 1001,
	})
	for _, label := range []string{"method", "topic"} {
		for v := range after.labelValues("gorpcx_", label) {
			if strings.Contains(v, "first") || strings.Contains(v, "second") {
				t.Errorf("a peer's %s %q is a label value", label, v)
			}
		}
	}
}

// TestRefusalsAndEviction: connections refused per IP, and one evicted at
// the session limit, by reason, from the server's events.
func TestRefusalsAndEviction(t *testing.T) {
	m := mustNew(t, &gorpcxprom.Options{Methods: []string{"echo"}})
	url := endpoint(t, m)
	ctx := context.Background()

	// Loopback is exempt by default; here it is a peer like any other.
	perIP := &server.Server{
		Peers:   server.PeerGroups{PerIP: 1, Exempt: []netip.Prefix{}},
		Options: session.Options{Handler: methods(nil)},
	}
	m.Instrument(perIP)
	addr := listen(t, perIP)
	first := dial(t, addr, nil)
	if err := first.Call(ctx, "echo", nil, nil); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		c := dial(t, addr, nil)
		if err := c.Call(ctx, "echo", nil, nil); err == nil {
			t.Error("a second connection of the IP was served")
		}
	}
	e := eventually(t, url, "two refusals", func(e exposition) bool {
		return e.value("gorpcx_connections_refused_total", "reason", "per_ip") == 2
	})
	expect(t, e, map[string]float64{
		`gorpcx_connections_refused_total{reason="per_subnet"}`: 0,
		`gorpcx_sessions_opened_total`:                          1,
		`gorpcx_server_peer_groups{kind="ip"}`:                  1,
		`gorpcx_server_peer_groups{kind="subnet"}`:              1,
		`gorpcx_server_peer_group_cost{kind="ip"}`:              1,
	})

	// At MaxSessions 1, a new connection evicts the one held.
	full := &server.Server{MaxSessions: 1, Options: session.Options{Handler: methods(nil)}}
	m.Instrument(full)
	addr = listen(t, full)
	old := dial(t, addr, nil)
	if err := old.Call(ctx, "echo", nil, nil); err != nil {
		t.Fatal(err)
	}
	newer := dial(t, addr, nil)
	if err := newer.Call(ctx, "echo", nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := old.Wait(); err == nil {
		t.Error("the old session was not closed")
	}
	e = eventually(t, url, "the eviction", func(e exposition) bool {
		return e.value("gorpcx_connections_evicted_total") == 1 &&
			e.value("gorpcx_sessions_closed_total", "cause", "evicted") == 1 &&
			e.value("gorpcx_sessions_open") == 2
	})
	// Two servers watched: their figures are added up.
	expect(t, e, map[string]float64{
		`gorpcx_server_connections{state="session"}`: 2,
		`gorpcx_server_connections_accepted_total`:   3, // refused ones are not admitted
		`gorpcx_sessions_open`:                       2,
	})
}

// TestCostLimit: throttling changes and the disconnection at the hard
// limit.
func TestCostLimit(t *testing.T) {
	m := mustNew(t, &gorpcxprom.Options{Methods: []string{"invalid"}})
	srv := &server.Server{Options: session.Options{
		Handler: methods(nil),
		Cost:    &session.Cost{SoftLimit: 100, HardLimit: 1000, ErrorBase: 150, MaxSleep: time.Millisecond},
	}}
	m.Instrument(srv)
	addr := listen(t, srv)
	url := endpoint(t, m)
	c := dial(t, addr, nil)
	for range 20 {
		if err := c.Call(context.Background(), "invalid", nil, nil); err == nil {
			t.Fatal("invalid succeeded")
		}
		select {
		case <-c.Done():
		default:
			continue
		}
		break
	}
	e := eventually(t, url, "the cost limit", func(e exposition) bool {
		return e.value("gorpcx_cost_limit_disconnections_total") == 1 &&
			e.value("gorpcx_sessions_closed_total", "cause", "excessive_cost") == 1
	})
	if e.value("gorpcx_throttling_changes_total") < 1 {
		t.Errorf("no throttling change counted")
	}
	// The request refused -101 at the hard limit never reached the
	// handler, nor the interceptor.
	if v := e.value("gorpcx_requests_total", "method", "invalid", "outcome", "-101"); v != -1 {
		t.Errorf("a -101 outcome counted: %v", v)
	}
}

// TestLint: the metric names and help texts pass promlint.
func TestLint(t *testing.T) {
	m := mustNew(t, nil)
	hub, err := pubsub.NewHub(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	m.Hub(hub)
	srv := &server.Server{}
	m.Instrument(srv)
	listen(t, srv)
	mfs, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}
