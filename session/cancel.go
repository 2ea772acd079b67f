package session

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"

	"github.com/gorpcx/gorpcx/protocol"
)

// LSPCancelMethod is the method of the Language Server Protocol's
// cancellation notification, whose params are {"id": <id>}.
const LSPCancelMethod = "$/cancelRequest"

// CodeRequestCancelled is the error code (LSP's RequestCancelled) of
// the answer to a request the peer cancelled, when its handler returns
// an error that is context.Canceled.
const CodeRequestCancelled = -32800

// ErrCancelledByPeer is the cause (context.Cause) of a handler's
// context cancelled by the peer's cancellation notification; its Err is
// context.Canceled.
var ErrCancelledByPeer = errors.New("session: request cancelled by the peer")

// Cancellation configures cancellation across the wire (Options.Cancel),
// which JSON-RPC 2.0 leaves to conventions such as LSP's
// "$/cancelRequest". It is off by default.
//
// Outgoing: when a [Session.Call] gives up before its response arrives,
// because its context ended or Options.RequestTimeout passed, the
// session sends the peer the notification Method with Params(id), once,
// unless the session is closing; so does [Session.SendBatch] for each
// request of the batch left unanswered. The call returns at once, never
// waiting for the notification: one that finds the write backlog full
// is dropped. A late answer to the call is dropped as any late answer.
//
// Incoming: a notification with the method Method is not passed to the
// handler. The session takes the ID out of its params with ID, finds
// the unanswered request the peer sent with exactly that raw ID (byte
// for byte as the peer wrote it, whitespace around it aside; in a batch
// too) and cancels its handler's context: Err is context.Canceled and
// context.Cause is [ErrCancelledByPeer]. The request is still answered,
// as the handler decides; a handler that returns an error that is
// context.Canceled answers -32800 (CodeRequestCancelled) "request
// cancelled", as LSP asks. A request cancelled before its handler
// started is answered so without running it. A cancellation whose ID
// matches no unanswered request (already answered, never sent) is
// ignored and counted in Stats.CancelsUnknown, not charged to the peer.
type Cancellation struct {
	// Method is the notification's method, both ways; empty means
	// LSPCancelMethod.
	Method string
	// Params builds the params of the notification sent for the
	// request with the raw ID id (nil: LSP's {"id": <id>}). Its result
	// is encoded as Call's params are; one that does not encode to an
	// array or an object sends nothing.
	Params func(id json.RawMessage) any
	// ID takes the raw ID to cancel out of a received notification's
	// params, reporting false when there is none (nil: LSP's
	// {"id": ...}).
	ID func(params json.RawMessage) (json.RawMessage, bool)
}

// resolveCancel returns c with its defaults filled in, or nil.
func resolveCancel(c *Cancellation) *Cancellation {
	if c == nil {
		return nil
	}
	r := *c
	if r.Method == "" {
		r.Method = LSPCancelMethod
	}
	if r.Params == nil {
		r.Params = lspCancelParams
	}
	if r.ID == nil {
		r.ID = lspCancelID
	}
	return &r
}

// lspCancelParams is LSP's {"id": <id>}.
func lspCancelParams(id json.RawMessage) any {
	b := make([]byte, 0, len(id)+7)
	b = append(b, `{"id":`...)
	b = append(b, id...)
	b = append(b, '}')
	return json.RawMessage(b)
}

// lspCancelID takes the "id" member out of LSP's {"id": <id>}.
func lspCancelID(params json.RawMessage) (json.RawMessage, bool) {
	var p struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(params, &p) != nil || len(p.ID) == 0 || string(p.ID) == "null" {
		return nil, false
	}
	return p.ID, true
}

// sendCancel sends the peer the cancellation of the outgoing request
// with the ID id, without waiting: nothing when the session is closing
// or the write backlog has no room for it.
func (s *Session) sendCancel(id []byte) {
	c := s.cfg.cancel
	if s.callsEnded() {
		return
	}
	raw, err := encodeParams(c.Params(json.RawMessage(id)))
	if err != nil {
		if ce, n := s.peerCheck(lineCancel); ce != nil {
			ce.Write(zap.ByteString("id", id), zap.Error(err), suppressed(n))
		}
		return
	}
	buf := getBuffer()
	buf.b, err = s.codec.AppendNotification(buf.b[:0], c.Method, raw)
	if err != nil {
		putBuffer(buf)
		if ce, n := s.peerCheck(lineCancel); ce != nil {
			ce.Write(zap.ByteString("id", id), zap.Error(err), suppressed(n))
		}
		return
	}
	if s.w.trySend(buf) {
		s.stats.cancelsSent.Add(1)
	}
}

// isCancel reports whether it is a cancellation notification to be
// taken by the session (Options.Cancel set, and its method).
func (s *Session) isCancel(it *protocol.Item) bool {
	c := s.cfg.cancel
	return c != nil && it.Kind == protocol.KindNotification && it.Request.Method == c.Method
}

// cancelIncoming cancels the handler's context of every unanswered
// request of the peer's whose raw ID is the one the cancellation
// notification it names.
func (s *Session) cancelIncoming(it *protocol.Item) {
	var params json.RawMessage
	if it.Request.Params != nil {
		params = *it.Request.Params
	}
	id, ok := s.cfg.cancel.ID(params)
	id = bytes.TrimSpace(id)
	if !ok || len(id) == 0 {
		s.stats.cancelsUnknown.Add(1)
		return
	}
	found := false
	s.sched.mu.Lock()
	for in := s.sched.unanswered.head; in != nil; in = in.next {
		if in.isNotification() || !bytes.Equal(in.item.RawID, id) {
			continue
		}
		if !found {
			// Counted before the handler can see it.
			found = true
			s.stats.cancelsReceived.Add(1)
		}
		in.cancelByPeer()
	}
	s.sched.mu.Unlock()
	if !found {
		s.stats.cancelsUnknown.Add(1)
	}
}

// peerCause carries ErrCancelledByPeer as context.Cause finds it: a
// cancelled context of the standard library, asked for its values first
// by a handler's context once the peer cancelled it.
type peerCause struct{ ctx context.Context }

var peerCancelled = func() *peerCause {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(ErrCancelledByPeer)
	return &peerCause{ctx}
}()

// cancelByPeer cancels the handler's context of in for the peer's
// cancellation. Called with s.sched.mu held.
func (in *incoming) cancelByPeer() {
	in.cancelFor(context.Canceled, true)
}

// cancelledByPeer reports whether the peer cancelled in.
func (in *incoming) cancelledByPeer() bool { return in.byPeer.Load() != nil }

// requestCancelled is the answer to a request the peer cancelled.
func requestCancelled() *jsonrpc2.Error {
	return &jsonrpc2.Error{Code: CodeRequestCancelled, Message: "request cancelled"}
}
