package pubsub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"go.uber.org/zap"

	"github.com/gorpcx/gorpcx/session"
)

// Defaults of [Options].
const (
	// DefaultQueue is the number of notifications that may wait to be
	// written to one subscriber (one session, all its topics).
	DefaultQueue = 1000
	// DefaultMaxPerSession is the number of subscriptions one session
	// may hold (an Electrum wallet holds one per address it watches).
	DefaultMaxPerSession = 10_000
	// DefaultMaxPerGroup is the number of subscriptions the sessions of
	// one peer group may hold together (Fulcrum's default per IP).
	DefaultMaxPerGroup = 75_000
	// DefaultMaxTotal is the number of subscriptions a hub holds at
	// most (Fulcrum's default).
	DefaultMaxTotal = 10_000_000
)

// ErrUnknownTopic is returned by Subscribe for a topic that was neither
// declared nor given options.
var ErrUnknownTopic = errors.New("pubsub: unknown topic")

// ErrClosed is returned by Subscribe and Publish once the hub is
// closed.
var ErrClosed = errors.New("pubsub: hub closed")

// Options configures a [Hub]. The zero Options is the defaults; for
// the limits, zero means the default and a negative value no limit.
type Options struct {
	// Queue bounds the notifications waiting to be written to one
	// subscriber, over all its topics ([DefaultQueue]). When it is full
	// the policy of the topic being published applies.
	Queue int
	// MaxPerSession, MaxPerGroup and MaxTotal bound the subscriptions
	// of one session, of the sessions of one peer group (see Group) and
	// of the whole hub. Past one, Subscribe returns a *LimitError.
	MaxPerSession int
	MaxPerGroup   int
	MaxTotal      int
	// Group returns the peer group of a session for MaxPerGroup (with a
	// server.Server, server.GroupOf: the session's IP); "" is no group.
	// Nil: no per-group limit.
	Group func(*session.Session) string
	// Broker, if set, carries publications to and from the other nodes
	// of a fleet; nil delivers to this hub's sessions only.
	Broker Broker
	// Remote, if set, sees each publication that arrives from another
	// node before it is delivered to this node's subscribers, and
	// decides whether it is (true) or not (false: the program delivers
	// it itself, with PublishLocal, after updating its own state, as a
	// node appends a block mined elsewhere to its chain). It runs on the
	// broker's goroutine, one message at a time.
	Remote func(Message) bool
	// Observer, if set, is told of every notification dropped for a
	// slow subscriber (session.NotificationDropped, with the topic and
	// "dropped" or "disconnected").
	Observer session.Observer
	// Logger receives the hub's logs (no-op when nil).
	Logger *zap.Logger
}

// Hub holds topics and their subscribers, and delivers what is
// published to every subscriber without ever waiting for a slow one.
// Its methods are safe for concurrent use. Lock order: the hub's, then
// a topic's, then a subscriber's.
type Hub struct {
	queue                     int
	perSession, perGroup, all int
	groupOf                   func(*session.Session) string
	broker                    Broker
	remote                    func(Message) bool
	observer                  session.Observer
	log                       *zap.Logger

	mu          sync.Mutex
	closed      bool
	topics      map[string]*topic
	subscribers map[*session.Session]*subscriber
	groups      map[string]int // subscriptions per peer group
	total       int
}

func limit(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return int(^uint(0) >> 1)
	}
	return v
}

// NewHub returns a hub with options o (nil for the defaults). With a
// Broker, it starts receiving from the fleet at once, and returns the
// broker's error if that fails.
func NewHub(o *Options) (*Hub, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	h := &Hub{
		queue:       limit(opts.Queue, DefaultQueue),
		perSession:  limit(opts.MaxPerSession, DefaultMaxPerSession),
		perGroup:    limit(opts.MaxPerGroup, DefaultMaxPerGroup),
		all:         limit(opts.MaxTotal, DefaultMaxTotal),
		groupOf:     opts.Group,
		broker:      opts.Broker,
		remote:      opts.Remote,
		observer:    opts.Observer,
		log:         opts.Logger,
		topics:      make(map[string]*topic),
		subscribers: make(map[*session.Session]*subscriber),
		groups:      make(map[string]int),
	}
	if h.log == nil {
		h.log = zap.NewNop()
	}
	if h.broker != nil {
		if err := h.broker.Start(h.deliverRemote); err != nil {
			return nil, fmt.Errorf("pubsub: starting the broker: %w", err)
		}
	}
	return h, nil
}

// Declare makes topic a permanent topic with options o: it is kept
// while nobody subscribes, and keeps the last value published, which
// Subscribe returns. Declaring a topic again changes its options for
// later publications. It returns an error for an empty Method or an
// unknown Policy.
func (h *Hub) Declare(topic string, o TopicOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return ErrClosed
	}
	t := h.topics[topic]
	if t == nil {
		t = newTopic(topic, o)
		h.topics[topic] = t
	} else {
		t.mu.Lock()
		t.opts = o
		t.mu.Unlock()
	}
	t.permanent.Store(true)
	return nil
}

// Subscribe subscribes the session s to topic and returns the params
// last published on it (nil if none, or if the topic is not declared:
// a topic made by Subscribe keeps no value once its last subscriber
// has left). A topic that was not declared is made with o, and removed
// when its last subscriber leaves; with o nil it is ErrUnknownTopic.
// Subscribing to a topic s already has is not an error and changes
// nothing. The session is unsubscribed from every topic when it ends.
//
// Called from a handler of s with its context, the notifications of s
// wait until the handler's reply is queued (session.AfterReply): the
// peer gets the answer to its subscribe before any notification, so a
// newer value is never overtaken by the older one the answer carries.
// ctx is used for nothing else.
//
// Past a limit it returns a *LimitError, which a handler can return as
// it is: the peer gets a JSON-RPC error (CodeTooManySubscriptions). It
// returns the session's ConnectionError if s has ended, and ErrClosed
// once the hub is closed.
func (h *Hub) Subscribe(ctx context.Context, s *session.Session, topic string, o *TopicOptions) (json.RawMessage, error) {
	if o != nil {
		if err := o.validate(); err != nil {
			return nil, err
		}
	}
	select {
	case <-s.Done():
		return nil, s.Err()
	default:
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, ErrClosed
	}
	t := h.topics[topic]
	if t == nil && o == nil {
		h.mu.Unlock()
		return nil, fmt.Errorf("%w %q", ErrUnknownTopic, topic)
	}
	sub := h.subscribers[s]
	if sub != nil {
		if sc := sub.subs[topic]; sc != nil {
			h.mu.Unlock()
			return t.lastValue(), nil
		}
	}
	if err := h.checkLimitsLocked(s, sub); err != nil {
		h.mu.Unlock()
		return nil, err
	}
	fresh := sub == nil
	if fresh {
		sub = newSubscriber(h, s)
		if h.groupOf != nil {
			sub.group = h.groupOf(s)
		}
		h.subscribers[s] = sub
	}
	if t == nil {
		t = newTopic(topic, *o)
		h.topics[topic] = t
	}
	if session.FromContext(ctx) == s {
		sub.hold()
		if !session.AfterReply(ctx, sub.release) {
			sub.release()
		}
	}
	sc := &subscription{topic: t, sub: sub}
	t.add(sc)
	sub.mu.Lock()
	sub.subs[topic] = sc
	sub.mu.Unlock()
	h.total++
	if sub.group != "" {
		h.groups[sub.group]++
	}
	h.mu.Unlock()
	if fresh {
		// Registered after the hub's lock is released: a session that
		// has already ended runs it at once.
		s.AfterClose(func(*session.Session, error) { h.drop(s) })
	}
	return t.lastValue(), nil
}

// checkLimitsLocked returns the *LimitError of a new subscription of s
// (whose subscriber, nil for its first, is sub), or nil.
func (h *Hub) checkLimitsLocked(s *session.Session, sub *subscriber) error {
	if h.total >= h.all {
		return &LimitError{Scope: "hub", Max: h.all}
	}
	if sub != nil && len(sub.subs) >= h.perSession {
		return &LimitError{Scope: "session", Max: h.perSession}
	}
	group := ""
	if sub != nil {
		group = sub.group
	} else if h.groupOf != nil {
		group = h.groupOf(s)
	}
	if group != "" && h.groups[group] >= h.perGroup {
		return &LimitError{Scope: "group", Max: h.perGroup}
	}
	return nil
}

// Unsubscribe ends the subscription of s to topic and reports whether
// there was one. Notifications of the topic already waiting for s are
// still written.
func (h *Hub) Unsubscribe(s *session.Session, topic string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	sub := h.subscribers[s]
	if sub == nil {
		return false
	}
	sub.mu.Lock()
	sc := sub.subs[topic]
	if sc != nil {
		delete(sub.subs, topic)
	}
	sub.mu.Unlock()
	if sc == nil {
		return false
	}
	h.removeLocked(sc)
	return true
}

// removeLocked takes sc out of its topic and the counts, and forgets
// a topic made by Subscribe once nobody subscribes to it.
func (h *Hub) removeLocked(sc *subscription) {
	t := sc.topic
	if t.remove(sc) == 0 && !t.permanent.Load() {
		delete(h.topics, t.name)
	}
	h.total--
	if g := sc.sub.group; g != "" {
		if h.groups[g]--; h.groups[g] <= 0 {
			delete(h.groups, g)
		}
	}
}

// drop removes every subscription of s, once it has ended.
func (h *Hub) drop(s *session.Session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	sub := h.subscribers[s]
	if sub == nil {
		return
	}
	delete(h.subscribers, s)
	sub.mu.Lock()
	subs := sub.subs
	sub.subs = nil
	sub.closeLocked()
	sub.mu.Unlock()
	for _, sc := range subs {
		h.removeLocked(sc)
	}
}

// Subscriptions returns the number of topics s is subscribed to.
func (h *Hub) Subscriptions(s *session.Session) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if sub := h.subscribers[s]; sub != nil {
		return len(sub.subs)
	}
	return 0
}

// Publish sends a notification with params (a json.RawMessage, or any
// value encoding/json can marshal to an array or an object; nil for
// none) to every subscriber of topic on this node, and then, with a
// Broker, to the other nodes of the fleet. It never waits for a
// subscriber: each has a bounded queue, and the topic's Policy decides
// what happens when one is full. A declared topic keeps params as its
// last value. Publishing to a topic nobody subscribes to on this node
// only reaches the broker.
//
// It returns an error for params that cannot be encoded (nothing is
// sent), ErrClosed once the hub is closed, or the broker's error (the
// local subscribers have been served). ctx bounds the broker's Publish.
func (h *Hub) Publish(ctx context.Context, topic string, params any) error {
	h.mu.Lock()
	closed := h.closed
	t := h.topics[topic]
	h.mu.Unlock()
	if closed {
		return ErrClosed
	}
	var raw json.RawMessage
	if t != nil {
		p, err := t.publish(params)
		if err != nil {
			return err
		}
		raw = p.Params()
	} else if h.broker != nil {
		p, err := session.Prepare("", params)
		if err != nil {
			return err
		}
		raw = p.Params()
	}
	if h.broker == nil {
		return nil
	}
	if err := h.broker.Publish(ctx, Message{Topic: topic, Params: raw}); err != nil {
		return fmt.Errorf("pubsub: publishing %q to the fleet: %w", topic, err)
	}
	return nil
}

// PublishLocal delivers params to the subscribers of topic on this
// node only, as Publish does, without the broker: for a publication
// that came from another node (see Options.Remote). It returns an error
// for params that cannot be encoded, and ErrClosed once the hub is
// closed.
func (h *Hub) PublishLocal(topic string, params any) error {
	h.mu.Lock()
	closed := h.closed
	t := h.topics[topic]
	h.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if t == nil {
		return nil
	}
	_, err := t.publish(params)
	return err
}

// deliverRemote delivers a message another node published to this
// node's subscribers, unless Options.Remote takes it.
func (h *Hub) deliverRemote(m Message) {
	if h.remote != nil && !h.remote(m) {
		return
	}
	h.mu.Lock()
	t := h.topics[m.Topic]
	closed := h.closed
	h.mu.Unlock()
	if t == nil || closed {
		return
	}
	if _, err := t.publish(m.Params); err != nil {
		h.log.Warn("dropping a publication from the fleet", zap.String("topic", m.Topic), zap.Error(err))
	}
}

// Close stops the hub: Subscribe and Publish return ErrClosed, the
// broker is closed (its error is returned), and no notification is
// queued any more; notifications already queued are still written.
// Sessions are not closed.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	h.mu.Unlock()
	if h.broker != nil {
		return h.broker.Close()
	}
	return nil
}
