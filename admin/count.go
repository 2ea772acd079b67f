package admin

import (
	"context"
	"sync/atomic"

	"github.com/gorpcx/gorpcx/session"
)

// counter counts the requests (and notifications) of one method, or of
// one session.
type counter struct {
	count, errors atomic.Uint64
}

// MethodCount is what the Interceptor counted for one method: the
// requests and notifications served, and those of them whose handler
// (or a later interceptor) returned an error.
type MethodCount struct {
	Count  uint64 `json:"count"`
	Errors uint64 `json:"errors"`
}

// sessionKey is the session value under which an Admin keeps a
// session's request counter.
type sessionKey struct{ a *Admin }

// Interceptor returns the interceptor that counts the server's
// requests and notifications: per method (those of the table New
// built, every other one as OtherMethod) and per session. Put it in
// the server's Options.Interceptors before it listens; without it
// getinfo's requests and each session's requests stay zero. It passes
// every request on unchanged. Its cost per request: one lookup in a
// table that never changes, three atomic additions and one lookup of a
// session value; nothing is allocated, except once per session.
func (a *Admin) Interceptor() session.Interceptor {
	return func(ctx context.Context, req *session.Request, next session.Handle) (any, error) {
		c := a.known[req.Method]
		if c == nil {
			c = &a.other
		}
		c.count.Add(1)
		a.sessionCounter(req.Session).count.Add(1)
		result, err := next(ctx, req)
		if err != nil {
			c.errors.Add(1)
		}
		return result, err
	}
}

// sessionCounter returns the request counter of s, attaching one at
// first use.
func (a *Admin) sessionCounter(s *session.Session) *counter {
	key := sessionKey{a}
	if c, _ := s.Value(key).(*counter); c != nil {
		return c
	}
	a.attach.Lock()
	defer a.attach.Unlock()
	c, _ := s.Value(key).(*counter)
	if c == nil {
		c = &counter{}
		s.SetValue(key, c)
	}
	return c
}

// sessionRequests returns the requests counted for s.
func (a *Admin) sessionRequests(s *session.Session) uint64 {
	if c, _ := s.Value(sessionKey{a}).(*counter); c != nil {
		return c.count.Load()
	}
	return 0
}

// Requests returns the requests and notifications counted so far by
// the Interceptor, by method: the methods counted at least once, and
// OtherMethod for all others together. The map is the caller's.
func (a *Admin) Requests() map[string]MethodCount {
	out := make(map[string]MethodCount, len(a.known)+1)
	for name, c := range a.known {
		if n := c.count.Load(); n > 0 {
			out[name] = MethodCount{Count: n, Errors: c.errors.Load()}
		}
	}
	if n := a.other.count.Load(); n > 0 {
		out[OtherMethod] = MethodCount{Count: n, Errors: a.other.errors.Load()}
	}
	return out
}
