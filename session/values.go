package session

import (
	"context"
	"sync"
)

// A program that keeps state per session (an authenticated user, the
// subscriptions of a peer) attaches it to the session with SetValue and
// is told of the session's end with AfterClose, as an aiorpcX program
// does with attributes and connection_lost of its session subclass.

type keyValue struct {
	key, value any
}

// attached is what the program attached to a session; mu guards it.
type attached struct {
	mu         sync.Mutex
	values     []keyValue
	afterClose []func(*Session, error)
	closed     bool // runAfterClose has run
}

// attachments returns the session's attachments, made at first use.
func (s *Session) attachments() *attached {
	if a := s.ext.Load(); a != nil {
		return a
	}
	s.ext.CompareAndSwap(nil, &attached{})
	return s.ext.Load()
}

// SetValue attaches value to the session under key, replacing what was
// there; a nil value removes the key. Keys compare as map keys do; use
// a type of your own, as for context values. The value is returned by
// [Session.Value] and, from a handler, by its context's Value. Safe for
// concurrent use.
func (s *Session) SetValue(key, value any) {
	a := s.attachments()
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range a.values {
		if a.values[i].key == key {
			if value == nil {
				a.values = append(a.values[:i], a.values[i+1:]...)
			} else {
				a.values[i].value = value
			}
			return
		}
	}
	if value != nil {
		a.values = append(a.values, keyValue{key, value})
	}
}

// Value returns the value attached under key with SetValue, or nil.
func (s *Session) Value(key any) any {
	a := s.ext.Load()
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range a.values {
		if a.values[i].key == key {
			return a.values[i].value
		}
	}
	return nil
}

// AfterClose arranges for f to be called once the session has ended,
// with the session and the cause [Session.Wait] returns, after
// Options.OnClose and before Done is closed; functions run in the order
// they were added, on the session's last goroutine, and must not wait
// for the session (Wait, Close, Shutdown, Abort: Done is closed only
// after them). On a session that has already ended f is called at
// once, on the caller's goroutine.
func (s *Session) AfterClose(f func(s *Session, err error)) {
	a := s.attachments()
	a.mu.Lock()
	if !a.closed {
		a.afterClose = append(a.afterClose, f)
		a.mu.Unlock()
		return
	}
	a.mu.Unlock()
	f(s, s.Err())
}

// runAfterClose calls Options.OnClose and the AfterClose functions.
func (s *Session) runAfterClose() {
	err := s.Err()
	s.emit(SessionClosed, "", err, 0)
	if s.onClose != nil {
		s.onClose(err)
	}
	a := s.attachments()
	for {
		a.mu.Lock()
		fs := a.afterClose
		a.afterClose = nil
		if len(fs) == 0 {
			a.closed = true
			a.mu.Unlock()
			return
		}
		a.mu.Unlock()
		for _, f := range fs {
			f(s, err)
		}
	}
}

// RawID returns the ID of the request whose handler's context is ctx,
// exactly as the peer sent it (a JSON number, string or null; in
// JSON-RPC 1.0 any JSON value, an array or an object too), or nil
// for a notification or a context that is not a handler's.
func RawID(ctx context.Context) []byte {
	in, _ := ctx.Value(requestKey{}).(*incoming)
	if in == nil || in.isNotification() {
		return nil
	}
	return in.item.RawID
}

// AfterReply arranges for f to be called once the reply to the request
// whose handler's context is ctx has been queued for writing, so that
// what the session sends after f runs (a notification) reaches the peer
// after that reply: a subscription answered with the current value is
// then never overtaken by a newer one. For a request in a batch, f runs
// once its own reply is ready, before the batch's reply is written. f
// runs on the goroutine that answers (it must not wait for the
// session), and runs also when the answer is an error or -102 "server
// busy". AfterReply returns false, and does not call f, for a context
// that is not a handler's or a request that needs no reply (a
// notification), or once the request has been answered; the caller then
// goes on at once.
func AfterReply(ctx context.Context, f func()) bool {
	in, _ := ctx.Value(requestKey{}).(*incoming)
	if in == nil || in.isNotification() {
		return false
	}
	for {
		old := in.afterReply.Load()
		if old == &repliedMark {
			return false
		}
		var fs []func()
		if old != nil {
			fs = append(fs, *old...)
		}
		fs = append(fs, f)
		if in.afterReply.CompareAndSwap(old, &fs) {
			return true
		}
	}
}

// repliedMark is afterReply once the reply has been queued.
var repliedMark []func()

// runAfterReply runs the functions AfterReply registered, once.
func (in *incoming) runAfterReply() {
	fs := in.afterReply.Swap(&repliedMark)
	if fs == nil || fs == &repliedMark {
		return
	}
	for _, f := range *fs {
		f()
	}
}

// requestKey finds, through derived contexts, the request a handler
// serves.
type requestKey struct{}
