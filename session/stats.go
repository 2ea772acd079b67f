package session

import (
	"sync/atomic"
	"time"
)

// Stats is a snapshot of a session's counters (aiorpcX's SessionBase
// statistics).
type Stats struct {
	// Start is when the session was made.
	Start time.Time
	// RecvCount and RecvBytes count the messages and their bytes read
	// (without framing); SendCount and SendBytes those written, counted
	// once their write has returned (so a peer may read a reply a moment
	// before it is counted).
	RecvCount, RecvBytes uint64
	SendCount, SendBytes uint64
	// LastRecv and LastSend are the times of the last message each way
	// (zero if none yet).
	LastRecv, LastSend time.Time
	// Errors counts protocol errors, framing errors, error replies and
	// timeouts charged to the peer.
	Errors uint64
	// Cost is the peer's current resource cost, decayed to now.
	Cost float64
	// Concurrency is the current target of incoming requests run at
	// once, after cost throttling.
	Concurrency int
	// OutgoingConcurrency is the current limit of outgoing requests in
	// flight (0 when switched off).
	OutgoingConcurrency int
	// Pending counts outgoing calls waiting for a response.
	Pending int
	// Unanswered counts incoming requests read and not yet answered;
	// Running those of them whose handler is running.
	Unanswered int
	Running    int
	// With Options.Cancel: CancelsSent counts the cancellations sent for
	// calls that gave up; CancelsReceived those received that cancelled
	// a request; CancelsUnknown those received that named no unanswered
	// request (ignored).
	CancelsSent, CancelsReceived, CancelsUnknown uint64
	// ReaderRestarts counts the times the reader, having served a
	// request itself, received nothing for a second or two and was
	// replaced by a new goroutine, so that the stack the request
	// grew was given back (see the package documentation).
	ReaderRestarts uint64
}

type counters struct {
	recvCount, recvBytes atomic.Uint64
	sendCount, sendBytes atomic.Uint64
	errors               atomic.Uint64
	lastRecv, lastSend   moment
	busy                 atomic.Int64
	cancelsSent          atomic.Uint64
	cancelsReceived      atomic.Uint64
	cancelsUnknown       atomic.Uint64
}

// Stats returns a snapshot of the session's counters. It is safe to
// call at any time, also after the session ended.
func (s *Session) Stats() Stats {
	st := Stats{
		Start:     s.start,
		RecvCount: s.stats.recvCount.Load(),
		RecvBytes: s.stats.recvBytes.Load(),
		SendCount: s.stats.sendCount.Load(),
		SendBytes: s.stats.sendBytes.Load(),
		Errors:    s.stats.errors.Load(),
		Cost:      s.cost.value(),
		Running:   int(s.stats.busy.Load()),

		CancelsSent:     s.stats.cancelsSent.Load(),
		CancelsReceived: s.stats.cancelsReceived.Load(),
		CancelsUnknown:  s.stats.cancelsUnknown.Load(),
		ReaderRestarts:  s.restarts.Load(),
	}
	if d, ok := s.stats.lastRecv.get(); ok {
		st.LastRecv = s.start.Add(d)
	}
	if d, ok := s.stats.lastSend.get(); ok {
		st.LastSend = s.start.Add(d)
	}
	s.sched.mu.Lock()
	st.Concurrency = s.sched.target
	st.Unanswered = s.sched.unanswered.len
	s.sched.mu.Unlock()
	if !s.cfg.outgoing.Disabled {
		st.OutgoingConcurrency, _ = s.out.snapshot()
	}
	st.Pending = s.tracker.len()
	return st
}

// Cost returns the peer's current resource cost, decayed to now, as
// Stats does, taking only the cost's own lock: a server may call it for
// many sessions from inside a cost hook (Cost.Extra).
func (s *Session) Cost() float64 { return s.cost.value() }

// Recalculate recomputes the session's throttling from its cost now,
// with Cost.Extra (aiorpcX's recalc_concurrency). A session does so by
// itself when its own cost has moved by 100; a server whose sessions
// share a cost calls it when the shared part may have moved. It does
// nothing when the cost is switched off.
func (s *Session) Recalculate() {
	s.cost.mu.Lock()
	s.cost.recalcLocked()
}

// Activity returns how many messages the session has received and when
// it received the last one (the zero time if none yet), as Stats does
// in RecvCount and LastRecv, but from two atomic loads and no lock: a
// server can call it for every session it holds when it chooses one to
// shed. It is safe to call at any time, also after the session ended.
func (s *Session) Activity() (messages uint64, lastRecv time.Time) {
	messages = s.stats.recvCount.Load()
	if d, ok := s.stats.lastRecv.get(); ok {
		lastRecv = s.start.Add(d)
	}
	return messages, lastRecv
}

// since returns the time since the session started: one reading of the
// monotonic clock, where time.Now reads the wall clock too.
func (s *Session) since() time.Duration { return time.Since(s.start) }

// received counts a message of the given size just read, and notes in
// s.recvAt when it was read.
func (s *Session) received(bytes int) {
	s.stats.recvCount.Add(1)
	s.stats.recvBytes.Add(uint64(bytes))
	s.recvAt = s.since()
	s.stats.lastRecv.set(s.recvAt)
	s.cost.bump(float64(bytes) * s.cfg.cost.PerByte)
}

func (s *Session) sent(messages, bytes int) {
	s.stats.sendCount.Add(uint64(messages))
	s.stats.sendBytes.Add(uint64(bytes))
	s.stats.lastSend.set(s.since())
	s.cost.bump(float64(bytes) * s.cfg.cost.PerByte)
}

// countError counts one error against the peer, costing the base cost
// of an error plus hint. A hint that is negative or NaN (from a
// framing.Error of a user's framer) counts as 0: it must neither lower
// the cost nor make it NaN.
func (s *Session) countError(hint float64) {
	if !(hint >= 0) {
		hint = 0
	}
	s.stats.errors.Add(1)
	s.cost.bump(s.cfg.cost.ErrorBase + hint)
}
