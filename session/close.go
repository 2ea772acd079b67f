package session

import (
	"context"
	"errors"
	"io"

	"go.uber.org/zap"

	"github.com/gorpcx/gorpcx/protocol"
)

// excessive answers a request that arrived when the cost reached the
// hard limit, then closes the session (aiorpcX's
// ExcessiveSessionCostError).
func (s *Session) excessive(in *incoming) {
	if !in.answered.CompareAndSwap(false, true) {
		return
	}
	in.cancel(context.Canceled)
	if !in.isNotification() {
		s.reply(in, nil, protocol.ExcessiveResourceUsage("excessive resource usage"))
	}
	s.countError(0)
	s.answered(in)
	s.excessiveCost()
}

// closeAfterReply closes the session gracefully without waiting here
// (the caller may be one of the session's own goroutines): requests
// already read are answered and written, then the connection closes.
// cause is recorded unless one already was. Only the first call acts.
func (s *Session) closeAfterReply(cause error) {
	s.recordCause(cause)
	if !s.closing.CompareAndSwap(false, true) {
		return
	}
	s.endCalls(s.Err())
	s.goAsync(func() {
		ctx := context.Background()
		if s.cfg.closeTimeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, s.cfg.closeTimeout)
			defer cancel()
		}
		if err := s.drain(ctx); err != nil {
			s.logStuck()
		}
		s.abort(s.Err())
	})
}

// excessiveCost closes the session for excessive resource usage, once.
func (s *Session) excessiveCost() {
	s.excess.Store(true)
	if s.recordCause(ErrExcessiveCost) {
		s.emit(CostLimit, "", ErrExcessiveCost, 0)
		s.logger().Warn("closing session for excessive resource usage", zap.Float64("cost", s.cost.value()))
		if f := s.cfg.cost.OnExcessive; f != nil {
			f()
		}
	}
	s.closeAfterReply(ErrExcessiveCost)
}

// recordCause keeps the first cause of the end; it reports whether
// this call set it.
func (s *Session) recordCause(err error) bool {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.cause != nil {
		return false
	}
	s.cause = err
	return true
}

// endCalls stops taking outgoing calls and fails the pending ones with
// a ConnectionError wrapping cause.
func (s *Session) endCalls(cause error) {
	s.closeMu.Lock()
	if !s.callsEnd {
		s.callsEnd = true
		close(s.calls)
	}
	s.closeMu.Unlock()
	s.tracker.close(&ConnectionError{Err: cause})
}

// callErr returns the error for a call made after the calls ended.
func (s *Session) callErr() error {
	cause := s.Err()
	if cause == nil {
		cause = ErrClosed
	}
	return &ConnectionError{Err: cause}
}

// abort ends the session at once with cause: pending calls fail,
// running handlers are cancelled and the stream is closed.
func (s *Session) abort(cause error) {
	s.recordCause(cause)
	s.abortOne.Do(func() {
		c := s.Err()
		s.endCalls(c)
		// Nothing more is written, not even the replies of the handlers
		// cancelled below.
		s.w.fail(c)
		_ = s.stream.Close()
		close(s.quit)
		s.sched.mu.Lock()
		s.sched.stopReading = true
		s.wakeAllParkedLocked()
		for in := s.sched.unanswered.head; in != nil; in = in.next {
			in.cancel(context.Canceled)
		}
		s.wakeReaderLocked()
		s.sched.mu.Unlock()
	})
}

// Abort closes the session at once, cancelling running handlers, and
// returns when it has ended and every handler has returned. Called by
// a handler of this session (on the goroutine that runs it), it does
// not wait: the session ends once that handler has returned.
func (s *Session) Abort() {
	s.abort(ErrClosed)
	if s.onOwnGoroutine() {
		return
	}
	<-s.done
}

// AbortWith closes the session at once, as Abort does, with cause as
// the reason Wait and Err return (unless the session was already
// ending, when the first cause stays). Unlike Abort it does not wait
// for the session to end: Done tells when it has. A server uses it to
// evict a connection with a cause of its own; cause must not be nil.
func (s *Session) AbortWith(cause error) {
	if cause == nil {
		cause = ErrClosed
	}
	s.abort(cause)
}

// Close closes the session gracefully with the CloseTimeout option
// (30 s by default) as its deadline; see [Session.Shutdown]. It returns
// nil, or the deadline's error if it passed.
func (s *Session) Close() error {
	ctx := context.Background()
	if s.cfg.closeTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.closeTimeout)
		defer cancel()
	}
	return s.Shutdown(ctx)
}

// Shutdown closes the session gracefully: it stops taking new requests
// and calls (pending outgoing calls fail with a ConnectionError), lets
// the requests already read run and their replies be written, then
// closes the connection and returns nil once every handler has
// returned.
//
// If ctx ends first, the session is aborted (running handlers are
// cancelled, nothing more is written) and Shutdown returns ctx.Err() at
// once, without waiting for handlers that ignore their context: those
// are named in the log, and what they do afterwards reaches nobody.
// Done is closed when the last of them has returned.
//
// Called by a handler of this session (on the goroutine that runs it),
// Shutdown and Close do not wait for that handler, which would wait for
// itself: they start the graceful close, which writes the handler's
// reply and then closes the connection, and return nil at once.
func (s *Session) Shutdown(ctx context.Context) error {
	if s.onOwnGoroutine() {
		s.closeAfterReply(ErrClosed)
		return nil
	}
	s.recordCause(ErrClosed)
	s.endCalls(ErrClosed)
	err := s.drain(ctx)
	s.abort(ErrClosed)
	select {
	case <-s.done:
		return err
	case <-ctx.Done():
		s.logStuck()
		return ctx.Err()
	}
}

// logStuck names the handlers still running after a deadline passed.
func (s *Session) logStuck() {
	s.sched.mu.Lock()
	var stuck []string
	for in := s.sched.unanswered.head; in != nil && len(stuck) < 20; in = in.next {
		stuck = append(stuck, in.name())
	}
	running := s.sched.busy
	s.sched.mu.Unlock()
	s.logger().Warn("closing deadline passed with handlers still running; they were cancelled and their replies will be dropped",
		zap.Int("running", running), zap.Strings("unanswered", stuck))
}

// drain stops reading new requests and waits until every request read
// has been answered and written, or ctx ends.
func (s *Session) drain(ctx context.Context) error {
	s.sched.mu.Lock()
	s.sched.stopReading = true
	s.wakeReaderLocked()
	var ch chan struct{}
	if s.sched.unanswered.len > 0 {
		if s.sched.drained == nil {
			s.sched.drained = make(chan struct{})
		}
		ch = s.sched.drained
	}
	s.sched.mu.Unlock()
	if ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return nil
		}
	}
	return s.w.flushWait(ctx)
}

// teardown ends the session after the reading ended with cause.
func (s *Session) teardown(cause error) {
	// Pending calls can never be answered now.
	s.recordCause(cause)
	s.endCalls(s.Err())
	if errors.Is(cause, io.EOF) {
		// Half-close: replies to requests already read may still go out.
		ctx := context.Background()
		if s.cfg.closeTimeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, s.cfg.closeTimeout)
			defer cancel()
		}
		_ = s.drain(ctx)
	}
	s.abort(s.Err())
	// No ping may start once the wait below has begun.
	s.watch.stop()
	s.wg.Wait()
	if s.sched.expiry != nil {
		s.sched.expiry.Stop()
	}
	s.handOff.Stop()
	s.w.stop()
	// Whatever is still held (requests read and never answered, as
	// when the session was aborted, and bytes of a message cut short)
	// goes back to the budget, once: a late expiry finds the scheduler
	// ended.
	s.sched.mu.Lock()
	s.sched.ended = true
	for in := s.sched.unanswered.head; in != nil; in = in.next {
		s.acct.give(int64(in.size))
		in.size = 0
		if in.batch != nil {
			in.batch.giveBytes()
		}
	}
	s.sched.mu.Unlock()
	if s.gate != nil {
		s.gate.settle(0)
	}
	s.flushPeerLogs()
	s.logger().Debug("session ended", zap.Error(s.Err()))
	s.runAfterClose()
	close(s.done)
}
