package session

import "time"

// goAsync runs f on a goroutine the session waits for before it ends.
func (s *Session) goAsync(f func()) {
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

// parked is a worker waiting for work; wake receives one value when it
// is handed work.
type parked struct {
	wake chan struct{}
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
	for s.sched.workers-len(s.sched.idle)-s.sched.busy < s.sched.queue.len {
		if n := len(s.sched.idle); n > 0 {
			p := s.sched.idle[n-1]
			s.sched.idle[n-1] = nil
			s.sched.idle = s.sched.idle[:n-1]
			p.wake <- struct{}{}
			continue
		}
		if s.sched.workers >= limit {
			return
		}
		s.sched.workers++
		s.wg.Add(1)
		go s.worker()
	}
}

// unparkLocked takes p off the parked list; it reports false if p was
// already handed work (its wake value is then on the way).
func (s *Session) unparkLocked(p *parked) bool {
	for i, x := range s.sched.idle {
		if x == p {
			s.sched.idle = append(s.sched.idle[:i], s.sched.idle[i+1:]...)
			return true
		}
	}
	return false
}

// worker runs queued requests while the concurrency target allows,
// parks for up to workerLinger when the queue is empty, and exits when
// nothing came, the target has no room for it, or the session ends.
func (s *Session) worker() {
	defer s.wg.Done()
	s.addGoroutine()
	defer s.removeGoroutine()
	p := &parked{wake: make(chan struct{}, 1)}
	var timer *time.Timer
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
		s.sched.idle = append(s.sched.idle, p)
		s.sched.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(workerLinger)
		} else {
			timer.Reset(workerLinger)
		}
		woken := false
		select {
		case <-p.wake:
			woken = true
		case <-timer.C:
		case <-s.quit:
		}
		s.sched.mu.Lock()
		if !woken && s.unparkLocked(p) {
			break
		}
		if !woken {
			// Handed work just as the wait ended.
			s.sched.mu.Unlock()
			<-p.wake
			s.sched.mu.Lock()
		}
	}
	s.sched.workers--
	s.sched.mu.Unlock()
	if timer != nil {
		timer.Stop()
	}
}
