package transport

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseHostValid(t *testing.T) {
	label63 := strings.Repeat("a", 63)
	// 4 labels of 63 plus 3 dots: 255 characters; trimmed below to 253.
	name253 := label63 + "." + label63 + "." + label63 + "." + strings.Repeat("b", 61)
	tests := []struct {
		in       string
		wantKind HostKind
		wantStr  string
	}{
		// Host names.
		{"localhost", HostName, "localhost"},
		{"electrum.example.org", HostName, "electrum.example.org"},
		{"Electrum.Example.ORG", HostName, "Electrum.Example.ORG"}, // case kept
		{"example.org.", HostName, "example.org."},                 // one trailing dot
		{"a", HostName, "a"},
		{"_", HostName, "_"},
		{"_srv._tcp.example.org", HostName, "_srv._tcp.example.org"},
		{"a_", HostName, "a_"},
		{"a-b", HostName, "a-b"},
		{"a--b", HostName, "a--b"},
		{"xn--bcher-kva.example", HostName, "xn--bcher-kva.example"},
		{"1a", HostName, "1a"},
		{"123.example", HostName, "123.example"}, // only the last label may not be all digits
		{"1.2.3.4a", HostName, "1.2.3.4a"},
		{"0x7f", HostName, "0x7f"},
		{label63, HostName, label63},
		{label63 + ".com", HostName, label63 + ".com"},
		{name253, HostName, name253},
		{name253 + ".", HostName, name253 + "."}, // 254 with the trailing dot
		// IPv4.
		{"127.0.0.1", HostIPv4, "127.0.0.1"},
		{"0.0.0.0", HostIPv4, "0.0.0.0"},
		{"255.255.255.255", HostIPv4, "255.255.255.255"},
		{"192.0.2.1", HostIPv4, "192.0.2.1"},
		// IPv6, canonicalised.
		{"::1", HostIPv6, "::1"},
		{"::", HostIPv6, "::"},
		{"0:0:0:0:0:0:0:1", HostIPv6, "::1"},
		{"2001:DB8::1", HostIPv6, "2001:db8::1"},
		{"2001:db8:0:0:1:0:0:1", HostIPv6, "2001:db8::1:0:0:1"},
		{"::ffff:192.0.2.1", HostIPv6, "::ffff:192.0.2.1"}, // IPv4-mapped stays IPv6
		{"::FFFF:c000:0201", HostIPv6, "::ffff:192.0.2.1"},
		{"64:ff9b::192.0.2.1", HostIPv6, "64:ff9b::c000:201"},
		{"fe80::1%eth0", HostIPv6, "fe80::1%eth0"},
		{"fe80::1%2", HostIPv6, "fe80::1%2"},
		{"fe80::1%en0.100_a-b", HostIPv6, "fe80::1%en0.100_a-b"},
		{"fe80::1%" + strings.Repeat("z", 64), HostIPv6, "fe80::1%" + strings.Repeat("z", 64)},
	}
	for _, tt := range tests {
		h, err := ParseHost(tt.in)
		if err != nil {
			t.Errorf("ParseHost(%q): %v", tt.in, err)
			continue
		}
		if got := h.Kind(); got != tt.wantKind {
			t.Errorf("ParseHost(%q).Kind() = %v, want %v", tt.in, got, tt.wantKind)
		}
		if got := h.String(); got != tt.wantStr {
			t.Errorf("ParseHost(%q).String() = %q, want %q", tt.in, got, tt.wantStr)
		}
		if h.IsZero() {
			t.Errorf("ParseHost(%q).IsZero() = true", tt.in)
		}
		if got := h.Addr().IsValid(); got != (tt.wantKind != HostName) {
			t.Errorf("ParseHost(%q).Addr().IsValid() = %v", tt.in, got)
		}
		// The canonical form parses back to the same Host.
		if h2, err := ParseHost(h.String()); err != nil || h2 != h {
			t.Errorf("ParseHost(%q) round trip: %v, %v", h.String(), h2, err)
		}
	}
}

func TestParseHostInvalid(t *testing.T) {
	label64 := strings.Repeat("a", 64)
	label63 := strings.Repeat("a", 63)
	name254 := label63 + "." + label63 + "." + label63 + "." + strings.Repeat("b", 62)
	tests := []struct {
		in     string
		reason string
	}{
		{"", "empty host name"},
		{".", "empty host name"},
		{"..", "empty label in host name"},
		{"example..org", "empty label in host name"},
		{".example.org", "empty label in host name"},
		{"example.org..", "empty label in host name"}, // only one trailing dot
		{label64, "label longer than 63 characters in host name"},
		{label64 + ".com", "label longer than 63 characters in host name"},
		{name254, "host name longer than 253 characters"},
		{name254 + ".", "host name longer than 253 characters"},
		{"-example.org", "label starts with '-' in host name"},
		{"example-.org", "label ends with '-' in host name"},
		{"example.-org", "label starts with '-' in host name"},
		{"example.org-", "label ends with '-' in host name"},
		{"-", "label starts with '-' in host name"},
		{"exa mple", `invalid character ' ' in host name`},
		{" example.org", `invalid character ' ' in host name`},
		{"example.org\n", `invalid character '\n' in host name`},
		{"exa*mple", `invalid character '*' in host name`},
		{"bücher.example", `invalid character 'ü' in host name`},
		{"bad\xffbyte", `invalid character "\xff" in host name`},
		{"[::1]", "brackets around a host (write an IPv6 host without them)"},
		{"[example.org]", "brackets around a host (write an IPv6 host without them)"},
		{"example.123", "last label of host name is all digits"},
		{"example.org.1.", "last label of host name is all digits"},
		// All digits and dots: meant as IPv4.
		{"1", "not a valid IPv4 address"},
		{"123", "not a valid IPv4 address"},
		{"1.2.3", "not a valid IPv4 address"},
		{"1.2.3.4.5", "not a valid IPv4 address"},
		{"1.2.3.256", "not a valid IPv4 address"},
		{"01.2.3.4", "not a valid IPv4 address"},
		{"1..2.3", "not a valid IPv4 address"},
		// With a colon: meant as IPv6.
		{":", "not a valid IPv6 address"},
		{"1:2", "not a valid IPv6 address"},
		{"::1::", "not a valid IPv6 address"},
		{"2001:db8::g", "not a valid IPv6 address"},
		{"1:2:3:4:5:6:7:8:9", "not a valid IPv6 address"},
		{"12345::", "not a valid IPv6 address"},
		{"fe80::1%", "not a valid IPv6 address"},
		{"fe80::1%eth0]", `invalid character ']' in IPv6 zone`},
		{"fe80::1%a:b", `invalid character ':' in IPv6 zone`},
		{"fe80::1%a%b", `invalid character '%' in IPv6 zone`},
		{"fe80::1%" + strings.Repeat("z", 65), "IPv6 zone longer than 64 characters"},
		{"1.2.3.4%eth0", `invalid character '%' in host name`},
	}
	for _, tt := range tests {
		h, err := ParseHost(tt.in)
		want := &AddressError{Type: "host", Input: tt.in, Reason: tt.reason}
		var got *AddressError
		if !errors.As(err, &got) {
			t.Errorf("ParseHost(%q) = %v, %v; want error %v", tt.in, h, err, want)
			continue
		}
		// netip's detail after "not a valid IPvN address: " varies
		// between Go versions: compare up to it.
		if strings.HasPrefix(tt.reason, "not a valid") && strings.HasPrefix(got.Reason, tt.reason+": ") {
			got.Reason = tt.reason
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ParseHost(%q) error (-want +got):\n%s", tt.in, diff)
		}
		if !h.IsZero() {
			t.Errorf("ParseHost(%q) returned %v with its error", tt.in, h)
		}
	}
}

func TestHostZeroAndKindString(t *testing.T) {
	var h Host
	if !h.IsZero() || h.Kind() != HostNone || h.String() != "" || h.Addr().IsValid() {
		t.Errorf("zero Host: IsZero %v Kind %v String %q Addr %v", h.IsZero(), h.Kind(), h.String(), h.Addr())
	}
	got := []string{HostNone.String(), HostIPv4.String(), HostIPv6.String(), HostName.String(), HostKind(9).String()}
	want := []string{"none", "IPv4", "IPv6", "name", "HostKind(9)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("HostKind strings (-want +got):\n%s", diff)
	}
}

func TestHostAddr(t *testing.T) {
	h, err := ParseHost("::ffff:192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if want := netip.MustParseAddr("::ffff:192.0.2.1"); h.Addr() != want {
		t.Errorf("Addr() = %v, want %v", h.Addr(), want)
	}
	n, err := ParseHost("example.org")
	if err != nil {
		t.Fatal(err)
	}
	if n.Addr().IsValid() {
		t.Errorf("Addr() of a name = %v, want invalid", n.Addr())
	}
}

func TestPorts(t *testing.T) {
	valid := []struct {
		in   string
		want uint16
	}{
		{"1", 1}, {"80", 80}, {"65535", 65535}, {"0080", 80}, {"00000000000000000000001", 1},
	}
	for _, tt := range valid {
		got, err := ParsePort(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParsePort(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	invalid := []struct {
		in, reason string
	}{
		{"", "empty"},
		{"0", "not in the range 1 to 65535"},
		{"000", "not in the range 1 to 65535"},
		{"65536", "not in the range 1 to 65535"},
		{"99999999999999999999999", "not in the range 1 to 65535"},
		{"-1", "not a decimal number"},
		{"+80", "not a decimal number"},
		{" 80", "not a decimal number"},
		{"80 ", "not a decimal number"},
		{"0x50", "not a decimal number"},
		{"8_0", "not a decimal number"},
		{"http", "not a decimal number"},
		{"٨٠", "not a decimal number"}, // Arabic-Indic digits
	}
	for _, tt := range invalid {
		got, err := ParsePort(tt.in)
		want := &AddressError{Type: "port", Input: tt.in, Reason: tt.reason}
		var ae *AddressError
		if !errors.As(err, &ae) {
			t.Errorf("ParsePort(%q) = %d, %v; want %v", tt.in, got, err, want)
			continue
		}
		if diff := cmp.Diff(want, ae); diff != "" {
			t.Errorf("ParsePort(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
	for _, p := range []int{1, 443, 65535} {
		if got, err := ValidatePort(p); err != nil || int(got) != p {
			t.Errorf("ValidatePort(%d) = %d, %v", p, got, err)
		}
	}
	for _, p := range []int{0, -1, 65536, 1 << 40} {
		_, err := ValidatePort(p)
		var ae *AddressError
		if !errors.As(err, &ae) || ae.Type != "port" || ae.Reason != "not in the range 1 to 65535" {
			t.Errorf("ValidatePort(%d) error = %v", p, err)
		}
	}
}

func TestAddressErrorMessage(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{
			&AddressError{Type: "host", Input: "a b", Reason: "invalid character ' ' in host name"},
			`transport: invalid host "a b": invalid character ' ' in host name`,
		},
		{
			&AddressError{Type: "address", Input: "a b:80", Err: &AddressError{Type: "host", Input: "a b", Reason: "bad"}},
			`transport: invalid address "a b:80": invalid host "a b": bad`,
		},
		{
			&AddressError{Type: "address", Input: ":80", Reason: "default host", Err: &AddressError{Type: "host", Input: "-", Reason: "bad"}},
			`transport: invalid address ":80": default host: invalid host "-": bad`,
		},
		{
			&AddressError{Type: "service", Input: "x", Err: errors.New("plain")},
			`transport: invalid service "x": plain`,
		},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	inner := &AddressError{Type: "port", Input: "0", Reason: "r"}
	outer := &AddressError{Type: "address", Input: "a:0", Err: inner}
	var got *AddressError
	if !errors.Is(outer, inner) || errors.Unwrap(outer) != inner || !errors.As(outer, &got) || got != outer {
		t.Errorf("AddressError does not unwrap to its part")
	}
}
