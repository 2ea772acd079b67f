package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"

	"github.com/gorpcx/gorpcx/protocol"
)

// incoming is a request or notification read from the peer, from the
// moment it is read until it is answered. It is also its handler's
// context (see context.go).
type incoming struct {
	contextFields
	s        *Session
	item     *protocol.Item // a JSON-RPC request or notification
	batch    *batchReply
	size     int // bytes of the incoming budget held until answered
	deadline time.Time

	// A message of a MessageSession.
	command string
	payload []byte

	// Guarded by s.sched.mu.
	prev, next   *incoming // unanswered list
	qprev, qnext *incoming // queue
	queued       bool

	// answered is set by whoever answers first: the handler's return or
	// the processing timeout.
	answered atomic.Bool

	// inBurst: read during a burst, whose replies wait for this one.
	inBurst bool
	// inline: served by the reader goroutine itself (see inline.go).
	inline bool
	// refused: answered -102 by the reader, never queued.
	refused bool
}

// isNotification reports whether no reply is owed: a JSON-RPC
// notification, or any message of a MessageSession.
func (in *incoming) isNotification() bool {
	return in.item == nil || in.item.Kind == protocol.KindNotification
}

// name is the method or command, for logs.
func (in *incoming) name() string {
	if in.item == nil {
		return in.command
	}
	return clip(in.item.Request.Method)
}

// what names the request or message for logs.
func (in *incoming) what() zap.Field {
	if in.item == nil {
		return zap.String("command", in.command)
	}
	return zap.String("method", clip(in.item.Request.Method))
}

// soloRequest is a request or notification that came alone in its
// message, with its own copy of its item: one allocation for both.
type soloRequest struct {
	in   incoming
	item protocol.Item
}

// newSoloRequest returns the incoming request of it, a copy of the
// reader's item.
func newSoloRequest(s *Session, it *protocol.Item) *incoming {
	r := &soloRequest{}
	it.CopyTo(&r.item)
	r.in.s = s
	r.in.item = &r.item
	return &r.in
}

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
			s.log.Debug("ignoring request while closing", in.what())
			return false
		}
		if s.roomLocked(size) {
			break
		}
		if s.awaiting.Load() > 0 {
			if held := s.acct.held.Load(); held == 0 || held+int64(size) <= s.acct.limit {
				break // past MaxQueued, within the bytes
			}
			s.sched.mu.Unlock()
			s.refuseBusy(in)
			return false
		}
		s.waitForRoomLocked()
	}
	if s.bursting {
		in.inBurst = true
		s.sched.burstLeft++
	}
	if in.batch != nil {
		in.batch.hold()
	}
	in.size = size
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

// waitForRoomLocked waits until something may have made room for the
// reader: a request taken off the queue or answered, the write backlog
// drained, a call made to the peer, the shared budget released, or the
// session closing. Called with mu held, by the reader; returns with mu
// held.
func (s *Session) waitForRoomLocked() {
	if s.bursting {
		// What the burst produced so far goes out now, and the rest of
		// it is dispatched as a burst of its own.
		s.sched.mu.Unlock()
		s.endBurst()
		s.beginBurst()
		s.sched.mu.Lock()
		if s.sched.stopReading || s.roomLocked(0) {
			return
		}
	}
	ch := make(chan struct{})
	s.sched.readerWake = ch
	s.readerWaiting.Store(true)
	s.sched.mu.Unlock()
	var shared <-chan struct{}
	if b := s.acct.budget; b != nil && b.limit > 0 {
		shared = b.waitChan()
		defer b.doneWaiting()
	}
	select {
	case <-ch:
	case <-shared:
	case <-s.quit:
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
	s.peerWarn("incoming budget full while waiting for the peer; refusing request", in.what(),
		zap.Int64("held", s.acct.held.Load()), zap.Int64("limit", s.acct.limit))
	if in.isNotification() || in.item == nil {
		return
	}
	in.answered.Store(true)
	in.refused = true
	// A batch's reply is held by the reader until its dispatch ends.
	s.reply(in, nil, protocol.ServerBusy("server busy - incoming budget full"))
}

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
	limit := max(s.sched.target, 1)
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

// serve runs the handler for one request or message and answers it,
// after the cost throttling's delay.
func (s *Session) serve(in *incoming) {
	if d := s.cost.delay(); d > 0 {
		if s.cfg.clock.Sleep(in, d) != nil {
			return // timed out or cancelled while throttled; already answered
		}
	}
	if in.answered.Load() {
		return
	}
	s.stats.busy.Add(1)
	defer s.stats.busy.Add(-1)
	s.proto.serve(in)
}

// serveRequest runs the handler for one JSON-RPC request and answers
// it.
func (s *Session) serveRequest(in *incoming) {
	result, err := s.invoke(in)
	s.finish(in, result, err)
}

// invoke calls the handler, turning a panic into an internal error.
func (s *Session) invoke(in *incoming) (result any, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.logPanic(in, p)
			result, err = nil, errPanic
		}
	}()
	if s.handler == nil {
		return nil, protocol.MethodNotFound(in.item.Request.Method)
	}
	return s.handler.Handle(in, &in.item.Request)
}

var errPanic = errors.New("handler panicked")

func (s *Session) logPanic(in *incoming, p any) {
	s.log.Error("handler panicked", in.what(), zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
}

// finish answers a request the handler has returned from, unless the
// processing timeout answered it first.
func (s *Session) finish(in *incoming, result any, err error) {
	if !in.answered.CompareAndSwap(false, true) {
		return
	}
	in.cancel(context.Canceled)
	var disconnect *ReplyAndDisconnect
	if err != nil {
		if disconnect = asDisconnect(err); disconnect != nil {
			result, err = disconnect.Result, nil
			if e, ok := result.(*jsonrpc2.Error); ok {
				result, err = nil, e
			}
		}
	}
	if err != nil {
		err = s.replyError(in, err)
	}
	if !in.isNotification() {
		s.reply(in, result, err)
	}
	s.answered(in)
	if disconnect != nil {
		s.closeAfterReply(ErrClosed)
	}
}

// setDeadlineLocked gives in its processing deadline, counted from when
// its message was read, and arms the expiry timer if it is not. s.sched.mu is
// held.
func (s *Session) setDeadlineLocked(in *incoming) {
	if s.cfg.processingTimeout <= 0 {
		return
	}
	in.deadline = s.start.Add(s.recvAt + s.cfg.processingTimeout)
	if !s.sched.expiryArmed {
		s.sched.expiryArmed = true
		s.sched.expiry.Reset(s.cfg.processingTimeout)
	}
}

// asDisconnect returns the *ReplyAndDisconnect in err's chain, or nil.
// (Its own function: the variable errors.As writes to escapes, and the
// common call, without an error, should not pay for it.)
func asDisconnect(err error) *ReplyAndDisconnect {
	var d *ReplyAndDisconnect
	if errors.As(err, &d) {
		return d
	}
	return nil
}

// replyError turns a handler's error into the error object to send,
// counting it against the peer.
func (s *Session) replyError(in *incoming, err error) *jsonrpc2.Error {
	var rpcErr *jsonrpc2.Error
	if errors.As(err, &rpcErr) {
		s.countError(0)
		return rpcErr
	}
	if err != errPanic {
		s.log.Warn("handler failed",
			zap.String("method", clip(in.item.Request.Method)), zap.Error(err))
	}
	s.countError(0)
	return protocol.InternalError("internal server error")
}

// reply encodes and sends the answer to one request: err when it is
// not nil (a *jsonrpc2.Error), else result.
func (s *Session) reply(in *incoming, result any, err error) {
	id := in.item.RawID
	buf := getBuffer()
	var encErr error
	if e, ok := err.(*jsonrpc2.Error); ok && e != nil {
		buf.b, encErr = s.codec.AppendError(buf.b[:0], id, e)
	} else {
		buf.b, encErr = s.appendResult(buf.b[:0], id, result)
	}
	if encErr != nil {
		s.log.Error("cannot encode reply", zap.String("method", clip(in.item.Request.Method)), zap.Error(encErr))
		s.countError(0)
		buf.b, _ = s.codec.AppendError(buf.b[:0], id, protocol.InternalError("internal server error"))
	}
	if in.batch != nil {
		in.batch.add(id, buf)
		return
	}
	if max := s.cfg.maxResponseSize; max > 0 && len(buf.b) > max {
		buf.b = s.oversized(buf.b[:0], id)
	}
	// The reader itself answers a request it refuses; it must not wait.
	s.w.send(buf, !in.refused)
}

// oversized encodes aiorpcX's reply for a response over the limit.
func (s *Session) oversized(dst, id []byte) []byte {
	msg := fmt.Sprintf("response too large (over %d bytes)", s.cfg.maxResponseSize)
	dst, _ = s.codec.AppendError(dst, id, protocol.InvalidRequest(msg))
	return dst
}

var jsonNull = json.RawMessage("null")

// appendResult encodes a handler's result: a json.RawMessage as it is,
// anything else with encoding/json.
func (s *Session) appendResult(dst, id []byte, result any) ([]byte, error) {
	var raw json.RawMessage
	switch r := result.(type) {
	case nil:
		raw = jsonNull
	case json.RawMessage:
		raw = r
		if raw == nil {
			raw = jsonNull
		}
	default:
		b, err := json.Marshal(r)
		if err != nil {
			return dst, err
		}
		raw = b
	}
	return s.codec.AppendResult(dst, id, raw)
}

// answered takes a request off the unanswered list.
func (s *Session) answered(in *incoming) {
	s.sched.mu.Lock()
	s.sched.unanswered.remove(in)
	s.checkDrainedLocked()
	s.acct.give(int64(in.size))
	s.wakeReaderLocked()
	s.sched.mu.Unlock()
	if in.batch != nil {
		in.batch.release(true)
	}
	s.burstAnswered(in)
}

func (s *Session) checkDrainedLocked() {
	if s.sched.unanswered.len == 0 && s.sched.drained != nil {
		close(s.sched.drained)
		s.sched.drained = nil
	}
}

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

// expire answers every request past the processing timeout with -102
// "server busy - request timed out" and cancels its context. It runs on
// the session's expiry timer, which it re-arms for the next deadline.
func (s *Session) expire() {
	now := time.Now()
	var expired []*incoming
	s.sched.mu.Lock()
	for in := s.sched.unanswered.head; in != nil && !in.deadline.After(now); {
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
		s.sched.expiry.Reset(max(head.deadline.Sub(now), time.Millisecond))
	} else {
		s.sched.expiryArmed = false
	}
	s.checkDrainedLocked()
	for _, in := range expired {
		s.acct.give(int64(in.size))
	}
	s.wakeReaderLocked()
	s.sched.mu.Unlock()
	for _, in := range expired {
		in.cancel(context.DeadlineExceeded)
		s.log.Info("incoming request timed out", in.what(), zap.Duration("after", s.cfg.processingTimeout))
		s.countError(0)
		if !in.isNotification() {
			s.reply(in, nil, protocol.ServerBusy("server busy - request timed out"))
		}
		if in.batch != nil {
			in.batch.release(true)
		}
		s.burstAnswered(in)
	}
}

// clip cuts peer-supplied text for logs.
func clip(s string) string {
	const n = 100
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
