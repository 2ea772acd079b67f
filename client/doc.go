// Package client keeps one JSON-RPC client session up with a server
// that may restart, move or stop answering: it reconnects with
// back-off, fails over between endpoints, runs a hook on each new
// connection before any call goes out, and tells the program each time
// the connection was lost and restored.
//
// It sits above package server's Dialer, which makes each connection
// (TLS, a proxy, TCP keep-alive, the framer and the session options are
// the Dialer's), and package session, whose sessions it holds one at a
// time.
//
// # Connecting
//
// [New] starts connecting at once, on the client's one goroutine. A
// round of attempts tries Options.Endpoints in order, from the first;
// each attempt dials (bounded by the Dialer's Timeout) and then runs
// Options.OnConnect on the new session (Electrum's server.version and
// re-subscribing, say). The first attempt that succeeds makes the
// session current and is reported as [Connected]; a failed attempt is
// reported as [Failed] and the next endpoint is tried at once. After a
// round in which every endpoint failed, the client waits a random time
// in [0, min(MaxBackoff, MinBackoff·2ⁿ⁻¹)) after the n-th such failure
// in a row (full jitter; 100 ms and 30 s by default), then starts
// another round.
//
// When the current session ends (the server closed it, the network
// failed, the application ping went unanswered: session.ErrPingTimeout)
// the client reports [Disconnected] with the cause and reconnects: at
// once if the session had lasted MaxBackoff or longer (which also
// resets the back-off), otherwise after the next back-off, so that a
// server that accepts and drops connections is not hammered.
//
// # Guarantees
//
//   - One session at a time: a new connection is made only after the
//     previous session has ended, and [Client.Session] is the current one
//     or nil.
//   - No call of the program goes out on a session before OnConnect has
//     returned nil on it; a session whose OnConnect failed is aborted and
//     its end waited for before the next attempt.
//   - Calls and notifications go out on the session current when they
//     are made, with the ordering of package session: those made one
//     after the other by one goroutine are written in that order.
//     Nothing is carried from one session to the next: a call in flight
//     when the connection drops fails with the session's
//     *session.ConnectionError and is not sent again (it may have been
//     served; the program decides whether to repeat it).
//   - A call made while disconnected waits for the next connection, up
//     to its context, and then fails with an error matching both
//     [ErrDisconnected] and the context's error; with Options.FailFast
//     it fails at once with ErrDisconnected.
//   - OnConnect and OnState run on the client's goroutine, one at a time,
//     in the order of events: Connected, Disconnected, Failed and finally
//     Closed. Notifications may have been missed between a Disconnected
//     notice and the next Connected one (whose Connection is then above
//     1): that is the moment to reconcile.
//   - [Client.Close] stops the client for good and returns once every
//     goroutine it started has ended, the current session included
//     (closed gracefully, see session.Session.Close). It returns
//     promptly during a back-off or a dial.
//
// # Keepalive
//
// TCP keep-alive (the Dialer's KeepAlive and UserTimeout, on by
// default) finds a peer whose host is gone. A connection that stays
// open but carries nothing (a stuck proxy, a dead route behind a NAT)
// is found by an application ping: set Dialer.Options.Ping (Electrum's
// server.ping, say) and the session calls the server whenever it has
// received nothing for the ping's Interval, and ends with
// session.ErrPingTimeout after Misses unanswered pings; the client then
// reconnects.
package client
