package server

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/internal/logcap"
	"github.com/gorpcx/gorpcx/session"
	"github.com/gorpcx/gorpcx/transport"
)

// DefaultMaxSessions is the default limit of connections a Server holds
// at once (ElectrumX's default).
const DefaultMaxSessions = 1000

// DefaultMaxIncomingBytes is the default bound of the bytes of incoming
// work all the sessions of a Server hold together: 512 MiB, an average
// of 512 KiB for each of DefaultMaxSessions sessions, and 32 sessions at
// their own default bound of 16 MiB.
const DefaultMaxIncomingBytes = 512 << 20

// DefaultHandshakeTimeout bounds the TLS handshake of an accepted
// connection when Server.HandshakeTimeout is zero.
const DefaultHandshakeTimeout = 10 * time.Second

// ErrServerClosed is returned by Listen and Serve on a server that was
// closed.
var ErrServerClosed = errors.New("server: closed")

// ErrListening is returned by Listen on a server that is already
// listening.
var ErrListening = errors.New("server: already listening")

// Endpoint is one address a Server listens on, with its own TLS,
// socket and framing settings; every endpoint shares the server's
// handlers, limits, peer groups and shutdown.
type Endpoint struct {
	// Network is "tcp" (the default), "tcp4", "tcp6" or "unix";
	// Address is the host and port ("127.0.0.1:0" by default; port 0
	// picks a free one) or the socket path.
	Network string
	Address string
	// TLS, if not nil, serves TLS with this configuration. UnixMode, if
	// not 0, is the permission of a Unix socket file.
	TLS      *tls.Config
	UnixMode os.FileMode
	// Framer cuts the endpoint's connections into messages (the
	// server's Framer when nil).
	Framer framing.Framer
	// Proxy, if set, reads a PROXY protocol header on the endpoint's
	// connections (the server's Proxy when nil); see Server.Proxy.
	Proxy *transport.ProxyProtocol
}

// Server accepts connections and runs a session for each (aiorpcX's
// Server). Set its fields, then call Listen or Serve; it does not
// listen before. Fields must not be changed after that. The zero Server
// serves on a free port of 127.0.0.1, newline framing, JSON-RPC 2.0,
// and answers every request with "method not found" until given a
// Handler.
//
// A Server counts connections from the moment it accepts them (a TLS
// handshake and a NewSession hook included) against MaxSessions and the
// per-peer limits of Peers, across all its endpoints together.
type Server struct {
	// Network is "tcp" (the default), "tcp4", "tcp6" or "unix";
	// Address is the host and port ("127.0.0.1:0" by default; port 0
	// picks a free one) or the socket path. They, TLS and UnixMode make
	// the one endpoint Listen listens on when Endpoints is empty.
	Network string
	Address string
	// TLS, if not nil, serves TLS with this configuration. UnixMode, if
	// not 0, is the permission of a Unix socket file.
	TLS      *tls.Config
	UnixMode os.FileMode
	// Endpoints, if not empty, are the addresses Listen listens on,
	// instead of Network and Address: TCP, TLS and Unix sockets at once,
	// served by the same handlers under the same limits.
	Endpoints []Endpoint
	// Proxy, if set and its Mode is not transport.ProxyOff, makes every
	// connection begin with a PROXY protocol header from a trusted load
	// balancer (see transport.ProxyProtocol): the client's address it
	// carries is then the session's peer and what the per-peer limits
	// of Peers use, and the balancer's stays readable with
	// transport.Conn.Balancer in NewSession. Such connections count
	// against MaxSessions from accept and join their peer groups once
	// the header is read (and, on a TLS endpoint, the TLS handshake
	// that follows it is done); a refused header closes the
	// connection. It
	// applies to the endpoints Listen makes: a listener given to Serve
	// reads headers if it is a transport.Listener made with
	// ListenConfig.Proxy, whatever this field says.
	Proxy *transport.ProxyProtocol
	// HandshakeTimeout bounds an accepted connection's PROXY header and
	// TLS handshake together (10 s when zero), counted from accept.
	HandshakeTimeout time.Duration
	// KeepAlive and UserTimeout find dead TCP peers, on every TCP
	// endpoint: keep-alive probes (nil: on, with transport's defaults)
	// and, on Linux, TCP_USER_TIMEOUT (0: transport.DefaultUserTimeout;
	// negative: off). See transport.ListenConfig.
	KeepAlive   *net.KeepAliveConfig
	UserTimeout time.Duration

	// Framer cuts each connection's bytes into messages (default
	// framing.Newline{}).
	Framer framing.Framer
	// Options is the template of every session's options: its Handler,
	// Dialect, limits and so on. Side is always session.Server.
	Options session.Options
	// NewSession, if set, is called for each accepted connection (after
	// the TLS handshake), with its details and a copy of Options to
	// adjust: a Handler of its own for this peer, per-peer cost hooks,
	// and so on. An error refuses the connection: it is closed and the
	// error logged. While it runs the connection counts against the
	// limits, and it may be evicted.
	NewSession func(conn *transport.Conn, opts *session.Options) error
	// NewWebSocketSession is NewSession for the WebSockets of the
	// handler Server.WebSocket returns.
	NewWebSocketSession func(conn *transport.WebSocketConn, opts *session.Options) error
	// MaxSessions limits the connections held at once, counted from
	// accept (DefaultMaxSessions when zero, no limit when negative). What
	// happens to a new connection at the limit is AtLimit's choice: by
	// default (Shed) the least useful connection held is closed to make
	// room: one that has never completed a message (the oldest first),
	// else the one idle the longest (in whole seconds), else, between two
	// idle as long, the one with the higher cost. Its session ends with
	// ErrEvicted.
	MaxSessions int
	// AtLimit chooses between shedding (the default) and pausing at
	// MaxSessions.
	AtLimit AtLimit
	// Peers sets the per-peer limits and shared cost; its zero value
	// is the defaults (see PeerGroups).
	Peers PeerGroups
	// Observer, if set, receives the server's events (connections
	// refused, with the reason, and evicted) and, with any Observer of
	// Options, its sessions' events (see session.Event).
	Observer session.Observer
	// MaxIncomingBytes bounds the bytes of incoming work all sessions
	// hold together: requests read and not yet answered, and messages
	// still arriving (DefaultMaxIncomingBytes when zero, no limit when
	// negative). Each session is bounded by Options.MaxIncomingBytes
	// too. At this bound the sessions that hold the most stop reading
	// first (see session.Budget), until the others' requests are
	// answered.
	MaxIncomingBytes int64
	// Logger receives the server's logs, and the sessions' unless
	// Options.Logger is set (no-op when nil). The server caps the lines
	// of each message, across all its sessions: at most 50 at once, then
	// 10 a second (lines of DPanic level and above always pass); the
	// next line of a message that passes carries the number dropped as
	// "suppressed", and the logger's Sync writes a summary of what is
	// left. Each session limits the lines its peer can trigger too (see
	// package session).
	Logger *zap.Logger

	initOnce sync.Once
	initErr  error
	budget   *session.Budget
	groups   *groups
	log      *zap.Logger // Logger, capped
	sessLog  *zap.Logger // Options.Logger (or Logger), capped
	caps     [2]*logcap.Core

	// mu guards what follows. Lock order: Server.mu, then the groups'
	// mutex, then a session's own locks.
	mu        sync.Mutex
	listening bool
	serving   bool // Listen, Serve or WebSocket was called: Wait waits for Close
	closed    bool
	listeners []net.Listener
	conns     connList      // in the order of accept, but for talkers
	talkers   connList      // those found to have completed a message
	live      int           // connections held, not counting those evicted
	resume    chan struct{} // closed when a paused server may accept again
	quit      chan struct{} // closed by Close
	loops     sync.WaitGroup
	wg        sync.WaitGroup

	accepted atomic.Uint64
	evicted  atomic.Uint64
	pauses   atomic.Uint64
	refused  struct {
		perIP, perSubnet, hook, handshake, full atomic.Uint64
	}
}

// init sets up what every way of serving needs, once.
func (s *Server) init() error {
	s.initOnce.Do(func() {
		if err := s.Peers.validate(); err != nil {
			s.initErr = err
			return
		}
		s.log, s.caps[0] = capLogger(s.Logger)
		s.sessLog = s.log
		if s.Options.Logger != nil {
			s.sessLog, s.caps[1] = capLogger(s.Options.Logger)
		}
		if s.log == nil {
			s.log = zap.NewNop()
		}
		limit := s.MaxIncomingBytes
		switch {
		case limit == 0:
			limit = DefaultMaxIncomingBytes
		case limit < 0:
			limit = 0
		}
		s.budget = session.NewBudget(limit)
		max := s.maxSessions()
		if max > 1<<20 {
			max = 1 << 20
		}
		s.groups = newGroups(s.Peers, max)
		s.quit = make(chan struct{})
	})
	return s.initErr
}

// endpoints returns what Listen listens on.
func (s *Server) endpoints() []Endpoint {
	if len(s.Endpoints) > 0 {
		return s.Endpoints
	}
	return []Endpoint{{Network: s.Network, Address: s.Address, TLS: s.TLS, UnixMode: s.UnixMode, Proxy: s.Proxy}}
}

// Listen starts listening on every endpoint and accepting connections
// in the background. It returns once every listener is up
// ([Server.Addrs] then gives the bound addresses); if one fails, those
// already up are closed and its error is returned. It returns
// ErrListening if already listening, ErrServerClosed after Close, and
// the error of an invalid Peers setting. ctx bounds the set-up only.
func (s *Server) Listen(ctx context.Context) error {
	if err := s.init(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrServerClosed
	case s.listening:
		return ErrListening
	}
	eps := s.endpoints()
	lns := make([]*transport.Listener, 0, len(eps))
	for _, ep := range eps {
		network, address := ep.Network, ep.Address
		if network == "" {
			network = "tcp"
		}
		if address == "" && network != "unix" {
			address = "127.0.0.1:0"
		}
		proxy := ep.Proxy
		if proxy == nil {
			proxy = s.Proxy
		}
		lc := transport.ListenConfig{TLS: ep.TLS, UnixMode: ep.UnixMode, Proxy: proxy, KeepAlive: s.KeepAlive, UserTimeout: s.UserTimeout}
		ln, err := lc.Listen(ctx, network, address)
		if err != nil {
			for _, l := range lns {
				_ = l.Close()
			}
			return err
		}
		lns = append(lns, ln)
	}
	s.listening = true
	s.serving = true
	for i, ln := range lns {
		ep := eps[i]
		s.listeners = append(s.listeners, ln)
		s.log.Info("listening", zap.String("network", ln.Addr().Network()), zap.Stringer("address", ln.Addr()))
		s.loops.Add(1)
		go func() {
			defer s.loops.Done()
			_ = s.acceptLoop(ln, &ep)
		}()
	}
	return nil
}

// Serve accepts connections on ln and serves them until the server is
// closed, then returns ErrServerClosed; it returns ln's Accept error if
// ln is closed by someone else. Connections are served as on
// the server's own endpoint (Framer, TLS and the PROXY protocol if ln
// is a transport.Listener with them), under the same limits as every
// other listener of the server. Serve may be called several times, with several listeners,
// with or without Listen; Close closes ln.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.init(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners = append(s.listeners, ln)
	s.serving = true
	s.loops.Add(1)
	s.mu.Unlock()
	defer s.loops.Done()
	err := s.acceptLoop(ln, &Endpoint{})
	if err == nil {
		return ErrServerClosed
	}
	return err
}

// Addr returns the address of the server's first listener, or nil when
// it is not listening.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.listeners) == 0 || s.closed {
		return nil
	}
	return s.listeners[0].Addr()
}

// Addrs returns the addresses of every listener, in the order they
// started (Listen's in the order of Endpoints, and each given to Serve
// when Serve was called), or nil when it is not listening.
func (s *Server) Addrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	out := make([]net.Addr, 0, len(s.listeners))
	for _, ln := range s.listeners {
		out = append(out, ln.Addr())
	}
	return out
}

// Listener returns the first listener while the server listens, else
// nil.
func (s *Server) Listener() net.Listener {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.listeners) == 0 || s.closed {
		return nil
	}
	return s.listeners[0]
}

// Close stops listening on every listener and returns once no accept
// loop runs; live sessions go on. It returns the first listener's
// close error, if any.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	if s.quit != nil {
		close(s.quit)
	}
	lns := s.listeners
	s.mu.Unlock()
	var err error
	for _, ln := range lns {
		if e := ln.Close(); e != nil && err == nil && !errors.Is(e, net.ErrClosed) {
			err = e
		}
	}
	s.loops.Wait()
	return err
}

// Shutdown stops listening and closes every session gracefully: each
// stops taking requests, and those already read are answered until ctx
// ends; then the rest are aborted. Connections that have no session yet
// (in their handshake) are closed. It returns nil when every session
// has ended, or ctx.Err() once ctx has ended, without waiting for
// handlers that ignore their context (the sessions log them; Wait
// waits for them).
func (s *Server) Shutdown(ctx context.Context) error {
	_ = s.Close()
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	s.mu.Lock()
	conns := make([]*connection, 0, s.conns.len+s.talkers.len)
	s.eachLocked(func(c *connection) { conns = append(conns, c) })
	s.mu.Unlock()
	for _, c := range conns {
		sess := c.sess.Load()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if sess == nil {
				// In its handshake or hook; closing a WebSocket may wait
				// for the peer, so each closes on its own goroutine.
				_ = c.closer.Close()
				return
			}
			if err := sess.Shutdown(ctx); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	ended := make(chan struct{})
	go func() {
		s.Wait()
		close(ended)
	}()
	select {
	case <-ended:
		return firstErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// IncomingBytes returns the bytes of incoming work the server's
// sessions hold now (see MaxIncomingBytes).
func (s *Server) IncomingBytes() int64 {
	if s.init() != nil {
		return 0
	}
	return s.budget.Held()
}

// Wait blocks until the server has stopped accepting (Close or
// Shutdown) and every connection it accepted has ended (aiorpcX's
// wait_closed). It returns at once for a server that never served
// (Listen, Serve or WebSocket not called).
func (s *Server) Wait() {
	s.mu.Lock()
	serving, quit := s.serving, s.quit
	s.mu.Unlock()
	if serving {
		// The WebSocket handler, and a Serve whose listener failed,
		// accept without a running accept loop: only Close ends that.
		// Once closed, nothing is admitted, so that the WaitGroups are
		// not added to while waited for.
		<-quit
	}
	s.loops.Wait()
	s.wg.Wait()
}

// Sessions returns the sessions alive now, in no particular order.
// Connections still in their handshake have none yet.
func (s *Server) Sessions() []*session.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*session.Session, 0, s.conns.len+s.talkers.len)
	s.eachLocked(func(c *connection) {
		if sess := c.sess.Load(); sess != nil {
			out = append(out, sess)
		}
	})
	return out
}

// SessionCount returns the number of connections held now, counted
// from accept (the number MaxSessions limits).
func (s *Server) SessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live
}

// Groups returns every peer group the server tracks now: those with
// connections, and those that only retain cost. IP groups come first,
// then subnets, each in address order.
func (s *Server) Groups() []GroupStats {
	if s.init() != nil {
		return nil
	}
	return s.groups.snapshot()
}

func (s *Server) maxSessions() int {
	switch {
	case s.MaxSessions == 0:
		return DefaultMaxSessions
	case s.MaxSessions < 0:
		return int(^uint(0) >> 1)
	}
	return s.MaxSessions
}
