// Package admin gives a running server an operator's interface, as
// ElectrumX's admin RPC does: a set of JSON-RPC methods that report on
// a [server.Server] and act on it, served on a listener of their own
// (a Unix socket by default, readable by the program's user only), so
// that an operator can see and steer a live server with any JSON-RPC
// client, such as examples/rpccall:
//
//	rpccall unix:/run/app/admin.sock getinfo
//
// The methods (params positional, or named as given):
//
//	getinfo     []                          Info: uptime, connections and
//	                                        sessions, refusals by reason,
//	                                        groups, topics and subscriptions,
//	                                        requests per method, log level,
//	                                        the limits in force
//	sessions    [target...] or {"targets"}  []SessionInfo, the oldest first:
//	                                        name, peer, group, dialect, age,
//	                                        idle time, cost, requests,
//	                                        messages and bytes each way,
//	                                        subscriptions; with targets,
//	                                        only the sessions they match
//	groups      []                          []GroupInfo: every peer group,
//	                                        with its connections and cost
//	disconnect  [target...] or {"targets"}  Disconnected: closes the
//	                                        sessions the targets match, and
//	                                        returns them and the targets
//	                                        that matched none
//	log_level   [] or [level] or {"level"}  LogLevel: the level of
//	                                        Options.Level, changed to level
//	                                        when given (only with a Level)
//
// A target is a session's name ("session-12"), an IP address (every
// session of that peer) or a network prefix ("203.0.113.0/24": a whole
// subnet group, as groups lists them). At most [MaxTargets] targets go
// in one call; more get -32602, as does disconnect without targets and
// an unknown log level.
//
// Guarantees:
//
//   - The admin methods only read the server's state through its
//     public methods (Stats, Sessions, Groups) and act through the
//     sessions' own (AbortWith): they take no lock of the server's for
//     longer than those do, and never wait for a session.
//   - Disconnect closes a session at once: its connection is closed,
//     its running handlers are cancelled, and it ends with
//     [ErrDisconnected], which its SessionClosed event and log line
//     carry.
//   - Request counting is bounded: [Admin.Interceptor] counts the
//     methods of the server's method table (Server.Options.Handler,
//     when it is a handler.Methods) and of Options.Methods, each apart,
//     and every other method name as one entry, [OtherMethod], so a
//     peer sending made-up names cannot grow the table. Counting costs
//     each request a lookup in a table that never changes and a few
//     atomic additions; nothing is allocated past the first request of
//     a session.
//   - The socket Listen makes has mode 0600 ([SocketMode]), set before
//     it appears at its path, and is removed when the admin server
//     closes. The methods ask for no credentials: whoever can connect
//     can disconnect every peer, so serve them on a Unix socket or a
//     loopback address only.
//
// An Admin's methods are safe for concurrent use.
package admin
