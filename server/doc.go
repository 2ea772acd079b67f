// Package server composes the layers of gorpcx into what a program
// runs: a [Server] that listens with package transport (TCP, TLS, Unix
// sockets, several endpoints at once, listeners of the program's own
// through Serve, WebSockets through [Server.WebSocket]), frames each
// connection with package framing and runs a session.Session per
// connection, with admission control and graceful shutdown; its
// client-side twin [Dialer] (aiorpcX's connect_rs), which dials,
// optionally through a proxy, and returns a running session; and
// [NewLocal], a client and a server session joined in memory, for
// testing handlers without a socket.
//
// A Server is meant to face the open internet with its defaults:
//
//   - Connections are counted from accept (a PROXY header, a TLS
//     handshake and the NewSession hook included) against MaxSessions.
//     At the limit the least useful connection is shed to make room
//     (AtLimit Shed), or accepting pauses until the count falls to 95 %
//     (AtLimit Pause).
//   - Peers are grouped by IP and by subnet ([PeerGroups]): a limit of
//     connections per group, and a cost the group's sessions share and
//     that outlives them, decaying. Behind a trusted balancer (the
//     PROXY protocol, Server.Proxy) the client's own address counts.
//   - Timeouts are on: a first message within 10 s of accept, a message
//     finished within 60 s of its start, 600 s idle at most; TCP
//     keep-alive and TCP_USER_TIMEOUT find peers that vanished.
//   - The bytes of incoming work all sessions hold are bounded together
//     (MaxIncomingBytes, through a session.Budget and a session.Gate per
//     connection, so that messages still arriving count too).
//   - Log lines are capped per message across the server and its
//     sessions, with the number dropped reported.
//
// Every other limit and timeout is a session.Options field, given once
// in Server.Options (or per connection by Server.NewSession).
//
// Concurrency: all methods of Server are safe for concurrent use once
// Listen or Serve has been called; its fields must not change after
// that. Its state has one mutex; where it meets the peer groups' lock,
// the server's is taken first (see groups.go). Shutdown returns by its
// context's deadline, even when a handler ignores its cancellation;
// Wait waits for every session's goroutines and the server's own. No
// goroutine of a Server outlives Close plus the end of its sessions.
package server
