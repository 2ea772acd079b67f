package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gorpcx/gorpcx/protocol"
)

// ErrEmptyBatch is returned by SendBatch for a batch with nothing in it;
// nothing is sent.
var ErrEmptyBatch = errors.New("empty batch")

// ErrNoBatches is returned by SendBatch when the session's dialect
// (JSON-RPC 1.0) has no batches.
var ErrNoBatches = errors.New("the dialect does not support batches")

// ErrBatchSent is returned by SendBatch, at once and sending nothing,
// for a Batch that an earlier SendBatch (on any session) sent or is
// sending: a batch is sent once. Its BatchCalls keep the outcomes of
// that first sending.
var ErrBatchSent = errors.New("batch already sent")

// Batch is a list of requests and notifications sent together as one
// message with [Session.SendBatch] (aiorpcX's send_batch). Build it
// with Call and Notify; a Batch is not safe for concurrent use. It is
// sent once: a second SendBatch of it returns [ErrBatchSent].
type Batch struct {
	entries []batchEntry
	calls   []*BatchCall
	sent    atomic.Bool // set while and once a SendBatch sends it
}

type batchEntry struct {
	method string
	params any
	call   *BatchCall // nil for a notification
}

// BatchCall is one request of a batch and, once the batch is answered,
// its outcome.
type BatchCall struct {
	// Method is the request's method.
	Method string
	// Result is the raw result; Err the error response (a
	// *jsonrpc2.Error), malformed response or connection error.
	Result json.RawMessage
	Err    error

	dest any
}

// Call adds a request whose result will be decoded into result (as in
// [Session.Call]) and returns its handle.
func (b *Batch) Call(method string, params, result any) *BatchCall {
	c := &BatchCall{Method: method, dest: result}
	b.entries = append(b.entries, batchEntry{method: method, params: params, call: c})
	b.calls = append(b.calls, c)
	return c
}

// Notify adds a notification.
func (b *Batch) Notify(method string, params any) {
	b.entries = append(b.entries, batchEntry{method: method, params: params})
}

// Len returns the number of requests and notifications added.
func (b *Batch) Len() int { return len(b.entries) }

// Calls returns the batch's requests in the order they were added.
func (b *Batch) Calls() []*BatchCall { return b.calls }

// incomplete fails the requests of bc that a batch response left
// unanswered (see tracker.incomplete), and charges the peer one error
// if there were any.
func (bc *batchCall) incomplete() {
	if bc.s.tracker.incomplete(bc) > 0 {
		bc.s.countError(0)
	}
}

// SendBatch sends b as one message and waits until every request in it
// is answered, whatever order the peer answers in. Each BatchCall then
// holds its outcome, and results are decoded into the destinations
// given to Batch.Call. It returns nil when every request succeeded, a
// *BatchError listing the failed ones, or, when the batch as a whole
// failed (timeout, ctx, lost connection), that error, which each
// unanswered BatchCall also holds. A batch of only notifications
// returns once written.
//
// A batch is sent once. SendBatch returns ErrBatchSent at once, sending
// nothing, for a batch that an earlier SendBatch sent. One that returned
// before sending anything leaves the batch unsent: for an empty batch
// (ErrEmptyBatch), a dialect without batches (ErrNoBatches), params
// that are not an array or an object (ErrParams), a ctx that ended
// before, or a session that stopped taking calls (a *ConnectionError).
// With Options.Cancel, a batch that gives up (its ctx, or the request
// timeout) sends the peer a cancellation for each of its requests left
// unanswered (see [Cancellation]).
func (s *Session) SendBatch(ctx context.Context, b *Batch) error {
	if b.sent.Load() {
		return ErrBatchSent
	}
	if len(b.entries) == 0 {
		return ErrEmptyBatch
	}
	if !s.codec.Dialect().Batches() {
		return ErrNoBatches
	}
	raws := make([]json.RawMessage, len(b.entries))
	for i, e := range b.entries {
		raw, err := encodeParams(e.params)
		if err != nil {
			return fmt.Errorf("batch item %d (%s): %w", i, e.method, err)
		}
		raws[i] = raw
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	n := len(b.calls)
	taken := 0
	if n > 0 {
		var err error
		if taken, err = s.out.acquire(ctx, n); err != nil {
			if err == errSessionClosed {
				return s.callErr()
			}
			return err
		}
	}
	// The batch is this SendBatch's from here; another one, even a
	// concurrent one, is refused.
	if !b.sent.CompareAndSwap(false, true) {
		s.out.release(taken, 0, 0)
		return ErrBatchSent
	}
	bc := newBatchCall(s, b.calls)
	if err := s.tracker.registerBatch(bc); err != nil {
		b.sent.Store(false) // nothing was sent
		s.out.release(taken, 0, 0)
		return err
	}
	idbufs := make([][]byte, n)
	for i, id := range bc.ids {
		idbufs[i] = strconv.AppendUint(nil, id, 10)
	}
	buf := getBuffer()
	var err error
	k := 0
	buf.b, err = protocol.AppendBatch(buf.b[:0], len(b.entries), func(dst []byte, i int) ([]byte, error) {
		e := b.entries[i]
		if e.call == nil {
			return s.codec.AppendNotification(dst, e.method, raws[i])
		}
		dst, err := s.codec.AppendRequest(dst, idbufs[k], e.method, raws[i])
		k++
		return dst, err
	})
	if err != nil {
		putBuffer(buf)
		s.tracker.abandonBatch(bc, err)
		s.out.release(taken, 0, 0)
		return err
	}
	s.handOffNow(ctx)
	s.awaitPeer()
	defer s.awaiting.Add(-1)
	start := time.Now()
	if err := s.w.sendCtx(ctx, buf, true); err != nil {
		s.tracker.abandonBatch(bc, err)
		s.out.release(taken, 0, 0)
		return err
	}
	if n == 0 {
		return nil
	}
	var timeout <-chan time.Time
	if d := s.cfg.requestTimeout; d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	var waitErr error
	select {
	case <-bc.done:
	case <-ctx.Done():
		waitErr = ctx.Err()
	case <-timeout:
		waitErr = &TimeoutError{Method: "batch", After: s.cfg.requestTimeout}
	}
	if waitErr != nil {
		if s.cfg.cancel == nil {
			s.tracker.abandonBatch(bc, waitErr)
		} else {
			// Tell the peer of each request left unanswered.
			for _, id := range s.tracker.abandonBatchIDs(bc, waitErr, nil) {
				s.sendCancel(strconv.AppendUint(nil, id, 10))
			}
		}
		s.out.release(taken, 0, 0)
		return waitErr
	}
	s.out.release(taken, n, time.Since(start))
	var failed []*BatchCall
	var lost error
	for _, c := range b.calls {
		if c.Err == nil {
			if err := decodeResult(c.Result, c.dest); err != nil {
				c.Err = err
			}
		}
		if c.Err != nil {
			failed = append(failed, c)
			var ce *ConnectionError
			if lost == nil && errors.As(c.Err, &ce) {
				lost = c.Err
			}
		}
	}
	if lost != nil {
		return lost
	}
	if len(failed) > 0 {
		return &BatchError{Failed: failed}
	}
	return nil
}
