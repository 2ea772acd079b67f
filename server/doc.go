// Package server composes the layers of gorpcx into what a program
// runs: a [Server] that listens with package transport (TCP, TLS, Unix
// sockets), frames each connection with package framing and runs a
// session.Session per connection, with graceful shutdown and a limit on
// the sessions it holds; its client-side twin [Dialer] (aiorpcX's
// connect_rs), which dials, optionally through a proxy, and returns a
// running session; and [NewLocal], a client and a server session joined
// in memory, for testing handlers without a socket.
//
// The package adds no behaviour of its own to the sessions: every limit
// and timeout is a session.Options field, given once in Server.Options
// (or per connection by Server.NewSession).
package server
