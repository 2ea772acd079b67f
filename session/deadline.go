package session

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/gorpcx/gorpcx/protocol"
)

// setDeadlineLocked arms the expiry timer, if it is not, for in, whose
// processing deadline is counted from when its message was read
// (incoming.deadline). s.sched.mu is held.
func (s *Session) setDeadlineLocked(in *incoming) {
	if s.cfg.processingTimeout <= 0 {
		return
	}
	if !s.sched.expiryArmed {
		s.sched.expiryArmed = true
		s.sched.expiry.Reset(s.cfg.processingTimeout)
	}
}

// expire answers every request past the processing timeout with -102
// "server busy - request timed out" and cancels its context. It runs on
// the session's expiry timer, which it re-arms for the next deadline.
func (s *Session) expire() {
	now := time.Now()
	var expired []*incoming
	s.sched.mu.Lock()
	if s.sched.ended {
		s.sched.mu.Unlock()
		return
	}
	for in := s.sched.unanswered.head; in != nil && !in.deadline().After(now); {
		next := in.next
		if in.answered.CompareAndSwap(false, true) {
			s.sched.unanswered.remove(in)
			if in.queued {
				s.sched.queue.remove(in)
				in.queued = false
			}
			expired = append(expired, in)
		}
		in = next
	}
	if head := s.sched.unanswered.head; head != nil {
		s.sched.expiry.Reset(max(head.deadline().Sub(now), time.Millisecond))
	} else {
		s.sched.expiryArmed = false
	}
	s.checkDrainedLocked()
	for _, in := range expired {
		s.acct.give(int64(in.size))
		in.size = 0
	}
	s.wakeReaderLocked()
	s.sched.mu.Unlock()
	for _, in := range expired {
		in.cancel(context.DeadlineExceeded)
		s.emit(LimitReached, "processing timeout", nil, 0)
		if ce, n := s.peerCheck(lineTimedOut); ce != nil {
			ce.Write(in.what(), zap.Duration("after", s.cfg.processingTimeout), suppressed(n))
		}
		s.countError(0)
		if !in.isNotification() {
			s.reply(in, nil, protocol.ServerBusy("server busy - request timed out"))
		}
		if in.batch != nil {
			in.batch.release(true)
		}
		s.burstAnswered(in, false)
	}
}
