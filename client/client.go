package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// Defaults of the back-off between rounds of connection attempts.
const (
	DefaultMinBackoff = 100 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
)

// ErrDisconnected is returned by a call made while the client has no
// connection, at once with Options.FailFast, or, wrapped with the
// context's error, when the call's context ends before a connection is
// made.
var ErrDisconnected = errors.New("client: not connected")

// ErrClosed is returned by calls made after Close, and by calls and
// Ready waiting for a connection when Close is called.
var ErrClosed = errors.New("client: closed")

// ErrNoEndpoints is returned by New when Options has no endpoint.
var ErrNoEndpoints = errors.New("client: no endpoints")

// Endpoint is one server the client may connect to.
type Endpoint struct {
	// Network is "tcp" (the default), "tcp4", "tcp6" or "unix";
	// Address is the host and port, or the socket path.
	Network string
	Address string
	// TLS, if not nil, replaces Options.Dialer.TLS for this endpoint.
	TLS *tls.Config
}

// String returns "network address".
func (e Endpoint) String() string { return e.Network + " " + e.Address }

// Options configures a Client.
type Options struct {
	// Endpoints are the servers, in order of preference: each round of
	// attempts tries them in this order, starting with the first, and
	// the first that connects (and whose OnConnect succeeds) is used.
	Endpoints []Endpoint
	// Dialer is the template of every connection: its Via proxy,
	// Timeout (which bounds each dial and TLS handshake), KeepAlive,
	// UserTimeout, Framer, TLS (unless the endpoint has its own) and
	// session Options: the Handler that serves the server's
	// notifications, and Ping, the application keepalive that aborts a
	// session whose peer stops answering (session.ErrPingTimeout).
	Dialer server.Dialer
	// MinBackoff and MaxBackoff bound the wait between rounds of
	// attempts (DefaultMinBackoff and DefaultMaxBackoff when zero). The
	// wait after the n-th failure in a row is drawn uniformly from
	// [0, min(MaxBackoff, MinBackoff·2ⁿ⁻¹)) (full jitter). A connection
	// that stayed up for MaxBackoff or longer resets the count, and the
	// first attempt after it is made at once.
	MinBackoff, MaxBackoff time.Duration
	// OnConnect, if set, runs after each connection is made and before
	// any call of the program goes out on it: a handshake (Electrum's
	// server.version) and re-subscribing. Its context ends when the
	// session ends or the client is closed. An error drops the
	// connection; it counts as a failed attempt and the next endpoint
	// is tried.
	OnConnect func(ctx context.Context, s *session.Session) error
	// OnState, if set, is told of every change: Connected (after
	// OnConnect), Disconnected, Failed (an attempt), Closed. OnState and
	// OnConnect run on the client's own goroutine, one at a time, in
	// order; they must not call Close.
	OnState func(State)
	// FailFast makes calls made while disconnected fail at once with
	// ErrDisconnected; by default they wait for the next connection, up
	// to their context.
	FailFast bool
}

// StateKind says what happened to the client's connection.
type StateKind uint8

const (
	// Connected: a session is up and OnConnect has succeeded on it;
	// calls go out on it from now on.
	Connected StateKind = iota + 1
	// Disconnected: the session ended; Err is why (see
	// session.Session.Wait). Notifications may have been missed from
	// here until the next Connected.
	Disconnected
	// Failed: one attempt failed (the dial, or OnConnect); Err is why.
	// Retry is the wait before the next attempt (zero when the next
	// endpoint of the round is tried at once).
	Failed
	// Closed: Close was called; nothing follows.
	Closed
)

// String returns the kind's name in lower case.
func (k StateKind) String() string {
	switch k {
	case Connected:
		return "connected"
	case Disconnected:
		return "disconnected"
	case Failed:
		return "failed"
	case Closed:
		return "closed"
	}
	return fmt.Sprintf("StateKind(%d)", uint8(k))
}

// State is one notice of the client's connection.
type State struct {
	Kind StateKind
	// Endpoint is the server concerned (none for Closed).
	Endpoint Endpoint
	// Session is the session made (Connected) or lost (Disconnected).
	Session *session.Session
	// Connection counts the connections made, 1 for the first: a
	// Connected notice with Connection above 1 is a reconnection.
	Connection int
	// Attempt counts the attempts since the last connection, the
	// successful one included (1: the first attempt connected).
	Attempt int
	// Err is why a session ended or an attempt failed.
	Err error
	// Retry is, for Failed, the wait before the next attempt.
	Retry time.Duration
}

// Client keeps one client session up with one of its endpoints,
// reconnecting with back-off when it is lost. Its methods are safe for
// concurrent use.
type Client struct {
	eps      []Endpoint
	dialer   server.Dialer
	min, max time.Duration
	onConn   func(context.Context, *session.Session) error
	onState  func(State)
	failFast bool

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	done   chan struct{} // closed when the client's goroutine has ended

	mu     sync.Mutex
	cur    *session.Session // nil while disconnected
	ready  chan struct{}    // closed when cur is set; replaced when it is lost
	lost   chan struct{}    // closed when cur is lost; replaced when it is set
	closed bool
	last   error // why the last session ended or attempt failed
}

// New checks o and returns a Client that starts connecting at once, in
// the background (see Ready). It returns ErrNoEndpoints, or an error
// naming a bad option, without starting anything.
func New(o *Options) (*Client, error) {
	if o == nil || len(o.Endpoints) == 0 {
		return nil, ErrNoEndpoints
	}
	c := &Client{
		eps:      make([]Endpoint, len(o.Endpoints)),
		dialer:   o.Dialer,
		min:      o.MinBackoff,
		max:      o.MaxBackoff,
		onConn:   o.OnConnect,
		onState:  o.OnState,
		failFast: o.FailFast,
		done:     make(chan struct{}),
		ready:    make(chan struct{}),
	}
	for i, ep := range o.Endpoints {
		if ep.Network == "" {
			ep.Network = "tcp"
		}
		if ep.Address == "" {
			return nil, fmt.Errorf("client: endpoint %d has no address", i)
		}
		c.eps[i] = ep
	}
	if c.min < 0 || c.max < 0 {
		return nil, fmt.Errorf("client: negative back-off (MinBackoff %v, MaxBackoff %v)", c.min, c.max)
	}
	if c.min == 0 {
		c.min = DefaultMinBackoff
	}
	if c.max == 0 {
		c.max = max(DefaultMaxBackoff, c.min)
	}
	if c.max < c.min {
		return nil, fmt.Errorf("client: MaxBackoff %v is below MinBackoff %v", c.max, c.min)
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	go c.run()
	return c, nil
}

// Call calls method on the current session (see session.Session.Call).
// While the client is disconnected it waits for the next connection up
// to ctx, and then returns an error that matches both ErrDisconnected
// and ctx.Err() with errors.Is; with Options.FailFast it returns
// ErrDisconnected at once. A call in flight when the connection drops
// fails with the session's *session.ConnectionError and is not sent
// again (it may have been served). After Close it returns ErrClosed.
func (c *Client) Call(ctx context.Context, method string, params, result any) error {
	s, err := c.session(ctx)
	if err != nil {
		return err
	}
	return s.Call(ctx, method, params, result)
}

// Notify sends a notification on the current session (see
// session.Session.Notify), waiting for a connection as Call does, with
// the same errors.
func (c *Client) Notify(ctx context.Context, method string, params any) error {
	s, err := c.session(ctx)
	if err != nil {
		return err
	}
	return s.Notify(ctx, method, params)
}

// Session returns the current session, or nil while disconnected. It
// may end at any moment; calls on it then fail with its
// *session.ConnectionError.
func (c *Client) Session() *session.Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur
}

// Ready waits until the client is connected (OnConnect included). It
// returns nil then, ctx.Err() if ctx ends first, or ErrClosed once the
// client is closed.
func (c *Client) Ready(ctx context.Context) error {
	c.mu.Lock()
	closed, ready := c.closed, c.ready
	c.mu.Unlock()
	if closed {
		return ErrClosed
	}
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.ctx.Done():
		return ErrClosed
	}
}

// Close stops the client for good: it stops connecting, closes the
// current session gracefully (see session.Session.Close: calls in
// flight fail with a ConnectionError, handlers of the server's requests
// finish), and returns when every goroutine of the client has ended,
// after the Closed notice. It returns nil; a second Close does nothing.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		<-c.done
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	<-c.done
	return nil
}

// session returns the current session, waiting for one unless the
// client fails fast.
func (c *Client) session(ctx context.Context) (*session.Session, error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, ErrClosed
		}
		s, ready, lost, last := c.cur, c.ready, c.lost, c.last
		c.mu.Unlock()
		if s != nil {
			select {
			case <-s.Done():
				// Lost, and the client's goroutine has not noticed yet:
				// wait until it has, then as for any outage.
				select {
				case <-lost:
				case <-ctx.Done():
					return nil, fmt.Errorf("%w: %w (last: %v)", ErrDisconnected, ctx.Err(), s.Err())
				}
				continue
			default:
				return s, nil
			}
		}
		if c.failFast {
			if last != nil {
				return nil, fmt.Errorf("%w (last: %v)", ErrDisconnected, last)
			}
			return nil, ErrDisconnected
		}
		select {
		case <-ready:
		case <-ctx.Done():
			if last != nil {
				return nil, fmt.Errorf("%w: %w (last: %v)", ErrDisconnected, ctx.Err(), last)
			}
			return nil, fmt.Errorf("%w: %w", ErrDisconnected, ctx.Err())
		case <-c.ctx.Done():
			return nil, ErrClosed
		}
	}
}
