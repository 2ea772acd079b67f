package transport

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseNetAddress checks that any input either parses into an
// address whose string form parses back to it, or fails with an
// *AddressError that quotes it.
func FuzzParseNetAddress(f *testing.F) {
	for _, s := range []string{
		"127.0.0.1:80", "[::1]:1", "example.org:50001", "[fe80::1%eth0]:80", "example.org.",
		":80", "[", "]", "[]:", "::", "1.2.3.256:1", "a..b:1", "[::ffff:1.2.3.4]:65535",
	} {
		f.Add(s, "", 0)
		f.Add(s, "localhost", 50001)
	}
	f.Fuzz(func(t *testing.T, s, defaultHost string, defaultPort int) {
		a, err := ParseNetAddress(s, defaultHost, defaultPort)
		if err != nil {
			var ae *AddressError
			if !errors.As(err, &ae) || ae.Input != s || !strings.Contains(err.Error(), ae.Type) {
				t.Fatalf("ParseNetAddress(%q) error %v is not an *AddressError quoting the input", s, err)
			}
			return
		}
		back, err := ParseNetAddress(a.String(), "", 0)
		if err != nil || back != a {
			t.Fatalf("ParseNetAddress(%q) = %v; its string form parses to %v, %v", s, a, back, err)
		}
		if a.Port() == 0 || a.Host().IsZero() {
			t.Fatalf("ParseNetAddress(%q) = %v with a missing part", s, a)
		}
	})
}

// FuzzParseService does the same for services.
func FuzzParseService(f *testing.F) {
	for _, s := range []string{"tcp://example.org:50001", "SSL://[::1]:2", "x://a:1", "tcp://", "://", "a+b-c.d://e:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		svc, err := ParseService(s, ServiceDefaults{Protocol: "tcp", Host: "localhost", Port: 1})
		if err != nil {
			var ae *AddressError
			if !errors.As(err, &ae) || ae.Input != s {
				t.Fatalf("ParseService(%q) error %v is not an *AddressError quoting the input", s, err)
			}
			return
		}
		back, err := ParseService(svc.String(), ServiceDefaults{})
		if err != nil || back != svc {
			t.Fatalf("ParseService(%q) = %v; its string form parses to %v, %v", s, svc, back, err)
		}
		if svc.Protocol() != strings.ToLower(svc.Protocol()) {
			t.Fatalf("protocol %q not lowercased", svc.Protocol())
		}
	})
}
