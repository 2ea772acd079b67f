package gorpcxotel

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

var tp = []string{"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}

func TestInjectMeta(t *testing.T) {
	tests := []struct {
		name, params string
		kv           []string
		want         string
	}{
		{"object", `{"a":1}`, tp, `{"_meta":{"traceparent":"` + tp[1] + `"},"a":1}`},
		{"empty object", `{}`, tp, `{"_meta":{"traceparent":"` + tp[1] + `"}}`},
		{"white space", " { \"a\" : [1, {\"_meta\":2}] } ", tp, ` {"_meta":{"traceparent":"` + tp[1] + `"}, "a" : [1, {"_meta":2}] } `},
		{"two fields", `{"a":1}`, []string{"traceparent", "x", "tracestate", "k=v"}, `{"_meta":{"traceparent":"x","tracestate":"k=v"},"a":1}`},
		{"meta merged", `{"a":1,"_meta":{"progressToken":5}}`, tp, `{"a":1,"_meta":{"traceparent":"` + tp[1] + `","progressToken":5}}`},
		{"meta empty", `{"_meta":{ }}`, tp, `{"_meta":{"traceparent":"` + tp[1] + `" }}`},
		{"meta has field", `{"_meta":{"traceparent":"mine"}}`, tp, `{"_meta":{"traceparent":"mine"}}`},
		{"meta has one of two", `{"_meta":{"traceparent":"mine"}}`, []string{"traceparent", "x", "tracestate", "k=v"}, `{"_meta":{"tracestate":"k=v","traceparent":"mine"}}`},
		{"meta not object", `{"_meta":null,"a":1}`, tp, `{"_meta":null,"a":1}`},
		{"array", `[1,2]`, tp, `[1,2]`},
		{"string", `"x"`, tp, `"x"`},
		{"invalid", `{"a":}`, tp, `{"a":}`},
		{"invalid after", `{"a":1,}`, tp, `{"a":1,}`},
		{"unterminated", `{"a":1`, tp, `{"a":1`},
		{"no colon", `{"a" 1}`, tp, `{"a" 1}`},
		{"bad key", `{a:1}`, tp, `{a:1}`},
		{"bad string", "{\"a\x01\":1}", tp, "{\"a\x01\":1}"},
		{"escaped value", `{}`, []string{"k", "a\"b\\c\n\xff€"}, `{"_meta":{"k":"a\"b\\c\u000a\ufffd€"}}`},
		{"nothing to add", `{"a":1}`, nil, `{"a":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, changed := injectMeta([]byte(tt.params), tt.kv)
			if got := string(out); got != tt.want || changed != (got != tt.params) {
				t.Errorf("injectMeta(%s) = %s, %v; want %s", tt.params, got, changed, tt.want)
			}
			got := string(out)
			if json.Valid([]byte(tt.params)) && !json.Valid([]byte(got)) {
				t.Errorf("injectMeta made invalid JSON %s", got)
			}
		})
	}
}

func TestStripMeta(t *testing.T) {
	fields := []string{"traceparent", "tracestate"}
	tests := []struct {
		name, params, want string
	}{
		{"only meta", `{"_meta":{"traceparent":"x"}}`, `{}`},
		{"meta first", `{"_meta":{"traceparent":"x","tracestate":"y"},"a":1}`, `{"a":1}`},
		{"meta last", `{"a":1, "b" : 2 ,"_meta":{"traceparent":"x"}}`, `{"a":1,"b" : 2}`},
		{"meta kept", `{"_meta":{"traceparent":"x","progressToken":5},"a":1}`, `{"_meta":{"progressToken":5},"a":1}`},
		{"meta kept, spaces", `{"_meta": { "progressToken" : 5 , "traceparent":"x" } ,"a":1}`, `{"_meta": {"progressToken" : 5} ,"a":1}`},
		{"nothing of ours", `{"_meta":{"progressToken":5}}`, `{"_meta":{"progressToken":5}}`},
		{"no meta", `{"a":1}`, `{"a":1}`},
		{"meta not object", `{"_meta":[1]}`, `{"_meta":[1]}`},
		{"array", `[{"_meta":{"traceparent":"x"}}]`, `[{"_meta":{"traceparent":"x"}}]`},
		{"nested not touched", `{"a":{"_meta":{"traceparent":"x"}}}`, `{"a":{"_meta":{"traceparent":"x"}}}`},
		{"escaped name not recognised", `{"\u005fmeta":{"traceparent":"x"}}`, `{"\u005fmeta":{"traceparent":"x"}}`},
		{"invalid", `{"_meta":{"traceparent":"x",}}`, `{"_meta":{"traceparent":"x",}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, changed := stripMeta([]byte(tt.params), fields)
			if got := string(out); got != tt.want || changed != (got != tt.params) {
				t.Errorf("stripMeta(%s) = %s, %v; want %s", tt.params, got, changed, tt.want)
			}
		})
	}
}

// TestMetaRoundTrip: what injectMeta adds, stripMeta removes, leaving
// the params as they were (their white space between members aside).
func TestMetaRoundTrip(t *testing.T) {
	for _, p := range []string{`{}`, `{"a":1}`, `{"a":[1,2],"b":{"c":null}}`, `{"_meta":{"progressToken":"t"},"a":1}`} {
		in, changed := injectMeta([]byte(p), tp)
		if !changed {
			t.Errorf("injectMeta(%s) added nothing", p)
		}
		if got, _ := stripMeta(in, []string{"traceparent", "tracestate"}); string(got) != p {
			t.Errorf("stripMeta(injectMeta(%s)) = %s", p, got)
		}
	}
}

func TestMetaCarrier(t *testing.T) {
	c := metaCarrier{meta: []byte(`{"traceparent":"a\u0062c","n":5,"tracestate":""}`)}
	for _, tt := range []struct{ key, want string }{{"traceparent", "abc"}, {"n", ""}, {"tracestate", ""}, {"missing", ""}} {
		if got := c.Get(tt.key); got != tt.want {
			t.Errorf("Get(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
	c.Set("traceparent", "x")
	if got := c.Get("traceparent"); got != "abc" {
		t.Errorf("Set changed a read-only carrier: %q", got)
	}
	if keys := c.Keys(); !slices.Equal(keys, []string{"traceparent", "n", "tracestate"}) {
		t.Errorf("Keys() = %q", keys)
	}
}

func TestFieldCarrier(t *testing.T) {
	var c fieldCarrier
	c.Set("a", "1")
	c.Set("b", "2")
	c.Set("a", "3")
	if c.Get("a") != "3" || c.Get("b") != "2" || c.Get("c") != "" {
		t.Errorf("carrier %q", []string(c))
	}
	if keys := c.Keys(); !slices.Equal(keys, []string{"a", "b"}) {
		t.Errorf("Keys() = %q", keys)
	}
}

func TestSplitHostPort(t *testing.T) {
	tests := []struct {
		in, host string
		port     int
		ok       bool
	}{
		{"127.0.0.1:50001", "127.0.0.1", 50001, true},
		{"[::1]:443", "::1", 443, true},
		{"host.example:0", "host.example", 0, true},
		{"::1", "", 0, false},
		{"local", "", 0, false},
		{"/run/app.sock", "", 0, false},
		{"127.0.0.1:", "", 0, false},
		{"127.0.0.1:65536", "", 0, false},
		{"127.0.0.1:123456", "", 0, false},
		{"127.0.0.1:8x", "", 0, false},
		{":80", "", 0, false},
		{"[::1]x:80", "", 0, false},
	}
	for _, tt := range tests {
		host, port, ok := splitHostPort(tt.in)
		if host != tt.host || port != tt.port || ok != tt.ok {
			t.Errorf("splitHostPort(%q) = %q, %d, %v; want %q, %d, %v", tt.in, host, port, ok, tt.host, tt.port, tt.ok)
		}
	}
}

func TestRequestID(t *testing.T) {
	long := strings.Repeat("9", 300)
	tests := []struct{ raw, want string }{
		{`17`, "17"},
		{`"abc"`, "abc"},
		{`"a\"b"`, `a"b`},
		{`null`, "null"},
		{long, long[:MaxAttribute]},
		{`"` + strings.Repeat("é", 200) + `"`, strings.Repeat("é", MaxAttribute/2)},
	}
	for _, tt := range tests {
		if got := requestID([]byte(tt.raw)); got != tt.want {
			t.Errorf("requestID(%s) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

func TestClip(t *testing.T) {
	// "é" is two bytes: a cut in its middle goes back to its start.
	s := "a" + strings.Repeat("é", MaxAttribute)
	got := clip(s)
	if len(got) != MaxAttribute-1 || !strings.HasPrefix(s, got) {
		t.Errorf("clip cut at %d bytes, want %d", len(got), MaxAttribute-1)
	}
	if clip("short") != "short" {
		t.Error("clip changed a short string")
	}
}

func TestSpanName(t *testing.T) {
	c := newConfig(&Options{Methods: []string{"b", "a"}})
	for _, tt := range []struct{ method, want string }{{"a", "a"}, {"b", "b"}, {"c", OtherMethod}, {"", OtherMethod}} {
		if got := c.spanName(tt.method); got != tt.want {
			t.Errorf("spanName(%q) = %q, want %q", tt.method, got, tt.want)
		}
	}
	c = newConfig(nil)
	long := strings.Repeat("m", 300)
	if got := c.spanName(long); got != long[:MaxAttribute] {
		t.Errorf("spanName of a long method: %d bytes", len(got))
	}
}
