package proxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// trickle is a reply read one byte at a time; it counts the bytes
// read.
type trickle struct {
	data []byte
	read int
}

func (r *trickle) Read(p []byte) (int, error) {
	if r.read == len(r.data) {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.data[r.read]
	r.read++
	return 1, nil
}

// outcome sums up a parser's result for comparison.
type outcome struct {
	Read   int    // bytes consumed
	Kind   string // "ok", "protocol", "refused" or "other"
	Code   int    // a refusal's code
	Auth   bool   // the error matches ErrAuth
	EOF    bool   // the error matches io.EOF or io.ErrUnexpectedEOF
	Result string // the bound address or method, on success
}

func outcomeOf(read int, result string, err error) outcome {
	o := outcome{Read: read, Result: result, Kind: "ok"}
	var pe *ProtocolError
	var re *RefusedError
	switch {
	case err == nil:
	case errors.As(err, &pe):
		o.Kind = "protocol"
	case errors.As(err, &re):
		o.Kind, o.Code = "refused", re.Code
	default:
		o.Kind = "other"
	}
	o.Auth = errors.Is(err, ErrAuth)
	o.EOF = errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
	if err != nil {
		o.Result = ""
	}
	return o
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

func TestReadSOCKS4Reply(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want outcome
	}{
		{"granted", "\x00\x5a\x01\xbb\x7f\x00\x00\x01", outcome{Read: 8, Kind: "ok", Result: "127.0.0.1:443"}},
		{"granted, zero address", "\x00\x5a\x00\x00\x00\x00\x00\x00", outcome{Read: 8, Kind: "ok", Result: "0.0.0.0:0"}},
		{"extra bytes left unread", "\x00\x5a\x00\x00\x00\x00\x00\x00hello", outcome{Read: 8, Kind: "ok", Result: "0.0.0.0:0"}},
		{"rejected or failed", "\x00\x5b\x00\x00\x00\x00\x00\x00", outcome{Read: 8, Kind: "refused", Code: 91}},
		{"no identd", "\x00\x5c\x00\x00\x00\x00\x00\x00", outcome{Read: 8, Kind: "refused", Code: 92}},
		{"identd mismatch", "\x00\x5d\x00\x00\x00\x00\x00\x00", outcome{Read: 8, Kind: "refused", Code: 93}},
		{"unknown code", "\x00\x01\x00\x00\x00\x00\x00\x00", outcome{Read: 8, Kind: "refused", Code: 1}},
		{"version 4", "\x04\x5a\x00\x00\x00\x00\x00\x00", outcome{Read: 8, Kind: "protocol"}},
		{"SOCKS5 answer", "\x05\x00", outcome{Read: 2, Kind: "protocol", EOF: true}},
		{"empty", "", outcome{Read: 0, Kind: "protocol", EOF: true}},
		{"7 bytes", "\x00\x5a\x00\x00\x00\x00\x00", outcome{Read: 7, Kind: "protocol", EOF: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &trickle{data: []byte(tt.in)}
			bound, err := readSOCKS4Reply(r, SOCKS4a)
			result := ""
			if err == nil {
				result = bound.String()
			}
			if diff := cmp.Diff(tt.want, outcomeOf(r.read, result, err)); diff != "" {
				t.Errorf("readSOCKS4Reply(%q): (-want +got)\n%s\nerror: %v", tt.in, diff, err)
			}
		})
	}
}

func TestReadMethodReply(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		userPass bool
		want     outcome
	}{
		{"none", "\x05\x00", false, outcome{Read: 2, Kind: "ok", Result: "0"}},
		{"none, user offered", "\x05\x00", true, outcome{Read: 2, Kind: "ok", Result: "0"}},
		{"username and password", "\x05\x02", true, outcome{Read: 2, Kind: "ok", Result: "2"}},
		{"extra bytes left unread", "\x05\x02\x01\x00", true, outcome{Read: 2, Kind: "ok", Result: "2"}},
		{"username and password, not offered", "\x05\x02", false, outcome{Read: 2, Kind: "protocol"}},
		{"GSSAPI, not offered", "\x05\x01", true, outcome{Read: 2, Kind: "protocol"}},
		{"no acceptable methods", "\x05\xff", true, outcome{Read: 2, Kind: "refused", Code: 255, Auth: true}},
		{"version 4", "\x04\x00", false, outcome{Read: 2, Kind: "protocol"}},
		{"SOCKS4 reply", "\x00\x5b", false, outcome{Read: 2, Kind: "protocol"}},
		{"empty", "", false, outcome{Read: 0, Kind: "protocol", EOF: true}},
		{"1 byte", "\x05", false, outcome{Read: 1, Kind: "protocol", EOF: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &trickle{data: []byte(tt.in)}
			m, err := readMethodReply(r, tt.userPass)
			result := ""
			if err == nil {
				result = string('0' + rune(m))
			}
			if diff := cmp.Diff(tt.want, outcomeOf(r.read, result, err)); diff != "" {
				t.Errorf("readMethodReply(%q): (-want +got)\n%s\nerror: %v", tt.in, diff, err)
			}
		})
	}
}

func TestReadAuthReply(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want outcome
	}{
		{"success", "\x01\x00", outcome{Read: 2, Kind: "ok"}},
		{"extra bytes left unread", "\x01\x00\x05\x00", outcome{Read: 2, Kind: "ok"}},
		{"failure", "\x01\x01", outcome{Read: 2, Kind: "refused", Code: 1, Auth: true}},
		{"failure 255", "\x01\xff", outcome{Read: 2, Kind: "refused", Code: 255, Auth: true}},
		{"version 5", "\x05\x00", outcome{Read: 2, Kind: "protocol"}},
		{"version 0", "\x00\x00", outcome{Read: 2, Kind: "protocol"}},
		{"empty", "", outcome{Read: 0, Kind: "protocol", EOF: true}},
		{"1 byte", "\x01", outcome{Read: 1, Kind: "protocol", EOF: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &trickle{data: []byte(tt.in)}
			err := readAuthReply(r)
			if diff := cmp.Diff(tt.want, outcomeOf(r.read, "", err)); diff != "" {
				t.Errorf("readAuthReply(%q): (-want +got)\n%s\nerror: %v", tt.in, diff, err)
			}
		})
	}
}

func TestReadConnectReply(t *testing.T) {
	name255 := strings.Repeat("a", 255)
	tests := []struct {
		name string
		in   string
		want outcome
	}{
		{"IPv4", "\x05\x00\x00\x01\x7f\x00\x00\x01\x1f\x90", outcome{Read: 10, Kind: "ok", Result: "127.0.0.1:8080"}},
		{"IPv6", "\x05\x00\x00\x04" + strings.Repeat("\x00", 15) + "\x01\x00\x50", outcome{Read: 22, Kind: "ok", Result: "[::1]:80"}},
		{"host name", "\x05\x00\x00\x03\x09localhost\x00\x50", outcome{Read: 16, Kind: "ok", Result: "localhost:80"}},
		{"empty host name", "\x05\x00\x00\x03\x00\x00\x50", outcome{Read: 7, Kind: "ok", Result: ":80"}},
		{"host name of 255 bytes", "\x05\x00\x00\x03\xff" + name255 + "\x00\x50", outcome{Read: 262, Kind: "ok", Result: name255 + ":80"}},
		{"extra bytes left unread", "\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00data", outcome{Read: 10, Kind: "ok", Result: "0.0.0.0:0"}},
		{"general failure", "\x05\x01\x00\x01\x00\x00\x00\x00\x00\x00", outcome{Read: 4, Kind: "refused", Code: 1}},
		{"connection refused", "\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00", outcome{Read: 4, Kind: "refused", Code: 5}},
		{"unassigned code, no address", "\x05\x09\x00\x00", outcome{Read: 4, Kind: "refused", Code: 9}},
		{"version 4", "\x04\x00\x00\x01\x00\x00\x00\x00\x00\x00", outcome{Read: 4, Kind: "protocol"}},
		{"reserved byte set", "\x05\x00\x01\x01\x00\x00\x00\x00\x00\x00", outcome{Read: 4, Kind: "protocol"}},
		{"address type 0", "\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00", outcome{Read: 4, Kind: "protocol"}},
		{"address type 2", "\x05\x00\x00\x02\x00\x00\x00\x00\x00\x00", outcome{Read: 4, Kind: "protocol"}},
		{"address type 255", "\x05\x00\x00\xff", outcome{Read: 4, Kind: "protocol"}},
		{"empty", "", outcome{Read: 0, Kind: "protocol", EOF: true}},
		{"3 bytes", "\x05\x00\x00", outcome{Read: 3, Kind: "protocol", EOF: true}},
		{"IPv4 cut short", "\x05\x00\x00\x01\x7f\x00\x00\x01\x1f", outcome{Read: 9, Kind: "protocol", EOF: true}},
		{"IPv6 cut short", "\x05\x00\x00\x04\x00\x00", outcome{Read: 6, Kind: "protocol", EOF: true}},
		{"no name length", "\x05\x00\x00\x03", outcome{Read: 4, Kind: "protocol", EOF: true}},
		{"name cut short", "\x05\x00\x00\x03\x09local", outcome{Read: 10, Kind: "protocol", EOF: true}},
		{"name length beyond the data", "\x05\x00\x00\x03\xff\x00\x50", outcome{Read: 7, Kind: "protocol", EOF: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &trickle{data: []byte(tt.in)}
			bound, err := readConnectReply(r)
			if diff := cmp.Diff(tt.want, outcomeOf(r.read, addrString(bound), err)); diff != "" {
				t.Errorf("readConnectReply(%q): (-want +got)\n%s\nerror: %v", tt.in, diff, err)
			}
		})
	}
}

func TestReplyErrorMessages(t *testing.T) {
	tests := []struct {
		in   string
		read func(io.Reader) error
		want string
	}{
		{"\x00\x5c\x00\x00\x00\x00\x00\x00", func(r io.Reader) error { _, err := readSOCKS4Reply(r, SOCKS4); return err },
			"SOCKS4 proxy refused: request rejected because the SOCKS server cannot connect to identd on the client (code 92)"},
		{"\x00\x5e\x00\x00\x00\x00\x00\x00", func(r io.Reader) error { _, err := readSOCKS4Reply(r, SOCKS4a); return err },
			"SOCKS4a proxy refused: unknown reply code (code 94)"},
		{"\x00\x5a\x00", func(r io.Reader) error { _, err := readSOCKS4Reply(r, SOCKS4); return err },
			"SOCKS4 protocol error: reply cut short after 3 of 8 bytes: unexpected EOF"},
		{"\x05\xff", func(r io.Reader) error { _, err := readMethodReply(r, true); return err },
			"SOCKS5 proxy refused: no acceptable authentication methods (code 255)"},
		{"\x05\x01", func(r io.Reader) error { _, err := readMethodReply(r, true); return err },
			"SOCKS5 protocol error: proxy chose authentication method 1, which was not offered"},
		{"\x01\x01", readAuthReply,
			"SOCKS5 proxy refused: username and password rejected (code 1)"},
		{"\x05\x00\x00\x05", func(r io.Reader) error { _, err := readConnectReply(r); return err },
			"SOCKS5 protocol error: connect reply address type 5"},
		{"\x05\x06\x00\x01", func(r io.Reader) error { _, err := readConnectReply(r); return err },
			"SOCKS5 proxy refused: TTL expired (code 6)"},
		{"", func(r io.Reader) error { _, err := readConnectReply(r); return err },
			"SOCKS5 protocol error: connect reply cut short after 0 of 4 bytes: EOF"},
		{"\x05\x00\x00\x03\x05ab", func(r io.Reader) error { _, err := readConnectReply(r); return err },
			"SOCKS5 protocol error: connect reply cut short after 7 of 12 bytes: unexpected EOF"},
	}
	for _, tt := range tests {
		err := tt.read(&trickle{data: []byte(tt.in)})
		if err == nil || err.Error() != tt.want {
			t.Errorf("reply %q: error %v, want %q", tt.in, err, tt.want)
		}
	}
}

func TestSOCKS5Reasons(t *testing.T) {
	var got []string
	for code := range 10 {
		got = append(got, socks5Reason(byte(code)))
	}
	want := []string{
		"unassigned reply code",
		"general SOCKS server failure",
		"connection not allowed by ruleset",
		"network unreachable",
		"host unreachable",
		"connection refused",
		"TTL expired",
		"command not supported",
		"address type not supported",
		"unassigned reply code",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("socks5Reason: (-want +got)\n%s", diff)
	}
}

// errReader fails every read with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestReadErrorOther(t *testing.T) {
	cause := errors.New("connection reset")
	_, err := readConnectReply(errReader{cause})
	var pe *ProtocolError
	if !errors.Is(err, cause) || errors.As(err, &pe) {
		t.Errorf("readConnectReply on a failing reader: %v; want the cause, not a protocol error", err)
	}
}

// BenchmarkParseReplies measures the parsers on whole SOCKS5 and SOCKS4
// exchanges, as a dial parses them.
func BenchmarkParseReplies(b *testing.B) {
	socks5 := []byte("\x05\x02\x01\x00\x05\x00\x00\x03\x14electrum.example.org\xc3\x51")
	socks4 := []byte("\x00\x5a\xc3\x51\xc0\x00\x02\x01")
	b.Run("SOCKS5", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(socks5)))
		var r bytes.Reader
		for b.Loop() {
			r.Reset(socks5)
			if _, err := parseSOCKS5Replies(&r, true); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("SOCKS4", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(socks4)))
		var r bytes.Reader
		for b.Loop() {
			r.Reset(socks4)
			if _, err := readSOCKS4Reply(&r, SOCKS4); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestAdapters(t *testing.T) {
	if a := nameAddr("example.org:80"); a.Network() != "tcp" || a.String() != "example.org:80" {
		t.Errorf("nameAddr: %s %s", a.Network(), a)
	}
	cause := errors.New("dialed")
	f := dialFunc(func(ctx context.Context, network, address string) (net.Conn, error) {
		if ctx == nil || network != "tcp" || address != "host:1" {
			t.Errorf("dialFunc called with %v, %q, %q", ctx, network, address)
		}
		return nil, cause
	})
	if _, err := f.Dial("tcp", "host:1"); err != cause {
		t.Errorf("Dial: %v", err)
	}
	if errorText(nil) != "<nil>" {
		t.Errorf("errorText(nil) = %q", errorText(nil))
	}
}
