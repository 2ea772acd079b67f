package session

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
)

// Shutdown used to wait forever for a handler that ignores its
// context; it returns by its deadline, and what the late handler does
// afterwards reaches nobody and breaks nothing.
func TestShutdownReturnsByDeadlineDespiteHandlerIgnoringContext(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock)
	late := make(chan error, 1)
	h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		<-release // ignores ctx
		late <- FromContext(ctx).Notify(context.Background(), "late", nil)
		return "late result", nil
	})
	s, peer := newRawPeer(t, &Options{Handler: h})
	peer.send(`{"jsonrpc":"2.0","id":1,"method":"stuck"}`)
	waitFor(t, "running", func() bool { return s.Stats().Running == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	returned := make(chan error, 1)
	go func() { returned <- s.Shutdown(ctx) }()
	select {
	case err := <-returned:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Shutdown = %v", err)
		}
	case <-time.After(10 * time.Second): // a hang guard
		t.Fatal("Shutdown did not return after its deadline")
	}
	unblock()
	var ce *ConnectionError
	if err := <-late; !errors.As(err, &ce) {
		t.Errorf("late handler's notify = %v, want a ConnectionError", err)
	}
	waitEnded(t, s)
}

// A handler that closes its own session used to deadlock (and with it
// Server.Shutdown); Close, Shutdown and Abort from a handler now return
// at once, and Close and Shutdown still write the handler's reply
// before closing.
func TestHandlerClosingItsOwnSession(t *testing.T) {
	for _, tc := range []struct {
		name  string
		close func(ctx context.Context, s *Session) error
		reply bool
	}{
		{"Close", func(_ context.Context, s *Session) error { return s.Close() }, true},
		{"Shutdown", func(ctx context.Context, s *Session) error { return s.Shutdown(ctx) }, true},
		{"Abort", func(_ context.Context, s *Session) error { s.Abort(); return nil }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			closed := make(chan error, 1)
			h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
				closed <- tc.close(ctx, FromContext(ctx))
				return "bye", nil
			})
			for _, inline := range []bool{true, false} {
				s, peer := newRawPeer(t, &Options{Handler: h})
				if !inline {
					// Two at once: the second is queued and served by a worker.
					peer.send(`{"jsonrpc":"2.0","id":0,"method":"x"}` + "\n" + `{"jsonrpc":"2.0","id":1,"method":"x"}`)
				} else {
					peer.send(`{"jsonrpc":"2.0","id":1,"method":"x"}`)
				}
				select {
				case err := <-closed:
					if err != nil {
						t.Errorf("inline %v: %s from a handler = %v", inline, tc.name, err)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("inline %v: %s from a handler did not return", inline, tc.name)
				}
				if tc.reply {
					if got := peer.recv(); !strings.Contains(got, `"bye"`) {
						t.Errorf("inline %v: reply %s", inline, got)
					}
				}
				// The second request, if it was read before the close,
				// closes again (its result fits in the channel); if not,
				// it was dropped.
				waitEnded(t, s)
			}
		})
	}
}

// New with a nil stream used to panic on the session's own goroutine,
// where nobody can recover; it panics in New.
func TestNewNilStreamPanicsInNew(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "nil stream") {
			t.Errorf("recovered %v", r)
		}
	}()
	New(nil, nil)
	t.Error("New(nil) returned")
}

type userKey struct{}

// A program keeps per-session state on the session and is told of its
// end with the session itself.
func TestSessionValuesAndAfterClose(t *testing.T) {
	h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		if req.Method == "login" {
			FromContext(ctx).SetValue(userKey{}, "alice")
			return true, nil
		}
		// The handler's context sees the session's values.
		return ctx.Value(userKey{}), nil
	})
	s, peer := newRawPeer(t, &Options{Handler: h})
	ended := make(chan string, 2)
	s.AfterClose(func(s *Session, err error) {
		user, _ := s.Value(userKey{}).(string)
		ended <- user + " " + err.Error()
	})
	peer.send(`{"jsonrpc":"2.0","id":1,"method":"whoami"}`)
	if got := peer.recv(); got != `{"jsonrpc":"2.0","result":null,"id":1}` {
		t.Errorf("before login: %s", got)
	}
	peer.send(`{"jsonrpc":"2.0","id":2,"method":"login"}`)
	peer.recv()
	peer.send(`{"jsonrpc":"2.0","id":3,"method":"whoami"}`)
	if got := peer.recv(); got != `{"jsonrpc":"2.0","result":"alice","id":3}` {
		t.Errorf("after login: %s", got)
	}
	s.SetValue(userKey{}, nil)
	if v := s.Value(userKey{}); v != nil {
		t.Errorf("removed value = %v", v)
	}
	s.SetValue(userKey{}, "bob")
	peer.conn.Close()
	waitEnded(t, s)
	if got := <-ended; got != "bob EOF" {
		t.Errorf("AfterClose saw %q", got)
	}
	// On an ended session, AfterClose calls at once.
	s.AfterClose(func(s *Session, err error) { ended <- "late" })
	if got := <-ended; got != "late" {
		t.Errorf("late AfterClose: %q", got)
	}
}

// A handler sees the raw ID of its request, exactly as sent.
func TestRawIDInHandler(t *testing.T) {
	h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		return string(RawID(ctx)), nil
	})
	s, peer := newRawPeer(t, &Options{Handler: h})
	for _, id := range []string{`-1.50`, `"x"`, `12345678901234567890123`, `null`} {
		peer.send(`{"jsonrpc":"2.0","id":` + id + `,"method":"id"}`)
		got := peer.recv()
		want := `{"jsonrpc":"2.0","result":` + jsonString(id) + `,"id":` + id + `}`
		if got != want {
			t.Errorf("id %s: got %s, want %s", id, got, want)
		}
	}
	if RawID(context.Background()) != nil {
		t.Error("RawID of a plain context")
	}
	_ = s
}

func jsonString(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}
