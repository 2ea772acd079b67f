package session

import (
	"runtime"
)

// A handler that closes its own session (Close, Shutdown, Abort) must
// not wait for the session's end, which waits for that very handler.
// Handlers run on the session's workers and, when served inline, on
// its reader; each of those goroutines notes its ID in s.sched.gids while it
// lives, and the closing methods ask whether they were called on one of
// them. (A handler that hands the close to another goroutine and waits
// for it is not seen; the doc of Shutdown says so.)

// addGoroutine notes the calling goroutine as one that runs handlers.
func (s *Session) addGoroutine() {
	id := goroutineID()
	s.sched.mu.Lock()
	s.sched.gids = append(s.sched.gids, id)
	s.sched.mu.Unlock()
}

// removeGoroutine forgets the calling goroutine.
func (s *Session) removeGoroutine() {
	id := goroutineID()
	s.sched.mu.Lock()
	for i, g := range s.sched.gids {
		if g == id {
			s.sched.gids[i] = s.sched.gids[len(s.sched.gids)-1]
			s.sched.gids = s.sched.gids[:len(s.sched.gids)-1]
			break
		}
	}
	s.sched.mu.Unlock()
}

// onOwnGoroutine reports whether the caller runs on one of the
// session's handler goroutines.
func (s *Session) onOwnGoroutine() bool {
	id := goroutineID()
	s.sched.mu.Lock()
	defer s.sched.mu.Unlock()
	for _, g := range s.sched.gids {
		if g == id {
			return true
		}
	}
	return false
}

// goroutineID returns the runtime's number for the calling goroutine,
// read from the first line of its stack trace ("goroutine 18 [...").
func goroutineID() uint64 {
	var buf [32]byte
	b := buf[:runtime.Stack(buf[:], false)]
	const prefix = "goroutine "
	if len(b) < len(prefix) {
		return 0
	}
	var id uint64
	for _, c := range b[len(prefix):] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}
