package session

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/gorpcx/gorpcx/framing"
)

// eventLog is an Observer that keeps the events.
type eventLog struct {
	mu     sync.Mutex
	events []Event
}

func (r *eventLog) Observe(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *eventLog) kinds() []EventKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ks []EventKind
	for _, e := range r.events {
		ks = append(ks, e.Kind)
	}
	return ks
}

func (r *eventLog) find(k EventKind) (Event, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.Kind == k {
			return e, true
		}
	}
	return Event{}, false
}

func TestEventsOfASession(t *testing.T) {
	rec := &eventLog{}
	cost := Cost{SoftLimit: 100, HardLimit: 1000, ErrorBase: 150, MaxSleep: time.Millisecond}
	a, b := net.Pipe()
	srv := New(framing.NewStream(framing.Newline{Max: 200}, a), &Options{
		Handler: echoMethod, Observer: rec, Peer: "peer-1", Cost: &cost, MaxResponseSize: 80,
	})
	defer srv.Abort()
	cli := New(framing.NewStream(framing.Newline{}, b), &Options{Side: Client})
	defer cli.Abort()
	if e, ok := rec.find(SessionOpened); !ok || e.Session != srv || e.Peer != "peer-1" {
		t.Fatalf("no SessionOpened event: %v", rec.kinds())
	}
	// Over the framer's limit: dropped by the framing.
	if err := cli.Notify(context.Background(), "x", []string{strings.Repeat("a", 300)}); err != nil {
		t.Fatal(err)
	}
	// A reply over MaxResponseSize.
	cli.Call(context.Background(), "echo", []string{strings.Repeat("b", 60)}, nil)
	waitFor(t, "the limit events", func() bool {
		n := 0
		for _, k := range rec.kinds() {
			if k == LimitReached {
				n++
			}
		}
		return n >= 2
	})
	var reasons []string
	rec.mu.Lock()
	for _, e := range rec.events {
		if e.Kind == LimitReached {
			reasons = append(reasons, e.Reason)
		}
	}
	rec.mu.Unlock()
	if !strings.Contains(strings.Join(reasons, ","), "framing") || !strings.Contains(strings.Join(reasons, ","), "response size") {
		t.Errorf("limit reasons %v", reasons)
	}
	// The errors' cost passes the soft limit: throttled.
	waitFor(t, "a Throttled event", func() bool { _, ok := rec.find(Throttled); return ok })
	cli.Abort()
	srv.Wait()
	e, ok := rec.find(SessionClosed)
	if !ok || e.Cause == nil {
		t.Fatalf("SessionClosed %+v, %v", e, ok)
	}
}

func TestCostLimitEvent(t *testing.T) {
	rec := &eventLog{}
	cost := Cost{SoftLimit: 100, HardLimit: 200, ErrorBase: 150, MaxSleep: time.Millisecond}
	// Bad messages until the hard limit closes the session.
	a, b := net.Pipe()
	s := New(framing.NewStream(framing.Newline{}, a), &Options{Observer: rec, Cost: &cost})
	defer s.Abort()
	go func() {
		for range 5 {
			if _, err := b.Write([]byte("garbage\n")); err != nil {
				return
			}
		}
	}()
	go func() {
		buf := make([]byte, 512)
		for {
			if _, err := b.Read(buf); err != nil {
				return
			}
		}
	}()
	s.Wait()
	b.Close()
	if e, ok := rec.find(CostLimit); !ok || !errors.Is(e.Cause, ErrExcessiveCost) {
		t.Errorf("no CostLimit event: %v", rec.kinds())
	}
}

func TestLogEventsAndObservers(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	rec := &eventLog{}
	o := Observers(nil, LogEvents(zap.New(core)), rec)
	o.Observe(Event{Kind: SessionClosed, Peer: "p", Cause: errors.New("gone")})
	o.Observe(Event{Kind: Throttled, Value: 5, Cost: 3000})
	o.Observe(Event{Kind: NotificationDropped, Topic: "tip", Reason: "dropped"})
	if got := logs.Len(); got != 3 {
		t.Fatalf("%d lines logged", got)
	}
	if l := logs.All()[0]; l.Message != "session closed" || l.Level != zap.InfoLevel || l.ContextMap()["peer"] != "p" {
		t.Errorf("first line %+v", l)
	}
	if n := len(rec.kinds()); n != 3 {
		t.Errorf("the second observer got %d events", n)
	}
	if Observers() != nil || Observers(nil) != nil {
		t.Error("Observers of none is not nil")
	}
	if Observers(rec) != Observer(rec) {
		t.Error("Observers of one is not that one")
	}
	if EventKind(99).String() != "event" || ConnectionEvicted.String() != "connection evicted" {
		t.Error("EventKind names")
	}
}
