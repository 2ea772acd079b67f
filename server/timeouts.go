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
// defaults.
func serverTimeouts(opts *session.Options) {
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
}
