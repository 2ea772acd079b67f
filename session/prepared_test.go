package session

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/protocol"
)

func TestNotifyPreparedPerDialect(t *testing.T) {
	p, err := Prepare("tip", []int{1})
	if err != nil {
		t.Fatal(err)
	}
	if p.Method() != "tip" || string(p.Params()) != "[1]" {
		t.Errorf("Method %q, Params %s", p.Method(), p.Params())
	}
	for _, c := range []struct {
		dialect protocol.Dialect
		want    string
	}{
		{protocol.V2, `{"jsonrpc":"2.0","method":"tip","params":[1]}`},
		{protocol.V1, `{"method":"tip","params":[1],"id":null}`},
		{protocol.Loose, `{"jsonrpc":"2.0","method":"tip","params":[1]}`},
	} {
		t.Run(c.dialect.String(), func(t *testing.T) {
			a, b := net.Pipe()
			defer b.Close()
			s := New(framing.NewStream(framing.Newline{}, a), &Options{Dialect: c.dialect})
			defer s.Abort()
			// Twice: the second use takes the bytes made by the first.
			for range 2 {
				go s.NotifyPrepared(context.Background(), p)
				r := framing.Newline{}.NewReader(b)
				b.SetReadDeadline(time.Now().Add(5 * time.Second))
				msg, err := r.ReadMessage()
				if err != nil || string(msg) != c.want {
					t.Fatalf("got %s, %v; want %s", msg, err, c.want)
				}
			}
		})
	}
}

func TestPrepareRejectsBadParams(t *testing.T) {
	for _, params := range []any{5, json.RawMessage(`[1,`), "x"} {
		if _, err := Prepare("m", params); err == nil {
			t.Errorf("Prepare accepted %v", params)
		}
	}
	if _, err := Prepare("m", func() {}); err == nil {
		t.Error("Prepare accepted a func")
	}
}

func TestNotifyPreparedAfterEnd(t *testing.T) {
	a, b := net.Pipe()
	b.Close()
	s := New(framing.NewStream(framing.Newline{}, a), nil)
	s.Wait()
	p, _ := Prepare("m", nil)
	var ce *ConnectionError
	if err := s.NotifyPrepared(context.Background(), p); !errors.As(err, &ce) {
		t.Errorf("after the end: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.NotifyPrepared(ctx, p); !errors.Is(err, context.Canceled) {
		t.Errorf("with a cancelled context: %v", err)
	}
	// An object cannot be sent to a 1.0 peer.
	a2, b2 := net.Pipe()
	defer b2.Close()
	v1 := New(framing.NewStream(framing.Newline{}, a2), &Options{Dialect: protocol.V1})
	defer v1.Abort()
	obj, _ := Prepare("m", map[string]int{"a": 1})
	if err := v1.NotifyPrepared(context.Background(), obj); err == nil {
		t.Error("named params sent to a 1.0 peer")
	}
}

func TestAfterReply(t *testing.T) {
	if AfterReply(context.Background(), func() { t.Error("called") }) {
		t.Error("AfterReply outside a handler said yes")
	}
	var sess *Session
	h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		ok := AfterReply(ctx, func() { sess.Notify(context.Background(), "after", nil) })
		if req.Notif {
			if ok {
				t.Error("AfterReply in a notification's handler said yes")
			}
			return nil, nil
		}
		if !ok {
			t.Error("AfterReply in a request's handler said no")
		}
		sess.Notify(ctx, "before", nil)
		return "reply", nil
	})
	a, b := net.Pipe()
	defer b.Close()
	sess = New(framing.NewStream(framing.Newline{}, a), &Options{Handler: h})
	defer sess.Abort()
	go b.Write([]byte(`{"jsonrpc":"2.0","method":"n"}` + "\n" + `{"jsonrpc":"2.0","method":"r","id":7}` + "\n"))
	r := framing.Newline{}.NewReader(b)
	var got []string
	for range 3 {
		b.SetReadDeadline(time.Now().Add(5 * time.Second))
		msg, err := r.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(msg))
	}
	want := []string{
		`{"jsonrpc":"2.0","method":"before"}`,
		`{"jsonrpc":"2.0","result":"reply","id":7}`,
		`{"jsonrpc":"2.0","method":"after"}`,
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("on the wire %q, want %q", got, want)
		}
	}
}
