package pubsub

import (
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/gorpcx/gorpcx/session"
)

// Policy is what happens when a notification is published to a
// subscriber whose queue is full.
type Policy int

const (
	// KeepLatest keeps only the newest value of the topic for each
	// subscriber: a value published while the previous one still waits
	// replaces it (counted as coalesced), whether or not the queue is
	// full; when the queue is full of other topics' notifications, the
	// oldest of them is dropped to make room. Right for a chain tip or
	// a status hash, where only the newest value matters.
	KeepLatest Policy = iota
	// DropOldest drops the oldest notification waiting for the
	// subscriber to make room (counted as dropped on its topic).
	DropOldest
	// Disconnect closes the subscriber's session (its cause is
	// ErrSlowConsumer), for topics where a gap is worse than a
	// reconnection.
	Disconnect
)

// String returns "keep-latest", "drop-oldest" or "disconnect".
func (p Policy) String() string {
	switch p {
	case KeepLatest:
		return "keep-latest"
	case DropOldest:
		return "drop-oldest"
	case Disconnect:
		return "disconnect"
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

// TopicOptions configures a topic.
type TopicOptions struct {
	// Method is the method of the notifications the subscribers get
	// (for Electrum, "blockchain.headers.subscribe"). It is required.
	Method string
	// Policy applies when a subscriber's queue is full (KeepLatest by
	// default).
	Policy Policy
}

func (o *TopicOptions) validate() error {
	if o.Method == "" {
		return fmt.Errorf("pubsub: a topic needs a Method")
	}
	if o.Policy < KeepLatest || o.Policy > Disconnect {
		return fmt.Errorf("pubsub: unknown policy %v", o.Policy)
	}
	return nil
}

// TopicStats are the counters of one topic.
type TopicStats struct {
	Topic       string
	Policy      Policy
	Subscribers int
	// Published counts the values published (here or, through the
	// broker, on other nodes); Sent the notifications written to
	// subscribers; Coalesced those replaced by a newer value before
	// they were written (KeepLatest); Dropped those dropped from a full
	// queue; Disconnected the subscribers closed for a full queue.
	Published, Sent, Coalesced, Dropped, Disconnected uint64
}

// topic is one topic: its subscriptions and counters. mu guards opts,
// subs and last; it is taken after the hub's and before a
// subscriber's.
type topic struct {
	name      string
	permanent atomic.Bool // declared: kept with no subscribers

	mu   sync.RWMutex
	opts TopicOptions
	subs []*subscription
	last *session.Prepared // the last value of a permanent topic

	published, sent, coalesced, dropped, disconnected atomic.Uint64
}

func newTopic(name string, o TopicOptions) *topic {
	return &topic{name: name, opts: o}
}

// subscription is one session's subscription to one topic.
type subscription struct {
	topic *topic
	sub   *subscriber
	index int // in topic.subs; guarded by topic.mu
	// Guarded by the subscriber's mutex: the value waiting to be
	// written (KeepLatest), and whether an entry of the queue stands
	// for it.
	latest *session.Prepared
	queued bool
}

func (t *topic) add(sc *subscription) {
	t.mu.Lock()
	sc.index = len(t.subs)
	t.subs = append(t.subs, sc)
	t.mu.Unlock()
}

// remove takes sc out and returns how many subscriptions are left.
func (t *topic) remove(sc *subscription) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	last := len(t.subs) - 1
	moved := t.subs[last]
	t.subs[sc.index] = moved
	moved.index = sc.index
	t.subs[last] = nil
	t.subs = t.subs[:last]
	return len(t.subs)
}

// lastValue returns the params last published on a permanent topic.
func (t *topic) lastValue() json.RawMessage {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.last == nil {
		return nil
	}
	return t.last.Params()
}

// publish encodes params once and queues the notification for every
// subscriber; it returns the prepared notification.
func (t *topic) publish(params any) (*session.Prepared, error) {
	t.mu.RLock()
	method, policy := t.opts.Method, t.opts.Policy
	t.mu.RUnlock()
	p, err := session.Prepare(method, params)
	if err != nil {
		return nil, err
	}
	t.published.Add(1)
	if t.permanent.Load() {
		t.mu.Lock()
		t.last = p
		t.mu.Unlock()
	}
	t.mu.RLock()
	for _, sc := range t.subs {
		sc.sub.enqueue(sc, p, policy)
	}
	t.mu.RUnlock()
	return p, nil
}

func (t *topic) stats() TopicStats {
	t.mu.RLock()
	n, policy := len(t.subs), t.opts.Policy
	t.mu.RUnlock()
	return TopicStats{
		Topic:        t.name,
		Policy:       policy,
		Subscribers:  n,
		Published:    t.published.Load(),
		Sent:         t.sent.Load(),
		Coalesced:    t.coalesced.Load(),
		Dropped:      t.dropped.Load(),
		Disconnected: t.disconnected.Load(),
	}
}
