package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/protocol"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// A gorpcx client (server.Dialer, session.Session) against aiorpcX's
// server (serve_rs, RPCSession, handler_invocation: aiorpcx_server.py).

// note is a notification the Go client received.
type note struct {
	Method string
	Params json.RawMessage
}

// goClient is a gorpcx client session serving client.mul and
// client.fail to the server, and keeping the notifications it gets.
type goClient struct {
	*session.Session
	notes chan note
}

func dialGoClient(t *testing.T, addr string, d protocol.Dialect, maxMessage int) *goClient {
	t.Helper()
	return dialGoClientWith(t, addr, session.Options{Dialect: d}, maxMessage)
}

// dialGoClientWith is dialGoClient with the session's options o (its
// handler is the client's).
func dialGoClientWith(t *testing.T, addr string, o session.Options, maxMessage int) *goClient {
	t.Helper()
	c := &goClient{notes: make(chan note, 16)}
	methods := handler.Methods{
		"client.mul": handler.MustFunc(func(x, y float64) float64 { return x * y }, "x", "y"),
		"client.fail": handler.MustFunc(func(code int64, message string) error {
			return &jsonrpc2.Error{Code: code, Message: message}
		}),
		"client.note": session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
			var params json.RawMessage
			if req.Params != nil {
				params = append(params, *req.Params...)
			}
			c.notes <- note{req.Method, params}
			return nil, nil
		}),
	}
	dialer := server.Dialer{
		Timeout: procWait,
		Framer:  framing.Newline{Max: maxMessage},
		Options: o,
	}
	dialer.Options.Handler = methods
	sess, err := dialer.Dial(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Session = sess
	t.Cleanup(func() { sess.Abort() })
	return c
}

// callCtx bounds one call.
func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), procWait)
	t.Cleanup(cancel)
	return ctx
}

// describe renders the outcome of a call for comparison.
func describe(raw json.RawMessage, err error) string {
	var pe *protocol.ProtocolError
	var rpcErr *jsonrpc2.Error
	var ce *session.ConnectionError
	switch {
	case err == nil:
		return "result " + canonical(raw)
	case errors.As(err, &pe):
		return fmt.Sprintf("malformed response %d: %s", pe.Err.Code, pe.Err.Message)
	case errors.As(err, &rpcErr):
		return fmt.Sprintf("error %d: %s", rpcErr.Code, rpcErr.Message)
	case errors.As(err, &ce):
		return "connection lost"
	case errors.Is(err, session.ErrNoBatches):
		return "no batches"
	}
	return "failed: " + err.Error()
}

// canonical re-encodes JSON with sorted keys and numbers as written.
func canonical(raw json.RawMessage) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "invalid JSON " + string(raw)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "unencodable " + string(raw)
	}
	return string(b)
}

// call makes one call and describes its outcome.
func (c *goClient) call(t *testing.T, method string, params any) string {
	var raw json.RawMessage
	err := c.Call(callCtx(t), method, params, &raw)
	return describe(raw, err)
}

// nextNote waits for a notification; it returns "none" if none came
// within procWait.
func (c *goClient) nextNote() string {
	select {
	case n := <-c.notes:
		return n.Method + " " + canonical(n.Params)
	case <-time.After(procWait):
		return "none"
	}
}

// goSuite runs the suite of the Python client, from Go, against the
// aiorpcX server s, and returns a line per case.
func goSuite(t *testing.T, s *pyServer, c *goClient) []string {
	var out []string
	add := func(name, outcome string) { out = append(out, name+": "+outcome) }

	add("echo_positional", c.call(t, "echo", []any{map[string]any{"a": []any{1, 2.5, nil, "ü"}, "b": map[string]any{}}}))
	add("echo_named", c.call(t, "echo", map[string]any{"value": "named"}))
	add("add_positional", c.call(t, "add", []any{2, 3.5}))
	add("add_named", c.call(t, "add", map[string]any{"a": 40, "b": 2}))
	add("add_too_few", c.call(t, "add", []any{1}))
	add("add_too_many", c.call(t, "add", []any{1, 2, 3}))
	add("add_wrong_name", c.call(t, "add", map[string]any{"a": 1, "c": 2}))
	add("sleep_named", c.call(t, "sleep", map[string]any{"seconds": 0}))
	add("unknown_method", c.call(t, "no_such_method", []any{}))
	add("fail", c.call(t, "fail", []any{-1234, "custom failure"}))

	var b session.Batch
	b.Call("echo", []any{"b1"}, nil)
	b.Call("add", []any{1, 2}, nil)
	b.Notify("echo", []any{"in a batch"})
	b.Call("fail", []any{5, "five"}, nil)
	b.Call("no_such_method", nil, nil)
	err := c.SendBatch(callCtx(t), &b)
	var be *session.BatchError
	switch {
	case errors.As(err, &be):
		var parts []string
		for _, bc := range b.Calls() {
			parts = append(parts, describe(bc.Result, bc.Err))
		}
		add("batch", fmt.Sprintf("%d failed: %s", len(be.Failed), strings.Join(parts, "; ")))
	default:
		add("batch", describe(nil, err))
	}

	add("notify_back", c.call(t, "notify_back", []any{"client.note", []any{"hello", 1}}))
	add("notification_received", c.nextNote())

	if err := c.Notify(callCtx(t), "note", []any{"x", 1}); err != nil {
		t.Fatal(err)
	}
	add("notification_sent", c.call(t, "notes", nil))

	add("request_back", c.call(t, "request_back", []any{"client.mul", []any{6, 7}}))
	add("request_back_named", c.call(t, "request_back", []any{"client.mul", map[string]any{"x": 3, "y": 5}}))
	add("request_back_error", c.call(t, "request_back", []any{"client.fail", []any{-77, "client says no"}}))

	// An echo sent while a sleep runs is answered first.
	order := make(chan string, 2)
	slept := make(chan string, 1)
	ctx := callCtx(t)
	go func() {
		var raw json.RawMessage
		err := c.Call(ctx, "sleep", []any{0.5}, &raw)
		order <- "sleep"
		slept <- describe(raw, err)
	}()
	if ev := s.event(t); ev["event"] != "sleep_started" {
		t.Fatalf("aiorpcX server reported %v, want sleep_started", ev)
	}
	add("echo_during_sleep", c.call(t, "echo", []any{"quick"}))
	order <- "echo"
	add("sleep", <-slept)
	add("concurrency", <-order+", "+<-order)

	add("bye", c.call(t, "bye", nil))
	select {
	case <-c.Done():
		add("closed_after_bye", fmt.Sprint(errors.Is(c.Err(), io.EOF)))
	case <-time.After(procWait):
		add("closed_after_bye", "still open")
	}
	return out
}

// goSuiteV2 is what goSuite reports against aiorpcX in JSON-RPC 2.0.
const goSuiteV2 = `
echo_positional: result {"a":[1,2.5,null,"ü"],"b":{}}
echo_named: result "named"
add_positional: result 5.5
add_named: result 42
add_too_few: error -32602: 1 argument passed to method "add" but it requires 2
add_too_many: error -32602: 3 arguments passed to method add taking at most 2
add_wrong_name: error -32602: method "add" requires parameter "b"
sleep_named: error -32602: method "sleep" cannot be called with named arguments
unknown_method: error -32601: unknown method "no_such_method"
fail: error -1234: custom failure
batch: 2 failed: result "b1"; result 3; error 5: five; error -32601: unknown method "no_such_method"
notify_back: result true
notification_received: client.note ["hello",1]
notification_sent: result [{"method":"echo","params":["in a batch"]},{"method":"note","params":["x",1]}]
request_back: result 42
request_back_named: result 15
request_back_error: error -77: client says no
echo_during_sleep: result "quick"
sleep: result true
concurrency: echo, sleep
bye: result "bye"
closed_after_bye: true
`

// goSuiteV1 is what changes in JSON-RPC 1.0: the gorpcx client refuses
// named params and batches before sending anything (the -32602 is its
// own), and aiorpcX refuses to send named params to it.
const goSuiteV1 = `
echo_named: error -32602: JSON-RPC 1.0 does not allow named params
add_named: error -32602: JSON-RPC 1.0 does not allow named params
add_wrong_name: error -32602: JSON-RPC 1.0 does not allow named params
sleep_named: error -32602: JSON-RPC 1.0 does not allow named params
batch: no batches
notification_sent: result [{"method":"note","params":["x",1]}]
request_back_named: error -32602: JSONRPCv1 does not support named arguments
`

// lines returns base's non-blank lines with those of overrides in
// place of the lines for the same case.
func lines(t *testing.T, base string, overrides ...string) []string {
	t.Helper()
	split := func(s string) []string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if strings.TrimSpace(l) != "" {
				out = append(out, l)
			}
		}
		return out
	}
	out := split(base)
	for _, o := range overrides {
		for _, l := range split(o) {
			name, _, _ := strings.Cut(l, ":")
			found := false
			for i := range out {
				if strings.HasPrefix(out[i], name+":") {
					out[i], found = l, true
				}
			}
			if !found {
				t.Fatalf("override of unknown case %q", name)
			}
		}
	}
	return out
}

func TestAiorpcxServer(t *testing.T) {
	python(t)
	t.Parallel()
	for _, tc := range []struct {
		server string
		client protocol.Dialect
		want   []string
	}{
		{"v2", protocol.V2, lines(t, goSuiteV2)},
		{"v1", protocol.V1, lines(t, goSuiteV2, goSuiteV1)},
		{"loose", protocol.Loose, lines(t, goSuiteV2)},
		{"auto", protocol.Auto, lines(t, goSuiteV2)},
		{"auto", protocol.V2, lines(t, goSuiteV2)},
		{"auto", protocol.Loose, lines(t, goSuiteV2)},
		// A detecting gorpcx client writes 2.0 until it hears from the
		// server; aiorpcX's 1.0 server answers in 1.0, and from then
		// on the client speaks 1.0.
		{"v1", protocol.Auto, lines(t, goSuiteV2, goSuiteV1)},
	} {
		t.Run("server "+tc.server+"/client "+tc.client.String(), func(t *testing.T) {
			t.Parallel()
			s := startPyServer(t, "--protocol", tc.server)
			c := dialGoClient(t, s.addr, tc.client, 0)
			if diff := cmp.Diff(tc.want, goSuite(t, s, c)); diff != "" {
				t.Errorf("gorpcx client against aiorpcX (-want +got):\n%s", diff)
			}
		})
	}

	// aiorpcX's auto-detection takes a 1.0 request (no "jsonrpc") for
	// the loose dialect and answers in the 2.0 shape, without "error".
	// A gorpcx 1.0 client reads it as real 1.0 peers are read (the
	// missing member is null); a strict one (protocol.Options.Strict)
	// reports a malformed response, as aiorpcX's own 1.0 client does.
	t.Run("server auto/client v1", func(t *testing.T) {
		t.Parallel()
		s := startPyServer(t, "--protocol", "auto")
		c := dialGoClient(t, s.addr, protocol.V1, 0)
		if got, want := c.call(t, "echo", []any{"hi"}), `result "hi"`; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
	t.Run("server auto/client v1 strict", func(t *testing.T) {
		t.Parallel()
		s := startPyServer(t, "--protocol", "auto")
		c := dialGoClientWith(t, s.addr, session.Options{Dialect: protocol.V1, Protocol: &protocol.Options{Strict: true}}, 0)
		got := c.call(t, "echo", []any{"hi"})
		want := `malformed response -32600: response must have both "result" and "error"`
		if got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
}

func TestAiorpcxServerOversized(t *testing.T) {
	python(t)
	t.Parallel()
	// aiorpcX drops lines over 10,000 bytes and reads on at the next.
	s := startPyServer(t, "--max-size", "10000")

	// To aiorpcX: the notification is dropped (300,000 bytes, so that
	// aiorpcX, which checks its limit only on a read that holds no
	// newline, sees it whatever the TCP segmentation). This client has
	// the default limit: gorpcx's newline framer limits outgoing
	// messages as well as incoming ones.
	sender := dialGoClient(t, s.addr, protocol.V2, 0)
	if err := sender.Notify(callCtx(t), "note", []any{strings.Repeat("x", 300_000)}); err != nil {
		t.Fatal(err)
	}
	if got, want := sender.call(t, "notes", nil), "result []"; got != want {
		t.Errorf("notes after an oversized notification: got %s, want %s", got, want)
	}

	// gorpcx drops lines over 10,000 bytes too.
	c := dialGoClient(t, s.addr, protocol.V2, 10_000)
	// From aiorpcX: a notification of 50,000 bytes is dropped, and the
	// answer after it read.
	if got, want := c.call(t, "notify_big", []any{"client.note", 50_000}), "result true"; got != want {
		t.Errorf("notify_big: got %s, want %s", got, want)
	}
	if got, want := c.call(t, "echo", []any{"after"}), `result "after"`; got != want {
		t.Errorf("echo after the oversized messages: got %s, want %s", got, want)
	}
	select {
	case n := <-c.notes:
		t.Errorf("the oversized notification %s was delivered", n.Method)
	default:
	}
	if got := c.Stats().Errors; got != 1 {
		t.Errorf("client session counted %d errors, want 1 (the dropped notification)", got)
	}
}

// TestAiorpcxServerKilled kills the aiorpcX server while a gorpcx call
// waits for its answer: the call fails with a ConnectionError, and so
// does every later one.
func TestAiorpcxServerKilled(t *testing.T) {
	python(t)
	t.Parallel()
	s := startPyServer(t)
	c := dialGoClient(t, s.addr, protocol.V2, 0)
	errc := make(chan error, 1)
	go func() { errc <- c.Call(context.Background(), "sleep", []any{30}, nil) }()
	if ev := s.event(t); ev["event"] != "sleep_started" {
		t.Fatalf("aiorpcX server reported %v, want sleep_started", ev)
	}
	s.kill()
	var err error
	select {
	case err = <-errc:
	case <-time.After(procWait):
		t.Fatalf("the call did not end within %v of the server's death", procWait)
	}
	var ce *session.ConnectionError
	if !errors.As(err, &ce) {
		t.Fatalf("call: %v (%T), want a *session.ConnectionError", err, err)
	}
	if err := c.Call(callCtx(t), "echo", []any{1}, nil); !errors.As(err, &ce) {
		t.Errorf("later call: %v (%T), want a *session.ConnectionError", err, err)
	}
}
