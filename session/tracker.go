package session

import (
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/gorpcx/gorpcx/protocol"
)

// tracker is a session's book of its own outgoing requests, from the
// moment they get an ID until their outcome is known, as the request
// half of aiorpcX's JSONRPCConnection: it allocates IDs, keeps the
// table of requests waiting for a response, matches each response (or
// malformed response) to its request, completes batches, and fails
// whatever is left when the connection ends.
//
// It does no I/O and starts no goroutine: it is told what was sent and
// what arrived, records outcomes in the call or batch waiting for them
// and says what became of each response; the session does the
// sending, the waiting, the counting and the logging. Its zero value
// is ready to use.
//
// Lock order: mu is a leaf. The session calls the tracker holding
// none of its own locks, and under mu the tracker calls nothing of the
// session: it only writes an outcome and wakes its waiter, with a send
// on a channel that has room for it, or by closing a batch's channel.
type tracker struct {
	mu      sync.Mutex
	next    uint64           // the ID of the next request; IDs are never reused
	pending map[uint64]entry // requests sent and not yet answered
	closed  error            // set by close: the error of every call from then on
}

// entry is a request waiting in the table: a single call, or request
// index of a batch.
type entry struct {
	c     *call
	batch *batchCall
	index int
}

// call is a single outgoing request waiting for its response. Calls
// are pooled (see callPool): once the tracker has taken a call out of
// its table it never touches it again.
type call struct {
	done   chan struct{} // receives one value when the outcome is set
	result json.RawMessage
	err    error
	timer  *time.Timer
	idbuf  [20]byte
}

// batchCall tracks the requests of a batch that was sent. registerBatch
// sets ids; answered, remaining and the outcomes in calls are written
// under the tracker's mu, and done is closed under it.
type batchCall struct {
	s         *Session // charged for an incomplete batch response
	calls     []*BatchCall
	ids       []uint64
	answered  []bool
	remaining int
	done      chan struct{} // closed when every request has its outcome
}

// newBatchCall returns the tracking of a batch with the requests
// calls, for session s, before it gets its IDs.
func newBatchCall(s *Session, calls []*BatchCall) *batchCall {
	n := len(calls)
	bc := &batchCall{s: s, calls: calls, ids: make([]uint64, n), answered: make([]bool, n),
		remaining: n, done: make(chan struct{})}
	if n == 0 {
		close(bc.done) // nothing to wait for
	}
	return bc
}

// match is what became of a response handed to the tracker.
type match uint8

const (
	// respMatched: the response was given to the request waiting for it.
	respMatched match = iota
	// respLate: a request with that ID was sent but no longer waits
	// (it gave up, was failed, or was answered already); the response
	// is dropped quietly.
	respLate
	// respUnsent: no request was ever sent with that ID; the peer erred.
	respUnsent
)

// register gives c the next ID and records it as waiting for the
// response with that ID. It returns the ID, or the error given to
// close once the tracker is closed (nothing is recorded then).
func (t *tracker) register(c *call) (uint64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed != nil {
		return 0, t.closed
	}
	if t.pending == nil {
		t.pending = make(map[uint64]entry)
	}
	id := t.next
	t.next++
	t.pending[id] = entry{c: c}
	return id, nil
}

// registerBatch gives the requests of bc consecutive IDs, stored in
// bc.ids, and records them as waiting. A batch of no requests (only
// notifications) takes no ID. It returns the error given to close once
// the tracker is closed (nothing is recorded then).
func (t *tracker) registerBatch(bc *batchCall) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed != nil {
		return t.closed
	}
	if t.pending == nil {
		t.pending = make(map[uint64]entry)
	}
	for i := range bc.ids {
		bc.ids[i] = t.next
		t.next++
		t.pending[bc.ids[i]] = entry{batch: bc, index: i}
	}
	return nil
}

// forget removes a call that gives up (its send failed, its context
// ended, it timed out) and reports whether it was still waiting. If it
// was not, its outcome was set meanwhile and is drained here, so that
// the call can be reused; a response to it from then on is late.
func (t *tracker) forget(id uint64, c *call) (waiting bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.pending[id]; ok {
		delete(t.pending, id)
		return true
	}
	// The outcome was sent under mu when the call left the table, so it
	// is in the channel already: this never waits.
	select {
	case <-c.done:
	default:
	}
	c.result, c.err = nil, nil
	return false
}

// abandonBatch removes the requests of bc that still wait and sets
// their outcome to err (those answered already keep their outcome). A
// response to them from then on is late.
func (t *tracker) abandonBatch(bc *batchCall, err error) {
	t.abandonBatchIDs(bc, err, nil)
}

// abandonBatchIDs is abandonBatch, appending to ids the IDs of the
// requests it abandoned (those still waiting).
func (t *tracker) abandonBatchIDs(bc *batchCall, err error, ids []uint64) []uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, id := range bc.ids {
		if !bc.answered[i] {
			if _, ok := t.pending[id]; ok {
				ids = append(ids, id)
			}
			delete(t.pending, id)
			t.setBatchLocked(bc, i, nil, err)
		}
	}
	return ids
}

// deliver hands a response (it) or a malformed response (perr) with
// the ID rawID, as on the wire, to the request waiting for it: a
// result, an error response (a *jsonrpc2.Error) or perr becomes the
// request's outcome. It returns what became of the response and, when
// it answered a request of a batch, that batch.
func (t *tracker) deliver(rawID []byte, it *protocol.Item, perr *protocol.ProtocolError) (match, *batchCall) {
	id, err := strconv.ParseUint(string(rawID), 10, 64)
	if err != nil {
		return respUnsent, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.pending[id]
	if !ok {
		if id < t.next {
			return respLate, nil
		}
		return respUnsent, nil
	}
	delete(t.pending, id)
	var result json.RawMessage
	var outcome error
	switch {
	case perr != nil:
		outcome = perr
	case it.Response.Error != nil:
		outcome = it.Response.Error
	default:
		result = it.RawResult
	}
	if e.batch != nil {
		t.setBatchLocked(e.batch, e.index, result, outcome)
		return respMatched, e.batch
	}
	e.c.result, e.c.err = result, outcome
	e.c.done <- struct{}{}
	return respMatched, nil
}

// incomplete ends the requests of bc that a batch response, now fully
// delivered, left unanswered: a batch response must answer every
// request of the batch it answers. Each of them fails with a
// *protocol.ProtocolError and a later response to it is late. It
// returns how many failed so.
func (t *tracker) incomplete(bc *batchCall) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for i, id := range bc.ids {
		if bc.answered[i] {
			continue
		}
		delete(t.pending, id)
		t.setBatchLocked(bc, i, nil, &protocol.ProtocolError{
			Err:      protocol.InvalidRequest("batch response has no response to this request"),
			RawID:    []byte(strconv.FormatUint(id, 10)),
			Response: true,
		})
		n++
	}
	return n
}

// close fails every request still waiting with err and refuses every
// registration from then on with err. Only the first close counts: a
// later one does nothing. It returns how many requests it failed.
func (t *tracker) close(err error) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed != nil {
		return 0
	}
	t.closed = err
	n := len(t.pending)
	for _, e := range t.pending {
		if e.batch != nil {
			t.setBatchLocked(e.batch, e.index, nil, err)
			continue
		}
		e.c.result, e.c.err = nil, err
		e.c.done <- struct{}{}
	}
	clear(t.pending)
	return n
}

// len returns the number of requests waiting for a response.
func (t *tracker) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending)
}

// setBatchLocked records the outcome of request index of bc, which has
// none yet (it has just left the table), and closes bc.done when it was
// the last.
func (t *tracker) setBatchLocked(bc *batchCall, index int, result json.RawMessage, err error) {
	bc.answered[index] = true
	bc.calls[index].Result, bc.calls[index].Err = result, err
	bc.remaining--
	if bc.remaining == 0 {
		close(bc.done)
	}
}
