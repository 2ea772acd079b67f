package session

import (
	"context"
	"sync"

	"go.uber.org/zap"

	"github.com/gorpcx/gorpcx/framing"
)

// writer sends the session's messages. There is no writer goroutine:
// the first goroutine to send while nothing is being written becomes
// the flusher and writes everything queued meanwhile, in one Write when
// the stream is a framing.BatchWriter, so that replies ready at the
// same time are coalesced. A write that stalls longer than the send
// timeout, or a queue over the write buffer limit, aborts the session.
type writer struct {
	s      *Session
	stream framing.Stream
	batch  framing.BatchWriter
	stall  *stallWatch // nil: no send timeout

	mu       sync.Mutex
	queue    []*buffer
	spare    []*buffer
	scratch  [][]byte
	bytes    int // queued and not yet written
	flushing bool
	corked   bool // the reader is in a burst: queue, do not write yet
	err      error
	seq      uint64 // messages queued so far
	written  uint64 // messages written so far
	progress chan struct{}
}

func newWriter(s *Session) *writer {
	w := &writer{s: s, stream: s.stream}
	w.batch, _ = s.stream.(framing.BatchWriter)
	if s.cfg.sendTimeout > 0 {
		w.stall = newStallWatch(s, s.cfg.sendTimeout)
	}
	return w
}

// send queues buf (which the writer owns from then on) and, when flush
// is true and nobody is writing, writes the queue before returning.
// When flush is false a goroutine writes instead, so that the reader
// never blocks on a peer that does not read.
func (w *writer) send(buf *buffer, flush bool) error {
	w.mu.Lock()
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		putBuffer(buf)
		return &ConnectionError{Err: err}
	}
	n := len(buf.b)
	if w.bytes > 0 && w.bytes+n > w.s.cfg.maxWriteBuffer {
		w.mu.Unlock()
		putBuffer(buf)
		w.s.log.Warn("write buffer limit passed, aborting connection",
			zap.Int("queued", w.bytes), zap.Int("limit", w.s.cfg.maxWriteBuffer))
		w.s.abort(ErrSendStalled)
		return &ConnectionError{Err: ErrSendStalled}
	}
	w.queue = append(w.queue, buf)
	w.bytes += n
	w.seq++
	if w.flushing || w.corked {
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

// flushAsyncLocked writes the queue on a goroutine of its own. Called
// with mu held and flushing set; returns with mu released.
func (w *writer) flushAsyncLocked() {
	w.mu.Unlock()
	w.s.wg.Add(1)
	go func() {
		defer w.s.wg.Done()
		w.mu.Lock()
		w.flushLocked()
	}()
}

// cork holds the messages sent from now on in the queue, unwritten,
// until uncork. The reader corks while it dispatches a burst of
// pipelined requests that arrived together, so that their replies go
// out together, in one write, instead of one write each.
func (w *writer) cork() {
	w.mu.Lock()
	w.corked = true
	w.mu.Unlock()
}

// uncork ends a burst: what was queued meanwhile is written, on a
// goroutine of its own, since the reader must never block on a write.
func (w *writer) uncork() {
	w.mu.Lock()
	if !w.corked {
		w.mu.Unlock()
		return
	}
	w.corked = false
	if w.flushing || len(w.queue) == 0 || w.err != nil {
		w.mu.Unlock()
		return
	}
	w.flushing = true
	w.flushAsyncLocked()
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
			w.s.sent(len(q), bytes)
		}

		w.mu.Lock()
		w.spare = q[:0]
		w.bytes -= bytes
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
	w.mu.Unlock()
	if err != nil {
		w.s.log.Debug("write failed", zap.Error(err))
		w.s.abort(err)
		return &ConnectionError{Err: err}
	}
	return nil
}

func (w *writer) write(q []*buffer) error {
	if w.stall != nil {
		w.stall.begin()
		defer w.stall.end()
	}
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
}

// fail stops all writing with err; queued messages are dropped.
func (w *writer) fail(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	if !w.flushing {
		w.dropLocked()
	}
	w.signalLocked()
	w.mu.Unlock()
}

// flushWait waits until every message queued before the call has been
// written, the writer has failed, or ctx ends.
func (w *writer) flushWait(ctx context.Context) error {
	w.mu.Lock()
	target := w.seq
	for w.written < target && w.err == nil {
		if w.progress == nil {
			w.progress = make(chan struct{})
		}
		ch := w.progress
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

// stop releases the writer's timer once the session has ended.
func (w *writer) stop() {
	if w.stall != nil {
		w.stall.stop()
	}
}
