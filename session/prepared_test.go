package session

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"testing"
	"time"

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
