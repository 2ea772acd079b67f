package session

import (
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// stallWatch aborts the session when one write has not returned after
// the send timeout (a peer that stopped reading).
//
// Arming a timer before every write and stopping it after would cost
// two operations on the runtime's timer heap per write, on the path of
// every reply. Instead the timer, once armed, stays armed across
// writes: a write only notes when it began. When the timer fires it
// looks at the write in progress: none, and it stays unarmed until the
// next write; one that began less than the timeout ago, and it is armed
// again for the rest of that write's time; one older, and the session
// is aborted. So a busy session pays for the timer once per timeout,
// and an idle one not at all.
type stallWatch struct {
	timeout time.Duration
	hooks   writerHooks // the session's clock, and its abort
	// writing is when the write in progress began; never when no write
	// is in progress.
	writing moment
	// armed is set while the timer is pending or its function runs.
	armed atomic.Bool

	mu      sync.Mutex // orders resets of t with stop
	stopped bool
	t       *time.Timer
}

func newStallWatch(timeout time.Duration, hooks writerHooks) *stallWatch {
	sw := &stallWatch{timeout: timeout, hooks: hooks}
	sw.t = time.AfterFunc(time.Hour, sw.check)
	sw.t.Stop()
	return sw
}

// begin notes the start of a write, and arms the timer if it is not.
func (sw *stallWatch) begin() {
	sw.writing.set(sw.hooks.since())
	if !sw.armed.Load() && sw.armed.CompareAndSwap(false, true) {
		sw.reset(sw.timeout)
	}
}

// end notes that the write returned.
func (sw *stallWatch) end() { sw.writing.clear() }

func (sw *stallWatch) reset(d time.Duration) {
	sw.mu.Lock()
	if !sw.stopped {
		sw.t.Reset(d)
	}
	sw.mu.Unlock()
}

// check is the timer's function.
func (sw *stallWatch) check() {
	began, writing := sw.writing.get()
	if !writing {
		sw.armed.Store(false)
		// A write that began after the Load found the timer armed and
		// left it: arm it for that write.
		if _, writing := sw.writing.get(); writing && sw.armed.CompareAndSwap(false, true) {
			sw.reset(sw.timeout)
		}
		return
	}
	if elapsed := sw.hooks.since() - began; elapsed < sw.timeout {
		sw.reset(sw.timeout - elapsed)
		return
	}
	if ce := sw.hooks.check(zap.WarnLevel, "send stalled, aborting connection"); ce != nil {
		ce.Write(zap.Duration("after", sw.timeout))
	}
	sw.hooks.abort(ErrSendStalled)
}

// stop releases the timer for good.
func (sw *stallWatch) stop() {
	sw.mu.Lock()
	sw.stopped = true
	sw.t.Stop()
	sw.mu.Unlock()
}
