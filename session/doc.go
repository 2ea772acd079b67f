// Package session runs one JSON-RPC conversation with one peer over a
// message stream, as aiorpcX's RPCSession does, in Go's idiom.
//
// A [Session] is made with [New] over a [framing.Stream] (a framed
// net.Conn, a WebSocket connection) and starts at once. There is no
// client or server distinction inside a session beyond who dialed (the
// [Side] option, which sets the cost defaults): both ends can
// [Session.Call], [Session.Notify] and [Session.SendBatch], and both
// serve the peer's requests with a [Handler]. Package
// [github.com/gorpcx/gorpcx/handler] builds handlers: method tables,
// ordinary Go functions adapted by reflection, and a splitter of
// positional params for handlers on a hot path.
//
// One reader goroutine per session reads, decodes and dispatches:
// responses go straight to the call waiting for them; requests go to a
// queue served by at most Options.Concurrency worker goroutines, which
// are started as work arrives and exit after a second with nothing to
// do; a request that arrives alone, when a worker would be free for it,
// is served on the reader goroutine itself, which hands the reading to
// a new goroutine if the handler takes long or calls the peer. Serving
// grows the reader's stack, which the runtime would keep while the
// reader waits: on a *framing.Conn of this SDK's framers, a reader that
// served a request and then received nothing for one to two seconds
// hands the reading to a new goroutine with the smallest stack, so an idle
// session holds 2 KiB of stack, not 4 or more (Stats.ReaderRestarts
// counts them; a message half read is kept).
//
// The rule that keeps a session from stalling: the peer's answers are
// always read and delivered. While no call or batch of the session
// waits for the peer, the reader stops reading when the queue
// (Options.MaxQueued), the incoming bytes (Options.MaxIncomingBytes and
// a shared [Budget]) or the write backlog (half of
// Options.MaxWriteBuffer) are at their bounds: back-pressure. While one
// does (typically a handler that calls the peer and waits for the
// answer), the reader never waits: requests queue past MaxQueued within
// MaxIncomingBytes, and past that a request is answered -102 "server
// busy" and a notification is dropped. So a handler may call the peer
// while the peer pipelines requests, without deadlock, and the memory
// a session holds for incoming work stays bounded in bytes.
//
// Ordering: replies are written in the order they are ready, not the
// order requests arrived (concurrent handlers finish in any order);
// notifications sent by a handler before it returns are written before
// its reply. Replies and notifications ready at the same moment are
// written together; replies to requests that arrived together are held
// to be written in one write, but never longer than 200 µs after they
// are ready, whatever is still arriving or running behind them.
//
// The session protects its side from a hostile peer with limits that
// all have defaults a public server can live with (aiorpcX's where it
// has them) and can all be changed in [Options] (docs/limits.md lists
// them): requests handled at once and queued, incoming bytes held, a
// processing timeout (-102 "server busy"), a send stall timeout, a
// bound on bytes waiting to be written (senders wait; a peer that
// floods without reading is aborted), an optional response size limit,
// the optional timeouts below, and cost accounting exactly as aiorpcX's
// (bytes, errors, decay, throttling between the soft and the hard
// limit), with the hard limit checked on every message: a peer past it
// is closed whatever it sent, its queued requests answered -101
// "excessive resource usage". Log lines a peer can trigger are
// rate-limited (see below).
//
// Timeouts on what the peer sends, all off by default in a session (a
// server.Server turns them on): a session that has not received one
// complete message within Options.FirstMessageTimeout of
// Options.Accepted ends with [ErrFirstMessageTimeout]; a message whose
// first bytes arrived and that is not complete within
// Options.MessageTimeout of them ends it with [ErrMessageTimeout],
// however steadily its bytes come (this needs Options.Gate, which sees
// the bytes arrive; without one it does not apply); no message for
// Options.IdleTimeout ends it with [ErrIdle]. With Options.Ping, a peer
// quiet for the ping's interval is called, and one that answers no
// ping (nor sends anything) that many times in a row is aborted with
// [ErrPingTimeout]; any reply, an error too, shows it alive, and no
// ping is sent while the peer sends. One timer per session serves all
// of them and is never reset per message, and the time the session
// stops reading while it holds requests of the peer's (back-pressure)
// is not counted against the peer. [Session.Activity] returns what a
// server needs to rank its sessions when it sheds one, without a lock.
//
// Interceptors (Options.Interceptors, OutgoingInterceptors) wrap the
// serving of every incoming request and notification, and every Call
// and Notify, in the order given (the first outermost): they see each
// one before and its outcome after, and may answer, reject or close.
// They run on the goroutine that serves the request, inside its
// processing timeout; a panic in an incoming one is a handler's panic
// (-32603). With none installed the request path is unchanged (no
// allocation, no call). Events (Options.Observer) report a session's
// opening and end with its cause, throttling, the cost limit and
// messages rejected by a limit, so that a program can count them
// without parsing logs; LogEvents turns them into log lines.
//
// Concurrency: every method of Session, MessageSession, Budget and
// Gate's Write and Close is safe for concurrent use; a Batch is not.
// A handler's context carries the session ([FromContext]), the values
// attached to the session ([Session.SetValue]) and the request's raw ID
// ([RawID]).
//
// Cancellation across the wire is off by default (JSON-RPC 2.0 has no
// standard for it) and opt-in with Options.Cancel, in LSP's convention
// ("$/cancelRequest" with {"id": <id>}) or one of the program's (see
// [Cancellation]). A Call or SendBatch that gives up, by its context or
// the request timeout, then sends the peer a cancellation for each
// request still unanswered, once, without waiting for it to be written
// (none while the session is closing, and one that finds the write
// backlog full is dropped). A cancellation received is never passed to
// the handler: it cancels the context of the unanswered request with
// exactly that raw ID, whose Err is context.Canceled and whose
// context.Cause is [ErrCancelledByPeer]. The request is still answered:
// a handler returning an error that is context.Canceled answers -32800
// "request cancelled", any other outcome as usual, and a request still
// queued is answered -32800 without running. Cancellations naming no
// unanswered request are ignored and counted (Stats.CancelsUnknown).
// Without Options.Cancel nothing of this costs anything per message.
//
// When the connection is lost, every pending call returns a
// [*ConnectionError] wrapping the cause, and so does every later call.
// [Session.Close] and [Session.Shutdown] close gracefully (requests
// already read are answered) and return by their deadline even if a
// handler ignores its context; [Session.Abort] closes at once. A
// handler may close its own session: the call returns at once and the
// session closes after the handler's reply. [Session.Wait] returns why
// the session ended; [Session.AfterClose] and Options.OnClose are told.
// No goroutine of a session outlives it: Done is closed when the last
// has returned.
//
// [MessageSession] applies the same machinery to protocols of
// (command, payload) messages over the Bitcoin framing.
//
// Logs go to a *zap.Logger (none by default) with the session's name and
// peer on every line; [Session.Stats] returns its counters at any time.
// Every line a peer can make a session write again and again (parse and
// protocol errors, undecodable, oversized and unsolicited messages,
// refusals, handler failures and panics, replies that cannot be encoded,
// timeouts, concurrency changes) is written at most once a second per
// kind per session (by Options.Clock), each kind on its own, so that a
// flood of one kind does not hide another; a panic's stack is taken
// only for a line written. Those held back are counted: the next line
// of the kind written carries the count in the field
// "session_suppressed", and when the session ends one line, "log lines
// suppressed", gives the counts no line carried ("lines": message to
// count). So every such line is written or counted, exactly, unless the
// logger itself drops the summary. A line the session lets through
// that the logger then drops (a cap on the whole server's log) leaves
// the count it carried for the next line. Lines a session writes once
// (the framing error that ends it, an abort, its end) are not limited;
// nor is the debug trace of every message received ("received
// message"), which is there to show every message.
package session
