package session

import (
	"errors"
	"time"

	"github.com/gorpcx/gorpcx/protocol"
)

// defaultInlineBudget is how long the reader may spend serving a request
// itself before another goroutine takes over reading.
const defaultInlineBudget = 100 * time.Microsecond

// errHandedOff ends a reader goroutine whose reading was taken over by
// another while it served a request.
var errHandedOff = errors.New("session: reading handed off")

// A request that arrives alone, when a worker would be free for it, is
// served by the reader goroutine itself: no hand-over to a worker, no
// wake-up, and the reply is written by the goroutine that read the
// request, which is what a sequential peer (one request at a time, on
// one or many connections) waits for.
//
// The reader must never stop reading for long, though: responses to
// the session's own calls must be read while handlers wait for them,
// and a slow request must not hold up the next. So a timer hands the
// reading over to a new goroutine when the request takes longer than
// the inline budget, and a handler that calls the peer hands it over at
// once, before it waits. The goroutine that served the request then
// finishes it and ends.

// tryInline serves it on the reader goroutine if the session has room
// for it now; msg is as for newSoloRequest. It reports whether it did
// (false: queue it as usual) and whether the reading was handed over
// meanwhile.
func (s *Session) tryInline(it *protocol.Item, msg []byte, size int) (served, handedOff bool) {
	s.sched.mu.Lock()
	if s.sched.stopReading || s.sched.queue.len > 0 || s.sched.target <= 0 || s.sched.busy >= s.sched.target || s.sched.fraction > 0 ||
		!s.acct.room(int64(size)) {
		s.sched.mu.Unlock()
		return false, false
	}
	in := newSoloRequest(s, it, msg)
	in.inline = true
	in.size = size
	s.acct.take(int64(size))
	s.setDeadlineLocked(in)
	s.sched.unanswered.pushBack(in)
	s.sched.busy++
	s.sched.mu.Unlock()

	s.handOff.Reset(s.inlineBudget)
	s.serve(in)
	s.sched.mu.Lock()
	s.sched.busy--
	s.spawnLocked() // a slot is free again for anything queued meanwhile
	s.sched.mu.Unlock()
	// Stop fails once the timer fired or a call handed the reading over.
	if !s.handOff.Stop() {
		return true, true
	}
	s.armRestart()
	return true, false
}

// takeOverReading starts a goroutine that goes on reading where the
// reader serving a request inline left off.
func (s *Session) takeOverReading() {
	s.wg.Add(1)
	go s.read()
}

// handOffNow hands the reading over at once if ctx is that of a request
// being served on the reader goroutine: a handler that is about to wait
// for the peer needs someone reading.
func (s *Session) handOffNow(ctx interface{ Value(any) any }) {
	in, _ := ctx.Value(inlineKey{}).(*incoming)
	if in == nil || in.s != s {
		return
	}
	if s.handOff.Stop() {
		s.takeOverReading()
	}
}

// inlineKey finds, through derived contexts, the request being served
// on the reader goroutine.
type inlineKey struct{}
