package session

import (
	"errors"
	"io"

	"go.uber.org/zap"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/protocol"
)

// readLoop reads and dispatches messages until the stream fails. It
// returns io.EOF when the peer closed cleanly, errHandedOff when another
// goroutine took over the reading.
//
// Its own frame is kept small, and the work on each message is done in
// functions that return before the next read: an idle session's reader
// waits with a shallow stack, which the runtime can then shrink.
func (s *Session) readLoop() error {
	buffered, _ := s.stream.(interface{ Buffered() int })
	for {
		msg, err := s.stream.ReadMessage()
		if err != nil {
			end, resume := s.restartReading(err)
			if end {
				return errHandedOff
			}
			if resume {
				continue
			}
			if err := s.readError(err, buffered); err != nil {
				return err
			}
			continue
		}
		if s.handleMessage(msg, buffered) {
			return errHandedOff
		}
	}
}

// readError handles an error from the stream: nil if reading goes on (a
// message that was dropped), else the error that ends the session.
//
//go:noinline
func (s *Session) readError(err error, buffered interface{ Buffered() int }) error {
	if s.gate != nil {
		s.gate.settle(bufferedOf(buffered))
		if s.gate.w != nil {
			s.gate.dropped(bufferedOf(buffered))
		}
	}
	var fe framing.Error
	if errors.As(err, &fe) {
		if !fe.Fatal() && s.excess.Load() {
			return nil
		}
		s.countError(fe.CostHint())
		if !fe.Fatal() {
			s.emit(LimitReached, "framing", err, 0)
			if ce, n := s.peerCheck(lineDropped); ce != nil {
				ce.Write(zap.Error(err), suppressed(n))
			}
			if buffered == nil || buffered.Buffered() == 0 {
				s.endBurst()
			}
			return nil
		}
		s.log.Warn("framing error, closing", zap.Error(err))
		return err
	}
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	return err
}

// handleMessage decodes and dispatches one message read. It reports
// whether the reading was handed over to another goroutine meanwhile.
//
//go:noinline
func (s *Session) handleMessage(msg []byte, buffered interface{ Buffered() int }) (handedOff bool) {
	if s.gate != nil {
		s.gate.settle(bufferedOf(buffered))
	}
	if s.excess.Load() {
		// Closing for excessive cost: nothing more the peer sends
		// counts, or is served.
		return false
	}
	s.received(len(msg))
	// More messages already read: hold the replies until the burst has
	// been dispatched, then write them together.
	more := buffered != nil && buffered.Buffered() > 0
	if more {
		s.beginBurst()
	}
	if ce := s.log.Check(zap.DebugLevel, "received message"); ce != nil {
		ce.Write(zap.ByteString("message", clipBytes(msg)))
	}
	// The decoded items alias the message and outlive this call
	// (handlers, callers), so they get their own copy.
	buf := make([]byte, len(msg))
	copy(buf, msg)
	m, err := s.codec.DecodeInto(buf, s.items[:0])
	if err != nil {
		s.protocolError(err, nil)
	} else if !m.Batch {
		if s.dispatchOne(&m.Items[0], len(msg)) {
			return true
		}
	} else if s.dispatch(m, len(msg)) {
		// Another goroutine reads now, into s.items.
		return true
	}
	if !m.Batch {
		s.items[0] = protocol.Item{} // let the message go
	}
	if !more {
		s.endBurst()
	}
	return false
}

// dispatchOne routes the item of a message that is not a batch, as
// dispatch does. It is dispatch's path for single messages, kept apart
// with a small frame: a request served inline runs its handler and
// writes its reply below it, on the reader's stack (see restart.go).
func (s *Session) dispatchOne(it *protocol.Item, size int) (handedOff bool) {
	switch it.Kind {
	case protocol.KindResponse:
		s.deliver(it.RawID, it, nil)
	case protocol.KindInvalid:
		s.invalidItem(it, nil)
	default:
		if s.cfg.cancel != nil && s.isCancel(it) {
			s.cancelIncoming(it)
			return false
		}
		if !s.bursting {
			if served, off := s.tryInline(it, size); served {
				return off
			}
		}
		s.accept(newSoloRequest(s, it), size)
	}
	return false
}

// invalidItem handles an item that is not valid JSON-RPC: a malformed
// response fails the call it answers, anything else is a protocol
// error. It returns the batch call the response belonged to, if any.
//
//go:noinline
func (s *Session) invalidItem(it *protocol.Item, br *batchReply) *batchCall {
	if it.Err != nil && it.Err.Response && it.RawID != nil {
		// A malformed response: the call it answers gets the
		// protocol error instead of waiting in vain.
		if ce, n := s.peerCheck(lineMalformedResponse); ce != nil {
			ce.Write(zap.Error(it.Err), suppressed(n))
		}
		return s.deliver(it.RawID, nil, it.Err)
	}
	s.protocolError(it.Err, br)
	return nil
}

// dispatch routes the items of one message: responses to the calls
// waiting for them, requests and notifications to the queue (or served
// at once, see inline.go), invalid items to their error replies. It
// reports whether the reading was handed over to another goroutine
// while it served a request. The item of a message that is not a batch
// is the reader's (s.items): a request is copied out of it.
//
// size is the message's length: the first request or notification
// kept holds it in the session's incoming budget until answered.
func (s *Session) dispatch(m protocol.Message, size int) (handedOff bool) {
	var br *batchReply
	var touched []*batchCall
	if m.Batch && len(m.Items) > 0 && m.Items[0].Kind != protocol.KindResponse {
		br = newBatchReply(s)
	}
	for i := range m.Items {
		it := &m.Items[i]
		switch it.Kind {
		case protocol.KindResponse:
			if bc := s.deliver(it.RawID, it, nil); bc != nil && m.Batch {
				touched = appendUnique(touched, bc)
			}
		case protocol.KindInvalid:
			if bc := s.invalidItem(it, br); bc != nil && m.Batch {
				touched = appendUnique(touched, bc)
			}
		default:
			if s.cfg.cancel != nil && s.isCancel(it) {
				s.cancelIncoming(it)
				continue
			}
			if !m.Batch && !s.bursting {
				if served, off := s.tryInline(it, size); served {
					return off
				}
			}
			var in *incoming
			if m.Batch {
				in = &incoming{s: s, item: it, batch: br, readAt: s.recvAt}
			} else {
				in = newSoloRequest(s, it)
			}
			if s.accept(in, size) {
				size = 0
			}
		}
	}
	if br != nil {
		br.release(false)
	}
	for _, bc := range touched {
		bc.incomplete()
	}
	return false
}

// protocolError counts and logs a protocol violation and sends the
// reply it carries, if any (into the batch reply when there is one).
func (s *Session) protocolError(err error, br *batchReply) {
	var pe *protocol.ProtocolError
	if !errors.As(err, &pe) {
		s.countError(0)
		if ce, n := s.peerCheck(lineUndecodable); ce != nil {
			ce.Write(zap.Error(err), suppressed(n))
		}
		return
	}
	hint := 0.0
	if pe.Reply != nil && pe.Reply.Code == protocol.CodeParseError {
		hint = 10 * s.cfg.cost.ErrorBase
	}
	s.countError(hint)
	if ce, n := s.peerCheck(lineProtocolError); ce != nil {
		ce.Write(zap.Error(pe), suppressed(n))
	}
	if pe.Reply == nil {
		return
	}
	buf := getBuffer()
	buf.b, _ = s.codec.AppendError(buf.b[:0], pe.RawID, pe.Reply)
	if br != nil {
		br.add(pe.RawID, buf)
		return
	}
	s.w.send(buf, false)
}

func appendUnique(list []*batchCall, bc *batchCall) []*batchCall {
	for _, x := range list {
		if x == bc {
			return list
		}
	}
	return append(list, bc)
}

func clipBytes(b []byte) []byte {
	const n = 200
	if len(b) > n {
		return b[:n]
	}
	return b
}

// bufferedOf returns the bytes the stream holds and has not returned as
// messages yet, or 0 if it does not tell.
func bufferedOf(b interface{ Buffered() int }) int {
	if b == nil {
		return 0
	}
	return b.Buffered()
}
