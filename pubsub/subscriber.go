package pubsub

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/gorpcx/gorpcx/session"
)

// ErrSlowConsumer is the cause a session ends with (session.Session.Err)
// when its queue of notifications was full for a topic whose policy is
// Disconnect.
var ErrSlowConsumer = errors.New("pubsub: subscriber too slow: notification queue full")

// entry is one notification waiting for a subscriber: p, or for a
// KeepLatest subscription (p nil), the subscription's latest value.
type entry struct {
	sc *subscription
	p  *session.Prepared
}

// subscriber is one session's side of the hub: its subscriptions and
// its bounded queue of notifications waiting to be written, which a
// goroutine of its own writes while the queue is not empty. mu guards
// everything but the fields set at creation; it is taken last.
type subscriber struct {
	hub   *Hub
	s     *session.Session
	group string // set at creation

	mu      sync.Mutex
	subs    map[string]*subscription
	ring    []entry // the queue: n entries from head, at most hub.queue
	head, n int
	pumping bool // a goroutine is writing the queue
	closed  bool
	// holds counts subscribe requests whose reply is not yet queued:
	// until then the queue is not written, so that no notification
	// overtakes the reply (see session.AfterReply).
	holds int
}

func newSubscriber(h *Hub, s *session.Session) *subscriber {
	return &subscriber{hub: h, s: s, subs: make(map[string]*subscription)}
}

// enqueue queues p for sc under policy, or applies the policy when the
// queue is full. It never waits for the session.
func (b *subscriber) enqueue(sc *subscription, p *session.Prepared, policy Policy) {
	t := sc.topic
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	if policy == KeepLatest && sc.queued {
		sc.latest = p
		b.mu.Unlock()
		t.coalesced.Add(1)
		return
	}
	if b.n == b.hub.queue {
		if policy == Disconnect {
			b.closeLocked()
			b.mu.Unlock()
			t.disconnected.Add(1)
			t.dropped.Add(1)
			b.dropped(t, "disconnected")
			b.s.AbortWith(ErrSlowConsumer)
			return
		}
		old := b.popLocked()
		old.sc.topic.dropped.Add(1)
		b.dropped(old.sc.topic, "dropped")
	}
	e := entry{sc: sc, p: p}
	if policy == KeepLatest {
		sc.latest, sc.queued = p, true
		e.p = nil
	}
	b.pushLocked(e)
	start := !b.pumping && b.holds == 0
	if start {
		b.pumping = true
	}
	b.mu.Unlock()
	if start {
		go b.pump()
	}
}

// hold stops the queue from being written until release.
func (b *subscriber) hold() {
	b.mu.Lock()
	b.holds++
	b.mu.Unlock()
}

// release ends a hold, and starts writing what queued meanwhile.
func (b *subscriber) release() {
	b.mu.Lock()
	b.holds--
	start := b.holds == 0 && b.n > 0 && !b.pumping && !b.closed
	if start {
		b.pumping = true
	}
	b.mu.Unlock()
	if start {
		go b.pump()
	}
}

// minRing is the ring's first size; it doubles as needed, up to the
// hub's Queue, and is let go when the queue empties, so that an idle
// subscriber holds no ring.
const minRing = 4

// dropped tells the hub's Observer of a notification dropped.
func (b *subscriber) dropped(t *topic, reason string) {
	if o := b.hub.observer; o != nil {
		o.Observe(session.Event{Kind: session.NotificationDropped, Time: time.Now(), Session: b.s, Peer: b.s.Peer(), Topic: t.name, Reason: reason})
	}
}

func (b *subscriber) pushLocked(e entry) {
	if b.n == len(b.ring) {
		size := min(max(2*len(b.ring), minRing), b.hub.queue)
		ring := make([]entry, size)
		for i := range b.n {
			ring[i] = b.ring[(b.head+i)%len(b.ring)]
		}
		b.ring, b.head = ring, 0
	}
	b.ring[(b.head+b.n)%len(b.ring)] = e
	b.n++
}

// popLocked takes the oldest entry, settling a KeepLatest one: its
// value is returned in p and the subscription is no longer queued.
func (b *subscriber) popLocked() entry {
	e := b.ring[b.head]
	b.ring[b.head] = entry{}
	b.head = (b.head + 1) % len(b.ring)
	b.n--
	if e.p == nil {
		e.p = e.sc.latest
		e.sc.latest, e.sc.queued = nil, false
	}
	return e
}

// closeLocked stops queueing and forgets what waits.
func (b *subscriber) closeLocked() {
	b.closed = true
	for b.n > 0 {
		b.popLocked()
	}
	b.ring = nil
}

// pump writes the queue to the session until it is empty. A write
// waits while the session's write backlog is full (the peer reads
// slowly); meanwhile publications queue, and the policies apply.
func (b *subscriber) pump() {
	for {
		b.mu.Lock()
		if b.n == 0 || b.closed {
			b.pumping = false
			if len(b.ring) > minRing {
				b.ring = nil
			}
			b.mu.Unlock()
			return
		}
		e := b.popLocked()
		b.mu.Unlock()
		if err := b.s.NotifyPrepared(context.Background(), e.p); err != nil {
			// The session has ended; its AfterClose drops the rest.
			b.mu.Lock()
			b.closeLocked()
			b.pumping = false
			b.mu.Unlock()
			return
		}
		e.sc.topic.sent.Add(1)
	}
}
