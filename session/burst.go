package session

import "time"

// defaultBurstWait is the longest a reply is held back to be written
// with others: past it, the replies ready so far are written, so that
// neither a slow handler nor a message still arriving delays the others
// by more than this (see writer.holdWait).
const defaultBurstWait = 200 * time.Microsecond

// A burst is a run of messages that arrived together: the reader found
// more bytes already buffered after each. Replies to a burst's requests
// are held (the writer is corked) until every request of the burst has
// been answered, and then written together: pipelining peers get one
// write for many replies instead of one write each, and send their next
// requests together too. No reply is held longer than the writer's hold
// time (defaultBurstWait) after it was queued, whatever comes behind
// it: a slow request, or a next message whose bytes are still arriving
// (the buffered bytes that began the burst may be only its start).

// beginBurst corks the writer; called by the reader before dispatching
// a message that has more behind it.
func (s *Session) beginBurst() {
	if !s.bursting {
		s.bursting = true
		s.w.cork()
	}
}

// endBurst is called by the reader after dispatching the last message of
// a burst: the replies are written now if every request of the burst is
// answered, else when the last is, or when the writer's hold time
// passes.
func (s *Session) endBurst() {
	if s.finishBurst() {
		s.w.uncork()
	}
}

// endBurstWriting is endBurst for the reader at the end of a burst it
// dispatched: if every request of the burst is answered (the reader
// served them itself, see inline.go), it writes the held replies
// itself rather than start a goroutine for them, under the same inline
// budget as a request it serves: if the write takes longer, another
// goroutine takes the reading over, and it reports true (the caller
// must stop reading).
func (s *Session) endBurstWriting() (handedOff bool) {
	if !s.finishBurst() {
		return false
	}
	s.handOff.Reset(s.inlineBudget)
	s.w.endCork(true)
	return !s.handOff.Stop()
}

// finishBurst ends the reader's burst, if it is in one, and reports
// whether every request of it is answered, so that the held replies
// are to be written now; else the last one answered writes them
// (burstAnswered).
func (s *Session) finishBurst() bool {
	if !s.bursting {
		return false
	}
	s.bursting = false
	s.sched.mu.Lock()
	defer s.sched.mu.Unlock()
	if s.sched.burstLeft == 0 {
		return true
	}
	s.sched.burstEnded = true
	return false
}

// burstTimeout runs when the writer's hold time passed: the held
// replies were written; if the reader has dispatched the whole burst,
// the writer is uncorked for good, the slowest requests of the burst
// answering on their own.
func (s *Session) burstTimeout() {
	s.sched.mu.Lock()
	ended := s.sched.burstEnded
	s.sched.burstEnded = false
	s.sched.mu.Unlock()
	if ended {
		s.w.uncork()
	}
}

// burstAnswered counts a request of a burst as answered (its reply, if
// any, is queued); the last one of an ended burst writes them all: the
// caller itself if it may wait for the write (a worker), else a
// goroutine of the writer's (the reader, which must not wait, answers
// the requests it refuses; a timer answers those that timed out).
func (s *Session) burstAnswered(in *incoming, mayWait bool) {
	if !in.inBurst {
		return
	}
	s.sched.mu.Lock()
	s.sched.burstLeft--
	last := s.sched.burstLeft == 0 && s.sched.burstEnded
	if last {
		s.sched.burstEnded = false
	}
	s.sched.mu.Unlock()
	if last {
		s.w.endCork(mayWait)
	}
}
