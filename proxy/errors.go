package proxy

import (
	"errors"
	"strconv"
	"strings"
)

// ErrAuth is matched (with errors.Is) by the [*RefusedError] of a
// SOCKS5 proxy that rejected the credentials: it accepted none of the
// authentication methods offered (code 255), or it turned down the
// username and password (RFC 1929).
var ErrAuth = errors.New("authentication rejected")

// ErrIPv4Only is matched (with errors.Is) by the error of a SOCKS4 dial
// to a host name without local resolution, or of a SOCKS4 or SOCKS4a
// dial to an IPv6 address: the protocol carries only IPv4 addresses.
// Nothing is sent to the proxy in these cases.
var ErrIPv4Only = errors.New("SOCKS4 needs an IPv4 address")

// ErrNotDetected is matched (with errors.Is) by the error of
// [Detector.Detect] and [Detector.DetectHost] when no SOCKS proxy
// answered.
var ErrNotDetected = errors.New("no SOCKS proxy detected")

// Error is the error of every failed dial through a proxy (aiorpcX's
// SOCKSError): it names the proxy and the target and wraps the cause.
// The cause is a [*ProtocolError] when the proxy broke the SOCKS
// protocol, a [*RefusedError] when it refused, or another error: the
// proxy could not be reached (a *net.OpError), the context ended
// (errors.Is finds context.Canceled or context.DeadlineExceeded, also
// when [SOCKS.Timeout] cut the handshake short), the target or the
// configuration is invalid, or, for local resolution, the lookup
// failed. After several attempts (local resolution), the cause lists
// each of them and errors.As searches them all.
type Error struct {
	// Proxy is the proxy as [SOCKS.String] writes it, without any
	// password.
	Proxy string
	// Target is the address the caller asked the proxy to connect to.
	Target string
	// Err is the cause.
	Err error
}

// Error returns "proxy: PROXY: connect to TARGET: CAUSE".
func (e *Error) Error() string {
	return "proxy: " + e.Proxy + ": connect to " + e.Target + ": " + errorText(e.Err)
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// ProtocolError reports a proxy that broke the SOCKS protocol (aiorpcX's
// SOCKSProtocolError): a reply with the wrong version byte, a bad
// address type or a non-zero reserved byte, an authentication method
// that was not offered, or a reply cut short by the end of the
// stream.
type ProtocolError struct {
	// Protocol is the protocol spoken.
	Protocol Protocol
	// Reason says which rule the proxy broke.
	Reason string
	// Err is the cause, if any: io.EOF or io.ErrUnexpectedEOF for a
	// reply cut short.
	Err error
}

// Error returns "PROTOCOL protocol error: REASON[: CAUSE]".
func (e *ProtocolError) Error() string {
	s := e.Protocol.String() + " protocol error: " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns Err.
func (e *ProtocolError) Unwrap() error { return e.Err }

// RefusedError reports a proxy that followed the protocol but did not
// make the connection (aiorpcX's SOCKSFailure): its reply code and the
// meaning RFC 1928, RFC 1929 or the SOCKS4 specification gives it.
type RefusedError struct {
	// Protocol is the protocol spoken.
	Protocol Protocol
	// Code is the code of the reply: for SOCKS5 the REP field of the
	// connect reply (1 to 8 are assigned), 255 when no authentication
	// method was acceptable, or the STATUS of an RFC 1929 reply; for
	// SOCKS4 and SOCKS4a the CD field (91 to 93 are assigned).
	Code int
	// Reason is the meaning of Code.
	Reason string
	// Err is ErrAuth when the credentials were rejected, else nil.
	Err error
}

// Error returns "PROTOCOL proxy refused: REASON (code N)".
func (e *RefusedError) Error() string {
	return e.Protocol.String() + " proxy refused: " + e.Reason + " (code " + strconv.Itoa(e.Code) + ")"
}

// Unwrap returns Err.
func (e *RefusedError) Unwrap() error { return e.Err }

// socks5Reason returns the meaning of a SOCKS5 REP code (RFC 1928, 6).
func socks5Reason(code byte) string {
	switch code {
	case 1:
		return "general SOCKS server failure"
	case 2:
		return "connection not allowed by ruleset"
	case 3:
		return "network unreachable"
	case 4:
		return "host unreachable"
	case 5:
		return "connection refused"
	case 6:
		return "TTL expired"
	case 7:
		return "command not supported"
	case 8:
		return "address type not supported"
	}
	return "unassigned reply code"
}

// socks4Reason returns the meaning of a SOCKS4 CD code.
func socks4Reason(code byte) string {
	switch code {
	case 91:
		return "request rejected or failed"
	case 92:
		return "request rejected because the SOCKS server cannot connect to identd on the client"
	case 93:
		return "request rejected because the client program and identd report different user-ids"
	}
	return "unknown reply code"
}

// attempt is one failed try of a target address during local
// resolution.
type attempt struct {
	target string
	err    error
}

// attemptsError is the cause of a dial that tried several addresses
// and failed on each. Unwrap gives every attempt's error, so that
// errors.Is and errors.As search them all.
type attemptsError []attempt

// Error returns "[tried N addresses: ]ADDRESS: CAUSE; ...".
func (e attemptsError) Error() string {
	var b strings.Builder
	if len(e) > 1 {
		b.WriteString("tried ")
		b.WriteString(strconv.Itoa(len(e)))
		b.WriteString(" addresses: ")
	}
	for i, a := range e {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(a.target)
		b.WriteString(": ")
		b.WriteString(errorText(a.err))
	}
	return b.String()
}

// Unwrap returns the error of each attempt.
func (e attemptsError) Unwrap() []error {
	errs := make([]error, len(e))
	for i, a := range e {
		errs[i] = a.err
	}
	return errs
}

// errorText is err's message, or "<nil>".
func errorText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
