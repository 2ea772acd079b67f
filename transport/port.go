package transport

import "strconv"

// ValidatePort checks that port is a TCP port number, 1 to 65535, and
// returns it as a uint16. It returns an [*AddressError] of type "port"
// otherwise. Port 0, which asks the system to choose when listening,
// is not a port one can connect to and is rejected.
func ValidatePort(port int) (uint16, error) {
	if port < 1 || port > 65535 {
		return 0, &AddressError{Type: "port", Input: strconv.Itoa(port), Reason: "not in the range 1 to 65535"}
	}
	return uint16(port), nil
}

// ParsePort parses a port given as a decimal string (ASCII digits only,
// no sign; leading zeros are allowed) and checks it as [ValidatePort]
// does. Service names such as "http" are not looked up. It returns an
// [*AddressError] of type "port", quoting s, if s is not a valid port.
func ParsePort(s string) (uint16, error) {
	if s == "" {
		return 0, &AddressError{Type: "port", Input: s, Reason: "empty"}
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, &AddressError{Type: "port", Input: s, Reason: "not a decimal number"}
		}
		if n <= 65535 {
			n = n*10 + int(c-'0')
		}
	}
	if n < 1 || n > 65535 {
		return 0, &AddressError{Type: "port", Input: s, Reason: "not in the range 1 to 65535"}
	}
	return uint16(n), nil
}
