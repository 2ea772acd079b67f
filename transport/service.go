package transport

import (
	"strings"
)

// Service is a protocol and a network address, aiorpcX's Service:
// written "protocol://host:port", such as "ssl://electrum.example.org:50002".
// Services are comparable with ==; the zero Service is no service.
type Service struct {
	protocol string
	address  NetAddress
}

// NewService returns the service of protocol at address. The protocol
// is checked as described at [ParseService] and lowercased; address
// must not be the zero NetAddress. It returns an [*AddressError] if
// either is invalid.
func NewService(protocol string, address NetAddress) (Service, error) {
	p, err := validateProtocol(protocol)
	if err != nil {
		return Service{}, err
	}
	if address.IsZero() {
		return Service{}, &AddressError{Type: "address", Input: "", Reason: "missing host and port"}
	}
	return Service{protocol: p, address: address}, nil
}

// ServiceDefaults gives [ParseService] the parts a service string may
// leave out. The zero ServiceDefaults has none: every part is required.
type ServiceDefaults struct {
	// Protocol is used when the string has no "protocol://" prefix.
	// "" means the prefix is required.
	Protocol string
	// Host is used when the address has no host. "" means a host is
	// required.
	Host string
	// Port is used when the address has no port and Ports has no entry
	// for the protocol. 0 means a port is required.
	Port int
	// Ports gives a default port per protocol, keyed by the protocol
	// in lower case, as in {"tcp": 50001, "ssl": 50002}. It may be nil.
	Ports map[string]int
}

// ParseService parses "protocol://host:port" into a Service. The
// address part follows the rules of [ParseNetAddress]; the protocol
// starts with an ASCII letter, is followed by at least one more ASCII
// letter, digit, '+', '-' or '.' (aiorpcX's [A-Za-z][A-Za-z0-9+-.]+),
// and is lowercased.
//
// A string without "://" is an address, whose protocol is
// defaults.Protocol; missing host and port take their defaults as
// described at [ServiceDefaults]. Unlike aiorpcX, a bare protocol
// name ("ssl") is never taken for a whole service: it is parsed as a
// host.
//
// It returns an [*AddressError] of type "service" quoting s, wrapping
// the error for the protocol or the address when one of them is at
// fault.
func ParseService(s string, defaults ServiceDefaults) (Service, error) {
	proto, addr, ok := strings.Cut(s, "://")
	if !ok {
		if defaults.Protocol == "" {
			return Service{}, &AddressError{Type: "service", Input: s, Reason: "missing protocol"}
		}
		proto, addr = defaults.Protocol, s
	}
	p, err := validateProtocol(proto)
	if err != nil {
		return Service{}, &AddressError{Type: "service", Input: s, Err: err}
	}
	port := defaults.Port
	if dp, ok := defaults.Ports[p]; ok {
		port = dp
	}
	na, err := ParseNetAddress(addr, defaults.Host, port)
	if err != nil {
		return Service{}, &AddressError{Type: "service", Input: s, Err: err}
	}
	return Service{protocol: p, address: na}, nil
}

// validateProtocol checks a protocol and returns it in lower case.
func validateProtocol(s string) (string, error) {
	reason := ""
	switch {
	case s == "":
		reason = "empty"
	case len(s) < 2:
		reason = "shorter than 2 characters"
	case !isASCIILetter(s[0]):
		reason = "does not start with a letter"
	default:
		for i := 1; i < len(s); i++ {
			if c := s[i]; !isASCIILetter(c) && !('0' <= c && c <= '9') && c != '+' && c != '-' && c != '.' {
				reason = "invalid character " + quoteCharAt(s, i)
				break
			}
		}
	}
	if reason != "" {
		return "", &AddressError{Type: "protocol", Input: s, Reason: reason}
	}
	return strings.ToLower(s), nil
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// Protocol returns the protocol, in lower case.
func (s Service) Protocol() string { return s.protocol }

// Address returns the network address.
func (s Service) Address() NetAddress { return s.address }

// IsZero reports whether s is the zero Service.
func (s Service) IsZero() bool { return s == Service{} }

// String returns "protocol://host:port", a form that [ParseService]
// accepts; the zero Service is "".
func (s Service) String() string {
	if s.IsZero() {
		return ""
	}
	b, _ := s.AppendText(nil)
	return string(b)
}

// AppendText appends the String form of s to b and returns the
// extended buffer; it never fails.
func (s Service) AppendText(b []byte) ([]byte, error) {
	if s.IsZero() {
		return b, nil
	}
	b = append(b, s.protocol...)
	b = append(b, "://"...)
	return s.address.AppendText(b)
}

// MarshalText returns the String form of s.
func (s Service) MarshalText() ([]byte, error) { return s.AppendText(nil) }

// UnmarshalText sets *s to the service parsed from text by
// [ParseService] without defaults; empty text gives the zero Service.
// On error *s is unchanged.
func (s *Service) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*s = Service{}
		return nil
	}
	svc, err := ParseService(string(text), ServiceDefaults{})
	if err != nil {
		return err
	}
	*s = svc
	return nil
}
