package server

import (
	"time"

	"github.com/gorpcx/gorpcx/session"
)

// The timeouts a Server turns on when its Options leave them zero
// (a session alone has them off). Negative values in Options switch
// them off.
const (
	// DefaultFirstMessageTimeout closes a connection that has not
	// completed a message this long after accept (a PROXY header and a
	// TLS handshake count in it).
	DefaultFirstMessageTimeout = 10 * time.Second
	// DefaultMessageTimeout closes a session whose peer began a message
	// and has not finished it this long after.
	DefaultMessageTimeout = 60 * time.Second
	// DefaultIdleTimeout closes a session that received nothing for
	// this long (ElectrumX's and Fulcrum's 10 minutes).
	DefaultIdleTimeout = 600 * time.Second
)

// serverTimeouts fills the zero timeouts of opts with the server's
// defaults, counting the first message from accepted.
func serverTimeouts(opts *session.Options, accepted time.Time) {
	if opts.FirstMessageTimeout == 0 {
		opts.FirstMessageTimeout = DefaultFirstMessageTimeout
	}
	if opts.MessageTimeout == 0 {
		opts.MessageTimeout = DefaultMessageTimeout
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	opts.Accepted = accepted
}

// handshakeDeadline is when the PROXY header and TLS handshake of a
// connection accepted at accepted must be done: HandshakeTimeout after
// accept, or the first-message timeout if that comes first.
func (s *Server) handshakeDeadline(accepted time.Time) time.Time {
	d := s.HandshakeTimeout
	if d <= 0 {
		d = DefaultHandshakeTimeout
	}
	first := s.Options.FirstMessageTimeout
	if first == 0 {
		first = DefaultFirstMessageTimeout
	}
	if first > 0 && first < d {
		d = first
	}
	return accepted.Add(d)
}
