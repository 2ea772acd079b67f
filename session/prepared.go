package session

import (
	"context"
	"encoding/json"
	"sync/atomic"

	"github.com/gorpcx/gorpcx/protocol"
)

// Prepared is a notification encoded once to be sent to many sessions
// (a publication to every subscriber of a topic): its method and params
// are checked once, and its bytes are made once for each shape of
// JSON-RPC the sessions speak (1.0, or 2.0 for the other dialects), not
// once per session. A Prepared is immutable and safe for concurrent use.
type Prepared struct {
	method string
	params json.RawMessage
	// enc holds the encoded notification: [0] in 2.0 shape, [1] in 1.0
	// shape, each made at its first use.
	enc [2]atomic.Pointer[[]byte]
}

// Prepare checks params as Notify does (nil, or a JSON array or object;
// a json.RawMessage is taken as it is, anything else is marshalled) and
// returns a notification of method with them. It returns the marshal
// error, or one matching ErrParams for params that are not an array or
// an object.
func Prepare(method string, params any) (*Prepared, error) {
	raw, err := encodeParams(params)
	if err != nil {
		return nil, err
	}
	p := &Prepared{method: method, params: raw}
	// Encode once now, so that invalid JSON in a json.RawMessage is
	// reported here rather than by every session.
	enc, err := protocol.New(protocol.V2, nil).AppendNotification(nil, method, raw)
	if err != nil {
		return nil, err
	}
	p.enc[0].Store(&enc)
	return p, nil
}

// Method returns the notification's method.
func (p *Prepared) Method() string { return p.method }

// Params returns the notification's params as given to Prepare (nil for
// none). The caller must not modify them.
func (p *Prepared) Params() json.RawMessage { return p.params }

// bytesFor returns the notification encoded for codec.
func (p *Prepared) bytesFor(codec protocol.Codec) ([]byte, error) {
	shape := 0
	if codec.Dialect() == protocol.V1 {
		shape = 1
	}
	if b := p.enc[shape].Load(); b != nil {
		return *b, nil
	}
	enc, err := codec.AppendNotification(nil, p.method, p.params)
	if err != nil {
		return nil, err
	}
	p.enc[shape].Store(&enc)
	return enc, nil
}

// NotifyPrepared sends the prepared notification p to the peer, as
// Notify does: it waits, within ctx, while the bytes waiting to be
// written are at MaxWriteBuffer, and returns the session's
// *ConnectionError once it has ended. The bytes are copied from p, not
// encoded again.
func (s *Session) NotifyPrepared(ctx context.Context, p *Prepared) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.callsEnded() {
		return s.callErr()
	}
	enc, err := p.bytesFor(s.codec)
	if err != nil {
		return err
	}
	buf := getBuffer()
	buf.b = append(buf.b[:0], enc...)
	return s.w.sendCtx(ctx, buf, true)
}
