package session

import (
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/gorpcx/gorpcx/protocol"
)

// incoming is a request or notification read from the peer, from the
// moment it is read until it is answered. It is also its handler's
// context (see context.go).
type incoming struct {
	contextFields
	s     *Session
	item  *protocol.Item // a JSON-RPC request or notification
	batch *batchReply
	size  int // bytes of the incoming budget held until answered

	// A message of a MessageSession.
	command string
	payload []byte

	// Guarded by s.sched.mu.
	prev, next   *incoming // unanswered list
	qprev, qnext *incoming // queue
	queued       bool

	// answered is set by whoever answers first: the handler's return or
	// the processing timeout.
	answered atomic.Bool

	// inBurst: read during a burst, whose replies wait for this one.
	inBurst bool
	// inline: served by the reader goroutine itself (see inline.go).
	inline bool
	// refused: answered -102 by the reader, never queued.
	refused bool
	// afterReply holds the functions AfterReply registered, run once
	// the reply is queued for writing.
	afterReply atomic.Pointer[[]func()]
	// byPeer is set when the peer's cancellation notification
	// cancelled the handler's context (see cancel.go).
	byPeer atomic.Pointer[peerCause]
	// readAt is when the message was read (since the session's start);
	// the processing deadline is counted from it.
	readAt time.Duration
}

// isNotification reports whether no reply is owed: a JSON-RPC
// notification, or any message of a MessageSession.
func (in *incoming) isNotification() bool {
	return in.item == nil || in.item.Kind == protocol.KindNotification
}

// name is the method or command, for logs.
func (in *incoming) name() string {
	if in.item == nil {
		return in.command
	}
	return clip(in.item.Request.Method)
}

// what names the request or message for logs.
func (in *incoming) what() zap.Field {
	if in.item == nil {
		return zap.String("command", in.command)
	}
	return zap.String("method", clip(in.item.Request.Method))
}

// soloRequest is a request or notification that came alone in its
// message, with its own copy of its item: one allocation for both.
type soloRequest struct {
	in   incoming
	item protocol.Item
}

// newSoloRequest returns the incoming request of it, a copy of the
// reader's item.
func newSoloRequest(s *Session, it *protocol.Item) *incoming {
	r := &soloRequest{}
	it.CopyTo(&r.item)
	r.in.s = s
	r.in.item = &r.item
	r.in.readAt = s.recvAt
	return &r.in
}

// clip cuts peer-supplied text for logs.
func clip(s string) string {
	const n = 100
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
