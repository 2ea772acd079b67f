package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/gorpcx/gorpcx/protocol"
)

func TestHandlerOutcomes(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	h := Methods{
		"ok":  HandlerFunc(func(context.Context, *jsonrpc2.Request) (any, error) { return []int{1, 2}, nil }),
		"raw": HandlerFunc(func(context.Context, *jsonrpc2.Request) (any, error) { return json.RawMessage(`{"x":1}`), nil }),
		"nil": HandlerFunc(func(context.Context, *jsonrpc2.Request) (any, error) { return nil, nil }),
		"rpc": HandlerFunc(func(context.Context, *jsonrpc2.Request) (any, error) { return nil, protocol.NewError(7, "seven") }),
		"wrap": HandlerFunc(func(context.Context, *jsonrpc2.Request) (any, error) {
			return nil, fmt.Errorf("ctx: %w", protocol.NewError(8, "eight"))
		}),
		"plain": HandlerFunc(func(context.Context, *jsonrpc2.Request) (any, error) {
			return nil, errors.New("secret database password")
		}),
		"panic": HandlerFunc(func(context.Context, *jsonrpc2.Request) (any, error) { panic("boom") }),
		"unenc": HandlerFunc(func(context.Context, *jsonrpc2.Request) (any, error) { return make(chan int), nil }),
	}
	s, peer := newRawPeer(t, &Options{Handler: h, Logger: zap.New(core), Name: "s1", Peer: "198.51.100.1:5"})
	tests := []struct{ method, want string }{
		{"ok", `{"jsonrpc":"2.0","result":[1,2],"id":1}`},
		{"raw", `{"jsonrpc":"2.0","result":{"x":1},"id":1}`},
		{"nil", `{"jsonrpc":"2.0","result":null,"id":1}`},
		{"rpc", `{"jsonrpc":"2.0","error":{"code":7,"message":"seven"},"id":1}`},
		{"wrap", `{"jsonrpc":"2.0","error":{"code":8,"message":"eight"},"id":1}`},
		{"plain", `{"jsonrpc":"2.0","error":{"code":-32603,"message":"internal server error"},"id":1}`},
		{"panic", `{"jsonrpc":"2.0","error":{"code":-32603,"message":"internal server error"},"id":1}`},
		{"unenc", `{"jsonrpc":"2.0","error":{"code":-32603,"message":"internal server error"},"id":1}`},
		{"missing", `{"jsonrpc":"2.0","error":{"code":-32601,"message":"unknown method \"missing\""},"id":1}`},
		{"ok", `{"jsonrpc":"2.0","result":[1,2],"id":1}`}, // still alive after the panic
	}
	for _, tt := range tests {
		peer.send(`{"jsonrpc":"2.0","id":1,"method":"` + tt.method + `"}`)
		got := peer.recv()
		if diff := cmp.Diff(mustJSON(t, tt.want), mustJSON(t, got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.method, diff)
		}
	}
	if got := logs.FilterMessage("handler panicked").Len(); got != 1 {
		t.Errorf("panic logged %d times", got)
	}
	entries := logs.FilterMessage("handler panicked").All()
	if len(entries) == 1 {
		ctx := entries[0].ContextMap()
		if ctx["session"] != "s1" || ctx["peer"] != "198.51.100.1:5" || !strings.Contains(fmt.Sprint(ctx["stack"]), "goroutine") {
			t.Errorf("panic log fields: %v", ctx)
		}
	}
	if logs.FilterMessage("handler failed").FilterField(zap.Error(errors.New("secret database password"))).Len() != 1 {
		t.Errorf("plain error not logged with its text")
	}
	if got := s.Stats().Errors; got != 6 {
		t.Errorf("errors = %d, want 6", got)
	}
}

func TestUnknownMethodNameCut(t *testing.T) {
	_, peer := newRawPeer(t, &Options{Handler: Methods{}})
	long := strings.Repeat("m", 250)
	peer.send(`{"jsonrpc":"2.0","id":1,"method":"` + long + `"}`)
	var resp struct {
		Error struct{ Message string }
	}
	if err := json.Unmarshal([]byte(peer.recv()), &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Error.Message) > 130 || !strings.HasPrefix(resp.Error.Message, `unknown method "mmm`) {
		t.Errorf("message %q", resp.Error.Message)
	}
}

func TestNilHandler(t *testing.T) {
	_, peer := newRawPeer(t, nil)
	peer.send(`{"jsonrpc":"2.0","id":"a","method":"x"}`)
	want := `{"jsonrpc":"2.0","error":{"code":-32601,"message":"unknown method \"x\""},"id":"a"}`
	if diff := cmp.Diff(mustJSON(t, want), peer.recvJSON()); diff != "" {
		t.Error(diff)
	}
}

func TestRawIDsEchoed(t *testing.T) {
	_, peer := newRawPeer(t, &Options{Handler: echoParams})
	for _, id := range []string{`-5`, `1.5`, `1e3`, `18446744073709551617`, `"abc"`, `""`, `"1"`, `null`, `9007199254740993`} {
		peer.send(`{"jsonrpc":"2.0","id":` + id + `,"method":"e","params":[1]}`)
		if got, want := peer.recv(), `{"jsonrpc":"2.0","result":[1],"id":`+id+`}`; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}

func TestReplyAndDisconnect(t *testing.T) {
	h := Methods{
		"bye": HandlerFunc(func(context.Context, *jsonrpc2.Request) (any, error) {
			return nil, &ReplyAndDisconnect{Result: "bye"}
		}),
		"byeErr": HandlerFunc(func(context.Context, *jsonrpc2.Request) (any, error) {
			return nil, &ReplyAndDisconnect{Result: protocol.NewError(3, "go away")}
		}),
	}
	for _, tt := range []struct{ method, want string }{
		{"bye", `{"jsonrpc":"2.0","result":"bye","id":1}`},
		{"byeErr", `{"jsonrpc":"2.0","error":{"code":3,"message":"go away"},"id":1}`},
	} {
		s, peer := newRawPeer(t, &Options{Handler: h})
		peer.send(`{"jsonrpc":"2.0","id":1,"method":"` + tt.method + `"}`)
		if got := peer.recv(); got != tt.want {
			t.Errorf("got %s, want %s", got, tt.want)
		}
		if err := s.Wait(); !errors.Is(err, ErrClosed) {
			t.Errorf("session ended with %v", err)
		}
		if _, err := peer.r.ReadByte(); err == nil {
			t.Error("connection still open")
		}
	}
}

func TestHandlerContext(t *testing.T) {
	type key struct{}
	parent := context.WithValue(context.Background(), key{}, "v")
	var s *Session
	got := make(chan error, 1)
	h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		switch {
		case FromContext(ctx) != s:
			got <- errors.New("FromContext is not the session")
		case ctx.Value(key{}) != "v":
			got <- errors.New("parent value lost")
		default:
			if _, ok := ctx.Deadline(); !ok {
				got <- errors.New("no deadline")
			} else {
				got <- nil
			}
		}
		return nil, nil
	})
	var peer *rawPeer
	s, peer = newRawPeer(t, &Options{Handler: h, Context: parent})
	peer.send(`{"jsonrpc":"2.0","id":1,"method":"x"}`)
	if err := <-got; err != nil {
		t.Error(err)
	}
	peer.recv()
	if FromContext(context.Background()) != nil {
		t.Error("FromContext of a plain context is not nil")
	}
}

func TestNotificationsBeforeResult(t *testing.T) {
	h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		s := FromContext(ctx)
		for i := range 3 {
			if err := s.Notify(ctx, "progress", []int{i}); err != nil {
				return nil, err
			}
		}
		return "done", nil
	})
	_, peer := newRawPeer(t, &Options{Handler: h})
	peer.send(`{"jsonrpc":"2.0","id":1,"method":"work"}`)
	var got []string
	for range 4 {
		got = append(got, peer.recv())
	}
	want := []string{
		`{"jsonrpc":"2.0","method":"progress","params":[0]}`,
		`{"jsonrpc":"2.0","method":"progress","params":[1]}`,
		`{"jsonrpc":"2.0","method":"progress","params":[2]}`,
		`{"jsonrpc":"2.0","result":"done","id":1}`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestServerToClientRequest(t *testing.T) {
	server := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		var answer string
		if err := FromContext(ctx).Call(ctx, "client.name", nil, &answer); err != nil {
			return nil, err
		}
		return "hello " + answer, nil
	})
	client := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		return "gopher", nil
	})
	cli, _ := pair(t, &Options{Handler: client}, &Options{Handler: server})
	var got string
	if err := cli.Call(context.Background(), "greet", nil, &got); err != nil {
		t.Fatal(err)
	}
	if got != "hello gopher" {
		t.Errorf("got %q", got)
	}
}

// Two sessions call each other recursively: A calls B, whose handler
// calls A, and so on to depth 10, with no deadlock.
func TestRecursiveCalls(t *testing.T) {
	const depth = 10
	h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		var n []int
		if err := params(req, &n); err != nil {
			return nil, err
		}
		if n[0] >= depth {
			return n[0], nil
		}
		var got int
		err := FromContext(ctx).Call(ctx, "down", []int{n[0] + 1}, &got)
		return got, err
	})
	for _, transport := range []string{"pipe", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			mk := pair
			if transport == "tcp" {
				mk = tcpPair
			}
			a, _ := mk(t, &Options{Handler: h}, &Options{Handler: h})
			var got int
			if err := a.Call(context.Background(), "down", []int{1}, &got); err != nil {
				t.Fatal(err)
			}
			if got != depth {
				t.Errorf("got %d", got)
			}
		})
	}
}

func TestConcurrencyLimit(t *testing.T) {
	const limit = 3
	var running, peak atomic.Int32
	release := make(chan struct{})
	h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		<-release
		running.Add(-1)
		return nil, nil
	})
	cli, srv := pair(t, &Options{Outgoing: &Outgoing{Disabled: true}}, &Options{Handler: h, Concurrency: limit, MaxQueued: 100})
	const calls = 20
	var wg sync.WaitGroup
	for range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := cli.Call(context.Background(), "x", nil, nil); err != nil {
				t.Error(err)
			}
		}()
	}
	waitFor(t, "all read", func() bool { return srv.Stats().Unanswered == calls })
	waitFor(t, "limit reached", func() bool { return running.Load() == limit })
	time.Sleep(10 * time.Millisecond)
	if got := srv.Stats().Running; got != limit {
		t.Errorf("running = %d, want %d", got, limit)
	}
	close(release)
	wg.Wait()
	if got := peak.Load(); got != limit {
		t.Errorf("peak concurrency %d, want %d", got, limit)
	}
}

func TestSetConcurrency(t *testing.T) {
	var running atomic.Int32
	release := make(chan struct{})
	h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		running.Add(1)
		<-release
		return nil, nil
	})
	cli, srv := pair(t, &Options{Outgoing: &Outgoing{Disabled: true}}, &Options{Handler: h, Concurrency: 1})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() { defer wg.Done(); _ = cli.Call(context.Background(), "x", nil, nil) }()
	}
	waitFor(t, "one running", func() bool { return running.Load() == 1 && srv.Stats().Unanswered == 4 })
	srv.SetConcurrency(4)
	waitFor(t, "four running", func() bool { return running.Load() == 4 })
	if got := srv.Stats().Concurrency; got != 4 {
		t.Errorf("Concurrency = %d", got)
	}
	close(release)
	wg.Wait()
}

func TestConcurrencyZeroIsExcessive(t *testing.T) {
	called := make(chan struct{}, 1)
	h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		called <- struct{}{}
		return nil, nil
	})
	s, peer := newRawPeer(t, &Options{Handler: h})
	s.SetConcurrency(0)
	peer.send(`{"jsonrpc":"2.0","id":1,"method":"x"}`)
	want := `{"jsonrpc":"2.0","error":{"code":-101,"message":"excessive resource usage"},"id":1}`
	if got := peer.recv(); got != want {
		t.Errorf("got %s", got)
	}
	if err := s.Wait(); !errors.Is(err, ErrExcessiveCost) {
		t.Errorf("ended with %v", err)
	}
	select {
	case <-called:
		t.Error("handler ran")
	default:
	}
}

// A flood of requests with handlers stuck: the session stops reading
// once the queue is full instead of buffering without bound.
func TestBackPressure(t *testing.T) {
	release := make(chan struct{})
	h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		<-release
		return nil, nil
	})
	s, peer := newRawPeer(t, &Options{Handler: h, Concurrency: 2, MaxQueued: 3})
	sent := make(chan int, 1)
	go func() {
		n := 0
		for ; n < 1000; n++ {
			peer.conn.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
			if _, err := fmt.Fprintf(peer.conn, `{"jsonrpc":"2.0","id":%d,"method":"x"}`+"\n", n); err != nil {
				break
			}
		}
		sent <- n
	}()
	n := <-sent
	// 2 running + 3 queued + 1 held by the reader waiting for room.
	if n > 6 || n < 5 {
		t.Errorf("the peer could write %d requests; want the reader to stop after 6", n)
	}
	if got := s.Stats().Unanswered; got > 5 {
		t.Errorf("unanswered = %d, over concurrency + queue", got)
	}
	close(release)
	for range n {
		peer.recv()
	}
}

func TestProcessingTimeout(t *testing.T) {
	cancelled := make(chan error, 1)
	h := Methods{
		"slow": HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
			<-ctx.Done()
			cancelled <- ctx.Err()
			return "too late", nil
		}),
		"fast": HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) { return "ok", nil }),
	}
	s, peer := newRawPeer(t, &Options{Handler: h, ProcessingTimeout: 30 * time.Millisecond})
	peer.send(`{"jsonrpc":"2.0","id":1,"method":"slow"}`)
	want := `{"jsonrpc":"2.0","error":{"code":-102,"message":"server busy - request timed out"},"id":1}`
	if got := peer.recv(); got != want {
		t.Errorf("got %s", got)
	}
	if err := <-cancelled; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("handler context: %v", err)
	}
	// The session goes on; the late result is never sent.
	peer.send(`{"jsonrpc":"2.0","id":2,"method":"fast"}`)
	if got := peer.recv(); got != `{"jsonrpc":"2.0","result":"ok","id":2}` {
		t.Errorf("got %s", got)
	}
	if got := s.Stats().Errors; got != 1 {
		t.Errorf("errors = %d", got)
	}
}

// Requests still waiting in the queue when their time runs out are
// answered too, and never run.
func TestProcessingTimeoutWhileQueued(t *testing.T) {
	release := make(chan struct{})
	var ran atomic.Int32
	// The handler ignores its context: its slot stays taken after its
	// request timed out, so the second request never gets one.
	h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		ran.Add(1)
		<-release
		return nil, nil
	})
	_, peer := newRawPeer(t, &Options{Handler: h, Concurrency: 1, ProcessingTimeout: 40 * time.Millisecond})
	peer.send(`{"jsonrpc":"2.0","id":1,"method":"x"}`)
	peer.send(`{"jsonrpc":"2.0","id":2,"method":"x"}`)
	got := map[string]bool{peer.recv(): true, peer.recv(): true}
	want := map[string]bool{
		`{"jsonrpc":"2.0","error":{"code":-102,"message":"server busy - request timed out"},"id":1}`: true,
		`{"jsonrpc":"2.0","error":{"code":-102,"message":"server busy - request timed out"},"id":2}`: true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
	close(release)
	if n := ran.Load(); n != 1 {
		t.Errorf("%d handlers ran, want 1", n)
	}
}

func TestResponseTooLarge(t *testing.T) {
	h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		var n []int
		_ = params(req, &n)
		return strings.Repeat("x", n[0]), nil
	})
	_, peer := newRawPeer(t, &Options{Handler: h, MaxResponseSize: 100})
	peer.send(`{"jsonrpc":"2.0","id":1,"method":"x","params":[10]}`)
	if got := peer.recv(); got != `{"jsonrpc":"2.0","result":"xxxxxxxxxx","id":1}` {
		t.Errorf("small: %s", got)
	}
	peer.send(`{"jsonrpc":"2.0","id":2,"method":"x","params":[200]}`)
	want := `{"jsonrpc":"2.0","error":{"code":-32600,"message":"response too large (over 100 bytes)"},"id":2}`
	if got := peer.recv(); got != want {
		t.Errorf("large: %s", got)
	}
	// In a batch, once the replies add up to more than the limit, the
	// rest are replaced.
	peer.send(`[{"jsonrpc":"2.0","id":3,"method":"x","params":[30]},{"jsonrpc":"2.0","id":4,"method":"x","params":[60]}]`)
	var items []map[string]any
	if err := json.Unmarshal([]byte(peer.recv()), &items); err != nil {
		t.Fatal(err)
	}
	byID := map[float64]map[string]any{}
	for _, it := range items {
		byID[it["id"].(float64)] = it
	}
	if len(items) != 2 || (byID[3]["error"] == nil) == (byID[4]["error"] == nil) {
		t.Errorf("want exactly one of the two replaced: %v", items)
	}
}

func TestIncomingBatch(t *testing.T) {
	h := Methods{
		"add": HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
			var n []int
			if err := params(req, &n); err != nil {
				return nil, protocol.InvalidParams(err.Error())
			}
			return n[0] + n[1], nil
		}),
		"note": HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) { return nil, nil }),
	}
	_, peer := newRawPeer(t, &Options{Handler: h})
	peer.send(`[{"jsonrpc":"2.0","id":1,"method":"add","params":[1,2]},{"jsonrpc":"2.0","method":"note"},{"jsonrpc":"2.0","id":2,"method":"nope"},{"foo":"bar"},{"jsonrpc":"2.0","id":3,"method":"add","params":[3,4]}]`)
	var items []any
	if err := json.Unmarshal([]byte(peer.recv()), &items); err != nil {
		t.Fatal(err)
	}
	want := []any{
		mustJSON(t, `{"jsonrpc":"2.0","result":3,"id":1}`),
		mustJSON(t, `{"jsonrpc":"2.0","error":{"code":-32601,"message":"unknown method \"nope\""},"id":2}`),
		mustJSON(t, `{"jsonrpc":"2.0","error":{"code":-32600,"message":"x"},"id":null}`),
		mustJSON(t, `{"jsonrpc":"2.0","result":7,"id":3}`),
	}
	// Order is free; compare as sets, ignoring the invalid item's text.
	norm := func(v []any) map[string]int {
		m := map[string]int{}
		for _, x := range v {
			o := x.(map[string]any)
			if e, ok := o["error"].(map[string]any); ok && e["code"].(float64) == -32600 {
				e["message"] = "x"
			}
			b, _ := json.Marshal(o)
			m[string(b)]++
		}
		return m
	}
	if diff := cmp.Diff(norm(want), norm(items)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// A batch of notifications only gets no reply at all.
	peer.send(`[{"jsonrpc":"2.0","method":"note"},{"jsonrpc":"2.0","method":"note"}]`)
	peer.send(`{"jsonrpc":"2.0","id":9,"method":"add","params":[1,1]}`)
	if got := peer.recv(); got != `{"jsonrpc":"2.0","result":2,"id":9}` {
		t.Errorf("got %s", got)
	}
}

func TestParseErrors(t *testing.T) {
	s, peer := newRawPeer(t, &Options{Handler: echoParams})
	for _, tt := range []struct {
		bad  string
		code float64
		id   any
	}{
		{`{"jsonrpc":`, -32700, nil},
		{`[]`, -32600, nil},
		{"\xff\xfe", -32700, nil},
		{`{"jsonrpc":"2.0","id":1,"method":5}`, -32600, 1.0},
	} {
		peer.send(tt.bad)
		got := peer.recvJSON().(map[string]any)
		e, _ := got["error"].(map[string]any)
		if got["id"] != tt.id || e == nil || e["code"] != tt.code {
			t.Errorf("%q: got %v", tt.bad, got)
		}
	}
	// The session goes on.
	peer.send(`{"jsonrpc":"2.0","id":1,"method":"e","params":[1]}`)
	if got := peer.recv(); got != `{"jsonrpc":"2.0","result":[1],"id":1}` {
		t.Errorf("got %s", got)
	}
	st := s.Stats()
	if st.Errors != 4 {
		t.Errorf("errors = %d", st.Errors)
	}
}

func TestConnectionLossFailsPending(t *testing.T) {
	s, peer := newRawPeer(t, &Options{Side: Client})
	ctxSeen := make(chan error, 1)
	_ = ctxSeen
	const n = 5
	errs := make(chan error, n)
	for range n {
		go func() { errs <- s.Call(context.Background(), "m", nil, nil) }()
	}
	for range n {
		peer.recv()
	}
	b := &Batch{}
	b.Call("a", nil, nil)
	b.Call("b", nil, nil)
	batchErr := make(chan error, 1)
	go func() { batchErr <- s.SendBatch(context.Background(), b) }()
	peer.recv()
	peer.conn.Close()
	for range n {
		err := <-errs
		var ce *ConnectionError
		if !errors.As(err, &ce) || !errors.Is(err, io.EOF) {
			t.Errorf("got %T %v, want ConnectionError wrapping EOF", err, err)
		}
	}
	var ce *ConnectionError
	if err := <-batchErr; !errors.As(err, &ce) {
		t.Errorf("batch: got %v", err)
	}
	for _, c := range b.Calls() {
		if !errors.As(c.Err, &ce) {
			t.Errorf("batch call %s: %v", c.Method, c.Err)
		}
	}
	// Calls after the loss fail at once with the same type.
	if err := s.Call(context.Background(), "m", nil, nil); !errors.As(err, &ce) {
		t.Errorf("later call: %v", err)
	}
	if err := s.Notify(context.Background(), "m", nil); !errors.As(err, &ce) {
		t.Errorf("later notify: %v", err)
	}
	if err := s.Wait(); !errors.Is(err, io.EOF) {
		t.Errorf("Wait = %v", err)
	}
}

func TestConnectionLossCancelsHandlers(t *testing.T) {
	got := make(chan error, 1)
	started := make(chan struct{})
	h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		close(started)
		<-ctx.Done()
		got <- ctx.Err()
		return nil, nil
	})
	s, peer := newRawPeer(t, &Options{Handler: h})
	peer.send(`{"jsonrpc":"2.0","id":1,"method":"x"}`)
	<-started
	s.Abort()
	if err := <-got; !errors.Is(err, context.Canceled) {
		t.Errorf("handler context: %v", err)
	}
}
