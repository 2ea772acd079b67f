package transport

import (
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// HostKind classifies a [Host].
type HostKind uint8

// The kinds of host. The zero Host has kind HostNone.
const (
	HostNone HostKind = iota // the zero Host: no host at all
	HostIPv4                 // an IPv4 address, such as 192.0.2.1
	HostIPv6                 // an IPv6 address, such as 2001:db8::1
	HostName                 // a host name, such as electrum.example.org
)

// String returns "none", "IPv4", "IPv6" or "name".
func (k HostKind) String() string {
	switch k {
	case HostNone:
		return "none"
	case HostIPv4:
		return "IPv4"
	case HostIPv6:
		return "IPv6"
	case HostName:
		return "name"
	}
	return "HostKind(" + strconv.Itoa(int(k)) + ")"
}

// Host is a validated host: an IPv4 address, an IPv6 address or a host
// name, as aiorpcX's classify_host makes them. Hosts are comparable
// with ==; the zero Host is no host.
//
// An IP address is kept in its canonical text form (netip.Addr's): an
// IPv6 address in lower case with the longest run of zero groups
// compressed, an IPv4-mapped IPv6 address (::ffff:192.0.2.1) stays
// IPv6. A host name is kept as given, letter case and trailing dot
// included.
type Host struct {
	addr netip.Addr // valid for an IP address
	name string     // set for a host name
}

// ParseHost classifies s as an IPv4 address, an IPv6 address or a host
// name, and returns it as a Host. It returns an [*AddressError] of type
// "host", quoting s, if s is none of these.
//
// A host name is made of labels separated by dots: each label has 1 to
// 63 letters, digits, '-' or '_' (the underscore, invalid in host names
// proper, is allowed in domain names) and neither starts nor ends with
// '-'; the whole name has at most 253 characters, not counting one
// trailing dot, which is allowed; the last label is not all digits, so
// that a malformed IPv4 address such as 1.2.3.256 is not taken for a
// name. Only ASCII is accepted: write an internationalised name in its
// xn-- form.
//
// An IPv4 address is four decimal numbers of 0 to 255 without leading
// zeros. An IPv6 address is any form RFC 4291 allows, including an
// embedded IPv4 part, optionally followed by a zone ("fe80::1%eth0"); a
// zone is 1 to 64 ASCII letters, digits, '-', '_' or '.', so that the
// address can always be written inside brackets and parsed back. An
// IPv6 address is given without brackets here.
func ParseHost(s string) (Host, error) {
	// No host name has a colon: try those as IPv6 straight away.
	if strings.IndexByte(s, ':') < 0 {
		if reason := hostNameRule(s); reason == "" {
			return Host{name: s}, nil
		}
	}
	if strings.HasPrefix(s, "[") {
		return Host{}, &AddressError{Type: "host", Input: s, Reason: "brackets around a host (write an IPv6 host without them)"}
	}
	if looksLikeIP(s) {
		addr, err := netip.ParseAddr(s)
		if err != nil {
			return Host{}, &AddressError{Type: "host", Input: s, Reason: ipReason(s, err)}
		}
		if zone := addr.Zone(); zone != "" {
			if reason := zoneRule(zone); reason != "" {
				return Host{}, &AddressError{Type: "host", Input: s, Reason: reason}
			}
		}
		return Host{addr: addr}, nil
	}
	return Host{}, &AddressError{Type: "host", Input: s, Reason: hostNameRule(s)}
}

// Kind reports whether h is an IPv4 address, an IPv6 address, a host
// name, or the zero Host.
func (h Host) Kind() HostKind {
	switch {
	case h.addr.Is4():
		return HostIPv4
	case h.addr.Is6():
		return HostIPv6
	case h.name != "":
		return HostName
	}
	return HostNone
}

// Addr returns the IP address of h, or the zero (invalid) netip.Addr if
// h is a host name or the zero Host.
func (h Host) Addr() netip.Addr { return h.addr }

// IsZero reports whether h is the zero Host.
func (h Host) IsZero() bool { return h == Host{} }

// String returns the host as text, without brackets for IPv6; the zero
// Host is "".
func (h Host) String() string {
	if h.addr.IsValid() {
		return h.addr.String()
	}
	return h.name
}

// looksLikeIP reports whether s can only be meant as an IP address: it
// has a colon (no host name has one) or is all digits and dots.
func looksLikeIP(s string) bool {
	if s == "" {
		return false
	}
	if strings.IndexByte(s, ':') >= 0 {
		return true
	}
	digits := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			digits = true
		case c != '.':
			return false
		}
	}
	return digits
}

// ipReason turns a netip parse error into a reason. netip's message
// starts with ParseAddr("input"): which the AddressError already says.
func ipReason(s string, err error) string {
	kind := "IPv4"
	if strings.IndexByte(s, ':') >= 0 {
		kind = "IPv6"
	}
	msg := err.Error()
	if _, detail, ok := strings.Cut(msg, "): "); ok {
		msg = detail
	}
	return "not a valid " + kind + " address: " + msg
}

const (
	maxHostName = 253
	maxLabel    = 63
	maxZone     = 64
)

// hostNameRule returns the first host name rule that s breaks, or ""
// if s is a valid host name.
func hostNameRule(s string) string {
	name := strings.TrimSuffix(s, ".")
	switch {
	case name == "":
		return "empty host name"
	case len(name) > maxHostName:
		return "host name longer than 253 characters"
	}
	allDigits := true
	labelStart := 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] != '.' {
			c := name[i]
			if !isLabelByte(c) {
				return "invalid character " + quoteCharAt(name, i) + " in host name"
			}
			if c < '0' || c > '9' {
				allDigits = false
			}
			continue
		}
		label := name[labelStart:i]
		switch {
		case label == "":
			return "empty label in host name"
		case len(label) > maxLabel:
			return "label longer than 63 characters in host name"
		case label[0] == '-':
			return "label starts with '-' in host name"
		case label[len(label)-1] == '-':
			return "label ends with '-' in host name"
		}
		if i == len(name) && allDigits {
			return "last label of host name is all digits"
		}
		labelStart = i + 1
		allDigits = true
	}
	return ""
}

func isLabelByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// zoneRule returns the rule an IPv6 zone breaks, or "".
func zoneRule(zone string) string {
	if len(zone) > maxZone {
		return "IPv6 zone longer than 64 characters"
	}
	for i := 0; i < len(zone); i++ {
		c := zone[i]
		if !isLabelByte(c) && c != '.' {
			return "invalid character " + quoteCharAt(zone, i) + " in IPv6 zone"
		}
	}
	return ""
}

// quoteCharAt quotes the character that starts at s[i], or the byte
// there if it does not start valid UTF-8.
func quoteCharAt(s string, i int) string {
	r, size := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size <= 1 {
		return strconv.Quote(s[i : i+1])
	}
	return strconv.QuoteRune(r)
}
