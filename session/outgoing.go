package session

import (
	"context"
	"math"
	"sync"
	"time"
)

// outgoingLimit bounds the requests in flight to the peer and adapts
// the bound towards a target round trip, as aiorpcX's RPCSession does
// with its _outgoing_concurrency and _recalc_concurrency.
type outgoingLimit struct {
	cfg      Outgoing
	closed   <-chan struct{}
	onChange func(from, to int)

	mu       sync.Mutex
	target   int
	inFlight int
	waiters  []*outgoingWaiter
	times    []time.Duration // round trips since the last recalibration
}

type outgoingWaiter struct {
	n     int
	ready chan struct{}
}

func newOutgoingLimit(cfg Outgoing, closed <-chan struct{}, onChange func(from, to int)) *outgoingLimit {
	return &outgoingLimit{cfg: cfg, closed: closed, target: cfg.Initial, onChange: onChange}
}

// acquire takes n slots (a batch counts per item; n is capped at the
// target so a large batch can still go out alone). It returns the
// number taken, or an error when ctx ends or the session closes.
func (l *outgoingLimit) acquire(ctx context.Context, n int) (int, error) {
	if l.cfg.Disabled {
		return n, nil
	}
	l.mu.Lock()
	n = min(n, max(l.target, 1))
	if len(l.waiters) == 0 && l.inFlight+n <= l.target {
		l.inFlight += n
		l.mu.Unlock()
		return n, nil
	}
	w := &outgoingWaiter{n: n, ready: make(chan struct{})}
	l.waiters = append(l.waiters, w)
	l.mu.Unlock()
	select {
	case <-w.ready:
		return n, nil
	case <-ctx.Done():
		return 0, l.abandon(w, ctx.Err())
	case <-l.closed:
		return 0, l.abandon(w, errSessionClosed)
	}
}

// abandon removes a waiter that gave up; if it was granted meanwhile,
// its slots are given back.
func (l *outgoingLimit) abandon(w *outgoingWaiter, err error) error {
	l.mu.Lock()
	for i, x := range l.waiters {
		if x == w {
			l.waiters = append(l.waiters[:i], l.waiters[i+1:]...)
			l.mu.Unlock()
			return err
		}
	}
	l.mu.Unlock()
	// Granted just as we gave up.
	l.release(w.n, 0, 0)
	return err
}

// release gives back n slots and records the round trip of count
// requests that took rtt in all (count 0 records nothing).
func (l *outgoingLimit) release(n int, count int, rtt time.Duration) {
	if l.cfg.Disabled {
		return
	}
	l.mu.Lock()
	l.inFlight -= n
	var from, to int
	if count > 0 {
		per := rtt / time.Duration(count)
		for range count {
			l.times = append(l.times, per)
		}
		if len(l.times) >= l.cfg.Recalibrate {
			from, to = l.recalibrateLocked()
		}
	}
	l.grantLocked()
	l.mu.Unlock()
	if from != to && l.onChange != nil {
		l.onChange(from, to)
	}
}

// recalibrateLocked is aiorpcX's _recalc_concurrency.
func (l *outgoingLimit) recalibrateLocked() (from, to int) {
	var sum time.Duration
	for _, t := range l.times {
		sum += t
	}
	avg := sum.Seconds() / float64(len(l.times))
	l.times = l.times[:0]
	current := float64(l.target)
	upper := math.Min(current+math.Max(3, current*0.1), float64(l.cfg.Max))
	lower := math.Max(float64(l.cfg.Min), math.Min(current*0.8, current-1))
	var target float64
	if avg != 0 {
		target = math.Max(lower, math.Min(upper, current*l.cfg.TargetRoundTrip.Seconds()/avg))
	} else {
		target = upper
	}
	from, to = l.target, int(0.5+target)
	l.target = to
	return from, to
}

func (l *outgoingLimit) grantLocked() {
	for len(l.waiters) > 0 {
		w := l.waiters[0]
		if l.inFlight+w.n > l.target && l.inFlight > 0 {
			return
		}
		l.inFlight += w.n
		l.waiters = l.waiters[1:]
		close(w.ready)
	}
}

// snapshot returns the target and the requests in flight.
func (l *outgoingLimit) snapshot() (target, inFlight int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.target, l.inFlight
}
