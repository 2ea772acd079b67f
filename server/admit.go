package server

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/gorpcx/gorpcx/session"
)

// ErrEvicted is the cause a session ends with (session.Session.Err)
// when the server closed it to make room for a new connection at
// MaxSessions: it was the least useful connection held.
var ErrEvicted = errors.New("server: connection evicted to make room at the session limit")

// AtLimit is what a Server does with a new connection when it already
// holds MaxSessions.
type AtLimit int

const (
	// Shed admits the new connection and closes the least useful one
	// held (the default): see [Server.MaxSessions] for the order. A
	// flood of silent or slow connections then churns among itself
	// while clients that talk are served.
	Shed AtLimit = iota
	// Pause stops accepting at the limit and accepts again once the
	// count has fallen to 95 % of it (ElectrumX's way): new connections
	// wait in the listen backlog of the operating system meanwhile.
	Pause
)

// String returns "shed" or "pause".
func (a AtLimit) String() string {
	switch a {
	case Shed:
		return "shed"
	case Pause:
		return "pause"
	}
	return "AtLimit(" + strconv.Itoa(int(a)) + ")"
}

// connection is one accepted connection, from accept to its end: while
// its TLS handshake, PROXY header or NewSession hook runs (sess nil),
// and while its session runs.
type connection struct {
	closer   io.Closer // the connection, or the WebSocket
	conn     net.Conn  // the connection; nil for a WebSocket
	accepted time.Time
	peer     netip.Addr // the socket's peer (a balancer's, behind one); invalid for Unix sockets
	sess     atomic.Pointer[session.Session]
	// Guarded by Server.mu:
	prev, next *connection // in Server.conns or Server.talkers
	talker     bool        // seen to have completed a message: in Server.talkers
	evicted    bool        // closed to make room; no longer counted
	// Set by groups.join, then read-only; guarded by the groups' mutex
	// where it is the group's:
	ip, subnet *group
}

// cost returns the session's cost, or 0 before it has one.
func (c *connection) cost() float64 {
	if s := c.sess.Load(); s != nil {
		return s.Cost()
	}
	return 0
}

// close ends the connection with cause: its session is aborted, or,
// before it has one, its socket is closed (which ends its handshake).
func (c *connection) close(cause error) {
	if s := c.sess.Load(); s != nil {
		s.AbortWith(cause)
		return
	}
	_ = c.closer.Close()
}

// usefulness ranks a connection for shedding: the lower, the sooner it
// is closed.
type usefulness struct {
	talked bool          // completed at least one message
	idle   time.Duration // since its last message, or since accept
	cost   float64
}

// less reports whether a is less useful than b: a connection that has
// never completed a message before one that has, then the one idle the
// longest (in whole seconds), then, for two idle the same number of
// seconds, the one with the higher cost.
func (a usefulness) less(b usefulness) bool {
	if a.talked != b.talked {
		return !a.talked
	}
	// Idle times compare in whole seconds, so that near ties go to
	// the cost and the order stays an order.
	if ai, bi := a.idle/time.Second, b.idle/time.Second; ai != bi {
		return ai > bi
	}
	return a.cost > b.cost
}

// talked reports whether c's session has completed a message.
func (c *connection) talked() bool {
	if s := c.sess.Load(); s != nil {
		n, _ := s.Activity()
		return n > 0
	}
	return false
}

func (c *connection) usefulness(now time.Time) usefulness {
	s := c.sess.Load()
	if s == nil {
		return usefulness{idle: now.Sub(c.accepted)}
	}
	n, last := s.Activity()
	if n == 0 {
		return usefulness{idle: now.Sub(c.accepted)}
	}
	return usefulness{talked: true, idle: now.Sub(last), cost: s.Cost()}
}

// admit registers a connection just accepted, or refuses it (closing
// it). At MaxSessions in Shed mode it evicts the least useful
// connection held to make room.
//
// conn is nil for a WebSocket. With wait false (a WebSocket), a paused
// server at the limit refuses the connection instead of holding it.
//
// peer is the address of the socket's peer; with grouped false (a
// PROXY header still to read) the connection joins its groups later.
func (s *Server) admit(closer io.Closer, conn net.Conn, peer netip.Addr, grouped, wait bool) (*connection, bool) {
	c := &connection{closer: closer, conn: conn, accepted: time.Now(), peer: peer}
	if grouped && !s.joinGroups(c, peer) {
		_ = closer.Close()
		return nil, false
	}
	s.mu.Lock()
	if !wait && s.pausedLocked() {
		s.mu.Unlock()
		s.groups.leave(c, 0, 0, c.accepted)
		s.refused.full.Add(1)
		s.refusedEvent(peer.String(), "full")
		s.warn("refusing connection: session limit reached", zap.String("peer", peer.String()))
		_ = closer.Close()
		return nil, false
	}
	for !s.closed && s.pausedLocked() {
		// Another accept loop took the last place, or paused the server,
		// after this one looked: the connection waits as it would in the
		// backlog.
		resume := s.pauseLocked()
		s.mu.Unlock()
		select {
		case <-resume:
		case <-s.quit:
		}
		s.mu.Lock()
	}
	if s.closed {
		s.mu.Unlock()
		s.groups.leave(c, 0, 0, c.accepted)
		_ = closer.Close()
		return nil, false
	}
	var victim *connection
	if s.live >= s.maxSessions() {
		victim = s.leastUsefulLocked(c.accepted)
		if victim != nil {
			victim.evicted = true
			s.live--
			s.wg.Add(1) // the goroutine that closes it
		}
	}
	s.conns.push(c)
	s.live++
	s.wg.Add(1)
	s.startRecalc()
	s.mu.Unlock()
	s.accepted.Add(1)
	if victim != nil {
		s.evicted.Add(1)
		if s.Observer != nil {
			s.Observer.Observe(session.Event{Kind: session.ConnectionEvicted, Time: time.Now(), Session: victim.sess.Load(),
				Peer: victim.peer.String(), Cause: ErrEvicted, Reason: "least useful"})
		}
		s.warn("evicting the least useful connection: session limit reached",
			zap.Stringer("evicted", victim.peer), zap.Int("limit", s.maxSessions()))
		// Closing may wait for the peer (a WebSocket's close handshake,
		// up to a second): not on the accept loop.
		go func() {
			defer s.wg.Done()
			victim.close(ErrEvicted)
		}()
	}
	return c, true
}

// startRecalc starts the loop that recalculates the throttling of the
// sessions sharing a cost, unless it runs or no connection is in a
// group. It is called after a connection joined its groups, while that
// connection is counted in s.wg (so that s.wg is not at zero).
func (s *Server) startRecalc() {
	if !s.groups.needsTicker() {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.groups.recalcLoop(s.quit)
	}()
}

// joinGroups puts c in the groups of peer, or counts and logs its
// refusal and reports false.
func (s *Server) joinGroups(c *connection, peer netip.Addr) bool {
	switch s.groups.join(c, peer) {
	case overIP:
		s.refused.perIP.Add(1)
		s.refusedEvent(peer.String(), "per-ip")
		s.warn("refusing connection: per-IP limit reached", zap.String("peer", peer.String()))
		return false
	case overSubnet:
		s.refused.perSubnet.Add(1)
		s.refusedEvent(peer.String(), "per-subnet")
		s.warn("refusing connection: per-subnet limit reached", zap.String("peer", peer.String()))
		return false
	}
	return true
}

// leastUsefulLocked returns the connection to shed, or nil if there is
// none (every one is already being evicted). s.conns is in the order of
// accept, so the first there that has never completed a message is the
// oldest of them, and the search ends there; a connection found to have
// talked on the way (having talked, it always will have) moves to
// s.talkers, so that no later search walks it again. Only when every
// connection has talked does it rank s.talkers: O(MaxSessions), and
// only at the limit.
func (s *Server) leastUsefulLocked(now time.Time) *connection {
	for c := s.conns.head; c != nil; {
		next := c.next
		if !c.evicted {
			if !c.talked() {
				return c
			}
			s.conns.remove(c)
			s.talkers.push(c)
			c.talker = true
		}
		c = next
	}
	var victim *connection
	var worst usefulness
	for c := s.talkers.head; c != nil; c = c.next {
		if c.evicted {
			continue
		}
		u := c.usefulness(now)
		if victim == nil || u.less(worst) {
			victim, worst = c, u
		}
	}
	return victim
}

// eachLocked calls f for every connection held, evicted ones included.
func (s *Server) eachLocked(f func(*connection)) {
	for _, l := range [...]*connList{&s.conns, &s.talkers} {
		for c := l.head; c != nil; c = c.next {
			f(c)
		}
	}
}

// connList is a doubly linked list of connections, guarded by
// Server.mu.
type connList struct {
	head, tail *connection
	len        int
}

func (l *connList) push(c *connection) {
	c.prev, c.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = c
	} else {
		l.head = c
	}
	l.tail = c
	l.len++
}

func (l *connList) remove(c *connection) {
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		l.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		l.tail = c.prev
	}
	c.prev, c.next = nil, nil
	l.len--
}

// release forgets a connection that has ended; cost and decay are what
// its session leaves to its groups.
func (s *Server) release(c *connection, cost, decay float64) {
	s.mu.Lock()
	if c.talker {
		s.talkers.remove(c)
	} else {
		s.conns.remove(c)
	}
	if !c.evicted {
		s.live--
	}
	if s.resume != nil && s.live <= s.resumeAt() {
		close(s.resume)
		s.resume = nil
	}
	s.mu.Unlock()
	s.groups.leave(c, cost, decay, time.Now())
	s.wg.Done()
}

// resumeAt is the count at which a paused server accepts again: 95 %
// of MaxSessions.
func (s *Server) resumeAt() int {
	m := s.maxSessions()
	return m - max(1, m/20)
}

// pausedLocked reports whether a server with AtLimit Pause must not
// admit a connection now: it holds MaxSessions, or it paused there and
// the count has not yet fallen to 95 % of it. Every accept loop and the
// WebSocket handler ask it, so that one that was waiting in Accept when
// another paused does not admit a connection at the first free place.
func (s *Server) pausedLocked() bool {
	return s.AtLimit == Pause && (s.resume != nil || s.live >= s.maxSessions())
}

// pauseLocked returns the channel closed when a paused server may
// accept again, making it (and counting a pause) if the server was not
// paused yet.
func (s *Server) pauseLocked() chan struct{} {
	if s.resume == nil {
		s.resume = make(chan struct{})
		s.pauses.Add(1)
		s.warn("pausing accepting: session limit reached", zap.Int("limit", s.maxSessions()))
	}
	return s.resume
}

// waitForRoom blocks a paused accept loop (AtLimit Pause) while the
// server holds MaxSessions, until the count falls to 95 % of it or the
// server closes. It reports false once the server is closed.
func (s *Server) waitForRoom() bool {
	if s.AtLimit != Pause {
		return true
	}
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return false
		}
		if !s.pausedLocked() {
			s.mu.Unlock()
			return true
		}
		resume, quit := s.pauseLocked(), s.quit
		s.mu.Unlock()
		select {
		case <-resume:
		case <-quit:
			return false
		}
	}
}

// groupValueKey is the session value under which a server keeps the name of
// a session's IP group.
type groupValueKey struct{}

// GroupOf returns the name of the IP group (the prefix, such as
// "203.0.113.7/32") of a session a Server started, or "" for a session
// in no group (an exempt peer, a Unix socket, a session not made by a
// Server). It is the function pubsub.Options.Group expects, for limits
// on the subscriptions of one peer.
func GroupOf(s *session.Session) string {
	name, _ := s.Value(groupValueKey{}).(string)
	return name
}

// refusedEvent tells the Observer of a refused connection.
func (s *Server) refusedEvent(peer, reason string) {
	if s.Observer != nil {
		s.Observer.Observe(session.Event{Kind: session.ConnectionRefused, Time: time.Now(), Peer: peer, Reason: reason})
	}
}
