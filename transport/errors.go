package transport

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

// AddressError reports a host, port, protocol, network address,
// service, network prefix or PROXY protocol mode that does not follow
// the rules of this package. It quotes the rejected text. When a part
// of a larger string is at fault (a host inside "host:port"), Err holds
// the error for that part and Unwrap returns it.
type AddressError struct {
	// Type is what was being parsed: "host", "port", "protocol",
	// "address", "service", "network" (an IP prefix), "network list" or
	// "PROXY protocol mode".
	Type string
	// Input is the rejected text, exactly as given.
	Input string
	// Reason is the rule that Input breaks. It is empty when Err
	// explains the failure.
	Reason string
	// Err is the error for the part of Input that is at fault, if any.
	Err error
}

// Error returns a message naming what was parsed, quoting the input,
// and saying why it was rejected.
func (e *AddressError) Error() string {
	return "transport: " + e.message()
}

func (e *AddressError) message() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid %s %q", e.Type, e.Input)
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	if e.Err != nil {
		b.WriteString(": ")
		if inner, ok := e.Err.(*AddressError); ok {
			b.WriteString(inner.message())
		} else {
			b.WriteString(e.Err.Error())
		}
	}
	return b.String()
}

// Unwrap returns Err.
func (e *AddressError) Unwrap() error { return e.Err }

// DialError is returned by [Dialer.Dial] when a connection cannot be
// made. It names the network and the address dialed (the target, not
// the proxy) and wraps the cause, so that errors.Is finds
// context.Canceled or context.DeadlineExceeded when the context cut
// the dial short, and errors.As finds an [*AddressError] for an
// invalid address.
type DialError struct {
	// Network and Address are the arguments given to Dial.
	Network string
	Address string
	// Via is the dialer the connection was attempted through, or nil.
	Via ContextDialer
	// Err is the cause.
	Err error
}

// Error returns "transport: dial NETWORK ADDRESS[ via PROXY]: CAUSE".
// The proxy is shown by its String method when it has one.
func (e *DialError) Error() string {
	var b strings.Builder
	b.WriteString("transport: dial ")
	b.WriteString(e.Network)
	b.WriteByte(' ')
	b.WriteString(e.Address)
	if e.Via != nil {
		b.WriteString(" via ")
		b.WriteString(describeDialer(e.Via))
	}
	b.WriteString(": ")
	b.WriteString(causeText(e.Err))
	return b.String()
}

// Unwrap returns Err.
func (e *DialError) Unwrap() error { return e.Err }

// causeText avoids repeating the operation and address when the cause
// is a dial *net.OpError, which already names them.
func causeText(err error) string {
	if op, ok := err.(*net.OpError); ok && op.Op == "dial" && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}

// describeDialer names a dialer for messages and logs: its String
// method if it has one, else its type.
func describeDialer(d ContextDialer) string {
	if s, ok := d.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", d)
}

// ErrAddressInUse is matched (with errors.Is) by the error
// [ListenConfig.Listen] returns when the address is taken: a TCP port
// already bound, or a Unix socket path on which a live process still
// accepts connections. The error also matches syscall.EADDRINUSE.
var ErrAddressInUse = errors.New("transport: address already in use")

// ErrNotSocket is matched (with errors.Is) by the error
// [ListenConfig.Listen] returns when a Unix socket path names an
// existing file that is not a socket. Such a file is never removed.
var ErrNotSocket = errors.New("transport: file exists and is not a socket")
