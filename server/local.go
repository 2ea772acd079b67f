package server

import (
	"net"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/session"
)

// Local is a client session connected in memory to a server-side
// session, with no socket (like jrpc2's server.NewLocal): a way to test
// an application's handlers in isolation.
type Local struct {
	Client *session.Session
	Server *session.Session
}

// NewLocal connects a client session with options client to a server
// session with options server (either may be nil) over net.Pipe with
// newline framing. Close both with [Local.Close].
func NewLocal(server, client *session.Options) *Local {
	var so, co session.Options
	if server != nil {
		so = *server
	}
	if client != nil {
		co = *client
	}
	so.Side, co.Side = session.Server, session.Client
	if so.Peer == "" {
		so.Peer = "local"
	}
	if co.Peer == "" {
		co.Peer = "local"
	}
	a, b := net.Pipe()
	return &Local{
		Server: session.New(framing.NewStream(framing.Newline{}, a), &so),
		Client: session.New(framing.NewStream(framing.Newline{}, b), &co),
	}
}

// Close closes the client session gracefully, then the server session,
// and returns the first error.
func (l *Local) Close() error {
	err := l.Client.Close()
	if err2 := l.Server.Close(); err == nil {
		err = err2
	}
	return err
}
