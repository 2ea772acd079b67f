// Package server composes the layers of gorpcx into what a program
// runs: a [Server] that listens with package transport (TCP, TLS, Unix
// sockets), frames each connection with package framing and runs a
// session.Session per connection, with graceful shutdown and a limit on
// the sessions it holds; its client-side twin [Dialer] (aiorpcX's
// connect_rs), which dials, optionally through a proxy, and returns a
// running session; and [NewLocal], a client and a server session joined
// in memory, for testing handlers without a socket.
//
// The package adds two limits over all its sessions together, the
// number of sessions (MaxSessions) and the bytes of incoming work they
// hold (MaxIncomingBytes, through a session.Budget and a session.Gate
// per connection, so that messages still arriving count too); every
// other limit and timeout is a session.Options field, given once in
// Server.Options (or per connection by Server.NewSession).
//
// Shutdown returns by its context's deadline, even when a handler
// ignores its cancellation; Wait waits for every session's goroutines.
// All methods of Server are safe for concurrent use once Listen has
// been called.
package server
