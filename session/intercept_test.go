package session

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sourcegraph/jsonrpc2"
)

// echoMethod answers its params.
var echoMethod = HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	if req.Params == nil {
		return nil, nil
	}
	return *req.Params, nil
})

func TestInterceptorsOrderAndOutcome(t *testing.T) {
	var mu sync.Mutex
	var trace []string
	note := func(s string) {
		mu.Lock()
		trace = append(trace, s)
		mu.Unlock()
	}
	mk := func(name string) Interceptor {
		return func(ctx context.Context, req *Request, next Handle) (any, error) {
			note(name + " before " + req.Method)
			if req.Session == nil || req.Received.IsZero() || time.Since(req.Received) > time.Minute {
				t.Errorf("%s: request without its session or time: %+v", name, req)
			}
			res, err := next(ctx, req)
			note(name + " after")
			return res, err
		}
	}
	cli, _ := pair(t, nil, &Options{Handler: echoMethod, Interceptors: []Interceptor{mk("outer"), mk("inner")}})
	var got json.RawMessage
	if err := cli.Call(context.Background(), "echo", []int{1}, &got); err != nil || string(got) != "[1]" {
		t.Fatalf("got %s, %v", got, err)
	}
	want := []string{"outer before echo", "inner before echo", "inner after", "outer after"}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(want, trace); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestInterceptorAnswersRejectsCloses(t *testing.T) {
	handlerRan := false
	ic := func(ctx context.Context, req *Request, next Handle) (any, error) {
		switch req.Method {
		case "cached":
			return "from the interceptor", nil
		case "forbidden":
			return nil, &jsonrpc2.Error{Code: -32001, Message: "not allowed"}
		case "bye":
			return nil, &ReplyAndDisconnect{Result: "bye"}
		case "boom":
			panic("interceptor bug")
		}
		return next(ctx, req)
	}
	h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		handlerRan = true
		return "handler", nil
	})
	cli, srv := pair(t, nil, &Options{Handler: h, Interceptors: []Interceptor{ic}})
	ctx := context.Background()
	var s string
	if err := cli.Call(ctx, "cached", nil, &s); err != nil || s != "from the interceptor" || handlerRan {
		t.Errorf("answer: %q, %v, handler ran %v", s, err, handlerRan)
	}
	var rpcErr *jsonrpc2.Error
	if err := cli.Call(ctx, "forbidden", nil, nil); !errors.As(err, &rpcErr) || rpcErr.Code != -32001 {
		t.Errorf("reject: %v", err)
	}
	if err := cli.Call(ctx, "boom", nil, nil); !errors.As(err, &rpcErr) || rpcErr.Code != -32603 {
		t.Errorf("a panicking interceptor: %v, want -32603", err)
	}
	if err := cli.Call(ctx, "ok", nil, &s); err != nil || s != "handler" {
		t.Errorf("pass: %q, %v", s, err)
	}
	if err := cli.Call(ctx, "bye", nil, &s); err != nil || s != "bye" {
		t.Errorf("close: %q, %v", s, err)
	}
	select {
	case <-srv.Done():
	case <-time.After(5 * time.Second):
		t.Error("the session is still open after the interceptor closed it")
	}
}

func TestInterceptorSeesNotifications(t *testing.T) {
	seen := make(chan *Request, 1)
	ic := func(ctx context.Context, req *Request, next Handle) (any, error) {
		seen <- req
		return next(ctx, req)
	}
	cli, _ := pair(t, nil, &Options{Handler: echoMethod, Interceptors: []Interceptor{ic}})
	if err := cli.Notify(context.Background(), "note", []string{"x"}); err != nil {
		t.Fatal(err)
	}
	select {
	case req := <-seen:
		if !req.Notif || req.RawID != nil || req.Method != "note" || string(*req.Params) != `["x"]` {
			t.Errorf("notification seen as %+v", req)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the interceptor did not see the notification")
	}
}

func TestOutgoingInterceptors(t *testing.T) {
	var seen []string
	ic := func(ctx context.Context, call *OutgoingCall, next SendFunc) error {
		seen = append(seen, call.Method)
		switch call.Method {
		case "refused":
			return errors.New("not sent")
		case "answered":
			*call.Result.(*string) = "local"
			return nil
		case "rewritten":
			c := *call
			c.Params = json.RawMessage(`["changed"]`)
			return next(ctx, &c)
		}
		return next(ctx, call)
	}
	cli, _ := pair(t, &Options{OutgoingInterceptors: []OutgoingInterceptor{ic}}, &Options{Handler: echoMethod})
	ctx := context.Background()
	var s string
	if err := cli.Call(ctx, "refused", nil, &s); err == nil || !strings.Contains(err.Error(), "not sent") {
		t.Errorf("refused: %v", err)
	}
	if err := cli.Call(ctx, "answered", nil, &s); err != nil || s != "local" {
		t.Errorf("answered: %q, %v", s, err)
	}
	var raw json.RawMessage
	if err := cli.Call(ctx, "rewritten", []string{"x"}, &raw); err != nil || string(raw) != `["changed"]` {
		t.Errorf("rewritten: %s, %v", raw, err)
	}
	if err := cli.Notify(ctx, "note", nil); err != nil {
		t.Errorf("notify: %v", err)
	}
	if want := []string{"refused", "answered", "rewritten", "note"}; !cmp.Equal(want, seen) {
		t.Errorf("seen %v, want %v", seen, want)
	}
}
