package client

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/gorpcx/gorpcx/session"
)

// run is the client's one goroutine: it connects, waits for the session
// to end, and connects again, until Close.
func (c *Client) run() {
	defer close(c.done)
	defer c.state(State{Kind: Closed})
	failures := 0    // failed rounds and short-lived connections in a row
	attempts := 0    // attempts since the last connection
	connections := 0 // connections made
	for {
		var s *session.Session
		var ep Endpoint
		var retry time.Duration
		for i, e := range c.eps {
			attempts++
			var err error
			if s, err = c.connect(e); err == nil {
				ep = e
				break
			}
			if c.ctx.Err() != nil {
				return
			}
			c.setLast(err)
			st := State{Kind: Failed, Endpoint: e, Attempt: attempts, Err: err}
			if i == len(c.eps)-1 {
				retry = c.backoff(failures)
				failures++
				st.Retry = retry
			}
			c.state(st)
		}
		if s == nil {
			if !c.sleep(retry) {
				return
			}
			continue
		}
		connections++
		up := time.Now()
		c.publish(s)
		c.state(State{Kind: Connected, Endpoint: ep, Session: s, Connection: connections, Attempt: attempts})
		attempts = 0
		select {
		case <-s.Done():
		case <-c.ctx.Done():
			_ = s.Close()
			c.unpublish(s)
			return
		}
		err := s.Err()
		c.unpublish(s)
		c.setLast(err)
		c.state(State{Kind: Disconnected, Endpoint: ep, Session: s, Connection: connections, Err: err})
		if time.Since(up) >= c.max {
			failures = 0
			continue
		}
		wait := c.backoff(failures)
		failures++
		if !c.sleep(wait) {
			return
		}
	}
}

// connect dials ep and runs OnConnect on the session. It returns the
// dial's error (a *transport.DialError), or OnConnect's wrapped, after
// the session has ended.
func (c *Client) connect(ep Endpoint) (*session.Session, error) {
	d := c.dialer
	if ep.TLS != nil {
		d.TLS = ep.TLS
	}
	s, err := d.Dial(c.ctx, ep.Network, ep.Address)
	if err != nil {
		return nil, err
	}
	if c.onConn == nil {
		return s, nil
	}
	ctx, cancel := context.WithCancel(c.ctx)
	s.AfterClose(func(*session.Session, error) { cancel() })
	err = c.onConn(ctx, s)
	cancel()
	if err != nil {
		s.Abort()
		<-s.Done()
		return nil, fmt.Errorf("client: OnConnect with %s: %w", ep.Address, err)
	}
	return s, nil
}

// backoff returns the wait after n failures in a row: drawn uniformly
// from [0, min(max, min·2ⁿ)).
func (c *Client) backoff(n int) time.Duration {
	ceiling := c.min
	for ; n > 0 && ceiling < c.max; n-- {
		ceiling *= 2
	}
	ceiling = min(ceiling, c.max)
	return rand.N(ceiling)
}

// sleep waits for d; it returns false if the client was closed first.
func (c *Client) sleep(d time.Duration) bool {
	if d <= 0 {
		return c.ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// publish makes s the current session: waiting calls go out on it.
func (c *Client) publish(s *session.Session) {
	c.mu.Lock()
	c.cur = s
	c.lost = make(chan struct{})
	close(c.ready)
	c.mu.Unlock()
}

// unpublish clears the current session s: calls wait for the next.
func (c *Client) unpublish(s *session.Session) {
	c.mu.Lock()
	if c.cur == s {
		c.cur = nil
		close(c.lost)
		c.ready = make(chan struct{})
	}
	c.mu.Unlock()
}

// setLast records why the last attempt failed or session ended, for
// the errors of calls made while disconnected.
func (c *Client) setLast(err error) {
	c.mu.Lock()
	c.last = err
	c.mu.Unlock()
}

// state tells OnState.
func (c *Client) state(st State) {
	if c.onState != nil {
		c.onState(st)
	}
}
