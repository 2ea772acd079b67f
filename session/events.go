package session

import (
	"time"

	"go.uber.org/zap"
)

// EventKind says what an [Event] reports.
type EventKind uint8

const (
	// SessionOpened: a session was made (Session, Peer).
	SessionOpened EventKind = iota + 1
	// SessionClosed: a session ended (Session, Peer, Cause: what Wait
	// returns).
	SessionClosed
	// Throttled: the cost throttling changed a session's concurrency
	// target (Value: the new target; Cost: the cost behind it).
	Throttled
	// CostLimit: a session passed its cost's hard limit and is being
	// closed (Cost).
	CostLimit
	// LimitReached: a message was rejected by a limit (Reason names it:
	// "framing" for a message the framer dropped, such as one over its
	// size limit, with the framing error as Cause; "incoming bytes" for a
	// request refused -102 at the incoming byte bound; "response size"
	// for a reply replaced at MaxResponseSize; "processing timeout" for a
	// request answered -102 at the processing timeout).
	LimitReached
	// ConnectionRefused: a server refused a connection (Peer; Reason:
	// "per-ip", "per-subnet", "full", "hook", "handshake").
	ConnectionRefused
	// ConnectionEvicted: a server closed a connection to make room at
	// its session limit (Session if it had one, Peer).
	ConnectionEvicted
	// NotificationDropped: a hub dropped a notification for a slow
	// subscriber (Session, Topic; Reason: "dropped" or "disconnected").
	NotificationDropped
)

var eventNames = [...]string{
	SessionOpened:       "session opened",
	SessionClosed:       "session closed",
	Throttled:           "throttled",
	CostLimit:           "cost limit",
	LimitReached:        "limit reached",
	ConnectionRefused:   "connection refused",
	ConnectionEvicted:   "connection evicted",
	NotificationDropped: "notification dropped",
}

// String returns the kind's name, such as "session closed".
func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return "event"
}

// Event is something a program may want to count or act on without
// parsing logs. Which fields are set depends on Kind.
type Event struct {
	Kind    EventKind
	Time    time.Time
	Session *Session // nil for a connection refused before it had one
	Peer    string
	Cause   error
	Reason  string
	Topic   string
	Value   float64
	Cost    float64
}

// Observer receives events. Observe is called on the goroutine where
// the event happens, sometimes with a session's locks held: it must
// return quickly and must not call back into the session (count,
// enqueue, and act elsewhere). The same Observer may serve many
// sessions at once, so it must be safe for concurrent use.
type Observer interface {
	Observe(Event)
}

// ObserverFunc makes a function an Observer.
type ObserverFunc func(Event)

// Observe calls f(e).
func (f ObserverFunc) Observe(e Event) { f(e) }

// Observers returns an Observer that passes each event to each of os
// in turn (nil ones skipped), or nil when there is none.
func Observers(os ...Observer) Observer {
	var list []Observer
	for _, o := range os {
		if o != nil {
			list = append(list, o)
		}
	}
	switch len(list) {
	case 0:
		return nil
	case 1:
		return list[0]
	}
	return ObserverFunc(func(e Event) {
		for _, o := range list {
			o.Observe(e)
		}
	})
}

// LogEvents returns an Observer that logs every event to log: session
// ends, throttling and refusals at Info, the rest at Debug. Give it a
// capped logger (a server's is) where peers can trigger events.
func LogEvents(log *zap.Logger) Observer {
	return ObserverFunc(func(e Event) {
		level := zap.DebugLevel
		switch e.Kind {
		case SessionClosed, Throttled, CostLimit, ConnectionRefused, ConnectionEvicted:
			level = zap.InfoLevel
		}
		ce := log.Check(level, e.Kind.String())
		if ce == nil {
			return
		}
		fields := make([]zap.Field, 0, 6)
		if e.Session != nil {
			fields = append(fields, zap.String("session", e.Session.Name()))
		}
		if e.Peer != "" {
			fields = append(fields, zap.String("peer", e.Peer))
		}
		if e.Cause != nil {
			fields = append(fields, zap.NamedError("cause", e.Cause))
		}
		if e.Reason != "" {
			fields = append(fields, zap.String("reason", e.Reason))
		}
		if e.Topic != "" {
			fields = append(fields, zap.String("topic", e.Topic))
		}
		if e.Kind == Throttled {
			fields = append(fields, zap.Float64("concurrency", e.Value), zap.Float64("cost", e.Cost))
		}
		ce.Write(fields...)
	})
}

// emit sends an event of the session to its observer, if it has one.
func (s *Session) emit(kind EventKind, reason string, cause error, value float64) {
	if s.observer == nil {
		return
	}
	s.observer.Observe(Event{Kind: kind, Time: time.Now(), Session: s, Peer: s.peer, Cause: cause, Reason: reason, Value: value, Cost: s.cost.value()})
}
