package session

import (
	"context"
	"errors"
	"runtime/debug"

	"go.uber.org/zap"

	"github.com/gorpcx/gorpcx/protocol"
)

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
	if in.cancelledByPeer() {
		// Cancelled by the peer while queued: not worth starting.
		s.finish(in, nil, context.Canceled)
		return
	}
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
	if s.incomingChain != nil {
		return s.intercepted(in)
	}
	if s.handler == nil {
		return nil, protocol.MethodNotFound(in.item.Request.Method)
	}
	return s.handler.Handle(in, &in.item.Request)
}

var errPanic = errors.New("handler panicked")

// logPanic logs a handler's panic with its stack, within the session's
// limit: the stack is taken only for a line written.
func (s *Session) logPanic(in *incoming, p any) {
	if ce, n := s.peerCheck(linePanic); ce != nil {
		ce.Write(in.what(), zap.Any("panic", p), zap.ByteString("stack", debug.Stack()), suppressed(n))
	}
}
