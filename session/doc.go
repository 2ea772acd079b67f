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
// responses go straight to the call waiting for them, so a handler can
// call the peer and wait for the answer without deadlock; requests go
// to a bounded queue served by at most Options.Concurrency worker
// goroutines, which exist only while there is work. Replies and
// notifications ready at the same moment are written together.
//
// The session protects its side from a hostile peer with limits that
// all have aiorpcX's defaults and can all be changed in [Options]:
// requests handled at once and queued (reading stops when the queue is
// full), a processing timeout (-102 "server busy"), a send stall
// timeout and a cap on bytes waiting to be written (the connection is
// aborted), an optional response size limit and idle timeout, and cost
// accounting exactly as aiorpcX's (bytes, errors, decay, throttling
// between the soft and the hard limit, -101 "excessive resource usage"
// and disconnection at the hard limit).
//
// When the connection is lost, every pending call returns a
// [*ConnectionError] wrapping the cause, and so does every later call.
// [Session.Close] and [Session.Shutdown] close gracefully (requests
// already read are answered), [Session.Abort] at once; [Session.Wait]
// returns why the session ended. No goroutine of a session outlives
// it.
//
// [MessageSession] applies the same machinery to protocols of
// (command, payload) messages over the Bitcoin framing.
//
// Logs go to a *zap.Logger (none by default) with the session's name and
// peer on every line; [Session.Stats] returns its counters at any time.
package session
