package transport

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseServiceValid(t *testing.T) {
	electrum := ServiceDefaults{Protocol: "tcp", Host: "localhost", Ports: map[string]int{"tcp": 50001, "ssl": 50002}}
	tests := []struct {
		in       string
		defaults ServiceDefaults
		want     string
	}{
		{"tcp://example.org:50001", ServiceDefaults{}, "tcp://example.org:50001"},
		{"SSL://example.org:50002", ServiceDefaults{}, "ssl://example.org:50002"},
		{"ws://[::1]:80", ServiceDefaults{}, "ws://[::1]:80"},
		{"a1://192.0.2.1:1", ServiceDefaults{}, "a1://192.0.2.1:1"},
		{"Git+SSH://example.org:22", ServiceDefaults{}, "git+ssh://example.org:22"},
		{"x-my.proto://example.org:22", ServiceDefaults{}, "x-my.proto://example.org:22"},
		{"a.://example.org:22", ServiceDefaults{}, "a.://example.org:22"},
		// Defaults.
		{"example.org:7", electrum, "tcp://example.org:7"},
		{"example.org", electrum, "tcp://example.org:50001"},
		{"ssl://example.org", electrum, "ssl://example.org:50002"},
		{"SSL://example.org", electrum, "ssl://example.org:50002"},
		{"ssl://:1", electrum, "ssl://localhost:1"},
		{"ssl://", electrum, "ssl://localhost:50002"},
		{"ws://example.org", ServiceDefaults{Port: 80, Ports: map[string]int{"wss": 443}}, "ws://example.org:80"},
		{"wss://example.org", ServiceDefaults{Port: 80, Ports: map[string]int{"wss": 443}}, "wss://example.org:443"},
		{"[::1]", ServiceDefaults{Protocol: "TCP", Port: 9}, "tcp://[::1]:9"},
		// Only the first "://" separates.
		{"tcp://example.org:1://", ServiceDefaults{}, ""},
	}
	for _, tt := range tests {
		got, err := ParseService(tt.in, tt.defaults)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseService(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("ParseService(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			continue
		}
		back, err := ParseService(got.String(), ServiceDefaults{})
		if err != nil || back != got {
			t.Errorf("ParseService(%q) round trip = %v, %v", got.String(), back, err)
		}
	}
}

func TestParseServiceInvalid(t *testing.T) {
	protoErr := func(in, reason string) error { return &AddressError{Type: "protocol", Input: in, Reason: reason} }
	tests := []struct {
		in       string
		defaults ServiceDefaults
		want     *AddressError
	}{
		{"example.org:80", ServiceDefaults{}, &AddressError{Reason: "missing protocol"}},
		{"", ServiceDefaults{}, &AddressError{Reason: "missing protocol"}},
		{"://example.org:80", ServiceDefaults{}, &AddressError{Err: protoErr("", "empty")}},
		{"t://example.org:80", ServiceDefaults{}, &AddressError{Err: protoErr("t", "shorter than 2 characters")}},
		{"1tcp://example.org:80", ServiceDefaults{}, &AddressError{Err: protoErr("1tcp", "does not start with a letter")}},
		{"+tcp://example.org:80", ServiceDefaults{}, &AddressError{Err: protoErr("+tcp", "does not start with a letter")}},
		{"tc_p://example.org:80", ServiceDefaults{}, &AddressError{Err: protoErr("tc_p", "invalid character '_'")}},
		{"tc,p://example.org:80", ServiceDefaults{}, &AddressError{Err: protoErr("tc,p", "invalid character ','")}},
		{"tc p://example.org:80", ServiceDefaults{}, &AddressError{Err: protoErr("tc p", "invalid character ' '")}},
		{"tcpé://example.org:80", ServiceDefaults{}, &AddressError{Err: protoErr("tcpé", "invalid character 'é'")}},
		{"tcp\n://example.org:80", ServiceDefaults{}, &AddressError{Err: protoErr("tcp\n", `invalid character '\n'`)}},
		{"example.org", ServiceDefaults{Protocol: "t"}, &AddressError{Err: protoErr("t", "shorter than 2 characters")}},
		{"tcp://example.org", ServiceDefaults{}, &AddressError{Err: &AddressError{Type: "address", Input: "example.org", Reason: "missing port"}}},
		{"tcp://", ServiceDefaults{}, &AddressError{Err: &AddressError{Type: "address", Input: "", Reason: "missing host"}}},
		{"tcp://example.org:80/path", ServiceDefaults{}, &AddressError{Err: &AddressError{Type: "address", Input: "example.org:80/path", Err: &AddressError{Type: "port", Input: "80/path", Reason: "not a decimal number"}}}},
		{"tcp://user@example.org:80", ServiceDefaults{}, &AddressError{Err: &AddressError{Type: "address", Input: "user@example.org:80", Err: &AddressError{Type: "host", Input: "user@example.org", Reason: "invalid character '@' in host name"}}}},
		{"tcp://example.org", ServiceDefaults{Ports: map[string]int{"tcp": 0}}, &AddressError{Err: &AddressError{Type: "address", Input: "example.org", Reason: "missing port"}}},
	}
	for _, tt := range tests {
		got, err := ParseService(tt.in, tt.defaults)
		var ae *AddressError
		if !errors.As(err, &ae) {
			t.Errorf("ParseService(%q) = %v, %v; want an *AddressError", tt.in, got, err)
			continue
		}
		want := *tt.want
		want.Type, want.Input = "service", tt.in
		if diff := cmp.Diff(&want, ae); diff != "" {
			t.Errorf("ParseService(%q) error (-want +got):\n%s", tt.in, diff)
		}
		if !got.IsZero() {
			t.Errorf("ParseService(%q) returned %v with its error", tt.in, got)
		}
	}
}

func TestNewService(t *testing.T) {
	addr, err := NewNetAddress("example.org", 50002)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewService("SSL", addr)
	if err != nil || s.Protocol() != "ssl" || s.Address() != addr || s.String() != "ssl://example.org:50002" {
		t.Errorf("NewService = %v (%q, %v), %v", s, s.Protocol(), s.Address(), err)
	}
	if _, err := NewService("1x", addr); !errors.As(err, new(*AddressError)) {
		t.Errorf("NewService(bad protocol) error = %v", err)
	}
	if _, err := NewService("tcp", NetAddress{}); !errors.As(err, new(*AddressError)) {
		t.Errorf("NewService(zero address) error = %v", err)
	}
	var zero Service
	if !zero.IsZero() || zero.String() != "" {
		t.Errorf("zero Service: %v %q", zero.IsZero(), zero.String())
	}
}

func TestServiceText(t *testing.T) {
	var got []Service
	in := `["tcp://example.org:50001","ssl://[::1]:50002",""]`
	if err := json.Unmarshal([]byte(in), &got); err != nil {
		t.Fatal(err)
	}
	want := []string{"tcp://example.org:50001", "ssl://[::1]:50002", ""}
	var gotStr []string
	for _, s := range got {
		gotStr = append(gotStr, s.String())
	}
	if diff := cmp.Diff(want, gotStr); diff != "" {
		t.Errorf("Unmarshal (-want +got):\n%s", diff)
	}
	out, err := json.Marshal(got)
	if err != nil || string(out) != in {
		t.Errorf("Marshal = %s, %v; want %s", out, err, in)
	}
	prev := got[0]
	if err := got[0].UnmarshalText([]byte("example.org:1")); err == nil || got[0] != prev {
		t.Errorf("UnmarshalText(no protocol) = %v, value now %v", err, got[0])
	}
}
