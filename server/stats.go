package server

// Stats is a snapshot of a server's admission counters.
type Stats struct {
	// Connections is how many connections the server holds now, counted
	// from accept (TLS handshakes and NewSession hooks included): the
	// number MaxSessions limits. Sessions is how many of them run a
	// session.
	Connections, Sessions int
	// Accepted counts the connections admitted since the server
	// started.
	Accepted uint64
	// Evicted counts the connections closed to make room at
	// MaxSessions (AtLimit Shed), and Pauses the times the server
	// stopped accepting at MaxSessions (AtLimit Pause).
	Evicted, Pauses uint64
	// RefusedPerIP and RefusedPerSubnet count the connections closed at
	// once because their peer's IP or subnet group was at its limit.
	RefusedPerIP, RefusedPerSubnet uint64
	// RefusedFull counts the WebSocket connections refused because a
	// paused server (AtLimit Pause) was at MaxSessions, or had not yet
	// fallen to 95 % of it: an upgraded WebSocket cannot wait in a
	// listen backlog.
	RefusedFull uint64
	// RefusedByHook counts the connections NewSession refused, and
	// FailedHandshakes those whose PROXY header or TLS handshake failed
	// or timed out; a connection the server closed itself during its
	// handshake (evicted, or after Close) is not counted there.
	RefusedByHook, FailedHandshakes uint64
	// LogLinesSuppressed counts the log lines the server's cap has
	// dropped (see Server.Logger).
	LogLinesSuppressed int64
	// IncomingBytes is the bytes of incoming work the sessions hold
	// (see Server.MaxIncomingBytes).
	IncomingBytes int64
}

// Stats returns a snapshot of the server's admission counters. It is
// safe to call at any time.
func (s *Server) Stats() Stats {
	st := Stats{
		Accepted:         s.accepted.Load(),
		Evicted:          s.evicted.Load(),
		Pauses:           s.pauses.Load(),
		RefusedPerIP:     s.refused.perIP.Load(),
		RefusedPerSubnet: s.refused.perSubnet.Load(),
		RefusedFull:      s.refused.full.Load(),
		RefusedByHook:    s.refused.hook.Load(),
		FailedHandshakes: s.refused.handshake.Load(),
		IncomingBytes:    s.IncomingBytes(),
	}
	if s.init() == nil {
		st.LogLinesSuppressed = s.suppressed()
	}
	s.mu.Lock()
	st.Connections = s.live
	s.eachLocked(func(c *connection) {
		if c.sess.Load() != nil && !c.evicted {
			st.Sessions++
		}
	})
	s.mu.Unlock()
	return st
}
