package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/gorpcx/gorpcx/protocol"
)

// ErrEmptyBatch is returned by SendBatch for a batch with nothing in it;
// nothing is sent.
var ErrEmptyBatch = errors.New("empty batch")

// ErrNoBatches is returned by SendBatch when the session's dialect
// (JSON-RPC 1.0) has no batches.
var ErrNoBatches = errors.New("the dialect does not support batches")

// Batch is a list of requests and notifications sent together as one
// message with [Session.SendBatch] (aiorpcX's send_batch). Build it
// with Call and Notify; a Batch is not safe for concurrent use and is
// sent once.
type Batch struct {
	entries []batchEntry
	calls   []*BatchCall
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

// batchCall tracks the outstanding requests of a batch that was sent.
type batchCall struct {
	s         *Session
	calls     []*BatchCall
	ids       []uint64
	mu        sync.Mutex
	answered  []bool
	remaining int
	done      chan struct{}
}

// set records the outcome of request index (the first outcome wins).
func (bc *batchCall) set(index int, result json.RawMessage, err error) {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	if bc.answered[index] {
		return
	}
	bc.answered[index] = true
	bc.calls[index].Result, bc.calls[index].Err = result, err
	bc.remaining--
	if bc.remaining == 0 {
		close(bc.done)
	}
}

// incomplete fails the requests that a batch response left unanswered:
// a response batch must answer every request of the batch it answers.
func (bc *batchCall) incomplete() {
	bc.mu.Lock()
	var missing []int
	for i, ok := range bc.answered {
		if !ok {
			missing = append(missing, i)
		}
	}
	bc.mu.Unlock()
	if len(missing) == 0 {
		return
	}
	bc.s.countError(0)
	for _, i := range missing {
		bc.s.pmu.Lock()
		delete(bc.s.pending, bc.ids[i])
		bc.s.pmu.Unlock()
		bc.set(i, nil, &protocol.ProtocolError{
			Reply: protocol.InvalidRequest("batch response has no response to this request"),
			RawID: []byte(strconv.FormatUint(bc.ids[i], 10)),
		})
	}
}

// SendBatch sends b as one message and waits until every request in it
// is answered, whatever order the peer answers in. Each BatchCall then
// holds its outcome, and results are decoded into the destinations
// given to Batch.Call. It returns nil when every request succeeded, a
// *BatchError listing the failed ones, or, when the batch as a whole
// failed (timeout, ctx, lost connection), that error, which each
// unanswered BatchCall also holds. An empty batch returns ErrEmptyBatch
// before anything is sent. A batch of only notifications returns once
// written.
func (s *Session) SendBatch(ctx context.Context, b *Batch) error {
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
	bc := &batchCall{s: s, calls: b.calls, ids: make([]uint64, n), answered: make([]bool, n),
		remaining: n, done: make(chan struct{})}
	idbufs := make([][]byte, n)
	for i := range n {
		bc.ids[i] = s.nextID.Add(1) - 1
		idbufs[i] = strconv.AppendUint(nil, bc.ids[i], 10)
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
		s.out.release(taken, 0, 0)
		return err
	}
	s.pmu.Lock()
	if s.callsEnded() {
		s.pmu.Unlock()
		putBuffer(buf)
		s.out.release(taken, 0, 0)
		return s.callErr()
	}
	for i, id := range bc.ids {
		s.pending[id] = &call{batch: bc, index: i}
	}
	s.pmu.Unlock()
	s.handOffNow(ctx)
	s.awaitPeer()
	defer s.awaiting.Add(-1)
	start := time.Now()
	if err := s.w.sendCtx(ctx, buf, true); err != nil {
		s.forgetBatch(bc)
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
		s.forgetBatch(bc)
		for i := range n {
			bc.set(i, nil, waitErr)
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

// forgetBatch removes a batch's outstanding requests from the table.
func (s *Session) forgetBatch(bc *batchCall) {
	s.pmu.Lock()
	for _, id := range bc.ids {
		delete(s.pending, id)
	}
	s.pmu.Unlock()
}
