package session

import (
	"context"
)

// A program that keeps state per session (an authenticated user, the
// subscriptions of a peer) attaches it to the session with SetValue and
// is told of the session's end with AfterClose, as an aiorpcX program
// does with attributes and connection_lost of its session subclass.

type keyValue struct {
	key, value any
}

// SetValue attaches value to the session under key, replacing what was
// there; a nil value removes the key. Keys compare as map keys do; use
// a type of your own, as for context values. The value is returned by
// [Session.Value] and, from a handler, by its context's Value. Safe for
// concurrent use.
func (s *Session) SetValue(key, value any) {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	for i := range s.values {
		if s.values[i].key == key {
			if value == nil {
				s.values = append(s.values[:i], s.values[i+1:]...)
			} else {
				s.values[i].value = value
			}
			return
		}
	}
	if value != nil {
		s.values = append(s.values, keyValue{key, value})
	}
}

// Value returns the value attached under key with SetValue, or nil.
func (s *Session) Value(key any) any {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	for i := range s.values {
		if s.values[i].key == key {
			return s.values[i].value
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
	s.vmu.Lock()
	if !s.closedHooks {
		s.afterClose = append(s.afterClose, f)
		s.vmu.Unlock()
		return
	}
	s.vmu.Unlock()
	f(s, s.Err())
}

// runAfterClose calls Options.OnClose and the AfterClose functions.
func (s *Session) runAfterClose() {
	err := s.Err()
	if s.onClose != nil {
		s.onClose(err)
	}
	for {
		s.vmu.Lock()
		fs := s.afterClose
		s.afterClose = nil
		if len(fs) == 0 {
			s.closedHooks = true
			s.vmu.Unlock()
			return
		}
		s.vmu.Unlock()
		for _, f := range fs {
			f(s, err)
		}
	}
}

// RawID returns the ID of the request whose handler's context is ctx,
// exactly as the peer sent it (a JSON number, string or null), or nil
// for a notification or a context that is not a handler's.
func RawID(ctx context.Context) []byte {
	in, _ := ctx.Value(requestKey{}).(*incoming)
	if in == nil || in.isNotification() {
		return nil
	}
	return in.item.RawID
}

// requestKey finds, through derived contexts, the request a handler
// serves.
type requestKey struct{}
