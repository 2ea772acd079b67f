// Package gorpcxprom exposes the metrics of a gorpcx program to
// Prometheus (github.com/prometheus/client_golang): requests and their
// latency per method and outcome, sessions, bytes and messages,
// throttling, refusals and evictions, pubsub notifications, and the
// cost of peer groups.
//
// It is a module of its own (github.com/gorpcx/gorpcx/contrib/prometheus),
// so that the SDK's module does not depend on client_golang. It uses
// only the SDK's public seams: session interceptors and the
// session.Observer for what happens, and Server.Stats, Server.Groups
// and Hub.Topics for what is, read at each scrape.
//
// # Use
//
//	m, err := gorpcxprom.New(&gorpcxprom.Options{Methods: []string{"server.version", "blockchain.headers.subscribe"}})
//	...
//	srv := &server.Server{Options: session.Options{Handler: methods}}
//	m.Instrument(srv) // interceptors, observer, server stats; before Listen
//	go http.ListenAndServe(":9100", m.Handler()) // or Register(reg) and promhttp.HandlerFor(reg, …)
//
// [Metrics.Instrument] is short for: [Metrics.Interceptor] first in
// srv.Options.Interceptors, [Metrics.OutgoingInterceptor] first in
// srv.Options.OutgoingInterceptors, [Metrics.Observer] beside
// srv.Observer, and [Metrics.Server]. A hub gets the Observer in its
// pubsub.Options and is named to [Metrics.Hub]; a client session gets
// the interceptors and the Observer in its session.Options.
// [Metrics.Handler] serves the Metrics with the Go runtime's and the
// process's metrics; a program with a registry of its own calls
// [Metrics.Register] and serves that registry instead.
//
// # Metrics
//
// Every name begins with Options.Namespace ("gorpcx" by default).
//
// From the interceptors, as requests are served (see
// [Metrics.Interceptor] and [Metrics.OutgoingInterceptor] for what
// each outcome means):
//
//	requests_total{method,outcome}                       counter    incoming requests and notifications
//	request_duration_seconds{method,outcome}             histogram  from when the request was read to its outcome
//	requests_in_flight{method}                           gauge      handlers running now
//	outgoing_requests_total{method,outcome}              counter    Call and Notify
//	outgoing_request_duration_seconds{method,outcome}    histogram
//	outgoing_requests_in_flight{method}                  gauge
//
// From the Observer, as events happen:
//
//	sessions_opened_total                                counter
//	sessions_closed_total{cause}                         counter    eof, closed, evicted, idle, first_message_timeout, message_timeout, ping_timeout, excessive_cost, send_stalled, framing, error
//	throttling_changes_total                             counter    changes of a session's concurrency target by the cost throttling
//	cost_limit_disconnections_total                      counter    sessions closed at the cost's hard limit
//	limit_reached_total{limit}                           counter    framing, incoming_bytes, response_size, processing_timeout, other
//	connections_refused_total{reason}                    counter    per_ip, per_subnet, full, hook, handshake, other
//	connections_evicted_total                            counter
//	pubsub_notifications_dropped_total{topic,reason}     counter    reason: dropped, disconnected
//
// From the sessions alive (those the Observer saw open and not yet
// close), at each scrape:
//
//	sessions_open                                        gauge
//	requests_unanswered                                  gauge      requests read and not yet answered (waiting ones too)
//	session_cost                                         histogram  one sample per session: its own cost now
//	messages_total{direction}                            counter    received, sent
//	bytes_total{direction}                               counter    received, sent (framing excluded)
//	peer_errors_total                                    counter    session.Stats.Errors
//
// From the servers named to [Metrics.Server], at each scrape (added
// together when there are several):
//
//	server_connections{state}                            gauge      handshake, session
//	server_connections_accepted_total                    counter
//	server_pauses_total                                  counter
//	server_incoming_bytes                                gauge
//	server_log_lines_suppressed_total                    counter
//	server_peer_groups{kind}                             gauge      ip, subnet
//	server_peer_group_cost{kind}                         histogram  one sample per group: its cost now
//
// From the hubs named to [Metrics.Hub], at each scrape:
//
//	pubsub_topics                                        gauge
//	pubsub_subscriptions{topic}                          gauge
//	pubsub_published_total{topic}                        counter
//	pubsub_notifications_sent_total{topic}               counter
//	pubsub_notifications_coalesced_total{topic}          counter
//
// # Bounded labels
//
// No label value ever comes from a peer. A method is its own label
// value only if it is in Options.Methods, a topic only if it is in
// Options.Topics, an error code only if it is in DefaultCodes or
// Options.Codes; every other one is counted under "other" ([Other]).
// Causes, limits, reasons, states, kinds and directions are the fixed
// lists above. So the series of a Metrics are bounded by its Options
// alone: a peer that calls 10,000 methods of its own invention, or a hub
// with a million topics, adds none (TestCardinality checks it). List
// every method the program serves (with handler.Methods:
// slices.Collect(maps.Keys(methods))), or its unlisted methods are
// "other" too.
//
// # Bytes and messages
//
// A session counts its bytes and messages itself (session.Stats). The
// Observer keeps the sessions alive in a set (SessionOpened,
// SessionClosed) with what it has already added of each one's
// counters; each scrape adds what each live session counted since, and
// a session's end adds its last counts and forgets it. So
// messages_total and bytes_total only grow, count every message once,
// and lag the traffic by at most one scrape, however long a session
// lives. The set costs one map entry per live session; a scrape reads
// the Stats of each (about 1 ms for 1,000 sessions). sessions_open
// counts the sessions of this set; server_connections counts a
// server's connections, those still in their handshake included.
//
// # Pubsub counters
//
// Dropped notifications are counted exactly, from the hub's events.
// Published, sent and coalesced notifications are read from
// Hub.Topics at each scrape, and each topic label's totals grow by what
// its topics' counters moved since the previous scrape. A declared
// topic (Hub.Declare) lives as long as the hub, so its counts are
// exact. A topic made by Subscribe is forgotten, with its counters,
// when its last subscriber leaves: what it counted after the last
// scrape before that is not counted, nor, if it is made again before
// the next scrape, its new counts up to the old ones. Declare the topics
// whose counts must be exact.
//
// # Guarantees
//
//   - The interceptors pass every request and call on unchanged, return
//     what the rest of the chain returns, never fail one, and allocate
//     nothing once a method's outcome has been seen (BenchmarkInterceptor:
//     0 allocations); a panic below them is counted and goes on up to the
//     session, which handles it.
//   - The Observer takes a lock only when a session opens or closes
//     (and then calls the session's Stats once, at its end), never calls
//     into a session otherwise, and may be given to any number of
//     sessions, servers and hubs at once. It ignores a session's opening
//     or closing seen twice; other events are counted each time they are
//     observed, so give it to each source once.
//   - Counters only grow; a scrape never blocks a session for longer
//     than reading its Stats.
//   - All methods are safe for concurrent use; scrapes may run at once.
//
// Several servers or hubs named to one Metrics are added together. To
// tell them apart, give each a Metrics of its own with ConstLabels (a
// "node" label, say) and register them all in one registry.
package gorpcxprom
