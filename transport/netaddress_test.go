package transport

import (
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNewNetAddress(t *testing.T) {
	tests := []struct {
		host    string
		port    int
		want    string
		wantErr *AddressError
	}{
		{"127.0.0.1", 80, "127.0.0.1:80", nil},
		{"::1", 50001, "[::1]:50001", nil},
		{"0:0::1", 1, "[::1]:1", nil},
		{"fe80::1%eth0", 65535, "[fe80::1%eth0]:65535", nil},
		{"::ffff:192.0.2.1", 8, "[::ffff:192.0.2.1]:8", nil},
		{"Example.ORG.", 443, "Example.ORG.:443", nil},
		{"", 80, "", &AddressError{Type: "host", Input: "", Reason: "empty host name"}},
		{"[::1]", 80, "", &AddressError{Type: "host", Input: "[::1]", Reason: "brackets around a host (write an IPv6 host without them)"}},
		{"example.org", 0, "", &AddressError{Type: "port", Input: "0", Reason: "not in the range 1 to 65535"}},
		{"example.org", 65536, "", &AddressError{Type: "port", Input: "65536", Reason: "not in the range 1 to 65535"}},
	}
	for _, tt := range tests {
		got, err := NewNetAddress(tt.host, tt.port)
		if tt.wantErr != nil {
			var ae *AddressError
			if !errors.As(err, &ae) {
				t.Errorf("NewNetAddress(%q, %d) = %v, %v; want error", tt.host, tt.port, got, err)
				continue
			}
			if diff := cmp.Diff(tt.wantErr, ae); diff != "" {
				t.Errorf("NewNetAddress(%q, %d) error (-want +got):\n%s", tt.host, tt.port, diff)
			}
			continue
		}
		if err != nil || got.String() != tt.want || int(got.Port()) != tt.port {
			t.Errorf("NewNetAddress(%q, %d) = %q, %v; want %q", tt.host, tt.port, got, err, tt.want)
		}
	}
}

func TestParseNetAddressValid(t *testing.T) {
	tests := []struct {
		in          string
		defaultHost string
		defaultPort int
		wantHost    string
		wantKind    HostKind
		wantPort    uint16
		wantString  string
	}{
		{"127.0.0.1:80", "", 0, "127.0.0.1", HostIPv4, 80, "127.0.0.1:80"},
		{"example.org:50002", "", 0, "example.org", HostName, 50002, "example.org:50002"},
		{"example.org.:50002", "", 0, "example.org.", HostName, 50002, "example.org.:50002"},
		{"[::1]:80", "", 0, "::1", HostIPv6, 80, "[::1]:80"},
		{"[2001:DB8::1]:0443", "", 0, "2001:db8::1", HostIPv6, 443, "[2001:db8::1]:443"},
		{"[fe80::1%eth0]:80", "", 0, "fe80::1%eth0", HostIPv6, 80, "[fe80::1%eth0]:80"},
		{"[::ffff:192.0.2.1]:80", "", 0, "::ffff:192.0.2.1", HostIPv6, 80, "[::ffff:192.0.2.1]:80"},
		// Defaults fill what is missing, and only that.
		{"example.org", "", 50001, "example.org", HostName, 50001, "example.org:50001"},
		{"example.org:", "", 50001, "example.org", HostName, 50001, "example.org:50001"},
		{"example.org:80", "", 50001, "example.org", HostName, 80, "example.org:80"},
		{":80", "localhost", 0, "localhost", HostName, 80, "localhost:80"},
		{":80", "::1", 0, "::1", HostIPv6, 80, "[::1]:80"},
		{"", "localhost", 50001, "localhost", HostName, 50001, "localhost:50001"},
		{":", "localhost", 50001, "localhost", HostName, 50001, "localhost:50001"},
		{"[::1]", "", 50001, "::1", HostIPv6, 50001, "[::1]:50001"},
		{"[::1]:", "", 50001, "::1", HostIPv6, 50001, "[::1]:50001"},
		{"192.0.2.1", "localhost", 7, "192.0.2.1", HostIPv4, 7, "192.0.2.1:7"},
	}
	for _, tt := range tests {
		got, err := ParseNetAddress(tt.in, tt.defaultHost, tt.defaultPort)
		if err != nil {
			t.Errorf("ParseNetAddress(%q, %q, %d): %v", tt.in, tt.defaultHost, tt.defaultPort, err)
			continue
		}
		if got.Host().String() != tt.wantHost || got.Host().Kind() != tt.wantKind || got.Port() != tt.wantPort || got.String() != tt.wantString {
			t.Errorf("ParseNetAddress(%q, %q, %d) = host %q (%v) port %d string %q; want %q (%v) %d %q",
				tt.in, tt.defaultHost, tt.defaultPort, got.Host(), got.Host().Kind(), got.Port(), got.String(),
				tt.wantHost, tt.wantKind, tt.wantPort, tt.wantString)
		}
		// The string form parses back to an equal address, and net
		// agrees on how to split it.
		back, err := ParseNetAddress(got.String(), "", 0)
		if err != nil || back != got {
			t.Errorf("ParseNetAddress(%q) round trip = %v, %v", got.String(), back, err)
		}
		if h, p, err := net.SplitHostPort(got.String()); err != nil || h != tt.wantHost || p != itoa(int(tt.wantPort)) {
			t.Errorf("net.SplitHostPort(%q) = %q, %q, %v", got.String(), h, p, err)
		}
	}
}

func itoa(n int) string { return string(appendInt(nil, n)) }

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

func TestParseNetAddressInvalid(t *testing.T) {
	hostErr := func(in, reason string) error { return &AddressError{Type: "host", Input: in, Reason: reason} }
	portErr := func(in, reason string) error { return &AddressError{Type: "port", Input: in, Reason: reason} }
	tests := []struct {
		in          string
		defaultHost string
		defaultPort int
		want        *AddressError
	}{
		{"", "", 0, &AddressError{Reason: "missing host"}},
		{"", "", 80, &AddressError{Reason: "missing host"}},
		{":80", "", 0, &AddressError{Reason: "missing host"}},
		{"example.org", "", 0, &AddressError{Reason: "missing port"}},
		{"example.org:", "", 0, &AddressError{Reason: "missing port"}},
		{"[::1]", "", 0, &AddressError{Reason: "missing port"}},
		{"[::1]:", "", 0, &AddressError{Reason: "missing port"}},
		{"::1", "", 80, &AddressError{Reason: "an IPv6 address must be in brackets"}},
		{"2001:db8::1:80", "", 0, &AddressError{Reason: "an IPv6 address must be in brackets"}},
		{"a:b:c", "", 0, &AddressError{Reason: "too many colons"}},
		{"example.org:80:81", "", 0, &AddressError{Reason: "too many colons"}},
		{"[::1", "", 80, &AddressError{Reason: "missing ']'"}},
		{"[]:80", "localhost", 0, &AddressError{Reason: "nothing between '[' and ']'"}},
		{"[::1]80", "", 0, &AddressError{Reason: "unexpected text after ']'"}},
		{"[::1]]:80", "", 0, &AddressError{Reason: "unexpected text after ']'"}},
		{"::1]", "", 80, &AddressError{Reason: "too many colons"}},
		{"example.org]", "", 80, &AddressError{Reason: "unexpected ']'"}},
		{"[127.0.0.1]:80", "", 0, &AddressError{Reason: "brackets around a host that is not an IPv6 address"}},
		{"[example.org]:80", "", 0, &AddressError{Reason: "brackets around a host that is not an IPv6 address"}},
		{"[::1%]:80", "", 0, &AddressError{Err: hostErr("::1%", "")}},
		{"exa mple:80", "", 0, &AddressError{Err: hostErr("exa mple", "invalid character ' ' in host name")}},
		{"-a:80", "", 0, &AddressError{Err: hostErr("-a", "label starts with '-' in host name")}},
		{"1.2.3.256:80", "", 0, &AddressError{Err: hostErr("1.2.3.256", "")}},
		{"example.org:0", "", 0, &AddressError{Err: portErr("0", "not in the range 1 to 65535")}},
		{"example.org:65536", "", 0, &AddressError{Err: portErr("65536", "not in the range 1 to 65535")}},
		{"example.org:http", "", 0, &AddressError{Err: portErr("http", "not a decimal number")}},
		{"example.org: 80", "", 0, &AddressError{Err: portErr(" 80", "not a decimal number")}},
		{"[::1]:-1", "", 0, &AddressError{Err: portErr("-1", "not a decimal number")}},
		{":80", "bad host", 0, &AddressError{Reason: "default host", Err: hostErr("bad host", "invalid character ' ' in host name")}},
		{"example.org", "", 70000, &AddressError{Reason: "default port", Err: portErr("70000", "not in the range 1 to 65535")}},
		{"example.org", "", -1, &AddressError{Reason: "default port", Err: portErr("-1", "not in the range 1 to 65535")}},
	}
	for _, tt := range tests {
		got, err := ParseNetAddress(tt.in, tt.defaultHost, tt.defaultPort)
		var ae *AddressError
		if !errors.As(err, &ae) {
			t.Errorf("ParseNetAddress(%q, %q, %d) = %v, %v; want an *AddressError", tt.in, tt.defaultHost, tt.defaultPort, got, err)
			continue
		}
		want := *tt.want
		want.Type, want.Input = "address", tt.in
		// IP parse details come from netip: compare the inner reason
		// only when the test gives one.
		if inner, ok := want.Err.(*AddressError); ok && inner.Reason == "" {
			if gotInner, ok := ae.Err.(*AddressError); ok {
				inner.Reason = gotInner.Reason
			}
		}
		if diff := cmp.Diff(&want, ae); diff != "" {
			t.Errorf("ParseNetAddress(%q, %q, %d) error (-want +got):\n%s", tt.in, tt.defaultHost, tt.defaultPort, diff)
		}
		if !got.IsZero() {
			t.Errorf("ParseNetAddress(%q) returned %v with its error", tt.in, got)
		}
	}
}

func TestNetAddressZero(t *testing.T) {
	var a NetAddress
	if !a.IsZero() || a.String() != "" || a.Port() != 0 || !a.Host().IsZero() {
		t.Errorf("zero NetAddress: %v %q %d %v", a.IsZero(), a.String(), a.Port(), a.Host())
	}
	b, err := a.MarshalText()
	if err != nil || len(b) != 0 {
		t.Errorf("zero MarshalText = %q, %v", b, err)
	}
}

func TestNetAddressText(t *testing.T) {
	type config struct {
		Server NetAddress
		Backup NetAddress
	}
	in := `{"Server":"[2001:db8::1]:50002","Backup":""}`
	var c config
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	want, err := NewNetAddress("2001:db8::1", 50002)
	if err != nil {
		t.Fatal(err)
	}
	if c.Server != want || !c.Backup.IsZero() {
		t.Errorf("Unmarshal = %+v", c)
	}
	out, err := json.Marshal(c)
	if err != nil || string(out) != in {
		t.Errorf("Marshal = %s, %v; want %s", out, err, in)
	}
	prev := c.Server
	err = c.Server.UnmarshalText([]byte("example.org"))
	var ae *AddressError
	if !errors.As(err, &ae) || ae.Reason != "missing port" || c.Server != prev {
		t.Errorf("UnmarshalText(no port) = %v, value now %v", err, c.Server)
	}
	b, _ := want.AppendText([]byte("addr="))
	if string(b) != "addr=[2001:db8::1]:50002" {
		t.Errorf("AppendText = %q", b)
	}
}

type fakeAddr struct{ network, s string }

func (a fakeAddr) Network() string { return a.network }
func (a fakeAddr) String() string  { return a.s }

func TestNetAddressOf(t *testing.T) {
	tests := []struct {
		name string
		addr net.Addr
		want string
	}{
		{"nil", nil, ""},
		{"tcp4", &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 5000}, "192.0.2.1:5000"},
		{"tcp mapped", net.TCPAddrFromAddrPort(netip.MustParseAddrPort("[::ffff:192.0.2.1]:5000")), "192.0.2.1:5000"},
		{"tcp6 zone", &net.TCPAddr{IP: net.ParseIP("fe80::1"), Zone: "lo", Port: 1}, "[fe80::1%lo]:1"},
		{"tcp port 0", &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1)}, ""},
		{"tcp no IP", &net.TCPAddr{Port: 80}, ""},
		{"unix", &net.UnixAddr{Name: "/tmp/s", Net: "unix"}, ""},
		{"other", fakeAddr{"proxied", "[2001:db8::2]:443"}, "[2001:db8::2]:443"},
		{"other unparsable", fakeAddr{"proxied", "example.org:443"}, ""},
		{"other unix", fakeAddr{"unix", "192.0.2.1:1"}, ""},
	}
	for _, tt := range tests {
		if got := netAddressOf(tt.addr).String(); got != tt.want {
			t.Errorf("%s: netAddressOf(%v) = %q, want %q", tt.name, tt.addr, got, tt.want)
		}
	}
}
