package session

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"

	"github.com/gorpcx/gorpcx/protocol"
)

// Defaults of [Ping].
const (
	DefaultPingInterval = time.Minute
	DefaultPingMisses   = 3
)

// Ping configures the application-level ping of a JSON-RPC session
// (Options.Ping; it does not apply to a [MessageSession]).
//
// When nothing has been received from the peer for Interval, the
// session calls Method with Params, as an ordinary outgoing call
// ([Session.Call]) that times out after Interval (or after
// Options.RequestTimeout, if shorter). A reply of any kind, a result or
// an error object (-32601 "method not found" too), shows the peer
// alive, and so does any other message received while the ping waits.
// A ping that times out with nothing received since it was sent is a
// miss; after Misses misses in a row the session is aborted with
// [ErrPingTimeout]. Pings are sent only while the peer is quiet: the
// next one goes out Interval after the last message received, so a
// peer that stops answering is aborted about (Misses + 1) × Interval
// after the last message it sent. Electrum's server.ping is the
// example:
//
//	Ping: &session.Ping{Method: "server.ping", Interval: time.Minute}
type Ping struct {
	// Method is the method called. A Ping without one is off, and New
	// logs a warning.
	Method string
	// Params are the call's params, as for Session.Call: nil sends no
	// params member in JSON-RPC 2.0 (and "params":[] in 1.0, which
	// requires the member); otherwise a slice or array, a map or
	// struct, or a json.RawMessage holding an array or an object.
	// Params that cannot be encoded switch the ping off, and New logs a
	// warning.
	Params any
	// Interval is how long the peer may send nothing before it is
	// pinged, and how long a ping waits for its answer (1 minute when
	// zero; negative switches the ping off).
	Interval time.Duration
	// Misses is how many pings in a row may go unanswered, with nothing
	// else received meanwhile, before the session is aborted (3 when
	// zero or negative).
	Misses int
}

// watchdog is a session's one timer for the deadlines that depend on
// what the peer sends (Options.IdleTimeout, FirstMessageTimeout and
// MessageTimeout) and for its pings (Options.Ping). It is made only
// when one of them is on. Nothing on the path of a message touches it:
// when it fires it looks at when the peer last sent (the moments the
// reader and the Gate keep), closes the session for a deadline that
// has passed or sends a ping that is due, and re-arms itself at the
// earliest deadline still ahead.
//
// Time the reader spends waiting for room while the session holds
// requests of the peer's (back-pressure: its queue, its bytes or its
// write backlog at their bounds) is not the peer's: no deadline passes
// while it waits, and every deadline counts at the earliest from when
// it resumed. A Gate that waits for room in a shared Budget while the
// session holds nothing but the start of a message waits on the peer,
// and that time counts (see Gate.Read).
type watchdog struct {
	s *Session

	idle, first, message time.Duration // 0: off
	// accepted is Options.Accepted as time since the session's start
	// (≤ 0): the first-message timeout counts from it.
	accepted time.Duration

	// paused counts the reader's waits for room going on; resumed is
	// when the last one ended.
	paused  atomic.Int32
	resumed moment

	// mu orders the timer's re-arming with stop, and owns the state of
	// the ping.
	mu      sync.Mutex
	t       *time.Timer
	stopped bool // the session is tearing down: no re-arming, no ping
	ping    *pinger
}

// pinger is the state of a session's pings, owned by watchdog.mu but
// for what is set when it is made.
type pinger struct {
	method   string
	params   json.RawMessage
	interval time.Duration
	misses   int // allowed in a row

	inFlight bool // a ping waits for its answer
	missed   int  // misses in a row so far
	off      bool // a ping failed for a reason of this side's
}

// newWatchdog returns the watchdog of s for options o, or nil when
// none of its deadlines is on. jsonrpc is false for a message session,
// which does not ping.
func newWatchdog(s *Session, o *Options, jsonrpc bool) *watchdog {
	message := s.cfg.messageTimeout
	if message > 0 && s.gate == nil {
		s.logger().Debug("Options.MessageTimeout needs Options.Gate to see a message's first bytes; it does not apply to this session")
		message = 0
	}
	var ping *pinger
	if o.Ping != nil && jsonrpc {
		ping = newPinger(s, o.Ping)
	}
	if s.cfg.idleTimeout == 0 && s.cfg.firstTimeout == 0 && message == 0 && ping == nil {
		return nil
	}
	w := &watchdog{s: s, idle: s.cfg.idleTimeout, first: s.cfg.firstTimeout, message: message, ping: ping}
	if !o.Accepted.IsZero() {
		w.accepted = min(o.Accepted.Sub(s.start), 0)
	}
	return w
}

// newPinger resolves p, or returns nil (logged) when it cannot ping.
func newPinger(s *Session, p *Ping) *pinger {
	if p.Interval < 0 {
		return nil
	}
	if p.Method == "" {
		s.logger().Warn("Options.Ping has no Method; not pinging")
		return nil
	}
	params, err := encodeParams(p.Params)
	if err != nil {
		s.logger().Warn("Options.Ping has params that cannot be sent; not pinging", zap.Error(err))
		return nil
	}
	pg := &pinger{method: p.Method, params: params, interval: p.Interval, misses: p.Misses}
	if pg.interval == 0 {
		pg.interval = DefaultPingInterval
	}
	if pg.misses <= 0 {
		pg.misses = DefaultPingMisses
	}
	return pg
}

// start arms the timer; called once the session runs. A first-message
// deadline already passed (a long TLS handshake) closes the session at
// once.
func (w *watchdog) start() {
	w.mu.Lock()
	w.t = time.AfterFunc(time.Hour, w.fire)
	w.t.Stop()
	cause := w.checkLocked()
	w.mu.Unlock()
	w.close(cause)
}

// stop ends the watchdog for good: it is not re-armed and sends no
// more pings. Called by teardown before it waits for the session's
// goroutines, so that no ping starts after that.
func (w *watchdog) stop() {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.stopped = true
	if w.t != nil {
		w.t.Stop()
	}
	w.mu.Unlock()
}

// fire is the timer's function.
func (w *watchdog) fire() {
	w.mu.Lock()
	cause := w.checkLocked()
	w.mu.Unlock()
	w.close(cause)
}

// close aborts the session for a deadline that passed (nil: none).
func (w *watchdog) close(cause error) {
	if cause == nil {
		return
	}
	w.s.logger().Debug("closing session", zap.Error(cause))
	w.s.abort(cause)
}

// pause and resume bracket a wait of the reader for room.
func (w *watchdog) pause() { w.paused.Add(1) }

func (w *watchdog) resume() {
	// resumed before paused: a check that sees the wait ended sees when.
	w.resumed.set(w.s.since())
	w.paused.Add(-1)
}

const noDeadline = time.Duration(math.MaxInt64)

// checkLocked closes the session for a deadline that has passed,
// returning the cause (the caller aborts with it, after unlocking), or
// sends a ping that is due, and re-arms the timer at the earliest
// deadline ahead. A session already ending is left to its own close.
func (w *watchdog) checkLocked() error {
	s := w.s
	if w.stopped || s.Err() != nil {
		return nil
	}
	paused := w.paused.Load() > 0
	resumed, ok := w.resumed.get()
	if !ok {
		resumed = math.MinInt64
	}
	now := s.since()
	next := noDeadline
	// due reports whether the deadline of a timeout d counted from ref
	// has passed; if not, or while the reader waits for room, it moves
	// next to when to look again.
	due := func(ref, d time.Duration) bool {
		at := max(ref, resumed) + d
		switch {
		case at > now:
			next = min(next, at)
		case paused:
			next = min(next, now+d)
		default:
			return true
		}
		return false
	}
	last, ok := s.stats.lastRecv.get()
	if !ok {
		last = 0
	}
	if w.first > 0 && s.stats.recvCount.Load() == 0 && due(w.accepted, w.first) {
		return ErrFirstMessageTimeout
	}
	if w.message > 0 {
		began, ok := s.gate.begun(&s.stats.lastRecv)
		if !ok {
			// A message that begins from now on ends its time
			// MessageTimeout from now at the earliest.
			began = now
		}
		if due(began, w.message) {
			return ErrMessageTimeout
		}
	}
	if w.idle > 0 && due(last, w.idle) {
		return ErrIdle
	}
	if p := w.ping; p != nil && !p.inFlight && !p.off && due(last, p.interval) {
		p.inFlight = true
		s.wg.Add(1)
		go w.sendPing(now)
	}
	if next != noDeadline {
		w.t.Reset(next - now)
	}
	return nil
}

// sendPing calls the peer with the ping's method and records the
// outcome: any reply, or anything received since sentAt, is a sign of
// life; a timeout without one is a miss. It runs on a goroutine of its
// own, counted in the session's wait group.
func (w *watchdog) sendPing(sentAt time.Duration) {
	s := w.s
	defer s.wg.Done()
	p := w.ping
	ctx, cancel := context.WithTimeout(context.Background(), p.interval)
	err := s.Call(ctx, p.method, p.params, nil)
	cancel()
	alive, off := true, false
	var ce *ConnectionError
	var rpcErr *jsonrpc2.Error
	var pe *protocol.ProtocolError
	switch {
	case err == nil, errors.As(err, &rpcErr), errors.As(err, &pe):
	case errors.As(err, &ce):
		return // the session is ending
	case errors.Is(err, context.DeadlineExceeded):
		last, ok := s.stats.lastRecv.get()
		alive = ok && last > sentAt
	default:
		s.logger().Warn("ping failed; not pinging any more", zap.String("method", p.method), zap.Error(err))
		off = true
	}
	w.mu.Lock()
	p.inFlight = false
	p.off = p.off || off
	var cause error
	if alive {
		p.missed = 0
	} else {
		p.missed++
		s.logger().Debug("ping unanswered", zap.String("method", p.method), zap.Int("missed", p.missed))
	}
	if p.missed >= p.misses {
		if !w.stopped {
			cause = ErrPingTimeout
		}
	} else {
		cause = w.checkLocked()
	}
	w.mu.Unlock()
	w.close(cause)
}
