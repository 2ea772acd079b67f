package session

import (
	"sync/atomic"
	"time"
	"unsafe"

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

	// peer is a message of a MessageSession, nil for JSON-RPC (held
	// apart to keep a request small: see soloRequest).
	peer *peerMessage

	// Guarded by s.sched.mu.
	prev, next   *incoming // unanswered list
	qprev, qnext *incoming // queue

	// answered is set by whoever answers first: the handler's return or
	// the processing timeout.
	answered atomic.Bool

	// queued: in the queue (guarded by s.sched.mu).
	queued bool
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
		return in.peer.command
	}
	return clip(in.item.Request.Method)
}

// what names the request or message for logs.
func (in *incoming) what() zap.Field {
	if in.item == nil {
		return zap.String("command", in.peer.command)
	}
	return zap.String("method", clip(in.item.Request.Method))
}

// peerMessage is a message of a MessageSession.
type peerMessage struct {
	command string
	payload []byte
}

// soloRequest is a request or notification that came alone in its
// message, with its own copy of its item: one allocation for both.
type soloRequest struct {
	in   incoming
	item protocol.Item
}

// A solo request and the copy of its message, in one allocation: the
// reader decodes the message in its framing's buffer, and a request
// that came alone takes its copy of the bytes along (see
// Session.handleMessage). Each type fills a size class of the memory
// allocator exactly, so that the room for the message costs no more
// than what a separate copy would round up to; a message too long for
// the largest is copied into a buffer of its own.
type (
	soloRequestS struct {
		soloRequest
		msg [soloS]byte
	}
	soloRequestM struct {
		soloRequest
		msg [soloM]byte
	}
	soloRequestL struct {
		soloRequest
		msg [soloL]byte
	}
)

// The room for the message in each: size classes of 512, 640 and 896
// bytes, less the request's own size and, above 512 bytes, the 8-byte
// header the runtime puts before an object that holds pointers.
const (
	soloSize   = unsafe.Sizeof(soloRequest{})
	mallocHead = 8
	soloS      = 512 - soloSize
	soloM      = 640 - mallocHead - soloSize
	soloL      = 896 - mallocHead - soloSize
)

// newSoloRequest returns the incoming request of it, a copy of the
// reader's item. msg is the message it was decoded from, in the
// framing's buffer: the request gets a copy of it (held with the
// request when it fits) and its item is moved there. A nil msg means
// that the item is in a copy of its own already.
func newSoloRequest(s *Session, it *protocol.Item, msg []byte) *incoming {
	var r *soloRequest
	var own []byte
	switch n := len(msg); {
	case msg == nil:
		r = &soloRequest{}
	case n <= int(soloS):
		x := &soloRequestS{}
		r, own = &x.soloRequest, x.msg[:n]
	case n <= int(soloM):
		x := &soloRequestM{}
		r, own = &x.soloRequest, x.msg[:n]
	case n <= int(soloL):
		x := &soloRequestL{}
		r, own = &x.soloRequest, x.msg[:n]
	default:
		r, own = &soloRequest{}, make([]byte, n)
	}
	it.CopyTo(&r.item)
	if msg != nil {
		copy(own, msg)
		r.item.Rebase(msg, own)
	}
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
