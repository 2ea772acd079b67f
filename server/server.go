package server

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/session"
	"github.com/gorpcx/gorpcx/transport"
)

// DefaultMaxSessions is the default limit of sessions a Server holds at
// once (ElectrumX's default).
const DefaultMaxSessions = 1000

// DefaultMaxIncomingBytes is the default bound of the bytes of incoming
// work all the sessions of a Server hold together: 512 MiB, an average
// of 512 KiB for each of DefaultMaxSessions sessions, and 32 sessions at
// their own default bound of 16 MiB.
const DefaultMaxIncomingBytes = 512 << 20

// DefaultHandshakeTimeout bounds the TLS handshake of an accepted
// connection when Server.HandshakeTimeout is zero.
const DefaultHandshakeTimeout = 10 * time.Second

// ErrServerClosed is returned by Listen on a server that was closed.
var ErrServerClosed = errors.New("server: closed")

// ErrListening is returned by Listen on a server that is already
// listening.
var ErrListening = errors.New("server: already listening")

// Server accepts connections and runs a session for each (aiorpcX's
// Server). Set its fields, then call Listen; it does not listen before.
// Fields must not be changed after Listen. The zero Server serves on a
// free port of 127.0.0.1, newline framing, JSON-RPC 2.0, and answers
// every request with "method not found" until given a Handler.
type Server struct {
	// Network is "tcp" (the default), "tcp4", "tcp6" or "unix";
	// Address is the host and port ("127.0.0.1:0" by default; port 0
	// picks a free one) or the socket path.
	Network string
	Address string
	// TLS, if not nil, serves TLS with this configuration. UnixMode, if
	// not 0, is the permission of a Unix socket file.
	TLS      *tls.Config
	UnixMode os.FileMode
	// HandshakeTimeout bounds an accepted connection's TLS handshake (10 s
	// when zero).
	HandshakeTimeout time.Duration

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
	// error logged.
	NewSession func(conn *transport.Conn, opts *session.Options) error
	// MaxSessions limits the sessions held at once (DefaultMaxSessions
	// when zero, no limit when negative). At the limit, new connections
	// are closed at once, and accepted again once sessions have ended.
	MaxSessions int
	// MaxIncomingBytes bounds the bytes of incoming work all sessions
	// hold together: requests read and not yet answered, and messages
	// still arriving (DefaultMaxIncomingBytes when zero, no limit when
	// negative). Each session is bounded by Options.MaxIncomingBytes
	// too. At this bound the sessions that hold the most stop reading
	// first (see session.Budget), until the others' requests are
	// answered.
	MaxIncomingBytes int64
	// Logger receives the server's logs, and the sessions' unless
	// Options.Logger is set (no-op when nil).
	Logger *zap.Logger

	budget *session.Budget

	mu       sync.Mutex
	ln       *transport.Listener
	closed   bool
	sessions map[*session.Session]struct{}
	accepted chan struct{} // closed when the accept loop has ended
	wg       sync.WaitGroup
	log      *zap.Logger
}

// Listen starts listening and accepting connections in the background.
// It returns once the listener is up ([Server.Addr] then gives the bound
// address), ErrListening if already listening, ErrServerClosed after
// Close, or the listen error. ctx bounds the set-up only.
func (s *Server) Listen(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrServerClosed
	case s.ln != nil:
		return ErrListening
	}
	network, address := s.Network, s.Address
	if network == "" {
		network = "tcp"
	}
	if address == "" && network != "unix" {
		address = "127.0.0.1:0"
	}
	lc := transport.ListenConfig{TLS: s.TLS, UnixMode: s.UnixMode}
	ln, err := lc.Listen(ctx, network, address)
	if err != nil {
		return err
	}
	s.log = s.Logger
	if s.log == nil {
		s.log = zap.NewNop()
	}
	s.ln = ln
	limit := s.MaxIncomingBytes
	switch {
	case limit == 0:
		limit = DefaultMaxIncomingBytes
	case limit < 0:
		limit = 0
	}
	s.budget = session.NewBudget(limit)
	s.sessions = make(map[*session.Session]struct{})
	s.accepted = make(chan struct{})
	s.log.Info("listening", zap.String("network", network), zap.Stringer("address", ln.Addr()))
	go s.acceptLoop(ln)
	return nil
}

// Addr returns the address the server listens on, or nil when it is not
// listening.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil || s.closed {
		return nil
	}
	return s.ln.Addr()
}

// Listener returns the listener while the server listens, else nil.
func (s *Server) Listener() net.Listener {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil || s.closed {
		return nil
	}
	return s.ln
}

// Close stops listening; live sessions go on. It returns the listener's
// close error, if any.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	ln := s.ln
	s.mu.Unlock()
	if ln == nil {
		return nil
	}
	err := ln.Close()
	<-s.accepted
	return err
}

// Shutdown stops listening and closes every session gracefully: each
// stops taking requests, and those already read are answered until ctx
// ends; then the rest are aborted. It returns nil when every session
// has ended, or ctx.Err() once ctx has ended, without waiting for
// handlers that ignore their context (the sessions log them; Wait
// waits for them).
func (s *Server) Shutdown(ctx context.Context) error {
	_ = s.Close()
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, sess := range s.Sessions() {
		wg.Add(1)
		go func() {
			defer wg.Done()
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
	s.mu.Lock()
	b := s.budget
	s.mu.Unlock()
	return b.Held()
}

// Wait blocks until the server has stopped listening and every session
// it started has ended (aiorpcX's wait_closed). It returns at once for
// a server that never listened.
func (s *Server) Wait() {
	s.mu.Lock()
	accepted := s.accepted
	s.mu.Unlock()
	if accepted == nil {
		return
	}
	<-accepted
	s.wg.Wait()
}

// Sessions returns the sessions alive now, in no particular order.
func (s *Server) Sessions() []*session.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*session.Session, 0, len(s.sessions))
	for sess := range s.sessions {
		out = append(out, sess)
	}
	return out
}

// SessionCount returns the number of sessions alive now.
func (s *Server) SessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
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

// acceptLoop accepts until the listener is closed. Temporary errors
// (such as running out of file descriptors) back off from 5 ms up to
// 1 s and retry.
func (s *Server) acceptLoop(ln *transport.Listener) {
	defer close(s.accepted)
	var delay time.Duration
	for {
		conn, err := ln.AcceptConn()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if delay == 0 {
				delay = 5 * time.Millisecond
			} else {
				delay = min(2*delay, time.Second)
			}
			s.log.Warn("accept failed; retrying", zap.Error(err), zap.Duration("in", delay))
			time.Sleep(delay)
			continue
		}
		delay = 0
		s.mu.Lock()
		full := len(s.sessions) >= s.maxSessions()
		if !full {
			s.wg.Add(1)
		}
		s.mu.Unlock()
		if full {
			s.log.Warn("refusing connection: session limit reached",
				zap.Stringer("remote", conn.RemoteAddr()), zap.Int("limit", s.maxSessions()))
			conn.Close()
			continue
		}
		if s.TLS != nil || s.NewSession != nil {
			// A handshake or the user's hook must not hold up the next
			// Accept.
			go s.start(conn)
			continue
		}
		// Starting a session does not block: do it here rather than on a
		// goroutine of its own, whose stack would be allocated and freed
		// for every connection.
		s.start(conn)
	}
}

// start shakes hands (TLS), asks NewSession and starts the session of
// one accepted connection. It runs on the accept loop, or on a goroutine
// of its own when there is a TLS handshake or a NewSession hook to wait
// for.
func (s *Server) start(conn *transport.Conn) {
	peer := conn.RemoteAddress().String()
	if conn.RemoteAddress().IsZero() {
		peer = conn.RemoteAddr().String()
	}
	if s.TLS != nil {
		timeout := s.HandshakeTimeout
		if timeout <= 0 {
			timeout = DefaultHandshakeTimeout
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		err := conn.Handshake(ctx)
		cancel()
		if err != nil {
			s.log.Info("TLS handshake failed", zap.String("peer", peer), zap.Error(err))
			conn.Close()
			s.wg.Done()
			return
		}
	}
	opts := s.Options
	opts.Side = session.Server
	opts.Peer = peer
	if opts.Logger == nil {
		opts.Logger = s.Logger
	}
	if s.NewSession != nil {
		if err := s.NewSession(conn, &opts); err != nil {
			s.log.Info("connection refused by NewSession", zap.String("peer", peer), zap.Error(err))
			conn.Close()
			s.wg.Done()
			return
		}
	}
	framer := s.Framer
	if framer == nil {
		framer = framing.Newline{}
	}
	// The session is registered before it can end: OnClose takes it out.
	var sess *session.Session
	ready := make(chan struct{})
	userOnClose := opts.OnClose
	opts.OnClose = func(err error) {
		<-ready
		s.mu.Lock()
		delete(s.sessions, sess)
		s.mu.Unlock()
		if userOnClose != nil {
			userOnClose(err)
		}
		s.wg.Done()
	}
	s.mu.Lock()
	if s.closed {
		// Closed while this connection shook hands: it was never served.
		s.mu.Unlock()
		conn.Close()
		s.wg.Done()
		return
	}
	gate := s.budget.Gate(conn)
	opts.Gate = gate
	opts.Budget = s.budget
	sess = session.New(framing.NewStream(framer, gate), &opts)
	s.sessions[sess] = struct{}{}
	s.mu.Unlock()
	close(ready)
	s.log.Debug("session started", zap.String("session", sess.Name()), zap.String("peer", peer))
}
