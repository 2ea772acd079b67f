package session

import (
	"sync"
	"sync/atomic"
)

// Budget bounds the bytes of incoming work held by a group of sessions,
// typically every session of one server (see Options.Budget): requests
// read and not yet answered, queued or running, and, for a connection
// read through a [Gate], the bytes of a message still arriving and the
// room a read in progress may fill.
//
// Below three quarters of the limit (the high water), every session
// reads as its own limits allow. Between the high water and the limit
// the largest holders wait first: a session that holds at least an
// equal share of the high water (divided among the sessions holding
// anything) stops reading, while sessions holding less go on, up to
// that share and never past the limit. At the limit only a session
// that holds nothing reads (or holds just the one byte that a reader
// with no buffer waits with, see framing), and at most [BudgetTrickle]
// bytes at a time, so that a small request still gets through. So the
// group's total stays within the limit plus BudgetTrickle per session,
// and a
// few sessions that hold a lot stop first. What the budget cannot do is
// take back bytes already held: peers that each hold an unfinished
// message keep their bytes until they finish it or their session ends
// (Options.MessageTimeout, an idle or processing timeout, the server
// closing it).
//
// A Budget is safe for concurrent use. Its zero value has no limit;
// make one with [NewBudget].
type Budget struct {
	limit   int64
	used    atomic.Int64
	holders atomic.Int64 // accounts holding at least one byte

	waiters atomic.Int32 // readers waiting for room

	mu   sync.Mutex
	wake chan struct{} // closed when room is made while someone waits
}

// NewBudget returns a budget of limit bytes; a limit of 0 or less means
// no limit.
func NewBudget(limit int64) *Budget {
	return &Budget{limit: limit}
}

// Limit returns the budget's limit in bytes (0: none).
func (b *Budget) Limit() int64 {
	if b == nil || b.limit <= 0 {
		return 0
	}
	return b.limit
}

// Held returns the bytes held now by the sessions of the group.
func (b *Budget) Held() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}

// BudgetTrickle is how many bytes a session that holds nothing (or
// only the byte its reader waited with) may read at a time while its
// Budget is at the limit.
const BudgetTrickle = 4096

// room reports how many more bytes an account holding held may take
// now (0: it must wait); see Budget.
func (b *Budget) room(held int64) int64 {
	if b == nil || b.limit <= 0 {
		return 1 << 62
	}
	used := b.used.Load()
	free := b.limit - used
	high := b.limit - b.limit/4
	if used < high {
		return free
	}
	if free <= 0 {
		if held <= 1 {
			// Nothing, or the byte a reader with no buffer waited
			// with (framing reads one byte first).
			return BudgetTrickle - held
		}
		return 0
	}
	n := b.holders.Load()
	if held == 0 {
		n++
	}
	share := high / max(n, 1)
	return max(min(share-held, free), 0)
}

// add moves the group's total by delta bytes for an account that held
// before bytes; it wakes the waiters when room was made.
func (b *Budget) add(before, delta int64) {
	if b == nil || delta == 0 {
		return
	}
	b.used.Add(delta)
	after := before + delta
	switch {
	case before == 0 && after > 0:
		b.holders.Add(1)
	case before > 0 && after == 0:
		b.holders.Add(-1)
	}
	// Room is made for a waiter only below the limit (at it, only
	// sessions holding nothing read, and they do not wait).
	if delta < 0 && b.waiters.Load() > 0 && (b.limit <= 0 || b.used.Load() < b.limit) {
		b.mu.Lock()
		if b.wake != nil {
			close(b.wake)
			b.wake = nil
		}
		b.mu.Unlock()
	}
}

// waitChan registers a waiter and returns the channel closed when room
// is made; done must be called after the wait.
func (b *Budget) waitChan() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.waiters.Add(1)
	if b.wake == nil {
		b.wake = make(chan struct{})
	}
	return b.wake
}

func (b *Budget) doneWaiting() { b.waiters.Add(-1) }

// account is one session's share of incoming bytes: held is what it
// holds now, limit its own bound (Options.MaxIncomingBytes), budget the
// group's (nil: none).
type account struct {
	limit  int64
	budget *Budget
	held   atomic.Int64

	// For a Gate: the bytes are counted as they are read, so the
	// budget is applied there, not when a request is accepted; the
	// session's count of calls waiting for the peer; the wake-up of a
	// Read waiting for room.
	gated    bool
	awaiting *atomic.Int32
	// framing is the part of held that is bytes read and not yet cut
	// into messages (a Gate's); owned by the session's reader.
	framing int64
	waiting atomic.Bool
	mu      sync.Mutex
	wake    chan struct{}
}

// take adds n bytes held.
func (a *account) take(n int64) {
	if n == 0 {
		return
	}
	after := a.held.Add(n)
	a.budget.add(after-n, n)
}

// give releases n bytes held.
func (a *account) give(n int64) {
	if n == 0 {
		return
	}
	after := a.held.Add(-n)
	a.budget.add(after+n, -n)
	a.signal()
}

// room reports whether n more bytes may be taken now: within the
// session's limit and the group's share. A session that holds nothing
// may always take one message, so that reading never stops for good.
//
// Called by the session's reader only (it reads framing).
func (a *account) room(n int64) bool {
	if !a.fits(n) {
		return false
	}
	held := a.held.Load()
	return held-a.framing <= 0 || a.gated || a.budget.room(held) >= n
}

// fits reports whether n more bytes of requests stay within the
// session's own limit: they do when it holds no request. Called by the
// session's reader only (it reads framing).
func (a *account) fits(n int64) bool {
	work := a.held.Load() - a.framing
	return work <= 0 || work+n <= a.limit
}
