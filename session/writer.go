package session

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/gorpcx/gorpcx/framing"
)

// writer sends the session's messages. There is no writer goroutine:
// the first goroutine to send while nothing is being written becomes
// the flusher and writes everything queued meanwhile, in one Write when
// the stream is a framing.BatchWriter, so that replies ready at the
// same time are coalesced.
//
// Bounds. The bytes queued and not yet written are the backlog. A
// sender that may block (a handler's reply, a call, a notification)
// waits while the backlog is over maxBuffer: a peer that reads slowly
// slows its session down rather than growing its memory. A sender that
// must not block (the reader, answering a protocol error) never waits;
// if the backlog is over maxBuffer then, the peer is flooding without
// reading and the session is aborted with ErrSendStalled. A write that
// stalls longer than the send timeout aborts the session too (see
// stallWatch). The session pauses reading requests while the backlog is
// over half of maxBuffer (see [writer.overHighWater]).
//
// Holding. While corked (the reader is dispatching a burst of messages
// that arrived together) messages are queued, not written, so that
// their replies go out together; but no message is held longer than
// holdWait after it was queued: the hold timer then writes what is
// queued, corked or not.
//
// The writer knows nothing of the session: it reports through the
// callbacks of writerHooks.
type writer struct {
	stream    framing.Stream
	batch     framing.BatchWriter
	stall     *stallWatch // nil: no send timeout
	maxBuffer int
	holdWait  time.Duration
	hooks     writerHooks

	mu      sync.Mutex
	queue   []*buffer
	spare   []*buffer
	scratch [][]byte
	bytes   int // the backlog: queued and not yet written
	// backlog mirrors bytes, for readers that take no lock.
	backlog   atomic.Int64
	flushing  bool
	corked    bool // the reader is in a burst: queue, do not write yet
	holdArmed bool // the hold timer is pending
	hold      *time.Timer
	err       error
	seq       uint64 // messages queued so far
	written   uint64 // messages written so far
	progress  chan struct{}
	lowWait   bool // someone waits for the backlog to fall under high water
}

// writerHooks are the writer's reports to its session, and what it
// asks of it. A *Session implements them: an interface rather than
// function values, so that a session pays for no closures.
type writerHooks interface {
	// sent counts messages written, with their bytes.
	sent(messages, bytes int)
	// abort ends the session with err (a write error or a stall).
	abort(err error)
	// burstTimeout runs when the hold timer wrote held messages.
	burstTimeout()
	// wakeReader runs when the backlog fell under high water and
	// someone asked (overHighWater).
	wakeReader()
	// goAsync runs f on a goroutine the session waits for.
	goAsync(f func())
	// since is the session's clock.
	since() time.Duration
	// peerCheck decides whether a log line a peer triggered is written
	// (see warn.go).
	peerCheck(k peerLine) (*zapcore.CheckedEntry, int64)
	// check is the session's logger's Check (see warn.go).
	check(level zapcore.Level, msg string) *zapcore.CheckedEntry
}

func newWriter(stream framing.Stream, cfg *settings, hooks writerHooks) *writer {
	w := &writer{stream: stream, maxBuffer: cfg.maxWriteBuffer, holdWait: defaultBurstWait, hooks: hooks}
	w.batch, _ = stream.(framing.BatchWriter)
	if cfg.sendTimeout > 0 {
		w.stall = newStallWatch(cfg.sendTimeout, hooks)
	}
	return w
}

// send queues buf (which the writer owns from then on) and, when flush
// is true and nobody is writing, writes the queue before returning.
// With flush true the caller may be made to wait while the backlog is
// over the limit; with flush false it never waits, and a goroutine
// writes instead, so that the reader never blocks on a peer that does
// not read. It returns a *ConnectionError once the writer has failed.
func (w *writer) send(buf *buffer, flush bool) error {
	return w.sendCtx(context.Background(), buf, flush)
}

// sendCtx is send with a context that ends the wait for room: the
// message is then dropped and ctx.Err() returned.
func (w *writer) sendCtx(ctx context.Context, buf *buffer, flush bool) error {
	n := len(buf.b)
	done := ctx.Done()
	w.mu.Lock()
	for w.err == nil && w.bytes > 0 && w.bytes+n > w.maxBuffer {
		if !flush {
			return w.overflowLocked(buf)
		}
		if !w.flushing && !w.corked {
			// Nobody writes the backlog: this sender does.
			w.flushing = true
			w.flushLocked()
			w.mu.Lock()
			continue
		}
		w.armHoldLocked()
		ch := w.progressLocked()
		w.mu.Unlock()
		select {
		case <-ch:
		case <-done:
			putBuffer(buf)
			return ctx.Err()
		}
		w.mu.Lock()
	}
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		putBuffer(buf)
		return &ConnectionError{Err: err}
	}
	return w.queueLocked(buf, flush)
}

// overflowLocked drops buf, which does not fit in the backlog of a
// sender that may not wait, and ends the session. Called with mu held;
// returns with it released. Kept out of sendCtx, whose frame is on the
// reader's stack when it serves inline.
//
//go:noinline
func (w *writer) overflowLocked(buf *buffer) error {
	queued := w.bytes
	w.mu.Unlock()
	putBuffer(buf)
	if ce, n := w.hooks.peerCheck(lineWriteOverflow); ce != nil {
		ce.Write(zap.Int("queued", queued), zap.Int("limit", w.maxBuffer), suppressed(n))
	}
	w.hooks.abort(ErrSendStalled)
	return &ConnectionError{Err: ErrSendStalled}
}

// trySend queues buf if the backlog has room for it, to be written on
// a goroutine of the writer's, and reports true; else (no room, or the
// writer failed) it drops buf and reports false. It never waits.
func (w *writer) trySend(buf *buffer) bool {
	w.mu.Lock()
	if w.err != nil || (w.bytes > 0 && w.bytes+len(buf.b) > w.maxBuffer) {
		w.mu.Unlock()
		putBuffer(buf)
		return false
	}
	w.queueLocked(buf, false)
	return true
}

// queueLocked queues buf and writes the queue (see sendCtx). Called
// with mu held; returns with it released.
func (w *writer) queueLocked(buf *buffer, flush bool) error {
	n := len(buf.b)
	w.queue = append(w.queue, buf)
	w.bytes += n
	w.backlog.Store(int64(w.bytes))
	w.seq++
	if w.flushing {
		w.mu.Unlock()
		return nil
	}
	if w.corked {
		w.armHoldLocked()
		w.mu.Unlock()
		return nil
	}
	w.flushing = true
	if !flush {
		w.flushAsyncLocked()
		return nil
	}
	return w.flushLocked()
}

// armHoldLocked arms the hold timer if it is not.
func (w *writer) armHoldLocked() {
	if !w.holdArmed {
		w.holdArmed = true
		if w.hold == nil {
			// Made at the first burst: an idle session has none.
			w.hold = time.AfterFunc(w.holdWait, w.holdExpired)
			return
		}
		w.hold.Reset(w.holdWait)
	}
}

// holdExpired is the hold timer's function: what is queued is written
// now, and the session is told.
func (w *writer) holdExpired() {
	w.mu.Lock()
	if !w.holdArmed {
		w.mu.Unlock()
		return
	}
	w.holdArmed = false
	w.flushQueuedLocked()
	w.hooks.burstTimeout()
}

// flushQueuedLocked starts writing what is queued on a goroutine of its
// own, unless nothing is, someone is writing already or the writer has
// failed. Called with mu held; returns with mu released.
func (w *writer) flushQueuedLocked() {
	if w.err != nil || w.flushing || len(w.queue) == 0 {
		w.mu.Unlock()
		return
	}
	w.flushing = true
	w.flushAsyncLocked()
}

// flushAsyncLocked writes the queue on a goroutine of its own. Called
// with mu held and flushing set; returns with mu released.
func (w *writer) flushAsyncLocked() {
	w.mu.Unlock()
	w.hooks.goAsync(func() {
		w.mu.Lock()
		w.flushLocked()
	})
}

// cork holds the messages sent from now on in the queue, unwritten,
// until uncork or for holdWait at most. The reader corks while it
// dispatches a burst of pipelined requests that arrived together, so
// that their replies go out together, in one write, instead of one
// write each.
func (w *writer) cork() {
	w.mu.Lock()
	w.corked = true
	w.mu.Unlock()
}

// uncork ends a burst: what was queued meanwhile is written, on a
// goroutine of its own, since the reader must never block on a write.
func (w *writer) uncork() { w.endCork(false) }

// endCork ends a burst, as uncork does; with write set the caller, one
// that may wait for the write (a worker that answered the last request
// of a burst, or the reader under its inline budget), writes what was
// held itself, and no goroutine is started for it.
func (w *writer) endCork(write bool) {
	w.mu.Lock()
	if !w.corked {
		w.mu.Unlock()
		return
	}
	w.corked = false
	if w.holdArmed {
		w.holdArmed = false
		w.hold.Stop()
	}
	if write && w.err == nil && !w.flushing && len(w.queue) > 0 {
		w.flushing = true
		_ = w.flushLocked()
		return
	}
	w.flushQueuedLocked()
}

// flushLocked writes until the queue is empty. Called with mu held and
// flushing set; returns with mu released.
func (w *writer) flushLocked() error {
	var err error
	for len(w.queue) > 0 && w.err == nil {
		q := w.queue
		w.queue, w.spare = w.spare, nil
		seq := w.seq
		w.mu.Unlock()

		bytes := 0
		for _, b := range q {
			bytes += len(b.b)
		}
		err = w.write(q)
		for i, b := range q {
			putBuffer(b)
			q[i] = nil
		}
		if err == nil {
			w.hooks.sent(len(q), bytes)
		}

		w.mu.Lock()
		w.spare = q[:0]
		w.bytes -= bytes
		w.backlog.Store(int64(w.bytes))
		w.written = seq
		if err != nil && w.err == nil {
			w.err = err
		}
		w.signalLocked()
	}
	w.flushing = false
	if w.err != nil {
		w.dropLocked()
	}
	low := w.lowWait && !w.overHighWaterLocked()
	if low {
		w.lowWait = false
	}
	w.mu.Unlock()
	if low {
		w.hooks.wakeReader()
	}
	if err != nil {
		return w.failed(err)
	}
	return nil
}

// failed ends the session after a failed write. Kept out of
// flushLocked, whose frame is on the reader's stack when it serves
// inline.
//
//go:noinline
func (w *writer) failed(err error) error {
	if ce := w.hooks.check(zap.DebugLevel, "write failed"); ce != nil {
		ce.Write(zap.Error(err))
	}
	w.hooks.abort(err)
	return &ConnectionError{Err: err}
}

// write writes q, timed by the stall watch if there is one.
func (w *writer) write(q []*buffer) error {
	if w.stall == nil {
		return w.writeQueue(q)
	}
	w.stall.begin()
	err := w.writeQueue(q)
	w.stall.end()
	return err
}

func (w *writer) writeQueue(q []*buffer) error {
	if w.batch != nil && len(q) > 1 {
		w.scratch = w.scratch[:0]
		for _, b := range q {
			w.scratch = append(w.scratch, b.b)
		}
		err := w.batch.WriteMessages(w.scratch)
		clear(w.scratch)
		return err
	}
	for _, b := range q {
		if err := w.stream.WriteMessage(b.b); err != nil {
			return err
		}
	}
	return nil
}

// progressLocked returns a channel closed at the next write or failure.
func (w *writer) progressLocked() <-chan struct{} {
	if w.progress == nil {
		w.progress = make(chan struct{})
	}
	return w.progress
}

func (w *writer) signalLocked() {
	if w.progress != nil {
		close(w.progress)
		w.progress = nil
	}
}

func (w *writer) dropLocked() {
	for i, b := range w.queue {
		putBuffer(b)
		w.queue[i] = nil
	}
	w.queue = w.queue[:0]
	w.bytes = 0
	w.backlog.Store(0)
}

func (w *writer) overHighWaterLocked() bool { return w.bytes > w.maxBuffer/2 }

// overHighWater reports whether the backlog is over half the limit; if
// it is, low is called once it falls back under.
func (w *writer) overHighWater() bool {
	if w.backlog.Load() <= int64(w.maxBuffer/2) {
		return false // the common case, without the lock
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil || !w.overHighWaterLocked() {
		return false
	}
	w.lowWait = true
	return true
}

// fail stops all writing with err; queued messages are dropped, and
// senders waiting for room return.
func (w *writer) fail(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	if !w.flushing {
		w.dropLocked()
	}
	w.signalLocked()
	low := w.lowWait
	w.lowWait = false
	w.mu.Unlock()
	if low {
		w.hooks.wakeReader()
	}
}

// flushWait waits until every message queued before the call has been
// written, the writer has failed, or ctx ends.
func (w *writer) flushWait(ctx context.Context) error {
	w.mu.Lock()
	target := w.seq
	for w.written < target && w.err == nil {
		if !w.flushing && len(w.queue) > 0 {
			// Held by a cork: nothing more will join the burst.
			w.corked = false
			w.flushQueuedLocked()
			w.mu.Lock()
			continue
		}
		ch := w.progressLocked()
		w.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		w.mu.Lock()
	}
	w.mu.Unlock()
	return nil
}

// stop releases the writer's timers once the session has ended.
func (w *writer) stop() {
	if w.stall != nil {
		w.stall.stop()
	}
	w.mu.Lock()
	w.holdArmed = false
	if w.hold != nil {
		w.hold.Stop()
	}
	w.mu.Unlock()
}
