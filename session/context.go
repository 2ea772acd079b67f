package session

import (
	"context"
	"sync"
	"time"
)

// The incoming request is its handler's context: one allocation per
// request serves as both. It carries the session (see FromContext) and
// the values of Options.Context, and is cancelled when the session
// closes or the processing timeout passes.

// Deadline returns the end of the processing timeout, if there is one.
func (in *incoming) Deadline() (time.Time, bool) {
	if in.s.cfg.processingTimeout <= 0 {
		return time.Time{}, false
	}
	return in.deadline(), true
}

// deadline is the end of the processing timeout, counted from when the
// message was read.
func (in *incoming) deadline() time.Time {
	return in.s.start.Add(in.readAt + in.s.cfg.processingTimeout)
}

// Done returns a channel closed when the request is cancelled. It is
// made on first use, so handlers that never ask cost nothing.
func (in *incoming) Done() <-chan struct{} {
	in.cmu.Lock()
	defer in.cmu.Unlock()
	if in.done == nil {
		in.done = make(chan struct{})
		if in.err != nil {
			close(in.done)
		}
	}
	return in.done
}

// Err returns nil, context.Canceled or context.DeadlineExceeded.
func (in *incoming) Err() error {
	in.cmu.Lock()
	defer in.cmu.Unlock()
	return in.err
}

// Value returns the session for the session key, else the value
// attached to the session under key (Session.SetValue), else the value
// from Options.Context.
func (in *incoming) Value(key any) any {
	switch key.(type) {
	case sessionKey:
		return in.s
	case requestKey:
		return in
	case inlineKey:
		if in.inline {
			return in
		}
		return nil
	}
	if pc := in.byPeer.Load(); pc != nil {
		// context.Cause finds ErrCancelledByPeer here.
		if v := pc.ctx.Value(key); v != nil {
			return v
		}
	}
	if v := in.s.Value(key); v != nil {
		return v
	}
	return in.s.parent.Value(key)
}

// String names the context for debugging.
func (in *incoming) String() string { return "session.requestContext" }

// AfterFunc lets the context package propagate cancellation to derived
// contexts without a goroutine per derived context.
func (in *incoming) AfterFunc(f func()) (stop func() bool) {
	in.cmu.Lock()
	if in.err != nil {
		in.cmu.Unlock()
		go f()
		return func() bool { return false }
	}
	a := &afterFunc{f: f}
	in.after = append(in.after, a)
	in.cmu.Unlock()
	return func() bool {
		in.cmu.Lock()
		defer in.cmu.Unlock()
		for i, x := range in.after {
			if x == a {
				in.after = append(in.after[:i], in.after[i+1:]...)
				return true
			}
		}
		return false
	}
}

type afterFunc struct{ f func() }

// cancel ends the context with err (the first call wins).
func (in *incoming) cancel(err error) { in.cancelFor(err, false) }

// cancelFor is cancel; byPeer marks the cancellation as the peer's
// (ErrCancelledByPeer is then its cause) if it wins.
func (in *incoming) cancelFor(err error, byPeer bool) {
	in.cmu.Lock()
	if in.err != nil {
		in.cmu.Unlock()
		return
	}
	if byPeer {
		in.byPeer.Store(peerCancelled)
	}
	in.err = err
	if in.done != nil {
		close(in.done)
	}
	after := in.after
	in.after = nil
	in.cmu.Unlock()
	for _, a := range after {
		go a.f()
	}
}

var _ context.Context = (*incoming)(nil)

// contextFields is embedded in incoming.
type contextFields struct {
	cmu   sync.Mutex
	done  chan struct{}
	err   error
	after []*afterFunc
}
