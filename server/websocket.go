package server

import (
	"net/http"

	"go.uber.org/zap"

	"github.com/gorpcx/gorpcx/transport"
)

// WebSocket returns an http.Handler that upgrades each request to a
// WebSocket, with the settings of ws (message limit, frame type,
// Origin check, pings; its Serve function is not used; nil means the
// defaults), and runs a session over it as the server runs one over
// each connection it accepts: with Options, counted against
// MaxSessions and the peer groups of the request's remote address,
// shed at the limit, ended by Shutdown. NewWebSocketSession, if set,
// is called for each, as NewSession is for other connections.
//
// Serve the handler with an http.Server over HTTP/1.1 (a WebSocket
// takes over its connection); the http.Server's own timeouts bound the
// handshake (set its ReadHeaderTimeout). Behind a reverse proxy the
// request's RemoteAddr is the proxy's; serve the http.Server on a
// transport.Listener with PROXY protocol to have the client's (see
// transport.WebSocketConn.RemoteAddress): it is then the session's
// peer and what the peer groups use. The
// handler answers 503 once the server is closed. A WebSocket carries
// whole messages, so the server's Framer and the unfinished-message
// timeout do not apply to it; its pings find dead peers.
func (s *Server) WebSocket(ws *transport.WebSocketHandler) http.Handler {
	if ws == nil {
		ws = &transport.WebSocketHandler{}
	}
	if s.init() == nil {
		s.mu.Lock()
		s.serving = true
		s.mu.Unlock()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.init() != nil {
			http.Error(w, "server misconfigured", http.StatusInternalServerError)
			return
		}
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if closed {
			http.Error(w, "server closed", http.StatusServiceUnavailable)
			return
		}
		wc, err := ws.Accept(w, r)
		if err != nil {
			s.limitedInfo("WebSocket handshake failed", zap.String("peer", r.RemoteAddr), zap.Error(err))
			return
		}
		// The request's RemoteAddr, or the client's address from a
		// PROXY protocol header, which net/http does not see.
		remote := wc.RemoteAddress()
		peer := remote.Host().Addr()
		name := r.RemoteAddr
		if !remote.IsZero() {
			name = remote.String()
		}
		c, ok := s.admit(wc, nil, peer, true, false)
		if !ok {
			return
		}
		s.startWebSocket(c, wc, name)
	})
}

// startWebSocket asks NewWebSocketSession and starts the session of an
// admitted WebSocket.
func (s *Server) startWebSocket(c *connection, wc *transport.WebSocketConn, peer string) {
	opts := s.sessionOptions(c, peer)
	if s.NewWebSocketSession != nil {
		if err := s.callHook(func() error { return s.NewWebSocketSession(wc, &opts) }); err != nil {
			s.refused.hook.Add(1)
			s.refusedEvent(peer, "hook")
			s.limitedInfo("connection refused by NewWebSocketSession", zap.String("peer", peer), zap.Error(err))
			s.fail(c)
			return
		}
	}
	opts.Budget = s.budget
	s.run(c, wc, &opts)
}
