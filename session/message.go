package session

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/gorpcx/gorpcx/framing"
)

// MessageHandler serves the messages of a [MessageSession]. It is
// called with the same kind of context as a [Handler] (carrying the
// session, cancelled when the session closes or the processing timeout
// passes); payload stays valid after it returns. An error is logged and
// counted against the peer; a panic is recovered and treated alike.
type MessageHandler interface {
	HandleMessage(ctx context.Context, command string, payload []byte) error
}

// MessageHandlerFunc adapts an ordinary function to a MessageHandler.
type MessageHandlerFunc func(ctx context.Context, command string, payload []byte) error

// HandleMessage calls f(ctx, command, payload).
func (f MessageHandlerFunc) HandleMessage(ctx context.Context, command string, payload []byte) error {
	return f(ctx, command, payload)
}

// MessageSession is a session for protocols of (command, payload)
// messages that are not tied to responses, such as Bitcoin's
// peer-to-peer protocol (aiorpcX's MessageSession), over the
// [framing.Bitcoin] format. Incoming messages are handled under the
// same concurrency, processing timeout and cost rules as a [Session]'s
// requests. A bad checksum costs and is logged, and the session goes
// on; a bad magic or an oversized payload costs, is logged, and closes
// the session.
//
// Options fields about JSON-RPC (Handler, Dialect, Protocol,
// MaxResponseSize, RequestTimeout, Outgoing, Ping) do not apply.
type MessageSession struct {
	s    *Session
	mode *messageMode
}

// messageMode runs (command, payload) messages on a session's engine.
type messageMode struct {
	s       *Session
	framer  framing.Bitcoin
	reader  *framing.BitcoinReader
	handler MessageHandler
}

// NewMessageSession starts a message session over conn with the message
// format framer and handler (nil drops every message). The session owns
// conn from then on and closes it when it ends. It panics if conn is
// nil.
func NewMessageSession(conn io.ReadWriteCloser, framer framing.Bitcoin, handler MessageHandler, o *Options) *MessageSession {
	if conn == nil {
		panic("session: NewMessageSession with a nil connection")
	}
	if o == nil {
		o = &Options{}
	}
	mode := &messageMode{framer: framer, reader: framer.NewReader(conn), handler: handler}
	return newSession(&rawStream{conn: conn}, o, mode).msgSession
}

// Send frames the message (command, payload) and sends it. It returns
// the framing error for a command or payload the format cannot carry
// (nothing is sent), or a *ConnectionError once the session is closed.
func (m *MessageSession) Send(ctx context.Context, command string, payload []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s := m.s
	if s.callsEnded() {
		return s.callErr()
	}
	buf := getBuffer()
	var err error
	buf.b, err = m.mode.framer.AppendMessage(buf.b[:0], command, payload)
	if err != nil {
		putBuffer(buf)
		return err
	}
	return s.w.sendCtx(ctx, buf, true)
}

// Name returns the session's name, as it appears in its logs.
func (m *MessageSession) Name() string { return m.s.name }

// Stats returns a snapshot of the session's counters.
func (m *MessageSession) Stats() Stats { return m.s.Stats() }

// Activity returns how many messages the session has received and when
// the last one; see [Session.Activity].
func (m *MessageSession) Activity() (messages uint64, lastRecv time.Time) { return m.s.Activity() }

// SetConcurrency changes how many messages are handled at once.
func (m *MessageSession) SetConcurrency(n int) { m.s.SetConcurrency(n) }

// Close closes the session gracefully; see [Session.Close].
func (m *MessageSession) Close() error { return m.s.Close() }

// Shutdown closes the session gracefully with ctx as the deadline; see
// [Session.Shutdown].
func (m *MessageSession) Shutdown(ctx context.Context) error { return m.s.Shutdown(ctx) }

// Abort closes the session at once and returns when it has ended.
func (m *MessageSession) Abort() { m.s.Abort() }

// Done returns a channel closed when the session has ended.
func (m *MessageSession) Done() <-chan struct{} { return m.s.done }

// Wait blocks until the session has ended and returns why; see
// [Session.Wait].
func (m *MessageSession) Wait() error { return m.s.Wait() }

// Err returns why the session ended, or nil while it is open.
func (m *MessageSession) Err() error { return m.s.Err() }

// FromMessageContext returns the message session handling the message
// whose context is ctx, or nil.
func FromMessageContext(ctx context.Context) *MessageSession {
	s := FromContext(ctx)
	if s == nil {
		return nil
	}
	return s.msgSession
}

// readLoop is the read loop of a message session.
func (mm *messageMode) readLoop() error {
	s := mm.s
	for {
		m, err := mm.reader.ReadMessage()
		if s.gate != nil {
			s.gate.settle(mm.reader.Buffered())
			if err != nil && s.gate.w != nil {
				s.gate.dropped(mm.reader.Buffered())
			}
		}
		if err != nil {
			var fe framing.Error
			if errors.As(err, &fe) {
				s.countError(fe.CostHint())
				if !fe.Fatal() {
					if ce, n := s.peerCheck(lineDropped); ce != nil {
						ce.Write(zap.Error(err), suppressed(n))
					}
					continue
				}
				s.logger().Error("framing error, disconnecting", zap.Error(err))
				return err
			}
			if errors.Is(err, io.EOF) {
				return io.EOF
			}
			return err
		}
		s.received(len(m.Payload) + 24)
		if ce := s.check(zap.DebugLevel, "received message"); ce != nil {
			ce.Write(zap.String("command", m.Command), zap.Int("bytes", len(m.Payload)))
		}
		payload := make([]byte, len(m.Payload))
		copy(payload, m.Payload)
		x := &messageIncoming{in: incoming{s: s, readAt: s.recvAt}, peer: peerMessage{command: m.Command, payload: payload}}
		x.in.peer = &x.peer
		s.accept(&x.in, len(payload)+24)
	}
}

// messageIncoming is an incoming message and its command and payload,
// in one allocation.
type messageIncoming struct {
	in   incoming
	peer peerMessage
}

// serve runs the message handler for one message.
func (mm *messageMode) serve(in *incoming) {
	s := mm.s
	err := mm.invoke(in)
	if !in.answered.CompareAndSwap(false, true) {
		return
	}
	in.cancel(context.Canceled)
	if err != nil {
		if err != errPanic {
			if ce, n := s.peerCheck(lineMessageHandlerFailed); ce != nil {
				ce.Write(zap.String("command", in.peer.command), zap.Error(err), suppressed(n))
			}
		}
		s.countError(0)
	}
	s.answered(in)
}

func (mm *messageMode) invoke(in *incoming) (err error) {
	defer func() {
		if p := recover(); p != nil {
			mm.s.logPanic(in, p)
			err = errPanic
		}
	}()
	if mm.handler == nil {
		return nil
	}
	return mm.handler.HandleMessage(in, in.peer.command, in.peer.payload)
}

// rawStream writes messages already framed (by framing.Bitcoin) to a
// connection; reading is done by a framing.BitcoinReader instead.
type rawStream struct {
	conn io.ReadWriteCloser
	mu   sync.Mutex
	buf  []byte
}

var errRawRead = errors.New("session: raw stream is write-only")

func (r *rawStream) ReadMessage() ([]byte, error) { return nil, errRawRead }

func (r *rawStream) WriteMessage(msg []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err := r.conn.Write(msg)
	return err
}

// WriteMessages writes the frames with one Write.
func (r *rawStream) WriteMessages(msgs [][]byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf = r.buf[:0]
	for _, m := range msgs {
		r.buf = append(r.buf, m...)
	}
	_, err := r.conn.Write(r.buf)
	if cap(r.buf) > maxPooled {
		r.buf = nil
	}
	return err
}

func (r *rawStream) Close() error { return r.conn.Close() }
