package framing

import (
	"fmt"
	"strconv"
)

// Cost hints of the errors of this package, as aiorpcX charges them.
const (
	costBadMagic    = 1000
	costTooLarge    = 500
	costBadChecksum = 100
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

var (
	_ Error = (*TooLargeError)(nil)
	_ Error = (*BadMagicError)(nil)
	_ Error = (*BadChecksumError)(nil)
)
