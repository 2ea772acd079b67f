package framing

import (
	"fmt"
	"strconv"
)

// Cost hints of the errors of this package, as aiorpcX charges them.
// A [*FormatError] costs what a bad magic does, which is also what a
// session charges on top of the base cost for a JSON-RPC parse error.
const (
	costBadMagic    = 1000
	costTooLarge    = 500
	costBadChecksum = 100
	costFormat      = 1000
)

// TooLargeError reports a message over a size limit: one a peer sent
// (returned by a reader) or one the program tried to frame (returned by
// AppendFrame, AppendMessage and the writers). Find it with errors.As.
//
// For [Newline] it is not fatal: the line is dropped and the reader goes
// on with the next one. For [LengthPrefixed] and [Bitcoin] it is fatal:
// the reader cannot find the next message without reading the oversized
// one, so it returns the same error from then on. An error from a writer
// is never fatal: nothing was written.
type TooLargeError struct {
	// Limit is the limit that was exceeded, in bytes.
	Limit int
	// Size is the size of the message, or -1 when it is unknown (a
	// newline reader rejects a line before it has seen its end).
	Size int64
	// Command is the Bitcoin command of the message, if any.
	Command string

	fatal bool
}

// Error returns a message naming the limit, and the size and command
// when known.
func (e *TooLargeError) Error() string {
	s := "framing: message"
	if e.Command != "" {
		s += " " + strconv.Quote(e.Command)
	}
	if e.Size >= 0 {
		s += " of " + strconv.FormatInt(e.Size, 10) + " bytes"
	}
	s += " over the limit of " + strconv.Itoa(e.Limit) + " bytes"
	if e.fatal {
		s += "; the stream cannot continue"
	}
	return s
}

// Fatal reports whether the reader that returned e cannot go on.
func (e *TooLargeError) Fatal() bool { return e.fatal }

// CostHint returns 500, the cost aiorpcX charges for an oversized message.
func (e *TooLargeError) CostHint() float64 { return costTooLarge }

// BadMagicError reports a [Bitcoin] message header that does not start
// with the network magic. It is fatal: the stream is not, or no longer,
// in step with the message boundaries. Find it with errors.As.
type BadMagicError struct {
	Got, Want [4]byte
}

// Error returns a message with both magics in hexadecimal.
func (e *BadMagicError) Error() string {
	return fmt.Sprintf("framing: bad network magic %x, want %x; the stream cannot continue", e.Got, e.Want)
}

// Fatal returns true: after a bad magic the stream cannot be read.
func (e *BadMagicError) Fatal() bool { return true }

// CostHint returns 1000, the cost aiorpcX charges for a bad magic.
func (e *BadMagicError) CostHint() float64 { return costBadMagic }

// BadChecksumError reports a [Bitcoin] message whose payload does not
// match the checksum in its header. It is not fatal: the message is
// skipped and the next read returns the following one. Find it with
// errors.As.
type BadChecksumError struct {
	// Command is the command of the skipped message.
	Command string
	// Got is the checksum computed from the payload; Want the one in
	// the header.
	Got, Want [4]byte
}

// Error returns a message naming the command and both checksums.
func (e *BadChecksumError) Error() string {
	return fmt.Sprintf("framing: bad checksum %x (header says %x) in %q message; message skipped", e.Got, e.Want, e.Command)
}

// Fatal returns false: the message is skipped and the stream goes on.
func (e *BadChecksumError) Fatal() bool { return false }

// CostHint returns 100, the cost aiorpcX charges for a bad checksum.
func (e *BadChecksumError) CostHint() float64 { return costBadChecksum }

// FormatError reports bytes from the peer that break the rules of a
// wire format: a malformed header of [ContentLength] or one over its
// limit, a varint of [VarintPrefixed] that is not in its shortest form
// or does not fit in 64 bits, or, for [RawJSON], a value nested deeper
// than its limit, a top-level value that is not an object or an array,
// or a byte that cannot start a JSON value. Find it with errors.As.
//
// Whether it is fatal depends on where the reader stands after it, as
// each framer's documentation says: a [RawJSON] reader skips a value it
// refuses and goes on (not fatal), every other format error is fatal
// and returned again by every later read.
type FormatError struct {
	// Format names the wire format: "Content-Length", "JSON" or "varint".
	Format string
	// Reason says what is wrong, in a few words, quoting at most a few
	// bytes of the peer's input.
	Reason string

	fatal bool
}

// Error returns a message naming the format and the reason, and saying
// whether the stream can continue.
func (e *FormatError) Error() string {
	s := "framing: bad " + e.Format + " framing: " + e.Reason
	if e.fatal {
		return s + "; the stream cannot continue"
	}
	return s + "; message skipped"
}

// Fatal reports whether the reader that returned e cannot go on.
func (e *FormatError) Fatal() bool { return e.fatal }

// CostHint returns 1000, the cost of a bad magic in aiorpcX, which is
// also what a session charges for a JSON-RPC parse error.
func (e *FormatError) CostHint() float64 { return costFormat }

// NewError returns an [Error] with the message msg, for the Reader of a
// [Framer] written outside this package: a session treats it as it
// treats the errors of the built-in framers. If fatal is false the
// session charges the peer its base cost of an error plus cost, drops
// the message and calls ReadMessage again, so the reader must then be
// ready to return the next message; if fatal is true the session
// charges the same and closes with the error. A cost that is negative
// or NaN counts as 0.
func NewError(msg string, fatal bool, cost float64) Error {
	return &peerError{msg: msg, fatal: fatal, cost: sanitizeCost(cost)}
}

// WrapError is [NewError] with the message of err, which errors.Is and
// errors.As find through the result. It returns nil if err is nil.
func WrapError(err error, fatal bool, cost float64) Error {
	if err == nil {
		return nil
	}
	return &peerError{msg: err.Error(), err: err, fatal: fatal, cost: sanitizeCost(cost)}
}

func sanitizeCost(cost float64) float64 {
	if !(cost >= 0) { // negative or NaN
		return 0
	}
	return cost
}

// peerError is the Error made by NewError and WrapError.
type peerError struct {
	msg   string
	err   error
	fatal bool
	cost  float64
}

func (e *peerError) Error() string     { return e.msg }
func (e *peerError) Unwrap() error     { return e.err }
func (e *peerError) Fatal() bool       { return e.fatal }
func (e *peerError) CostHint() float64 { return e.cost }

var (
	_ Error = (*TooLargeError)(nil)
	_ Error = (*BadMagicError)(nil)
	_ Error = (*BadChecksumError)(nil)
	_ Error = (*FormatError)(nil)
	_ Error = (*peerError)(nil)
)
