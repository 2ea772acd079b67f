package session

import "time"

// defaultBurstWait is the longest a burst's replies are held for its
// slowest request: past it, the replies ready so far are written, so
// that one slow handler never delays the others by more than this.
const defaultBurstWait = 200 * time.Microsecond

// A burst is a run of messages that arrived together: the reader found
// the next one already buffered after each. Replies to a burst's
// requests are held (the writer is corked) until every request of the
// burst has been answered, or Session.burstWait (defaultBurstWait) after
// the reader dispatched the last of them, and then written together:
// pipelining peers get one write for many replies instead of one write
// each, and send their next requests together too.

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
// answered, else when the last is, or after burstWait.
func (s *Session) endBurst() {
	if !s.bursting {
		return
	}
	s.bursting = false
	s.mu.Lock()
	if s.burstLeft == 0 {
		s.mu.Unlock()
		s.w.uncork()
		return
	}
	s.burstEnded = true
	if s.burstTimer == nil {
		s.burstTimer = time.AfterFunc(s.burstWait, s.burstTimeout)
	} else {
		s.burstTimer.Reset(s.burstWait)
	}
	s.mu.Unlock()
}

// burstTimeout writes a burst's replies that are ready when its slowest
// requests take too long.
func (s *Session) burstTimeout() {
	s.mu.Lock()
	ended := s.burstEnded
	s.burstEnded = false
	s.mu.Unlock()
	if ended {
		s.w.uncork()
	}
}

// burstAnswered counts a request of a burst as answered (its reply, if
// any, is queued); the last one of an ended burst writes them all.
func (s *Session) burstAnswered(in *incoming) {
	if !in.inBurst {
		return
	}
	s.mu.Lock()
	s.burstLeft--
	last := s.burstLeft == 0 && s.burstEnded
	if last {
		s.burstEnded = false
		s.burstTimer.Stop()
	}
	s.mu.Unlock()
	if last {
		s.w.uncork()
	}
}
