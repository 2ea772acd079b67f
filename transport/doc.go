// Package transport listens for and dials the byte-stream connections
// that gorpcx sessions run over: TCP (IPv4 and IPv6), TLS on top of
// either, and Unix sockets; it also gives the program's standard input
// and output, and the pipes of a child process, as byte streams. A [Dialer] can make its connections through
// another dialer with the shape of golang.org/x/net/proxy.ContextDialer,
// which is how a SOCKS proxy plugs in without this package knowing
// about proxies. Every connection is a [*Conn], a net.Conn that also
// reports the remote address as the caller meant it (the target, not
// the proxy), the proxy that carried it and its TLS state, as aiorpcX's
// remote_address() and proxy() do.
//
// The package also parses and validates network addresses and services
// as aiorpcX's NetAddress and Service do: a [Host] is an IPv4 address,
// an IPv6 address or a host name; a [NetAddress] is a host and a port,
// written "host:port" or "[ipv6]:port"; a [Service] is a protocol and
// an address, written "protocol://host:port". Invalid input is reported
// as an [*AddressError] that quotes it.
//
// Dead peers are found at the TCP level by default, on accepted and
// dialed connections alike: keep-alive probes after 30 seconds idle,
// every 10 seconds, 3 of them unanswered ([DefaultKeepAliveIdle],
// [DefaultKeepAliveInterval], [DefaultKeepAliveCount]), and on Linux
// TCP_USER_TIMEOUT, which drops a connection whose sent data has gone
// unacknowledged for 60 seconds ([DefaultUserTimeout]). A peer that
// vanished, idle or with data in flight, is found in about a minute and
// its connection's reads and writes fail. [ListenConfig] and [Dialer]
// change or switch off both (KeepAlive, UserTimeout).
//
// A Unix socket path is held by one [Listener] at a time: Listen takes
// a lock file beside it (path + ".lock", flock) before it looks at the
// path, and holds it until Close, which removes the socket and the lock
// file. Two listeners replacing the same stale socket at once, in one
// process or in several, cannot both succeed: the second fails at once
// with an error matching [ErrAddressInUse]. A socket given a
// [ListenConfig.UnixMode] appears at its path with that mode already
// set, never with the wider one the umask allows. (Systems without
// flock, such as Windows, make no lock file; see [ListenConfig.Listen].)
// Behind a load balancer such as HAProxy, a listener can read the PROXY
// protocol (versions 1 and 2, [ListenConfig].Proxy): each connection
// from a trusted balancer begins with a header naming the real client,
// which the connection then reports as its remote address, the balancer
// staying readable as [Conn.Balancer]. The guarantees:
//
//   - a header is taken only from a trusted source (the networks of
//     [ProxyProtocol].Trusted, loopback by default; every peer of a
//     Unix socket): a header from any other is refused and the
//     connection closed, so that no client can claim another's address;
//   - a trusted source must send a header (unless Optional), of a
//     version the [ProxyMode] allows, and well formed; a source that is
//     not trusted and sends none is served as a direct client;
//   - the header is never read by Accept, so that a silent or slow
//     peer cannot hold up the accept loop: [Conn.Handshake] reads it
//     (then runs the TLS handshake, which comes after it), or the first
//     Read or Write does; its read is bounded by a timeout (10 s by
//     default) and by Handshake's context, and a version 2 header by
//     4,096 bytes after its fixed part;
//   - a refusal is a [*ProxyError] matching one of [ErrProxyUntrusted],
//     [ErrProxyHeaderMissing], [ErrProxyVersion] or
//     [ErrProxyHeaderInvalid], and no byte is written to a connection
//     before the start of its stream has been judged.
//
// Headers are parsed by github.com/pires/go-proxyproto, whose types
// stay inside this package.
//
// For peers that speak over WebSocket, a [WebSocketDialer] and a
// [WebSocketHandler] (github.com/coder/websocket underneath, which
// programs never import) give a [*WebSocketConn], whose ReadMessage,
// WriteMessage and Close make it a message stream in its own right, one
// WebSocket message per message. A WebSocket connection guarantees:
//
//   - a message received over MaxMessage (1,000,000 bytes by default)
//     is never held past the limit: the connection is closed with
//     status 1009 and ReadMessage returns a fatal
//     [*MessageTooLargeError]; a message to send over it is not sent;
//   - each side pings its peer (every 30 s after the last pong by
//     default) and closes the connection with [ErrWebSocketPingTimeout]
//     when a pong is 15 s late while the program reads; the pinging
//     goroutine ends with Close;
//   - a server refuses, with 403, browsers from other sites: an Origin
//     header must name the request's host, or match OriginPatterns,
//     unless CheckOrigin decides instead; no Origin is accepted;
//   - Close sends a close frame and returns within a second.
//
// [WebSocketHandler.Accept] upgrades one HTTP request and hands the
// connection to its caller, who may keep it after the HTTP handler
// returns: net/http hands an upgraded connection over entirely, and an
// http.Server neither tracks nor closes it.
//
// A program can also talk over pipes rather than sockets. [Stdio]
// gives a [*Pipe] over the program's own standard input and output, for
// a server that its peer starts (a language server, a tool server in
// the style of MCP); [NewPipe] joins any reader and writer the same
// way. [Command] and [ProcessConfig.Start] start a program and give a
// [*Process], whose Read reads the program's standard output and
// whose Write writes to its standard input. Both are io.ReadWriteClosers
// that framing.NewStream turns into a message stream for a session. A
// Process guarantees:
//
//   - its exit is the end of the read side: Read returns what the
//     process wrote, then io.EOF if it exited with status 0, else an
//     [*ExitError] (status, signal, the end of its standard error, and
//     whether this side ended it: the context, or [ErrGraceExpired]);
//     so a session over it ends with that cause;
//   - Close never blocks: it closes the process's standard input, sends
//     SIGTERM if the process has not exited within the grace period
//     (5 s by default, [ProcessConfig].Grace), and SIGKILL one more
//     grace period later; the context given to Start kills it at once;
//   - the process is always waited for, by a goroutine of the Process
//     (no zombie), and once it has exited (Wait returns) no goroutine
//     of the Process is left; a process it started that holds its
//     output open holds the read side no longer than the grace period
//     after its exit (Unix);
//   - its standard error is kept in a bounded buffer, the last 64 KiB
//     ([ProcessConfig].StderrLimit), unless the command has a Stderr of
//     its own.
//
// The package imports none of gorpcx's framing, protocol or session
// packages, and knows nothing of JSON. For byte-stream connections the
// framing package turns a connection into a message stream. A
// WebSocket connection is one already, and is shaped to fit the
// framing package's interfaces without importing it: a
// [*WebSocketConn] has the methods of framing.Stream, and a
// [*MessageTooLargeError] the Fatal and CostHint methods of
// framing.Error, so a session runs over a WebSocket as over a framed
// connection and treats a WebSocket message received over the limit as
// a fatal framing error: it charges the peer and ends.
package transport
