package session

import (
	"slices"
	"time"
)

// goAsync runs f on a goroutine the session waits for before it ends:
// a parked worker if there is one (its stack is grown already: writing
// the replies of a burst on a new goroutine cost a stack copy each
// time), else a new goroutine. It takes sched.mu: never call it with mu
// held.
func (s *Session) goAsync(f func()) {
	s.sched.mu.Lock()
	if p := s.popIdleLocked(); p != nil {
		p.task = f
		p.wake <- struct{}{}
		s.sched.mu.Unlock()
		return
	}
	s.sched.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// workerLinger is how long a worker with nothing to do waits for more
// work before it exits. Reusing a worker saves starting a goroutine and
// growing its stack again for every request under load, while an idle
// session still ends up holding no worker at all.
const workerLinger = time.Second

// parked is a worker, and its state while it waits for work. It waits
// on wake alone: whoever takes it off the parked list (sched.idle),
// under sched.mu, says what to do in task or exit and then sends one
// value on wake. A worker parks and wakes once per request under load,
// so the wait is one channel receive: no select, and no timer reset
// (the linger timer is set once and, when it fires early, set again
// for the time left).
type parked struct {
	wake   chan struct{}
	task   func()        // run this, then go on (goAsync)
	exit   bool          // lingered long enough, or the session ends
	since  time.Duration // when it parked last, as s.since()
	linger *time.Timer   // made at the first park
	armed  bool          // linger is set
}

// popIdleLocked takes the most recently parked worker off the parked
// list, or returns nil if none is parked.
func (s *Session) popIdleLocked() *parked {
	n := len(s.sched.idle)
	if n == 0 {
		return nil
	}
	p := s.sched.idle[n-1]
	s.sched.idle[n-1] = nil
	s.sched.idle = s.sched.idle[:n-1]
	return p
}

// lingerOver runs when a worker's linger timer fires: a worker parked
// for workerLinger exits; one parked for less is given the time left;
// one at work sets the timer again when it next parks.
func (s *Session) lingerOver(p *parked) {
	s.sched.mu.Lock()
	defer s.sched.mu.Unlock()
	p.armed = false
	i := slices.Index(s.sched.idle, p)
	if i < 0 {
		return
	}
	if left := workerLinger - (s.since() - p.since); left > 0 {
		p.armed = true
		p.linger.Reset(left)
		return
	}
	s.sched.idle = slices.Delete(s.sched.idle, i, i+1)
	p.exit = true
	p.wake <- struct{}{}
}

// wakeAllParkedLocked tells every parked worker to exit (the session
// ends).
func (s *Session) wakeAllParkedLocked() {
	for p := s.popIdleLocked(); p != nil; p = s.popIdleLocked() {
		p.exit = true
		p.wake <- struct{}{}
	}
}

// spawnLocked makes sure every queued request has a worker awake for
// it, waking parked workers first and then starting new ones, up to the
// concurrency target. With a target of 0 one worker still runs, to
// answer each request with "excessive resource usage".
func (s *Session) spawnLocked() {
	limit := s.sched.target
	if limit <= 0 {
		// Every request is answered -101 at once: one worker more than
		// the handlers still running.
		limit = s.sched.busy + 1
	}
	// A worker running a task (goAsync) serves no request until the
	// task is done, which may be long (a write to a slow peer): it
	// counts neither as awake for the queue nor against the target.
	for s.sched.workers-len(s.sched.idle)-s.sched.busy-s.sched.tasks < s.sched.queue.len {
		if p := s.popIdleLocked(); p != nil {
			p.wake <- struct{}{}
			continue
		}
		if s.sched.workers-s.sched.tasks >= limit {
			return
		}
		s.sched.workers++
		s.wg.Add(1)
		go s.worker()
	}
}

// worker runs queued requests while the concurrency target allows,
// parks for up to workerLinger when the queue is empty, and exits when
// nothing came, the target has no room for it, or the session ends.
func (s *Session) worker() {
	defer s.wg.Done()
	s.addGoroutine()
	defer s.removeGoroutine()
	p := &parked{wake: make(chan struct{}, 1)}
	s.sched.mu.Lock()
	for {
		if s.sched.queue.len > 0 && (s.sched.target <= 0 || s.sched.busy < s.sched.target) {
			in := s.sched.queue.popFront()
			in.queued = false
			s.wakeReaderLocked()
			excessive := s.sched.target <= 0
			s.sched.busy++
			s.sched.mu.Unlock()
			if excessive {
				s.excessive(in)
			} else {
				s.serve(in)
			}
			s.sched.mu.Lock()
			s.sched.busy--
			continue
		}
		if s.sched.queue.len > 0 || s.sched.stopReading {
			break
		}
		p.since = s.since()
		s.sched.idle = append(s.sched.idle, p)
		if !p.armed {
			p.armed = true
			if p.linger == nil {
				p.linger = time.AfterFunc(workerLinger, func() { s.lingerOver(p) })
			} else {
				p.linger.Reset(workerLinger)
			}
		}
		s.sched.mu.Unlock()
		<-p.wake
		s.sched.mu.Lock()
		if p.exit {
			break
		}
		if task := p.task; task != nil {
			p.task = nil
			s.sched.tasks++
			s.sched.mu.Unlock()
			task()
			s.sched.mu.Lock()
			s.sched.tasks--
		}
	}
	s.sched.workers--
	s.sched.mu.Unlock()
	if p.linger != nil {
		p.linger.Stop()
	}
}
