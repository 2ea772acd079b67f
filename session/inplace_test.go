package session

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/gorpcx/gorpcx/protocol"
)

// A message is decoded where the framing read it, and the framing
// reuses that buffer for the next message: everything that outlives
// the read must hold a copy. These tests keep parts of a message, make
// the session read more messages of the same length into the buffer,
// and check the parts kept.

// filler returns a JSON string of n times c.
func filler(c byte, n int) string { return `"` + strings.Repeat(string(c), n) + `"` }

// TestHeldRequestsKeepTheirParams: a request served inline whose
// handler outlasts the hand-over of the reading, and one queued behind
// it, answer with their own params after the reader has read other
// messages into the framing's buffer, for messages of each size the
// session copies differently (with the request, or on their own).
func TestHeldRequestsKeepTheirParams(t *testing.T) {
	for _, n := range []int{4, 60, 200, 450, 1000} {
		t.Run(itoa(n)+" bytes", func(t *testing.T) {
			release := make(chan struct{})
			started := make(chan struct{}, 2)
			hold := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
				started <- struct{}{}
				<-release
				return json.RawMessage(append([]byte(nil), *req.Params...)), nil
			})
			s, p := newRawPeer(t, &Options{Concurrency: 2, Handler: Methods{"hold": hold,
				"note": HandlerFunc(func(context.Context, *jsonrpc2.Request) (any, error) { return nil, nil })}})
			stop := sync.OnceFunc(func() { close(release) })
			t.Cleanup(stop) // before the session is aborted
			a, c := `[`+filler('A', n)+`]`, `[`+filler('C', n)+`]`
			p.send(`{"jsonrpc":"2.0","method":"hold","params":` + a + `,"id":1}`)
			p.send(`{"jsonrpc":"2.0","method":"hold","params":` + c + `,"id":2}`)
			waitFor(t, "both handlers", func() bool { return len(started) == 2 })
			for k := range 5 {
				p.send(`{"jsonrpc":"2.0","method":"note","params":[` + filler(byte('P'+k), n) + `]}`)
			}
			waitFor(t, "the notifications read", func() bool { m, _ := s.Activity(); return m == 7 })
			stop()
			got := map[string]string{}
			for range 2 {
				var r struct {
					ID     json.RawMessage
					Result json.RawMessage
				}
				if err := json.Unmarshal([]byte(p.recv()), &r); err != nil {
					t.Fatal(err)
				}
				got[string(r.ID)] = string(r.Result)
			}
			if got["1"] != a || got["2"] != c {
				t.Errorf("results %q, want %q for 1 and %q for 2", got, a, c)
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestShortBatchKeepsItsItems: a batch short enough for its items to be
// decoded into the reader's own array of one item (a Loose notification
// of 17 bytes) is kept out of it: the next message, decoded into that
// array, leaves the batch's request alone.
func TestShortBatchKeepsItsItems(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	seen := make(chan string, 1)
	_, p := newRawPeer(t, &Options{Dialect: protocol.Loose, Handler: Methods{
		"ab": HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
			close(started)
			<-release
			seen <- req.Method
			return nil, nil
		}),
		"zz": HandlerFunc(func(context.Context, *jsonrpc2.Request) (any, error) { return true, nil }),
	}})
	stop := sync.OnceFunc(func() { close(release) })
	t.Cleanup(stop) // before the session is aborted
	p.send(`[{"method":"ab"}]`)
	waitFor(t, "the notification's handler", func() bool {
		select {
		case <-started:
			return true
		default:
			return false
		}
	})
	p.send(`{"method":"zz","params":[],"id":1}`)
	if got, want := p.recvJSON(), mustJSON(t, `{"jsonrpc":"2.0","result":true,"id":1}`); !jsonEqual(got, want) {
		t.Fatalf("reply %v, want %v", got, want)
	}
	stop()
	if m := <-seen; m != "ab" {
		t.Errorf("the batch's notification has the method %q, want ab", m)
	}
}

// TestKeptPartsSurviveTheNextRead: a call's raw result, the params a
// cancellation's ID function keeps, and the message a logger keeps are
// still what was received after more messages were read.
func TestKeptPartsSurviveTheNextRead(t *testing.T) {
	t.Run("call result", func(t *testing.T) {
		cli, _ := pair(t, nil, &Options{Handler: benchAdd})
		ctx := context.Background()
		var first, later json.RawMessage
		if err := cli.Call(ctx, "echo", json.RawMessage(`[`+filler('A', 30)+`]`), &first); err != nil {
			t.Fatal(err)
		}
		want := string(first)
		for k := range 5 {
			if err := cli.Call(ctx, "echo", json.RawMessage(`[`+filler(byte('B'+k), 30)+`]`), &later); err != nil {
				t.Fatal(err)
			}
		}
		if string(first) != `[`+filler('A', 30)+`]` || string(first) != want {
			t.Errorf("first result %s after more calls, want %s", first, want)
		}
	})
	t.Run("cancellation params", func(t *testing.T) {
		var mu sync.Mutex
		var kept []json.RawMessage
		cancel := &Cancellation{ID: func(params json.RawMessage) (json.RawMessage, bool) {
			mu.Lock()
			kept = append(kept, params)
			mu.Unlock()
			return nil, false
		}}
		s, p := newRawPeer(t, &Options{Cancel: cancel})
		for k := range 4 {
			p.send(`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":` + filler(byte('A'+k), 20) + `}}`)
		}
		waitFor(t, "the cancellations read", func() bool { m, _ := s.Activity(); return m == 4 })
		waitFor(t, "the cancellations handled", func() bool { mu.Lock(); defer mu.Unlock(); return len(kept) == 4 })
		mu.Lock()
		defer mu.Unlock()
		for k, params := range kept {
			if want := `{"id":` + filler(byte('A'+k), 20) + `}`; string(params) != want {
				t.Errorf("cancellation %d kept %s, want %s", k, params, want)
			}
		}
	})
	t.Run("debug log", func(t *testing.T) {
		core, logs := observer.New(zapcore.DebugLevel)
		s, p := newRawPeer(t, &Options{Logger: zap.New(core), Handler: benchAdd})
		var sent []string
		for k := range 4 {
			msg := `{"jsonrpc":"2.0","method":"nope","params":[` + filler(byte('A'+k), 20) + `]}`
			sent = append(sent, msg)
			p.send(msg)
		}
		waitFor(t, "the messages read", func() bool { m, _ := s.Activity(); return m == 4 })
		var got []string
		for _, e := range logs.FilterMessage("received message").All() {
			got = append(got, e.ContextMap()["message"].(string))
		}
		if strings.Join(got, "\n") != strings.Join(sent, "\n") {
			t.Errorf("logged messages\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(sent, "\n"))
		}
	})
}
