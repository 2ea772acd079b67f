package transport

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// NetAddress is a validated host and port, aiorpcX's NetAddress: the
// address of a TCP service, written "host:port" or "[ipv6]:port".
// NetAddresses are comparable with ==; the zero NetAddress is no
// address (a Unix socket has none).
type NetAddress struct {
	host Host
	port uint16
}

// NewNetAddress returns the address of port on host, after checking
// both as [ParseHost] and [ValidatePort] do. host is written without
// brackets, even for IPv6. It returns an [*AddressError] for the first
// part that is invalid.
func NewNetAddress(host string, port int) (NetAddress, error) {
	h, err := ParseHost(host)
	if err != nil {
		return NetAddress{}, err
	}
	p, err := ValidatePort(port)
	if err != nil {
		return NetAddress{}, err
	}
	return NetAddress{host: h, port: p}, nil
}

// ParseNetAddress parses "host:port", or "[ipv6]:port" for an IPv6
// host, into a NetAddress.
//
// A missing part takes its default: the host missing from ":port" (or
// from "") is defaultHost, and the port missing from "host", "host:",
// "[ipv6]" or "[ipv6]:" is defaultPort. A defaultHost of "" or a
// defaultPort of 0 means there is no default, so that the part must be
// present. Defaults are checked like the parts they replace.
//
// Brackets are for IPv6 addresses only, and an IPv6 address must be in
// brackets (the port could not be told apart otherwise). The port is
// decimal, as for [ParsePort]. It returns an [*AddressError] of type
// "address" quoting s; when a host or port is at fault its own
// AddressError is wrapped.
func ParseNetAddress(s string, defaultHost string, defaultPort int) (NetAddress, error) {
	host, port, reason := splitAddress(s)
	if reason != "" {
		return NetAddress{}, &AddressError{Type: "address", Input: s, Reason: reason}
	}
	var h Host
	switch {
	case host != "":
		hh, err := ParseHost(host)
		if err != nil {
			return NetAddress{}, &AddressError{Type: "address", Input: s, Err: err}
		}
		if strings.HasPrefix(s, "[") && hh.Kind() != HostIPv6 {
			return NetAddress{}, &AddressError{Type: "address", Input: s, Reason: "brackets around a host that is not an IPv6 address"}
		}
		h = hh
	case defaultHost != "":
		hh, err := ParseHost(defaultHost)
		if err != nil {
			return NetAddress{}, &AddressError{Type: "address", Input: s, Reason: "default host", Err: err}
		}
		h = hh
	default:
		return NetAddress{}, &AddressError{Type: "address", Input: s, Reason: "missing host"}
	}
	var p uint16
	switch {
	case port != "":
		pp, err := ParsePort(port)
		if err != nil {
			return NetAddress{}, &AddressError{Type: "address", Input: s, Err: err}
		}
		p = pp
	case defaultPort != 0:
		pp, err := ValidatePort(defaultPort)
		if err != nil {
			return NetAddress{}, &AddressError{Type: "address", Input: s, Reason: "default port", Err: err}
		}
		p = pp
	default:
		return NetAddress{}, &AddressError{Type: "address", Input: s, Reason: "missing port"}
	}
	return NetAddress{host: h, port: p}, nil
}

// splitAddress cuts s into its host and port text, either of which may
// be empty when missing, or returns why s cannot be cut.
func splitAddress(s string) (host, port, reason string) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		switch {
		case end < 0:
			return "", "", "missing ']'"
		case end == 1:
			return "", "", "nothing between '[' and ']'"
		}
		host, rest := s[1:end], s[end+1:]
		if rest == "" {
			return host, "", ""
		}
		if rest[0] != ':' {
			return "", "", "unexpected text after ']'"
		}
		return host, rest[1:], ""
	}
	first := strings.IndexByte(s, ':')
	if first < 0 {
		if strings.IndexByte(s, ']') >= 0 {
			return "", "", "unexpected ']'"
		}
		return s, "", ""
	}
	if strings.IndexByte(s[first+1:], ':') >= 0 {
		if _, err := netip.ParseAddr(s); err == nil {
			return "", "", "an IPv6 address must be in brackets"
		}
		return "", "", "too many colons"
	}
	return s[:first], s[first+1:], ""
}

// Host returns the host.
func (a NetAddress) Host() Host { return a.host }

// Port returns the port, 1 to 65535, or 0 for the zero NetAddress.
func (a NetAddress) Port() uint16 { return a.port }

// IsZero reports whether a is the zero NetAddress.
func (a NetAddress) IsZero() bool { return a == NetAddress{} }

// String returns "host:port", with the host in brackets if it is an
// IPv6 address, a form that [ParseNetAddress] and net.Dial accept. The
// zero NetAddress is "".
func (a NetAddress) String() string {
	if a.IsZero() {
		return ""
	}
	b, _ := a.AppendText(nil)
	return string(b)
}

// AppendText appends the String form of a to b and returns the
// extended buffer; it never fails (the error is for encoding.TextAppender).
func (a NetAddress) AppendText(b []byte) ([]byte, error) {
	if a.IsZero() {
		return b, nil
	}
	if a.host.Kind() == HostIPv6 {
		b = append(b, '[')
		b = a.host.addr.AppendTo(b)
		b = append(b, ']')
	} else {
		b = append(b, a.host.String()...)
	}
	b = append(b, ':')
	return strconv.AppendUint(b, uint64(a.port), 10), nil
}

// MarshalText returns the String form of a.
func (a NetAddress) MarshalText() ([]byte, error) { return a.AppendText(nil) }

// UnmarshalText sets *a to the address parsed from text by
// [ParseNetAddress] without defaults; empty text gives the zero
// NetAddress. On error *a is unchanged.
func (a *NetAddress) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*a = NetAddress{}
		return nil
	}
	na, err := ParseNetAddress(string(text), "", 0)
	if err != nil {
		return err
	}
	*a = na
	return nil
}

// netAddressOf converts the remote address of an accepted or dialed
// socket into a NetAddress, or the zero NetAddress if it has no IP
// address and port (a Unix socket). An IPv4 peer seen through an IPv6
// socket is reported as IPv4.
func netAddressOf(addr net.Addr) NetAddress {
	var ap netip.AddrPort
	switch a := addr.(type) {
	case *net.TCPAddr:
		ap = a.AddrPort()
	case nil:
		return NetAddress{}
	default:
		if addr.Network() == "unix" || addr.Network() == "unixpacket" {
			return NetAddress{}
		}
		parsed, err := netip.ParseAddrPort(addr.String())
		if err != nil {
			return NetAddress{}
		}
		ap = parsed
	}
	ip := ap.Addr().Unmap()
	if !ip.IsValid() || ap.Port() == 0 {
		return NetAddress{}
	}
	return NetAddress{host: Host{addr: ip}, port: ap.Port()}
}
