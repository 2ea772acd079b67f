package session

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
)

// observed is what a blocking handler saw of its context.
type observed struct {
	err, cause, derivedCause error
}

// blocker is a handler whose "block" method waits for its context to
// end and reports what it saw; "fast" answers at once; any other method
// fails the test (a cancellation must never reach the handler).
type blocker struct {
	t       *testing.T
	started chan string // raw ID of each "block" started
	seen    chan observed
	answer  func(ctx context.Context) (any, error)
}

func newBlocker(t *testing.T) *blocker {
	return &blocker{t: t, started: make(chan string, 8), seen: make(chan observed, 8),
		answer: func(ctx context.Context) (any, error) { return nil, ctx.Err() }}
}

func (b *blocker) Handle(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	switch req.Method {
	case "block":
		derived, cancel := context.WithCancel(ctx)
		defer cancel()
		b.started <- string(RawID(ctx))
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
			b.t.Error("handler's context never cancelled")
		}
		<-derived.Done()
		b.seen <- observed{ctx.Err(), context.Cause(ctx), context.Cause(derived)}
		return b.answer(ctx)
	case "fast":
		return "ok", nil
	}
	b.t.Errorf("handler got %q", req.Method)
	return nil, nil
}

func (b *blocker) waitStarted(t *testing.T) string {
	t.Helper()
	select {
	case id := <-b.started:
		return id
	case <-time.After(5 * time.Second):
		t.Fatal("handler never started")
	}
	return ""
}

func (b *blocker) waitSeen(t *testing.T) observed {
	t.Helper()
	select {
	case o := <-b.seen:
		return o
	case <-time.After(5 * time.Second):
		t.Fatal("handler never observed its context end")
	}
	return observed{}
}

// TestCancelAcrossTheWire cancels a call both ways between two sessions
// over loopback TCP: the callee's handler sees its context cancelled
// with the peer as the cause, answers -32800, and the caller, which has
// forgotten the call, drops that answer and goes on.
func TestCancelAcrossTheWire(t *testing.T) {
	for _, dir := range []string{"client calls server", "server calls client"} {
		t.Run(dir, func(t *testing.T) {
			h := newBlocker(t)
			cliOpts := &Options{Cancel: &Cancellation{}}
			srvOpts := &Options{Cancel: &Cancellation{}}
			if dir == "client calls server" {
				srvOpts.Handler = h
			} else {
				cliOpts.Handler = h
			}
			cli, srv := tcpPair(t, cliOpts, srvOpts)
			caller, callee := cli, srv
			if dir != "client calls server" {
				caller, callee = srv, cli
			}
			ctx, cancel := context.WithCancelCause(context.Background())
			done := make(chan error, 1)
			go func() { done <- caller.Call(ctx, "block", nil, nil) }()
			h.waitStarted(t)
			cancel(errors.New("user gave up"))
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("Call returned %v, want context.Canceled", err)
			}
			o := h.waitSeen(t)
			if o.err != context.Canceled || o.cause != ErrCancelledByPeer || o.derivedCause != ErrCancelledByPeer {
				t.Fatalf("handler saw err %v, cause %v, derived cause %v; want context.Canceled and ErrCancelledByPeer",
					o.err, o.cause, o.derivedCause)
			}
			// The -32800 answer is dropped; the session goes on.
			var got string
			if err := caller.Call(context.Background(), "fast", nil, &got); err != nil || got != "ok" {
				t.Fatalf("next call: %q, %v", got, err)
			}
			if st := caller.Stats(); st.CancelsSent != 1 || st.Errors != 0 {
				t.Errorf("caller stats: sent %d cancellations, %d errors; want 1, 0", st.CancelsSent, st.Errors)
			}
			if st := callee.Stats(); st.CancelsReceived != 1 || st.CancelsUnknown != 0 || st.Errors != 0 {
				t.Errorf("callee stats: received %d, unknown %d, errors %d; want 1, 0, 0",
					st.CancelsReceived, st.CancelsUnknown, st.Errors)
			}
		})
	}
}

// TestCancelIncomingWire drives a serving session by hand: what a
// received cancellation does to the request it names, on the wire.
func TestCancelIncomingWire(t *testing.T) {
	tests := []struct {
		name     string
		cancel   *Cancellation
		request  string
		cancelNf string
		answer   func(ctx context.Context) (any, error) // nil: return ctx.Err()
		want     string
		errors   uint64 // charged to the peer
	}{
		{
			name:     "LSP number ID",
			cancel:   &Cancellation{},
			request:  `{"jsonrpc":"2.0","id":7,"method":"block"}`,
			cancelNf: `{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":7}}`,
			want:     `{"jsonrpc":"2.0","id":7,"error":{"code":-32800,"message":"request cancelled"}}`,
		},
		{
			name:     "LSP string ID",
			cancel:   &Cancellation{Method: LSPCancelMethod},
			request:  `{"jsonrpc":"2.0","id":"a-1","method":"block"}`,
			cancelNf: `{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id": "a-1" }}`,
			want:     `{"jsonrpc":"2.0","id":"a-1","error":{"code":-32800,"message":"request cancelled"}}`,
		},
		{
			name:     "handler answers anyway",
			cancel:   &Cancellation{},
			request:  `{"jsonrpc":"2.0","id":8,"method":"block"}`,
			cancelNf: `{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":8}}`,
			answer:   func(context.Context) (any, error) { return "partial", nil },
			want:     `{"jsonrpc":"2.0","id":8,"result":"partial"}`,
		},
		{
			name:     "handler's own error",
			cancel:   &Cancellation{},
			request:  `{"jsonrpc":"2.0","id":9,"method":"block"}`,
			cancelNf: `{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":9}}`,
			answer: func(context.Context) (any, error) {
				return nil, &jsonrpc2.Error{Code: 5, Message: "stopped"}
			},
			want:   `{"jsonrpc":"2.0","id":9,"error":{"code":5,"message":"stopped"}}`,
			errors: 1, // an error reply, as ever
		},
		{
			name: "custom convention",
			cancel: &Cancellation{
				Method: "cancel",
				ID: func(params json.RawMessage) (json.RawMessage, bool) {
					var ids []json.RawMessage
					if json.Unmarshal(params, &ids) != nil || len(ids) != 1 {
						return nil, false
					}
					return ids[0], true
				},
			},
			request:  `{"jsonrpc":"2.0","id":"x","method":"block"}`,
			cancelNf: `{"jsonrpc":"2.0","method":"cancel","params":["x"]}`,
			want:     `{"jsonrpc":"2.0","id":"x","error":{"code":-32800,"message":"request cancelled"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newBlocker(t)
			if tt.answer != nil {
				h.answer = tt.answer
			}
			s, peer := newRawPeer(t, &Options{Handler: h, Cancel: tt.cancel})
			peer.send(tt.request)
			h.waitStarted(t)
			peer.send(tt.cancelNf)
			if o := h.waitSeen(t); o.cause != ErrCancelledByPeer {
				t.Errorf("cause %v, want ErrCancelledByPeer", o.cause)
			}
			if got := peer.recvJSON(); !reflect.DeepEqual(got, mustJSON(t, tt.want)) {
				t.Errorf("got %v, want %s", got, tt.want)
			}
			if st := s.Stats(); st.CancelsReceived != 1 || st.Errors != tt.errors {
				t.Errorf("received %d cancellations, %d errors; want 1, %d", st.CancelsReceived, st.Errors, tt.errors)
			}
		})
	}
}

// TestCancelUnknownIgnored: a cancellation naming no unanswered request
// (never sent, already answered, no ID, ID of another kind) is ignored,
// counted, not passed to the handler and not charged to the peer.
func TestCancelUnknownIgnored(t *testing.T) {
	h := newBlocker(t)
	s, peer := newRawPeer(t, &Options{Handler: h, Cancel: &Cancellation{}})
	peer.send(`{"jsonrpc":"2.0","id":1,"method":"fast"}`)
	peer.recv()
	for _, nf := range []string{
		`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}`,
		`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":99}}`,
		`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"1"}}`,
		`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{}}`,
		`{"jsonrpc":"2.0","method":"$/cancelRequest","params":[1]}`,
		`{"jsonrpc":"2.0","method":"$/cancelRequest"}`,
	} {
		peer.send(nf)
	}
	peer.send(`{"jsonrpc":"2.0","id":2,"method":"fast"}`)
	if got := peer.recvJSON(); !reflect.DeepEqual(got, mustJSON(t, `{"jsonrpc":"2.0","id":2,"result":"ok"}`)) {
		t.Fatalf("got %v", got)
	}
	if st := s.Stats(); st.CancelsUnknown != 6 || st.CancelsReceived != 0 || st.Errors != 0 {
		t.Errorf("unknown %d, received %d, errors %d; want 6, 0, 0", st.CancelsUnknown, st.CancelsReceived, st.Errors)
	}
}

// TestCancelOffByDefault: without Options.Cancel a "$/cancelRequest"
// is an ordinary notification for the handler, cancels nothing, and a
// call that gives up sends nothing.
func TestCancelOffByDefault(t *testing.T) {
	t.Run("incoming", func(t *testing.T) {
		got := make(chan string, 4)
		release := make(chan struct{})
		h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
			got <- req.Method
			if req.Method == "block" {
				select {
				case <-release:
				case <-ctx.Done():
					t.Error("handler cancelled")
				}
				return "done", nil
			}
			return nil, nil
		})
		s, peer := newRawPeer(t, &Options{Handler: h})
		peer.send(`{"jsonrpc":"2.0","id":7,"method":"block"}`)
		if m := <-got; m != "block" {
			t.Fatalf("got %q", m)
		}
		peer.send(`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":7}}`)
		if m := <-got; m != "$/cancelRequest" {
			t.Fatalf("handler got %q, want the notification", m)
		}
		close(release)
		if got := peer.recvJSON(); !reflect.DeepEqual(got, mustJSON(t, `{"jsonrpc":"2.0","id":7,"result":"done"}`)) {
			t.Fatalf("got %v", got)
		}
		if st := s.Stats(); st.CancelsReceived+st.CancelsUnknown != 0 {
			t.Errorf("counted cancellations: %+v", st)
		}
	})
	t.Run("outgoing", func(t *testing.T) {
		s, peer := newRawPeer(t, &Options{Side: Client})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Call(ctx, "m", nil, nil) }()
		peer.recv()
		cancel()
		<-done
		// Writes keep their order: had a cancellation been sent, it
		// would come before this.
		notified := make(chan error, 1)
		go func() { notified <- s.Notify(context.Background(), "next", nil) }()
		if got := peer.recvJSON(); !reflect.DeepEqual(got, mustJSON(t, `{"jsonrpc":"2.0","method":"next"}`)) {
			t.Fatalf("got %v, want only the next notification", got)
		}
		if err := <-notified; err != nil {
			t.Fatal(err)
		}
		if n := s.Stats().CancelsSent; n != 0 {
			t.Errorf("CancelsSent = %d", n)
		}
	})
}

// TestCancelOutgoingWire: what a call or batch that gives up sends.
func TestCancelOutgoingWire(t *testing.T) {
	custom := &Cancellation{
		Method: "cancel",
		Params: func(id json.RawMessage) any { return []json.RawMessage{id} },
	}
	tests := []struct {
		name    string
		opts    Options
		batch   bool
		timeout bool // the request timeout, not the ctx, ends the call
		want    []string
	}{
		{name: "LSP", opts: Options{Cancel: &Cancellation{}},
			want: []string{`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":0}}`}},
		{name: "custom", opts: Options{Cancel: custom},
			want: []string{`{"jsonrpc":"2.0","method":"cancel","params":[0]}`}},
		{name: "request timeout", opts: Options{Cancel: &Cancellation{}, RequestTimeout: 20 * time.Millisecond}, timeout: true,
			want: []string{`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":0}}`}},
		{name: "batch", opts: Options{Cancel: &Cancellation{}}, batch: true,
			want: []string{
				`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Side = Client
			s, peer := newRawPeer(t, &opts)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			if tt.batch {
				// Two requests; the peer answers the first only.
				var b Batch
				b.Call("a", nil, nil)
				b.Notify("n", nil)
				b.Call("b", nil, nil)
				go func() { done <- s.SendBatch(ctx, &b) }()
				peer.recv()
				peer.send(`{"jsonrpc":"2.0","id":0,"result":1}`)
				waitFor(t, "the first answer", func() bool { return s.Stats().Pending == 1 })
			} else {
				go func() { done <- s.Call(ctx, "m", nil, nil) }()
				peer.recv()
			}
			if !tt.timeout {
				cancel()
			}
			err := <-done
			if tt.timeout {
				var te *TimeoutError
				if !errors.As(err, &te) {
					t.Fatalf("got %v, want a *TimeoutError", err)
				}
			} else if !errors.Is(err, context.Canceled) {
				t.Fatalf("got %v, want context.Canceled", err)
			}
			for _, w := range tt.want {
				if got := peer.recvJSON(); !reflect.DeepEqual(got, mustJSON(t, w)) {
					t.Fatalf("got %v, want %s", got, w)
				}
			}
			// Nothing more: the next message is this notification.
			notified := make(chan error, 1)
			go func() { notified <- s.Notify(context.Background(), "next", nil) }()
			if got := peer.recvJSON(); !reflect.DeepEqual(got, mustJSON(t, `{"jsonrpc":"2.0","method":"next"}`)) {
				t.Fatalf("got %v, want the next notification", got)
			}
			if err := <-notified; err != nil {
				t.Fatal(err)
			}
			if n := s.Stats().CancelsSent; n != uint64(len(tt.want)) {
				t.Errorf("CancelsSent = %d, want %d", n, len(tt.want))
			}
			// A late answer to the cancelled call is dropped quietly.
			peer.send(`{"jsonrpc":"2.0","id":` + map[bool]string{false: "0", true: "1"}[tt.batch] +
				`,"error":{"code":-32800,"message":"request cancelled"}}`)
			var res string
			go func() {
				line := peer.recvJSON().(map[string]any)
				peer.send(`{"jsonrpc":"2.0","id":` + string(mustMarshal(t, line["id"])) + `,"result":"ok"}`)
			}()
			if err := s.Call(context.Background(), "after", nil, &res); err != nil || res != "ok" {
				t.Fatalf("next call: %q, %v", res, err)
			}
			if n := s.Stats().Errors; n != 0 {
				t.Errorf("Errors = %d", n)
			}
		})
	}
}

func mustMarshal(t testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Error(err)
	}
	return b
}

// TestCancelInBatch: a request inside a received batch is cancelled by
// its ID; the batch's reply holds -32800 for it and the other answers.
func TestCancelInBatch(t *testing.T) {
	h := newBlocker(t)
	s, peer := newRawPeer(t, &Options{Handler: h, Cancel: &Cancellation{}})
	peer.send(`[{"jsonrpc":"2.0","id":1,"method":"block"},{"jsonrpc":"2.0","id":2,"method":"fast"}]`)
	if id := h.waitStarted(t); id != "1" {
		t.Fatalf("started %s", id)
	}
	// The cancellation may come in a batch of its own too.
	peer.send(`[{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}]`)
	h.waitSeen(t)
	got, ok := peer.recvJSON().([]any)
	if !ok || len(got) != 2 {
		t.Fatalf("got %v, want a batch of two", got)
	}
	sort.Slice(got, func(i, j int) bool {
		return got[i].(map[string]any)["id"].(float64) < got[j].(map[string]any)["id"].(float64)
	})
	want := mustJSON(t, `[{"jsonrpc":"2.0","id":1,"error":{"code":-32800,"message":"request cancelled"}},
		{"jsonrpc":"2.0","id":2,"result":"ok"}]`)
	if !reflect.DeepEqual(any(got), want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if st := s.Stats(); st.CancelsReceived != 1 {
		t.Errorf("CancelsReceived = %d", st.CancelsReceived)
	}
}

// TestCancelQueuedRequest: a request cancelled while it waits for a
// worker is answered -32800 without its handler running.
func TestCancelQueuedRequest(t *testing.T) {
	h := newBlocker(t)
	_, peer := newRawPeer(t, &Options{Handler: h, Cancel: &Cancellation{}, Concurrency: 1})
	peer.send(`{"jsonrpc":"2.0","id":1,"method":"block"}`)
	h.waitStarted(t)
	peer.send(`{"jsonrpc":"2.0","id":2,"method":"block"}`)
	peer.send(`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":2}}`)
	peer.send(`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}`)
	h.waitSeen(t)
	got := []any{peer.recvJSON(), peer.recvJSON()}
	want := []any{
		mustJSON(t, `{"jsonrpc":"2.0","id":1,"error":{"code":-32800,"message":"request cancelled"}}`),
		mustJSON(t, `{"jsonrpc":"2.0","id":2,"error":{"code":-32800,"message":"request cancelled"}}`),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	select {
	case id := <-h.started:
		t.Errorf("handler of request %s ran after its cancellation", id)
	default:
	}
}
