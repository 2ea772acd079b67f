package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"math"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gorpcx/gorpcx/bench/internal/jsonscan"
	"github.com/gorpcx/gorpcx/bench/internal/startup"
)

func TestBuckets(t *testing.T) {
	prev := -1
	for v := uint64(0); v < 1<<22; v += 1 + v/97 {
		b := bucketOf(v)
		if b < prev {
			t.Fatalf("bucketOf(%d) = %d, below bucketOf of a smaller value (%d)", v, b, prev)
		}
		prev = b
		mid := bucketMid(b)
		if v >= subs && math.Abs(mid-float64(v))/float64(v) > 1.0/subs {
			t.Fatalf("bucketMid(bucketOf(%d)) = %g, more than 1/%d away", v, mid, subs)
		}
	}
	if got := bucketOf(math.MaxUint64); got != buckets-1 {
		t.Errorf("bucketOf(max) = %d, want the last bucket %d", got, buckets-1)
	}
}

func TestQuantile(t *testing.T) {
	var h histogram
	if h.quantile(0.5) != 0 {
		t.Error("quantile of an empty histogram is not 0")
	}
	for i := 1; i <= 1000; i++ {
		h.add(int64(i) * 1000) // 1 µs to 1 ms
	}
	h.add(-5) // counts as 0
	for _, tt := range []struct{ q, want float64 }{{0.5, 500e3}, {0.99, 990e3}} {
		got := h.quantile(tt.q)
		if math.Abs(got-tt.want)/tt.want > 0.04 {
			t.Errorf("quantile(%g) = %g, want %g within 4 %%", tt.q, got, tt.want)
		}
	}
	var sum histogram
	sum.merge(&h)
	sum.merge(&h)
	if sum.total != 2*h.total || sum.quantile(0.5) != h.quantile(0.5) {
		t.Errorf("merge: total %d, median %g; want %d, %g", sum.total, sum.quantile(0.5), 2*h.total, h.quantile(0.5))
	}
}

func TestMessages(t *testing.T) {
	value := []byte(`"xyz"`)
	tests := []struct {
		name, method string
		items        int
		seq          uint64
		want         string
	}{
		{"single", "echo", 0, 7, `{"jsonrpc":"2.0","id":7,"method":"echo","params":["xyz"]}` + "\n"},
		{"batch", "echo", 3, 2,
			`[{"jsonrpc":"2.0","id":6,"method":"echo","params":["xyz"]},` +
				`{"jsonrpc":"2.0","id":7,"method":"echo","params":["xyz"]},` +
				`{"jsonrpc":"2.0","id":8,"method":"echo","params":["xyz"]}]` + "\n"},
		{"namespaced method", "bench_echo", 0, 0, `{"jsonrpc":"2.0","id":0,"method":"bench_echo","params":["xyz"]}` + "\n"},
		{"method needing escapes", `a"b\`, 0, 1, `{"jsonrpc":"2.0","id":1,"method":"a\"b\\","params":["xyz"]}` + "\n"},
	}
	for _, tt := range tests {
		tmpl := newTemplate(tt.method, value, tt.items)
		if diff := cmp.Diff(tt.want, string(tmpl.appendMessage(nil, tt.seq))); diff != "" {
			t.Errorf("%s: message (-want +got):\n%s", tt.name, diff)
		}
	}
	v := makeValue(16, rand.New(rand.NewPCG(1, 2)))
	if len(v) != 18 || v[0] != '"' || v[17] != '"' || bytes.ContainsAny(v[1:17], `"\`) {
		t.Errorf("makeValue(16) = %s", v)
	}
}

// TestAppendMessageAllocs checks that a message is built without
// allocating once the buffer has room, whatever the method's name.
func TestAppendMessageAllocs(t *testing.T) {
	for _, method := range []string{"echo", "bench_echo"} {
		for _, items := range []int{0, 100} {
			tmpl := newTemplate(method, []byte(`"0123456789abcdef"`), items)
			buf := make([]byte, 0, 64<<10)
			seq := uint64(0)
			allocs := testing.AllocsPerRun(100, func() {
				buf = tmpl.appendMessage(buf[:0], seq)
				seq++
			})
			if allocs != 0 {
				t.Errorf("appendMessage(%s, batch %d): %g allocations, want 0", method, items, allocs)
			}
		}
	}
}

func TestCheckResponse(t *testing.T) {
	want := []byte(`"abc"`)
	tests := []struct {
		in     string
		id     int64
		errHas string // "" for no error
	}{
		{`{"jsonrpc":"2.0","result":"abc","id":12}`, 12, ""},
		{` { "id" : 3 , "result" : "abc" , "jsonrpc" : "2.0" } `, 3, ""},
		{`{"id":0,"result":"abc","jsonrpc":"2.0"}`, 0, ""},
		{`{"jsonrpc":"2.0","result":"abd","id":4}`, 4, "differs"},
		{`{"jsonrpc":"2.0","error":{"code":-32601,"message":"no"},"id":5}`, 5, "-32601"},
		{`{"jsonrpc":"2.0","result":"abc","id":"5"}`, -1, "did not send"},
		{`{"jsonrpc":"2.0","result":"abc","id":-5}`, -1, "did not send"},
		{`{"jsonrpc":"2.0","result":"abc","id":null}`, -1, "did not send"},
		{`{"jsonrpc":"2.0","result":"abc"}`, -1, "did not send"},
		{`{"jsonrpc":"2.0","result":"abc","id":1`, -1, "malformed"},
		{`not json`, -1, "malformed"},
	}
	for _, tt := range tests {
		id, err := checkResponse([]byte(tt.in), 0, want)
		if id != tt.id {
			t.Errorf("checkResponse(%s) ID = %d, want %d", tt.in, id, tt.id)
		}
		switch {
		case tt.errHas == "" && err != nil:
			t.Errorf("checkResponse(%s): %v", tt.in, err)
		case tt.errHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errHas)):
			t.Errorf("checkResponse(%s) error = %v, want one with %q", tt.in, err, tt.errHas)
		}
	}
}

func TestParseBatch(t *testing.T) {
	r := &run{method: "echo", depth: 1, batch: 2}
	c := newConn(nil, r, []byte(`"v"`))
	seen := make([]bool, 2)
	tests := []struct {
		in     string
		seq    int64
		errHas string
	}{
		{`[{"result":"v","id":6},{"result":"v","id":7}]`, 3, ""},
		{`[{"result":"v","id":7},{"result":"v","id":6}]`, 3, ""},
		{`[{"result":"v","id":6}]`, 3, "of 1 items"},
		{`[{"result":"v","id":6},{"result":"v","id":6}]`, 3, "repeated"},
		{`[{"result":"v","id":6},{"result":"v","id":8}]`, 3, "wrong"},
		{`[{"result":"v","id":6},{"result":"w","id":7}]`, 3, "differs"},
		{`{"result":"v","id":6}`, -1, "not a batch"},
		{`[{"result":"v","id":6},`, 3, "malformed"},
	}
	for _, tt := range tests {
		seq, err := c.parse([]byte(tt.in), seen)
		if seq != tt.seq {
			t.Errorf("parse(%s) = %d, want %d", tt.in, seq, tt.seq)
		}
		switch {
		case tt.errHas == "" && err != nil:
			t.Errorf("parse(%s): %v", tt.in, err)
		case tt.errHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errHas)):
			t.Errorf("parse(%s) error = %v, want one with %q", tt.in, err, tt.errHas)
		}
	}
}

// echoServer is a test server: it answers each request line, or each
// pair of lines in reverse order when swap is set; with corrupt it
// answers with a wrong result; with useTLS it serves TLS as the
// benchmark servers' -tls does. It answers the method named method (echo
// if empty) and calls of any other with an error.
type echoServer struct {
	ln            net.Listener
	method        string
	swap, corrupt bool
	wg            sync.WaitGroup
}

func startEchoServer(t *testing.T, method string, swap, corrupt, useTLS bool) *echoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if useTLS {
		ln = tls.NewListener(ln, startup.TLSConfig())
	}
	if method == "" {
		method = "echo"
	}
	s := &echoServer{ln: ln, method: method, swap: swap, corrupt: corrupt}
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Go(func() { s.serve(c) })
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		s.wg.Wait()
	})
	return s
}

func (s *echoServer) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	var held []byte
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return
		}
		out := s.answer(bytes.TrimSpace(line))
		if s.swap && held == nil && r.Buffered() > 0 {
			held = out // answer it after the next one
			continue
		}
		out = append(out, held...)
		held = nil
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

// answer returns the answer line to a request line or batch.
func (s *echoServer) answer(line []byte) []byte {
	one := func(req []byte) []byte {
		var id, method, params []byte
		jsonscan.Object(req, 0, func(m jsonscan.Member) bool {
			switch string(m.Key) {
			case `"id"`:
				id = m.Value
			case `"method"`:
				method = m.Value
			case `"params"`:
				params = m.Value
			}
			return true
		})
		if string(method) != `"`+s.method+`"` {
			return []byte(`{"jsonrpc":"2.0","error":{"code":-32601,"message":"method not found"},"id":` + string(id) + `}`)
		}
		value := params[1 : len(params)-1]
		if s.corrupt {
			value = []byte(`"corrupt"`)
		}
		return []byte(`{"jsonrpc":"2.0","result":` + string(value) + `,"id":` + string(id) + `}`)
	}
	if line[0] != '[' {
		return append(one(line), '\n')
	}
	var items [][]byte
	jsonscan.Elements(line, 0, func(e []byte) bool {
		items = append(items, one(e))
		return true
	})
	// Answer the batch in reverse order, as the specification allows.
	out := []byte{'['}
	for i := len(items) - 1; i >= 0; i-- {
		out = append(out, items[i]...)
		if i > 0 {
			out = append(out, ',')
		}
	}
	return append(out, ']', '\n')
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name                 string
		serverMethod, method string // "" for echo
		swap, corrupt        bool
		tls                  bool
		conns, depth         int
		batch                int
		wantErrHas           string // "" for a run without errors
	}{
		{name: "in order", conns: 2, depth: 8},
		{name: "over TLS", tls: true, conns: 2, depth: 8},
		{name: "batches over TLS", tls: true, conns: 2, depth: 2, batch: 10},
		{name: "one at a time", conns: 1, depth: 1},
		{name: "out of order", swap: true, conns: 2, depth: 8},
		{name: "batches", conns: 2, depth: 2, batch: 10},
		{name: "namespaced method", serverMethod: "bench_echo", method: "bench_echo", conns: 2, depth: 4, batch: 5},
		{name: "wrong results", corrupt: true, conns: 1, depth: 4, wantErrHas: "differs"},
		{name: "wrong method", serverMethod: "bench_echo", conns: 1, depth: 4, wantErrHas: "-32601"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startEchoServer(t, tt.serverMethod, tt.swap, tt.corrupt, tt.tls)
			method := tt.method
			if method == "" {
				method = "echo"
			}
			cfg := &config{
				addr: s.ln.Addr().String(), method: method, conns: tt.conns, depth: tt.depth, batch: tt.batch, tls: tt.tls,
				duration: 300 * time.Millisecond, warmup: 50 * time.Millisecond,
				payload: 8, seed: 1, dialTimeout: 5 * time.Second,
			}
			res, err := load(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantErrHas != "" {
				if res.Errors == 0 || !strings.Contains(res.FirstError, tt.wantErrHas) {
					t.Errorf("errors %d (first %q), want errors with %q", res.Errors, res.FirstError, tt.wantErrHas)
				}
				return
			}
			if res.Errors != 0 || res.Requests == 0 {
				t.Fatalf("errors %d (first %q), requests %d; want no errors and some requests", res.Errors, res.FirstError, res.Requests)
			}
			if res.Requests%uint64(max(tt.batch, 1)) != 0 {
				t.Errorf("requests %d not a whole number of messages of %d", res.Requests, max(tt.batch, 1))
			}
			if res.P50us <= 0 || res.P99us < res.P50us {
				t.Errorf("p50 %g µs, p99 %g µs", res.P50us, res.P99us)
			}
		})
	}
}

func TestIdleCall(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		s := startEchoServer(t, "", false, false, useTLS)
		cfg := &config{addr: s.ln.Addr().String(), tls: useTLS, dialTimeout: 5 * time.Second}
		ncs, err := dialAll(cfg, 3)
		if err != nil {
			t.Fatalf("tls %v: dialAll: %v", useTLS, err)
		}
		for i, nc := range ncs {
			if _, isTLS := nc.(*tls.Conn); isTLS != useTLS {
				t.Errorf("tls %v: connection %d is a %T", useTLS, i, nc)
			}
			if err := callOnce(nc, "echo", []byte(`"hello"`), make([]byte, 256), 5*time.Second); err != nil {
				t.Errorf("tls %v: callOnce: %v", useTLS, err)
			}
		}
		closeAll(ncs)
	}
}

// TestTLSDialFailure: a -tls load against a server that does not speak
// TLS (here one that writes a line and closes) fails to dial, with the
// handshake named, instead of counting errors later.
func TestTLSDialFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("not TLS\n"))
			_ = c.Close()
		}
	})
	defer func() {
		_ = ln.Close()
		wg.Wait()
	}()
	cfg := &config{addr: ln.Addr().String(), tls: true, dialTimeout: 2 * time.Second}
	_, err = dialAll(cfg, 2)
	if err == nil || !strings.Contains(err.Error(), "TLS handshake") {
		t.Errorf("dialAll with -tls against a server without TLS: %v, want a TLS handshake error", err)
	}
}

func TestIdleCallMethod(t *testing.T) {
	tests := []struct {
		name, serverMethod, method string
		errHas                     string // "" for no error
	}{
		{"echo", "echo", "echo", ""},
		{"namespaced method", "bench_echo", "bench_echo", ""},
		{"wrong method", "bench_echo", "echo", "-32601"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startEchoServer(t, tt.serverMethod, false, false, false)
			nc, err := net.Dial("tcp", s.ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			err = callOnce(nc, tt.method, []byte(`"hello"`), make([]byte, 256), 5*time.Second)
			switch {
			case tt.errHas == "" && err != nil:
				t.Errorf("callOnce: %v", err)
			case tt.errHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errHas)):
				t.Errorf("callOnce error = %v, want one with %q", err, tt.errHas)
			}
		})
	}
}
