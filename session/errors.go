package session

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrClosed is the cause recorded when the session was closed by this
// side (Close, Shutdown or Abort).
var ErrClosed = errors.New("session closed")

// ErrIdle is the cause recorded when the session was closed because
// the peer sent nothing for longer than the idle timeout.
var ErrIdle = errors.New("session idle for too long")

// ErrFirstMessageTimeout is the cause recorded when the session was
// closed because the peer had not sent one complete message within
// Options.FirstMessageTimeout of the connection being accepted.
var ErrFirstMessageTimeout = errors.New("no complete message within the first-message timeout")

// ErrMessageTimeout is the cause recorded when the session was closed
// because a message the peer had begun to send was not complete within
// Options.MessageTimeout of its first bytes.
var ErrMessageTimeout = errors.New("message not completed within the message timeout")

// ErrPingTimeout is the cause recorded when the session was closed
// because the peer answered none of Options.Ping.Misses pings in a row
// and sent nothing else meanwhile.
var ErrPingTimeout = errors.New("peer did not answer pings")

// ErrExcessiveCost is the cause recorded when the session was closed
// because the peer's resource cost reached the hard limit.
var ErrExcessiveCost = errors.New("excessive resource usage")

// ErrSendStalled is the cause recorded when a write could not complete
// within the send timeout, or more bytes were waiting to be written
// than the write buffer limit allows.
var ErrSendStalled = errors.New("send stalled")

// ConnectionError is returned by every pending and later call on a
// session whose connection is lost or closed (aiorpcX's
// ConnectionError). Err is the cause: io.EOF when the peer closed,
// ErrClosed when this side closed, the error of the limit or timeout
// that closed the session (ErrIdle, ErrPingTimeout, …), a framing or
// network error otherwise.
type ConnectionError struct {
	Err error
}

// Error describes the lost connection and its cause.
func (e *ConnectionError) Error() string {
	if e.Err == nil {
		return "connection lost"
	}
	return "connection lost: " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *ConnectionError) Unwrap() error { return e.Err }

// TimeoutError is returned by a call that got no response within the
// request timeout. errors.Is(err, context.DeadlineExceeded) holds for it.
type TimeoutError struct {
	Method string
	After  time.Duration
}

// Error names the method and the timeout.
func (e *TimeoutError) Error() string {
	return fmt.Sprintf("request %q timed out after %v", e.Method, e.After)
}

// Unwrap returns context.DeadlineExceeded.
func (e *TimeoutError) Unwrap() error { return errDeadline }

// BatchError is returned by [Session.SendBatch] when the batch was
// answered but some of its calls failed (aiorpcX's BatchError). The
// failed calls are listed in the order they were added; every call of
// the batch, failed or not, also carries its own outcome.
type BatchError struct {
	Failed []*BatchCall
}

// Error lists how many calls failed and the first failure.
func (e *BatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of the batch's calls failed", len(e.Failed))
	if len(e.Failed) > 0 {
		fmt.Fprintf(&b, "; first: %s: %v", e.Failed[0].Method, e.Failed[0].Err)
	}
	return b.String()
}

// ReplyAndDisconnect is an error a handler returns to send Result as
// its reply and then close the session once the reply is written
// (aiorpcX's ReplyAndDisconnect). Result may be a value to encode, a
// json.RawMessage, or a *jsonrpc2.Error to send as an error response.
type ReplyAndDisconnect struct {
	Result any
}

// Error says the session is being closed after a reply.
func (e *ReplyAndDisconnect) Error() string { return "reply and disconnect" }
