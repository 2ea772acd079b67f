package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"go.uber.org/zap"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/session"
	"github.com/gorpcx/gorpcx/transport"
)

// acceptLoop accepts on ln until it is closed, and returns the error
// that ended it (nil when the server closed). Other errors (such as
// running out of file descriptors) back off from 5 ms up to 1 s and
// retry.
func (s *Server) acceptLoop(ln net.Listener, ep *Endpoint) error {
	var delay time.Duration
	for {
		if !s.waitForRoom() {
			return nil
		}
		raw, err := ln.Accept()
		if err != nil {
			select {
			case <-s.quit:
				return nil
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			if delay == 0 {
				delay = 5 * time.Millisecond
			} else {
				delay = min(2*delay, time.Second)
			}
			s.log.Warn("accept failed; retrying", zap.Error(err), zap.Duration("in", delay))
			select {
			case <-time.After(delay):
			case <-s.quit:
				return nil
			}
			continue
		}
		delay = 0
		// A transport.Listener's connections already are *transport.Conn
		// (NewConn returns them as they are); others are wrapped.
		conn := transport.NewConn(raw)
		// Behind a PROXY header the peer is known after the handshake:
		// the groups are joined then.
		c, ok := s.admit(conn, conn, peerAddr(conn), !needsProxyHeader(conn), true)
		if !ok {
			continue
		}
		if s.needsHandshake(conn) || s.NewSession != nil {
			// A handshake or the user's hook must not hold up the next
			// Accept.
			go s.start(c, ep)
			continue
		}
		// Starting a session does not block: do it here rather than on a
		// goroutine of its own, whose stack would be allocated and freed
		// for every connection.
		s.start(c, ep)
	}
}

// needsHandshake reports whether conn has a PROXY header to read or a
// TLS handshake to run.
func (s *Server) needsHandshake(conn net.Conn) bool {
	tc, ok := conn.(*transport.Conn)
	return ok && tc.HasHandshake()
}

// needsProxyHeader reports whether conn comes from a listener that
// reads a PROXY protocol header: the listener decides, whether Listen
// made it from an Endpoint or the program gave it to Serve.
func needsProxyHeader(conn net.Conn) bool {
	tc, ok := conn.(*transport.Conn)
	return ok && tc.HasProxyHeader()
}

// peerAddr returns the IP address of conn's peer, or the invalid Addr
// when it has none (a Unix socket).
func peerAddr(conn net.Conn) netip.Addr {
	if a, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// peerName is how the session and the logs name conn's peer.
func peerName(conn net.Conn) string {
	if tc, ok := conn.(*transport.Conn); ok && !tc.RemoteAddress().IsZero() {
		return tc.RemoteAddress().String()
	}
	if a := conn.RemoteAddr(); a != nil && a.String() != "" {
		return a.String()
	}
	return conn.LocalAddr().String()
}

// closedByServer reports whether the server has closed c itself, to
// make room at MaxSessions, or has been closed.
func (s *Server) closedByServer(c *connection) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return c.evicted || s.closed
}

// fail ends a connection that never got a session.
func (s *Server) fail(c *connection) {
	_ = c.closer.Close()
	s.release(c, 0, 0)
}

// start shakes hands (TLS), asks NewSession and starts the session of
// one accepted connection. It runs on the accept loop, or on a goroutine
// of its own when there is a TLS handshake or a NewSession hook to wait
// for.
func (s *Server) start(c *connection, ep *Endpoint) {
	conn := c.conn
	tc, _ := conn.(*transport.Conn)
	if s.needsHandshake(conn) {
		ctx, cancel := context.WithDeadline(context.Background(), s.handshakeDeadline(c.accepted))
		err := tc.Handshake(ctx)
		cancel()
		if err != nil {
			// A connection the server has closed itself (evicted, or
			// shut down) fails its handshake too: that is no failure of
			// the peer's, and is counted where it was closed. After
			// Close, a connection still in its handshake is never served
			// (see run), whatever the handshake's outcome.
			if !s.closedByServer(c) {
				s.refused.handshake.Add(1)
				s.refusedEvent(peerName(conn), "handshake")
				s.limitedInfo("handshake failed", zap.String("peer", peerName(conn)), zap.Error(err))
			}
			s.fail(c)
			return
		}
		if needsProxyHeader(conn) {
			if !s.joinGroups(c, peerAddr(conn)) {
				s.fail(c)
				return
			}
			s.startRecalc()
		}
	}
	peer := peerName(conn)
	opts := s.sessionOptions(c, peer)
	if s.NewSession != nil {
		if err := s.callHook(func() error { return s.NewSession(tc, &opts) }); err != nil {
			s.refused.hook.Add(1)
			s.refusedEvent(peer, "hook")
			s.limitedInfo("connection refused by NewSession", zap.String("peer", peer), zap.Error(err))
			s.fail(c)
			return
		}
	}
	framer := ep.Framer
	if framer == nil {
		framer = s.Framer
	}
	if framer == nil {
		framer = framing.Newline{}
	}
	gate := s.budget.Gate(conn)
	opts.Gate = gate
	opts.Budget = s.budget
	s.run(c, framing.NewStream(framer, gate), &opts)
}

// sessionOptions returns the options of the session of c: the
// server's template with its timeouts, before the hooks adjust them.
func (s *Server) sessionOptions(c *connection, peer string) session.Options {
	opts := s.Options
	opts.Side = session.Server
	opts.Peer = peer
	opts.Logger = s.sessLog
	opts.Observer = session.Observers(s.Observer, opts.Observer)
	serverTimeouts(&opts, c.accepted)
	return opts
}

// shareCost adds the shared cost of c's groups to the session's cost
// (Cost.Extra, on top of any Extra of the program's), after the hooks,
// so that a hook that sets Cost keeps it.
func (s *Server) shareCost(c *connection, opts *session.Options) {
	if c.ip == nil || s.groups.cfg.NoSharedCost {
		return
	}
	cost := session.DefaultCost()
	if opts.Cost != nil {
		cost = *opts.Cost
	}
	userExtra := cost.Extra
	cost.Extra = func() float64 {
		e := s.groups.extra(c)
		if userExtra != nil {
			e += userExtra()
		}
		return e
	}
	opts.Cost = &cost
}

// callHook runs a NewSession hook; a panic in it refuses the
// connection as an error would, with the panic and its stack logged.
func (s *Server) callHook(hook func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("server: session hook panicked: %v", p)
			s.log.Error("session hook panicked", zap.Any("panic", p), zap.Stack("stack"))
		}
	}()
	return hook()
}

// run starts the session of c over stream, unless c was evicted or the
// server closed meanwhile; the session's end releases c.
func (s *Server) run(c *connection, stream framing.Stream, opts *session.Options) {
	decay := session.DefaultCost().DecayPerSecond
	if opts.Cost != nil {
		decay = opts.Cost.DecayPerSecond
	}
	s.shareCost(c, opts)
	userOnClose := opts.OnClose
	var sess *session.Session
	ready := make(chan struct{})
	opts.OnClose = func(err error) {
		<-ready
		if userOnClose != nil {
			userOnClose(err)
		}
		s.release(c, sess.Cost(), decay)
	}
	s.mu.Lock()
	if s.closed || c.evicted {
		// Closed, or evicted, while this connection shook hands or
		// its hook ran: it was never served.
		s.mu.Unlock()
		_ = stream.Close()
		s.release(c, 0, 0)
		return
	}
	sess = session.New(stream, opts)
	if c.ip != nil {
		sess.SetValue(groupValueKey{}, c.ip.prefix.String())
	}
	c.sess.Store(sess)
	s.mu.Unlock()
	close(ready)
	if c.ip != nil && !s.groups.cfg.NoSharedCost {
		// What the peer's groups hold weighs from the start.
		sess.Recalculate()
	}
	s.log.Debug("session started", zap.String("session", sess.Name()), zap.String("peer", opts.Peer))
}
