package session

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gorpcx/gorpcx/framing"
)

type received struct {
	Command string
	Payload string
}

// recorder is a MessageHandler that records what it gets.
type recorder struct {
	mu  sync.Mutex
	got []received
	ch  chan struct{}
}

func newRecorder() *recorder { return &recorder{ch: make(chan struct{}, 100)} }

func (r *recorder) HandleMessage(ctx context.Context, command string, payload []byte) error {
	r.mu.Lock()
	r.got = append(r.got, received{command, string(payload)})
	r.mu.Unlock()
	r.ch <- struct{}{}
	return nil
}

func (r *recorder) wait(t *testing.T, n int) []received {
	t.Helper()
	for range n {
		select {
		case <-r.ch:
		case <-time.After(5 * time.Second):
			t.Fatal("timed out waiting for messages")
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func TestMessageSessionExchange(t *testing.T) {
	a, b := net.Pipe()
	rec := newRecorder()
	// The far side answers ping with pong and version with verack.
	far := NewMessageSession(b, framing.Bitcoin{}, MessageHandlerFunc(func(ctx context.Context, command string, payload []byte) error {
		m := FromMessageContext(ctx)
		switch command {
		case "version":
			return m.Send(ctx, "verack", nil)
		case "ping":
			return m.Send(ctx, "pong", payload)
		}
		return nil
	}), nil)
	near := NewMessageSession(a, framing.Bitcoin{}, rec, &Options{Side: Client})
	defer near.Abort()
	defer far.Abort()
	ctx := context.Background()
	if err := near.Send(ctx, "version", []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := near.Send(ctx, "ping", []byte("nonce123")); err != nil {
		t.Fatal(err)
	}
	// Messages are handled concurrently: the answers may come either way round.
	got := rec.wait(t, 2)
	want := []received{{"pong", "nonce123"}, {"verack", ""}}
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b received) bool { return a.Command < b.Command })); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if st := far.Stats(); st.RecvCount != 2 || st.RecvBytes != 24*2+3+8 {
		t.Errorf("far stats %+v", st)
	}
	if err := near.Send(ctx, "much-too-long-command", nil); !errors.Is(err, framing.ErrInvalidCommand) {
		t.Errorf("long command: %v", err)
	}
	if FromMessageContext(ctx) != nil {
		t.Error("FromMessageContext of a plain context")
	}
}

func TestMessageSessionBadInput(t *testing.T) {
	framer := framing.Bitcoin{MaxPayload: 100}
	frame := func(cmd string, payload []byte) []byte {
		b, err := framer.AppendMessage(nil, cmd, payload)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Run("bad checksum goes on", func(t *testing.T) {
		a, b := net.Pipe()
		defer b.Close()
		rec := newRecorder()
		s := NewMessageSession(a, framer, rec, nil)
		defer s.Abort()
		bad := frame("tx", []byte("abc"))
		bad[20] ^= 0xff
		go func() {
			b.Write(bad)
			b.Write(frame("tx", []byte("good")))
		}()
		got := rec.wait(t, 1)
		if diff := cmp.Diff([]received{{"tx", "good"}}, got); diff != "" {
			t.Error(diff)
		}
		st := s.Stats()
		if st.Errors != 1 || !near(st.Cost, 200) {
			t.Errorf("errors %d, cost %v; want 1 and 200", st.Errors, st.Cost)
		}
	})
	for _, tt := range []struct {
		name string
		data func() []byte
		cost float64
	}{
		{"bad magic closes", func() []byte { b := frame("tx", nil); b[0] = 0; return b }, 1100},
		{"oversized closes", func() []byte { return append(frame("tx", nil)[:16], 0xff, 0xff, 0, 0, 0, 0, 0, 0) }, 600},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, b := net.Pipe()
			defer b.Close()
			s := NewMessageSession(a, framer, newRecorder(), nil)
			go b.Write(tt.data())
			err := s.Wait()
			var fe framing.Error
			if !errors.As(err, &fe) || !fe.Fatal() {
				t.Errorf("ended with %v", err)
			}
			if st := s.Stats(); !near(st.Cost, tt.cost) {
				t.Errorf("cost %v, want %v", st.Cost, tt.cost)
			}
			var ce *ConnectionError
			if err := s.Send(context.Background(), "tx", nil); !errors.As(err, &ce) {
				t.Errorf("send after close: %v", err)
			}
		})
	}
}

func TestMessageSessionHandlerFailures(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	done := make(chan struct{}, 3)
	h := MessageHandlerFunc(func(ctx context.Context, command string, payload []byte) error {
		defer func() { done <- struct{}{} }()
		switch command {
		case "fail":
			return errors.New("bad tx")
		case "panic":
			panic("boom")
		case "slow":
			<-ctx.Done()
		}
		return nil
	})
	s := NewMessageSession(a, framing.Bitcoin{}, h, &Options{ProcessingTimeout: 20 * time.Millisecond})
	defer s.Abort()
	far := framing.NewBitcoinStream(framing.Bitcoin{}, b)
	go func() {
		far.WriteMessage("fail", nil)
		far.WriteMessage("panic", nil)
		far.WriteMessage("slow", nil)
	}()
	for range 3 {
		<-done
	}
	waitFor(t, "three errors", func() bool { return s.Stats().Errors == 3 })
	if err := s.Err(); err != nil {
		t.Errorf("session ended: %v", err)
	}
}
