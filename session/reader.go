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
		s.logger().Warn("framing error, closing", zap.Error(err))
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
	if s.baseLog.Core().Enabled(zap.DebugLevel) {
		s.logReceived(msg)
	}
	// The message is decoded where the framing left it, valid until the
	// next read; the items alias it, and those kept outlive this call
	// (handlers, callers), so they are moved to a copy before anything
	// keeps them. A request alone in its message takes the copy along
	// in its own allocation (newSoloRequest); any other message is
	// copied here, before dispatch. An error about the whole message
	// holds no part of it (no ID; its text is its own).
	m, err := s.codec.DecodeInto(msg, s.items[:0])
	if err != nil {
		s.protocolError(err, nil)
	} else if !m.Batch {
		inPlace := msg
		if !s.isSolo(m) {
			m = s.ownCopy(m, msg)
			inPlace = nil
		}
		if s.dispatchOne(&m.Items[0], inPlace, len(msg)) {
			// Another goroutine reads now, into s.items.
			return true
		}
	} else {
		s.dispatchBatch(s.ownCopy(m, msg), len(msg))
	}
	if !m.Batch {
		s.items[0] = protocol.Item{} // let the message go
	}
	if !more {
		return s.endBurstWriting()
	}
	return false
}

// isSolo reports whether m is a request or notification alone in
// its message, other than a cancellation: dispatch then makes it a
// solo request, which copies the message (newSoloRequest) before
// anything keeps it, and before the handler runs.
func (s *Session) isSolo(m protocol.Message) bool {
	if m.Batch || len(m.Items) != 1 {
		return false
	}
	it := &m.Items[0]
	return (it.Kind == protocol.KindRequest || it.Kind == protocol.KindNotification) && !s.isCancel(it)
}

// ownCopy moves the items of m, decoded in place in msg, to a copy of
// msg, and returns m. The items of a batch are moved out of the
// reader's array too (a short batch fits in it), since they are kept
// while the reader decodes the next message into it.
//
//go:noinline
func (s *Session) ownCopy(m protocol.Message, msg []byte) protocol.Message {
	own := make([]byte, len(msg))
	copy(own, msg)
	if m.Batch && len(m.Items) > 0 && &m.Items[0] == &s.items[0] {
		items := make([]protocol.Item, len(m.Items))
		for k := range m.Items {
			m.Items[k].CopyTo(&items[k])
		}
		m.Items = items
	}
	for k := range m.Items {
		m.Items[k].Rebase(msg, own)
	}
	return m
}

// logReceived writes the debug line of a message received. Kept out of
// handleMessage, whose frame is on the reader's stack when it serves
// inline.
//
//go:noinline
func (s *Session) logReceived(msg []byte) {
	if ce := s.check(zap.DebugLevel, "received message"); ce != nil {
		// A string of its own: a core may keep the field past the
		// next read.
		ce.Write(zap.String("message", string(clipBytes(msg))))
	}
}

// dispatchOne routes the item of a message that is not a batch: a
// response to the call waiting for it, a request or notification to be
// served at once by the reader (see inline.go) or else queued, an
// invalid item to its error reply. It reports whether the reading was
// handed over to another goroutine while it served a request. The item
// is the reader's (s.items). msg is the message it was decoded from, in
// place, for a solo request (see isSolo), which copies it before it is
// served or queued (newSoloRequest); nil when the item was moved to a
// copy of its own already (ownCopy). Its frame is small: a request
// served inline runs its handler and writes its reply below it, on the
// reader's stack (see restart.go).
func (s *Session) dispatchOne(it *protocol.Item, msg []byte, size int) (handedOff bool) {
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
		// Also in a burst: its replies are held all the same (the
		// writer is corked), and serving a fast request costs the
		// reader less than waking a worker for it.
		if served, off := s.tryInline(it, msg, size); served {
			return off
		}
		s.accept(newSoloRequest(s, it, msg), size)
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

// dispatchBatch routes the items of a batch: responses to the calls
// waiting for them, requests and notifications to the queue, invalid
// items to their error replies. A batch's items are served by workers,
// never by the reader, and their replies go out together as one batch.
//
// size is the message's length: the first request or notification
// kept holds it in the session's incoming budget until answered.
func (s *Session) dispatchBatch(m protocol.Message, size int) {
	var br *batchReply
	var touched []*batchCall
	if len(m.Items) > 0 && m.Items[0].Kind != protocol.KindResponse {
		br = newBatchReply(s)
	}
	for i := range m.Items {
		it := &m.Items[i]
		switch it.Kind {
		case protocol.KindResponse:
			if bc := s.deliver(it.RawID, it, nil); bc != nil {
				touched = appendUnique(touched, bc)
			}
		case protocol.KindInvalid:
			if bc := s.invalidItem(it, br); bc != nil {
				touched = appendUnique(touched, bc)
			}
		default:
			if s.cfg.cancel != nil && s.isCancel(it) {
				s.cancelIncoming(it)
				continue
			}
			if s.accept(&incoming{s: s, item: it, batch: br, readAt: s.recvAt}, size) {
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
