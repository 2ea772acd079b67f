package session

import (
	"sync"
	"time"
)

// scheduler is the state of a session's incoming side: every request
// or message read from the peer, from the moment the reader accepts it
// until it is answered, and the goroutines that serve them. One mutex,
// mu, owns all of it.
//
// The state:
//
//   - unanswered lists every request read and not yet answered, in
//     arrival order, which is also deadline order: the expiry timer
//     answers the head with -102 when its processing timeout passes.
//   - queue lists those of them waiting for a worker. The reader adds
//     to it (accept) and waits for room (readerWake) when the queue,
//     the incoming bytes or the write backlog are at their bounds and
//     no call of the session waits for the peer; see accept.
//   - busy counts requests whose handler runs, on a worker or inline
//     on the reader (inline.go); target is how many may run at once,
//     base scaled down by the cost fraction. workers counts worker
//     goroutines, idle those parked waiting for work (they linger for
//     workerLinger, then exit).
//   - burstLeft and burstEnded follow the requests of the burst being
//     dispatched, whose replies are written together (burst.go).
//   - stopReading is set when the session closes: requests read from
//     then on are dropped; drained is closed when unanswered empties.
//   - gids are the goroutines that run handlers (owngoroutine.go).
//
// Lock order: mu may be held while taking a request's context lock
// (in.cmu), the writer's lock (w.mu, to read its backlog) and the
// incoming budget's locks (account.mu, Budget.mu); none of those is
// held while taking mu. The writer and the stall watch report to the
// session through hooks called with their own lock released, and the
// outgoing call tracker's lock is a leaf, never held with mu.
type scheduler struct {
	mu          sync.Mutex
	readerWake  chan struct{} // closed to wake the reader waiting for room
	queue       list          // requests waiting for a worker
	unanswered  list          // every request read and not yet answered
	base        int           // configured concurrency (changed by SetConcurrency)
	target      int           // current concurrency target after throttling
	fraction    float64       // cost fraction behind target
	workers     int           // worker goroutines running
	tasks       int           // workers running a task of goAsync
	idle        []*parked     // workers waiting for work, most recent last
	busy        int           // requests running a handler
	gids        []uint64      // goroutines that run handlers: workers and readers
	expiryArmed bool
	expiry      *time.Timer
	drained     chan struct{} // closed when unanswered becomes empty, if waited for
	stopReading bool          // graceful close: new requests are ignored
	burstLeft   int           // requests of the current burst not yet answered
	burstEnded  bool          // the reader has dispatched the whole burst
	ended       bool          // torn down: a late timer finds nothing to do
}
