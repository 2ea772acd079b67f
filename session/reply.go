package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"

	"github.com/gorpcx/gorpcx/protocol"
)

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
		if in.cancelledByPeer() && errors.Is(err, context.Canceled) {
			// The peer cancelled it (Options.Cancel): LSP's answer,
			// not an error of the peer's to charge.
			err = requestCancelled()
		} else {
			err = s.replyError(in, err)
		}
	}
	if !in.isNotification() {
		s.reply(in, result, err)
	}
	s.answered(in)
	if disconnect != nil {
		s.closeAfterReply(ErrClosed)
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
		if ce, n := s.peerCheck(lineHandlerFailed); ce != nil {
			ce.Write(zap.String("method", clip(in.item.Request.Method)), zap.Error(err), suppressed(n))
		}
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
		buf.b = s.cannotEncode(in, buf.b[:0], encErr)
	}
	if in.batch != nil {
		in.batch.add(id, buf)
		in.runAfterReply()
		return
	}
	if max := s.cfg.maxResponseSize; max > 0 && len(buf.b) > max {
		buf.b = s.oversized(buf.b[:0], id)
		s.emit(LimitReached, "response size", nil, 0)
	}
	// The reader itself answers a request it refuses; it must not wait.
	s.w.send(buf, !in.refused)
	in.runAfterReply()
}

// cannotEncode logs and counts a result that could not be encoded, and
// appends the internal error sent instead. Kept out of reply, whose
// frame is on the reader's stack when it serves inline.
//
//go:noinline
func (s *Session) cannotEncode(in *incoming, dst []byte, err error) []byte {
	if ce, n := s.peerCheck(lineCannotEncode); ce != nil {
		ce.Write(zap.String("method", clip(in.item.Request.Method)), zap.Error(err), suppressed(n))
	}
	s.countError(0)
	dst, _ = s.codec.AppendError(dst, in.item.RawID, protocol.InternalError("internal server error"))
	return dst
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
	s.burstAnswered(in, !in.refused)
}

func (s *Session) checkDrainedLocked() {
	if s.sched.unanswered.len == 0 && s.sched.drained != nil {
		close(s.sched.drained)
		s.sched.drained = nil
	}
}
