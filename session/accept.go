package session

import (
	"go.uber.org/zap"

	"github.com/gorpcx/gorpcx/protocol"
)

// accept queues a request or message read from the peer, which holds
// size bytes of the session's incoming budget from now until it is
// answered (0 for the later items of a batch, whose message is counted
// once, by its batchReply).
//
// The rule that keeps a session from stalling: while nothing of this
// session waits for the peer, the reader waits here for room (the
// queue under MaxQueued, the bytes held under MaxIncomingBytes and the
// shared Budget's share, the write backlog under its high water) and
// so stops reading: back-pressure. But while a call or batch of this
// session waits for the peer's answer (a handler calling the peer,
// typically), the reader never waits: the answer may be the next
// message. Requests then go on being queued past MaxQueued, bounded in
// bytes by MaxIncomingBytes, and past that a request is answered -102
// "server busy" at once and a notification is dropped, both charged to
// the peer as errors.
//
// A request that arrives while the session is closing is dropped. It
// reports whether in was queued (and so holds size bytes).
func (s *Session) accept(in *incoming, size int) bool {
	s.sched.mu.Lock()
	for {
		if s.sched.stopReading {
			s.sched.mu.Unlock()
			if ce, n := s.peerCheck(lineIgnoredClosing); ce != nil {
				ce.Write(in.what(), suppressed(n))
			}
			return false
		}
		if s.roomLocked(size) {
			break
		}
		if s.awaiting.Load() > 0 {
			if s.acct.fits(int64(size)) {
				break // past MaxQueued, within the bytes
			}
			s.sched.mu.Unlock()
			s.refuseBusy(in)
			return false
		}
		s.waitForRoomLocked(size)
	}
	if s.bursting {
		in.inBurst = true
		s.sched.burstLeft++
	}
	if in.batch != nil {
		// The batch's message is held until its last item is answered.
		in.batch.hold()
		in.batch.takeBytes(size)
	} else {
		in.size = size
	}
	s.acct.take(int64(size))
	s.setDeadlineLocked(in)
	s.sched.unanswered.pushBack(in)
	s.sched.queue.pushBack(in)
	in.queued = true
	s.spawnLocked()
	s.sched.mu.Unlock()
	return true
}

// roomLocked reports whether a request of size bytes may be queued
// without waiting.
func (s *Session) roomLocked(size int) bool {
	return s.sched.queue.len < s.cfg.maxQueued && s.acct.room(int64(size)) && !s.w.overHighWater()
}

// waitForRoomLocked waits until something may have made room for a
// request of size bytes: a request taken off the queue or answered, the
// write backlog drained, a call made to the peer, the shared budget
// released, or the session closing. Called with mu held, by the reader;
// returns with mu held.
func (s *Session) waitForRoomLocked(size int) {
	if s.bursting {
		// What the burst produced so far goes out now, and the rest of
		// it is dispatched as a burst of its own.
		s.sched.mu.Unlock()
		s.endBurst()
		s.beginBurst()
		s.sched.mu.Lock()
		if s.sched.stopReading || s.roomLocked(size) {
			return
		}
	}
	ch := make(chan struct{})
	s.sched.readerWake = ch
	s.readerWaiting.Store(true)
	var shared <-chan struct{}
	if b := s.acct.budget; b != nil && b.limit > 0 {
		// Registered before the check below, so that bytes the group
		// releases from now on wake this reader.
		shared = b.waitChan()
		defer b.doneWaiting()
	}
	// A call may have begun waiting for the peer, or room been made,
	// after the caller's check: look again now that any wake-up will
	// be seen.
	if s.awaiting.Load() > 0 || s.roomLocked(size) {
		s.readerWaiting.Store(false)
		s.sched.readerWake = nil
		return
	}
	s.sched.mu.Unlock()
	if s.watch != nil {
		// Not the peer's time: the session holds its limits.
		s.watch.pause()
	}
	select {
	case <-ch:
	case <-shared:
	case <-s.quit:
	}
	if s.watch != nil {
		s.watch.resume()
	}
	s.readerWaiting.Store(false)
	s.sched.mu.Lock()
	if s.sched.readerWake == ch {
		s.sched.readerWake = nil
	}
}

// wakeReaderLocked wakes the reader if it waits for room.
func (s *Session) wakeReaderLocked() {
	if s.sched.readerWake != nil {
		close(s.sched.readerWake)
		s.sched.readerWake = nil
	}
}

// wakeReaderIfWaiting wakes the reader if it waits for room, taking
// mu only then.
func (s *Session) wakeReaderIfWaiting() {
	if s.readerWaiting.Load() {
		s.wakeReader()
	}
}

// wakeReader wakes the reader if it waits for room.
func (s *Session) wakeReader() {
	s.sched.mu.Lock()
	s.wakeReaderLocked()
	s.sched.mu.Unlock()
}

// refuseBusy answers a request the session has no room for while it must go
// on reading: -102 "server busy" for a request, nothing for a
// notification (dropped); both count as errors of the peer.
func (s *Session) refuseBusy(in *incoming) {
	s.countError(0)
	s.emit(LimitReached, "incoming bytes", nil, 0)
	if ce, n := s.peerCheck(lineRefused); ce != nil {
		ce.Write(in.what(), zap.Int64("held", s.acct.held.Load()), zap.Int64("limit", s.acct.limit), suppressed(n))
	}
	if in.isNotification() || in.item == nil {
		return
	}
	in.answered.Store(true)
	in.refused = true
	// A batch's reply is held by the reader until its dispatch ends.
	s.reply(in, nil, protocol.ServerBusy("server busy - incoming budget full"))
}
