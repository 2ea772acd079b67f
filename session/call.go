package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/gorpcx/gorpcx/protocol"
)

// callPool holds the calls of Call, each with its channel and timer, so
// that a call costs no allocation of them.
var callPool = sync.Pool{New: func() any {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &call{done: make(chan struct{}, 1), timer: t}
}}

// Call sends a request for method and waits for its response, decoding
// the result into result (a pointer, a *json.RawMessage to keep it raw,
// or nil to discard it).
//
// params may be nil (omitted), a slice or array (positional), a map or
// struct (named), or a json.RawMessage holding an array or object. An
// error response comes back as a *jsonrpc2.Error; a malformed response
// as a *protocol.ProtocolError; no response within the request timeout
// (or ctx's deadline) as an error for which errors.Is(err,
// context.DeadlineExceeded) holds; a lost connection as a
// *ConnectionError. A call whose ctx ends is forgotten at once; a late
// response to it is dropped. With Options.Cancel, a call that gives up
// (its ctx, or the request timeout) also sends the peer a cancellation
// notification (see [Cancellation]).
func (s *Session) Call(ctx context.Context, method string, params, result any) error {
	raw, err := encodeParams(params)
	if err != nil {
		return err
	}
	if s.outgoingChain != nil {
		return s.outgoingChain(ctx, &OutgoingCall{Method: method, Params: raw, Result: result, Session: s})
	}
	return s.call(ctx, method, raw, result)
}

// call sends a request with params already encoded and waits for its
// answer (Call without the outgoing interceptors).
func (s *Session) call(ctx context.Context, method string, raw json.RawMessage, result any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := s.out.acquire(ctx, 1); err != nil {
		if err == errSessionClosed {
			return s.callErr()
		}
		return err
	}
	c := callPool.Get().(*call)
	id, err := s.tracker.register(c)
	if err != nil {
		s.out.release(1, 0, 0)
		callPool.Put(c)
		return err
	}
	idb := strconv.AppendUint(c.idbuf[:0], id, 10)
	buf := getBuffer()
	buf.b, err = s.codec.AppendRequest(buf.b[:0], idb, method, raw)
	if err != nil {
		putBuffer(buf)
		s.tracker.forget(id, c)
		s.out.release(1, 0, 0)
		callPool.Put(c)
		return err
	}
	s.handOffNow(ctx)
	s.awaitPeer()
	defer s.awaiting.Add(-1)
	start := time.Now()
	if err := s.w.sendCtx(ctx, buf, true); err != nil {
		s.tracker.forget(id, c)
		s.out.release(1, 0, 0)
		callPool.Put(c)
		return err
	}
	var timeout <-chan time.Time
	if d := s.cfg.requestTimeout; d > 0 {
		c.timer.Reset(d)
		timeout = c.timer.C
	}
	var waitErr error
	select {
	case <-c.done:
	case <-ctx.Done():
		waitErr = ctx.Err()
	case <-timeout:
		waitErr = &TimeoutError{Method: method, After: s.cfg.requestTimeout}
	}
	c.timer.Stop()
	if waitErr != nil {
		if s.tracker.forget(id, c) && s.cfg.cancel != nil {
			// Still unanswered: tell the peer (Options.Cancel).
			s.sendCancel(idb)
		}
		s.out.release(1, 0, 0)
		callPool.Put(c)
		return waitErr
	}
	s.out.release(1, 1, time.Since(start))
	res, cerr := c.result, c.err
	c.result, c.err = nil, nil
	callPool.Put(c)
	if cerr != nil {
		return cerr
	}
	return decodeResult(res, result)
}

// Notify sends a notification (a request that gets no response). It
// returns once the message has been written or queued behind a write
// in progress, or with a *ConnectionError if the session is closed.
func (s *Session) Notify(ctx context.Context, method string, params any) error {
	raw, err := encodeParams(params)
	if err != nil {
		return err
	}
	if s.outgoingChain != nil {
		return s.outgoingChain(ctx, &OutgoingCall{Method: method, Params: raw, Notification: true, Session: s})
	}
	return s.notify(ctx, method, raw)
}

// notify sends a notification with params already encoded (Notify
// without the outgoing interceptors).
func (s *Session) notify(ctx context.Context, method string, raw json.RawMessage) error {
	var err error
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.callsEnded() {
		return s.callErr()
	}
	buf := getBuffer()
	buf.b, err = s.codec.AppendNotification(buf.b[:0], method, raw)
	if err != nil {
		putBuffer(buf)
		return err
	}
	return s.w.sendCtx(ctx, buf, true)
}

// awaitPeer counts one more call or batch waiting for the peer, and
// wakes the reader if it waits for room: it must read the answer.
func (s *Session) awaitPeer() {
	s.awaiting.Add(1)
	if s.readerWaiting.Load() {
		s.wakeReader()
	}
	s.acct.signal()
}

// callsEnded reports whether the session stopped taking calls.
func (s *Session) callsEnded() bool {
	select {
	case <-s.calls:
		return true
	default:
		return false
	}
}

// deliver hands a response (it) or a malformed response (perr) to the
// call waiting for rawID, and charges the peer an error for a
// malformed response or a response to a request never sent; a late
// response to a call that gave up is dropped quietly. It returns the
// batch the answered request belongs to, if any.
func (s *Session) deliver(rawID []byte, it *protocol.Item, perr *protocol.ProtocolError) *batchCall {
	m, bc := s.tracker.deliver(rawID, it, perr)
	switch {
	case m == respLate:
		if ce, n := s.peerCheck(lineLate); ce != nil {
			ce.Write(zap.ByteString("id", clipBytes(rawID)), suppressed(n))
		}
	case m == respUnsent:
		s.countError(0)
		if ce, n := s.peerCheck(lineUnsent); ce != nil {
			ce.Write(zap.ByteString("id", clipBytes(rawID)), suppressed(n))
		}
	case perr != nil:
		s.countError(0)
	}
	return bc
}

// ErrParams is returned (wrapped) for params that are not nil, an
// array or an object.
var ErrParams = errors.New("params must be an array or an object")

// encodeParams turns a call's params into raw JSON; nil omits them.
func encodeParams(params any) (json.RawMessage, error) {
	var raw json.RawMessage
	switch p := params.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		raw = p
	case *json.RawMessage:
		if p == nil {
			return nil, nil
		}
		raw = *p
	default:
		b, err := json.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encoding params: %w", err)
		}
		raw = b
	}
	i := 0
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	switch {
	case i == len(raw):
		return nil, nil
	case raw[i] == '[' || raw[i] == '{':
		return raw, nil
	case string(raw[i:]) == "null":
		return nil, nil
	}
	return nil, fmt.Errorf("%w, not %.40s", ErrParams, raw[i:])
}

// decodeResult stores a raw result in dst.
func decodeResult(raw json.RawMessage, dst any) error {
	switch d := dst.(type) {
	case nil:
		return nil
	case *json.RawMessage:
		*d = raw
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("decoding result: %w", err)
	}
	return nil
}
