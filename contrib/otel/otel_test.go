package gorpcxotel_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	gorpcxotel "github.com/gorpcx/gorpcx/contrib/otel"
	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/protocol"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// wait bounds every wait of these tests; it is there to end a broken
// test, never to measure anything.
const wait = 10 * time.Second

// recorder returns a tracer provider that samples every span and the
// recorder of the spans it ends.
func recorder(t testing.TB) (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, rec
}

// attrs returns a span's attributes by key.
func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := make(map[attribute.Key]attribute.Value)
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

// waitSpans waits until rec has ended n spans and returns them.
func waitSpans(t *testing.T, rec *tracetest.SpanRecorder, n int) []sdktrace.ReadOnlySpan {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		spans := rec.Ended()
		if len(spans) >= n {
			return spans
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d spans ended after %v, want %d", len(spans), wait, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// byKind returns the spans of kind k.
func byKind(spans []sdktrace.ReadOnlySpan, k trace.SpanKind) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.SpanKind() == k {
			out = append(out, s)
		}
	}
	return out
}

// methods are the test server's methods.
func methods(seen *paramsLog) handler.Methods {
	return handler.Methods{
		"add": handler.MustFunc(func(a, b int) int { return a + b }),
		"echo": session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
			seen.add(req)
			return "ok", nil
		}),
		"fail": handler.MustFunc(func() error { return protocol.NewError(-32001, "no such block") }),
		"boom": handler.MustFunc(func() error { return errors.New("database on fire") }),
		"panic": handler.MustFunc(func() error {
			panic("handler bug")
		}),
		"bye": handler.MustFunc(func() error {
			return &session.ReplyAndDisconnect{Result: protocol.NewError(-32002, "go away")}
		}),
		"byeok": handler.MustFunc(func() error {
			return &session.ReplyAndDisconnect{Result: "bye"}
		}),
		"slow": handler.MustFunc(func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		}),
	}
}

// paramsLog records the params handlers see.
type paramsLog struct {
	mu     sync.Mutex
	params []string // "" for none
}

func (l *paramsLog) add(req *jsonrpc2.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if req.Params == nil {
		l.params = append(l.params, "")
	} else {
		l.params = append(l.params, string(*req.Params))
	}
}

func (l *paramsLog) last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.params) == 0 {
		return "<nothing>"
	}
	return l.params[len(l.params)-1]
}

// TestServerSpans checks the span of each kind of outcome of an
// incoming request, on an in-memory session.
func TestServerSpans(t *testing.T) {
	tp, rec := recorder(t)
	names := []string{"add", "echo", "fail", "boom", "panic", "bye", "byeok"}
	l := server.NewLocal(&session.Options{
		Handler: methods(&paramsLog{}),
		Interceptors: []session.Interceptor{gorpcxotel.Interceptor(&gorpcxotel.Options{
			TracerProvider: tp, Methods: names, RequestID: true,
		})},
	}, nil)
	defer l.Close()
	ctx := context.Background()

	tests := []struct {
		method   string
		params   any
		span     string
		code     int64 // 0: no error
		message  string
		status   string // the status description
		clientOK bool
	}{
		{method: "add", params: []int{2, 3}, span: "add", clientOK: true},
		{method: "fail", span: "fail", code: -32001, message: "no such block", status: "jsonrpc2: code -32001 message: no such block"},
		{method: "boom", span: "boom", code: -32603, message: "internal server error", status: "database on fire"},
		{method: "panic", span: "panic", code: -32603, status: "panic"},
		{method: "nosuch", span: gorpcxotel.OtherMethod, code: -32601, message: "unknown method \"nosuch\""},
		{method: strings.Repeat("x", 200), span: gorpcxotel.OtherMethod, code: -32601},
		{method: "add", params: []int{1}, span: "add", code: -32602},
	}
	for i, tt := range tests {
		t.Run(tt.span+"/"+strconv.Itoa(i), func(t *testing.T) {
			before := len(rec.Ended())
			err := l.Client.Call(ctx, tt.method, tt.params, nil)
			if (err == nil) != tt.clientOK {
				t.Fatalf("Call: %v", err)
			}
			spans := waitSpans(t, rec, before+1)
			s := spans[before]
			if s.Name() != tt.span || s.SpanKind() != trace.SpanKindServer {
				t.Fatalf("span %q of kind %v, want %q, server", s.Name(), s.SpanKind(), tt.span)
			}
			if s.Parent().IsValid() {
				t.Errorf("span has parent %v, want a root", s.Parent())
			}
			a := attrs(s)
			if a["rpc.system"].AsString() != "jsonrpc" || a["rpc.method"].AsString() != tt.span {
				t.Errorf("rpc.system %q, rpc.method %q", a["rpc.system"].AsString(), a["rpc.method"].AsString())
			}
			if a["network.peer.address"].AsString() != "local" {
				t.Errorf("network.peer.address %q, want local", a["network.peer.address"].AsString())
			}
			if _, ok := a["network.peer.port"]; ok {
				t.Errorf("network.peer.port set for a peer with no port")
			}
			if id := a["rpc.jsonrpc.request_id"].AsString(); id == "" || strings.Trim(id, "0123456789") != "" {
				t.Errorf("rpc.jsonrpc.request_id %q, want the client's number", id)
			}
			code, hasCode := a["rpc.jsonrpc.error_code"]
			if tt.code == 0 {
				if hasCode || s.Status().Code != codes.Unset {
					t.Errorf("error code %v, status %v on success", code.AsInt64(), s.Status())
				}
				return
			}
			if code.AsInt64() != tt.code || s.Status().Code != codes.Error {
				t.Errorf("error code %d, status %v; want %d, Error", code.AsInt64(), s.Status(), tt.code)
			}
			if tt.message != "" && a["rpc.jsonrpc.error_message"].AsString() != tt.message {
				t.Errorf("rpc.jsonrpc.error_message %q, want %q", a["rpc.jsonrpc.error_message"].AsString(), tt.message)
			}
			if tt.status != "" && s.Status().Description != tt.status {
				t.Errorf("status description %q, want %q", s.Status().Description, tt.status)
			}
			var rpcErr *jsonrpc2.Error
			if !errors.As(err, &rpcErr) || rpcErr.Code != tt.code {
				t.Errorf("client got %v, want code %d", err, tt.code)
			}
		})
	}
}

// TestServerSpanDisconnect checks the span of a request answered with a
// *session.ReplyAndDisconnect: an error response is recorded as one, a
// result is not an error.
func TestServerSpanDisconnect(t *testing.T) {
	for _, tt := range []struct {
		method string
		code   int64
	}{{"bye", -32002}, {"byeok", 0}} {
		t.Run(tt.method, func(t *testing.T) {
			tp, rec := recorder(t)
			l := server.NewLocal(&session.Options{
				Handler:      methods(&paramsLog{}),
				Interceptors: []session.Interceptor{gorpcxotel.Interceptor(&gorpcxotel.Options{TracerProvider: tp})},
			}, nil)
			defer l.Close()
			_ = l.Client.Call(context.Background(), tt.method, nil, nil)
			s := waitSpans(t, rec, 1)[0]
			code, has := attrs(s)["rpc.jsonrpc.error_code"]
			if tt.code == 0 {
				if has || s.Status().Code == codes.Error {
					t.Errorf("code %d, status %v, want none", code.AsInt64(), s.Status())
				}
				return
			}
			if code.AsInt64() != tt.code || s.Status().Code != codes.Error || s.Status().Description != "jsonrpc2: code -32002 message: go away" {
				t.Errorf("code %d, status %v, want %d and the error", code.AsInt64(), s.Status(), tt.code)
			}
			if _, has := attrs(s)["rpc.jsonrpc.request_id"]; has {
				t.Errorf("rpc.jsonrpc.request_id set without Options.RequestID")
			}
		})
	}
}

// TestServerSpanProcessingTimeout: a request past the processing
// timeout is recorded with -102, as the peer receives it, whatever the
// handler returns afterwards.
func TestServerSpanProcessingTimeout(t *testing.T) {
	tp, rec := recorder(t)
	l := server.NewLocal(&session.Options{
		Handler:           methods(&paramsLog{}),
		ProcessingTimeout: 20 * time.Millisecond,
		Interceptors:      []session.Interceptor{gorpcxotel.Interceptor(&gorpcxotel.Options{TracerProvider: tp})},
	}, nil)
	defer l.Close()
	err := l.Client.Call(context.Background(), "slow", nil, nil)
	var rpcErr *jsonrpc2.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != protocol.CodeServerBusy {
		t.Fatalf("Call: %v, want -102", err)
	}
	s := waitSpans(t, rec, 1)[0]
	a := attrs(s)
	if a["rpc.jsonrpc.error_code"].AsInt64() != protocol.CodeServerBusy || s.Status().Code != codes.Error {
		t.Errorf("code %d, status %v, want -102, Error", a["rpc.jsonrpc.error_code"].AsInt64(), s.Status())
	}
	if !strings.Contains(s.Status().Description, "deadline exceeded") {
		t.Errorf("status description %q, want the handler's error", s.Status().Description)
	}
}

// TestServerSpanNotification: an incoming notification has a server
// span too, without a request ID.
func TestServerSpanNotification(t *testing.T) {
	tp, rec := recorder(t)
	seen := &paramsLog{}
	l := server.NewLocal(&session.Options{
		Handler:      methods(seen),
		Interceptors: []session.Interceptor{gorpcxotel.Interceptor(&gorpcxotel.Options{TracerProvider: tp, RequestID: true})},
	}, nil)
	defer l.Close()
	if err := l.Client.Notify(context.Background(), "echo", map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	s := waitSpans(t, rec, 1)[0]
	a := attrs(s)
	if s.Name() != "echo" || s.SpanKind() != trace.SpanKindServer {
		t.Errorf("span %q %v, want echo, server", s.Name(), s.SpanKind())
	}
	if _, has := a["rpc.jsonrpc.request_id"]; has {
		t.Errorf("request_id %q on a notification", a["rpc.jsonrpc.request_id"].AsString())
	}
}

// TestMethodNamesWithoutList: with no Options.Methods, spans are named
// by the method as sent.
func TestMethodNamesWithoutList(t *testing.T) {
	tp, rec := recorder(t)
	l := server.NewLocal(&session.Options{
		Handler:      methods(&paramsLog{}),
		Interceptors: []session.Interceptor{gorpcxotel.Interceptor(&gorpcxotel.Options{TracerProvider: tp})},
	}, nil)
	defer l.Close()
	_ = l.Client.Call(context.Background(), "nosuch", nil, nil)
	s := waitSpans(t, rec, 1)[0]
	if s.Name() != "nosuch" || attrs(s)["rpc.method"].AsString() != "nosuch" {
		t.Errorf("span %q, rpc.method %q, want nosuch", s.Name(), attrs(s)["rpc.method"].AsString())
	}
}

// TestSessionContextSpanNotParent: a span in the session's context
// (Options.Context) does not become the parent of every request's
// span: each request starts a trace.
func TestSessionContextSpanNotParent(t *testing.T) {
	tp, rec := recorder(t)
	base, startup := tp.Tracer("test").Start(context.Background(), "startup")
	defer startup.End()
	l := server.NewLocal(&session.Options{
		Context:      base,
		Handler:      methods(&paramsLog{}),
		Interceptors: []session.Interceptor{gorpcxotel.Interceptor(&gorpcxotel.Options{TracerProvider: tp, Propagate: true})},
	}, nil)
	defer l.Close()
	if err := l.Client.Call(context.Background(), "add", []int{1, 2}, nil); err != nil {
		t.Fatal(err)
	}
	s := waitSpans(t, rec, 1)[0]
	if s.Parent().IsValid() || s.SpanContext().TraceID() == startup.SpanContext().TraceID() {
		t.Errorf("request span has parent %v in the startup trace, want a new trace", s.Parent())
	}
}

// TestHandlerContextCarriesSpan: the handler's context carries the
// server span, and still the session and the request.
func TestHandlerContextCarriesSpan(t *testing.T) {
	tp, rec := recorder(t)
	var got trace.SpanContext
	var sess *session.Session
	var rawID []byte
	h := session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		got = trace.SpanContextFromContext(ctx)
		sess, rawID = session.FromContext(ctx), session.RawID(ctx)
		return nil, nil
	})
	l := server.NewLocal(&session.Options{
		Handler:      h,
		Interceptors: []session.Interceptor{gorpcxotel.Interceptor(&gorpcxotel.Options{TracerProvider: tp})},
	}, nil)
	defer l.Close()
	if err := l.Client.Call(context.Background(), "x", nil, nil); err != nil {
		t.Fatal(err)
	}
	s := waitSpans(t, rec, 1)[0]
	if !got.Equal(s.SpanContext()) {
		t.Errorf("handler's span context %v, want the server span's %v", got, s.SpanContext())
	}
	if sess != l.Server || rawID == nil {
		t.Errorf("handler's context lost the session (%v) or the request (ID %q)", sess, rawID)
	}
}

// TestClientSpans checks the spans of outgoing calls and notifications.
func TestClientSpans(t *testing.T) {
	tp, rec := recorder(t)
	l := server.NewLocal(&session.Options{Handler: methods(&paramsLog{})}, &session.Options{
		OutgoingInterceptors: []session.OutgoingInterceptor{gorpcxotel.OutgoingInterceptor(&gorpcxotel.Options{TracerProvider: tp})},
	})
	defer l.Close()
	ctx, parent := tp.Tracer("test").Start(context.Background(), "job")
	tests := []struct {
		method string
		params any
		notify bool
		code   int64
	}{
		{method: "add", params: []int{1, 2}},
		{method: "fail", code: -32001},
		{method: "nosuch", code: -32601},
		{method: "echo", notify: true},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			before := len(rec.Ended())
			var err error
			if tt.notify {
				err = l.Client.Notify(ctx, tt.method, nil)
			} else {
				err = l.Client.Call(ctx, tt.method, tt.params, nil)
			}
			if (err == nil) != (tt.code == 0) {
				t.Fatalf("%v", err)
			}
			s := waitSpans(t, rec, before+1)[before]
			a := attrs(s)
			if s.Name() != tt.method || s.SpanKind() != trace.SpanKindClient {
				t.Errorf("span %q %v, want %q, client", s.Name(), s.SpanKind(), tt.method)
			}
			if s.Parent().SpanID() != parent.SpanContext().SpanID() {
				t.Errorf("parent %v, want the caller's span", s.Parent())
			}
			if a["rpc.system"].AsString() != "jsonrpc" || a["rpc.method"].AsString() != tt.method || a["network.peer.address"].AsString() != "local" {
				t.Errorf("attributes %v", s.Attributes())
			}
			if tt.code == 0 {
				if s.Status().Code != codes.Unset {
					t.Errorf("status %v on success", s.Status())
				}
				return
			}
			if a["rpc.jsonrpc.error_code"].AsInt64() != tt.code || s.Status().Code != codes.Error {
				t.Errorf("code %d, status %v, want %d, Error", a["rpc.jsonrpc.error_code"].AsInt64(), s.Status(), tt.code)
			}
		})
	}
	parent.End()
}

// TestClientSpanLocalFailure: a call that fails without an error
// response (its context ends) has the status Error and no error code.
func TestClientSpanLocalFailure(t *testing.T) {
	tp, rec := recorder(t)
	// The handler waits for its processing timeout, so that closing
	// the session does not wait long for it.
	l := server.NewLocal(&session.Options{Handler: methods(&paramsLog{}), ProcessingTimeout: 100 * time.Millisecond}, &session.Options{
		OutgoingInterceptors: []session.OutgoingInterceptor{gorpcxotel.OutgoingInterceptor(&gorpcxotel.Options{TracerProvider: tp})},
	})
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := l.Client.Call(ctx, "slow", nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Call: %v, want its deadline", err)
	}
	s := waitSpans(t, rec, 1)[0]
	if _, has := attrs(s)["rpc.jsonrpc.error_code"]; has || s.Status().Code != codes.Error || s.Status().Description != context.DeadlineExceeded.Error() {
		t.Errorf("status %v, attributes %v", s.Status(), s.Attributes())
	}
}

// TestTCPPeer checks the peer attributes over a real TCP connection on
// loopback: the address and port of the other end on each side.
func TestTCPPeer(t *testing.T) {
	tp, rec := recorder(t)
	opts := &gorpcxotel.Options{TracerProvider: tp, Propagate: true}
	srv := &server.Server{Address: "127.0.0.1:0", Options: session.Options{
		Handler:      methods(&paramsLog{}),
		Interceptors: []session.Interceptor{gorpcxotel.Interceptor(opts)},
	}}
	ctx := context.Background()
	if err := srv.Listen(ctx); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(ctx)
	addr := srv.Addr().(*net.TCPAddr)
	cli, err := server.Dial(ctx, "tcp", addr.String(), &session.Options{
		OutgoingInterceptors: []session.OutgoingInterceptor{gorpcxotel.OutgoingInterceptor(opts)},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if err := cli.Call(ctx, "echo", map[string]string{"tx": "00ff"}, nil); err != nil {
		t.Fatal(err)
	}
	spans := waitSpans(t, rec, 2)
	srvSpan, cliSpan := byKind(spans, trace.SpanKindServer)[0], byKind(spans, trace.SpanKindClient)[0]
	ca, sa := attrs(cliSpan), attrs(srvSpan)
	if ca["network.peer.address"].AsString() != "127.0.0.1" || ca["network.peer.port"].AsInt64() != int64(addr.Port) {
		t.Errorf("client span's peer %v:%v, want %v", ca["network.peer.address"].AsString(), ca["network.peer.port"].AsInt64(), addr)
	}
	if p := sa["network.peer.port"].AsInt64(); sa["network.peer.address"].AsString() != "127.0.0.1" || p <= 0 || p == int64(addr.Port) {
		t.Errorf("server span's peer %v:%v, want the client's end", sa["network.peer.address"].AsString(), p)
	}
	if srvSpan.Parent().SpanID() != cliSpan.SpanContext().SpanID() || !srvSpan.Parent().IsRemote() {
		t.Errorf("server span's parent %v, want the client span %v", srvSpan.Parent(), cliSpan.SpanContext())
	}
}

// TestPropagation checks the convention end to end: which params carry
// the trace context, that the server span is the client span's child
// when they do, and that the handler sees the params as the caller
// gave them.
func TestPropagation(t *testing.T) {
	tests := []struct {
		name       string
		clientProp bool
		serverProp bool
		params     any
		linked     bool   // the server span is the client span's child
		handler    string // the params the handler sees; "" for none
	}{
		{"object", true, true, map[string]int{"a": 1}, true, `{"a":1}`},
		{"empty object", true, true, json.RawMessage(`{}`), true, `{}`},
		{"own meta kept", true, true, json.RawMessage(`{"_meta":{"progressToken":5},"a":1}`), true, `{"_meta":{"progressToken":5},"a":1}`},
		{"own traceparent wins", true, true, json.RawMessage(`{"_meta":{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}}`), false, `{}`},
		{"positional", true, true, []int{1, 2}, false, `[1,2]`},
		{"no params", true, true, nil, false, ""},
		{"client off", false, true, map[string]int{"a": 1}, false, `{"a":1}`},
		{"server off", true, false, map[string]int{"a": 1}, false, "_meta"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, rec := recorder(t)
			seen := &paramsLog{}
			l := server.NewLocal(&session.Options{
				Handler:      methods(seen),
				Interceptors: []session.Interceptor{gorpcxotel.Interceptor(&gorpcxotel.Options{TracerProvider: tp, Propagate: tt.serverProp})},
			}, &session.Options{
				OutgoingInterceptors: []session.OutgoingInterceptor{gorpcxotel.OutgoingInterceptor(&gorpcxotel.Options{TracerProvider: tp, Propagate: tt.clientProp})},
			})
			defer l.Close()
			if err := l.Client.Call(context.Background(), "echo", tt.params, nil); err != nil {
				t.Fatal(err)
			}
			spans := waitSpans(t, rec, 2)
			srvSpan, cliSpan := byKind(spans, trace.SpanKindServer)[0], byKind(spans, trace.SpanKindClient)[0]
			linked := srvSpan.Parent().SpanID() == cliSpan.SpanContext().SpanID() &&
				srvSpan.SpanContext().TraceID() == cliSpan.SpanContext().TraceID()
			if linked != tt.linked {
				t.Errorf("server span's parent %v, client span %v; linked %v, want %v", srvSpan.Parent(), cliSpan.SpanContext(), linked, tt.linked)
			}
			if !tt.linked && srvSpan.SpanContext().TraceID() == cliSpan.SpanContext().TraceID() {
				t.Errorf("server span in the client's trace")
			}
			got := seen.last()
			if tt.handler == "_meta" {
				if !strings.HasPrefix(got, `{"_meta":{"traceparent":"00-`+cliSpan.SpanContext().TraceID().String()+"-"+cliSpan.SpanContext().SpanID().String()+`-01"},`) {
					t.Errorf("handler saw %s, want the client span's traceparent in _meta", got)
				}
			} else if got != tt.handler {
				t.Errorf("handler saw %s, want %s", got, tt.handler)
			}
		})
	}
}

// TestPropagationOwnTraceparent: a traceparent the caller put in
// "_meta" itself is sent as it is, and the server joins that trace.
func TestPropagationOwnTraceparent(t *testing.T) {
	tp, rec := recorder(t)
	opts := &gorpcxotel.Options{TracerProvider: tp, Propagate: true}
	l := server.NewLocal(&session.Options{
		Handler:      methods(&paramsLog{}),
		Interceptors: []session.Interceptor{gorpcxotel.Interceptor(opts)},
	}, &session.Options{OutgoingInterceptors: []session.OutgoingInterceptor{gorpcxotel.OutgoingInterceptor(opts)}})
	defer l.Close()
	params := json.RawMessage(`{"_meta":{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}}`)
	if err := l.Client.Call(context.Background(), "echo", params, nil); err != nil {
		t.Fatal(err)
	}
	s := byKind(waitSpans(t, rec, 2), trace.SpanKindServer)[0]
	if s.Parent().TraceID().String() != "0af7651916cd43dd8448eb211c80319c" || s.Parent().SpanID().String() != "b7ad6b7169203331" {
		t.Errorf("server span's parent %v, want the caller's own traceparent", s.Parent())
	}
}

// TestPropagationNotification: a notification carries the trace
// context too.
func TestPropagationNotification(t *testing.T) {
	tp, rec := recorder(t)
	seen := &paramsLog{}
	opts := &gorpcxotel.Options{TracerProvider: tp, Propagate: true}
	l := server.NewLocal(&session.Options{
		Handler:      methods(seen),
		Interceptors: []session.Interceptor{gorpcxotel.Interceptor(opts)},
	}, &session.Options{OutgoingInterceptors: []session.OutgoingInterceptor{gorpcxotel.OutgoingInterceptor(opts)}})
	defer l.Close()
	if err := l.Client.Notify(context.Background(), "echo", map[string]int{"n": 7}); err != nil {
		t.Fatal(err)
	}
	spans := waitSpans(t, rec, 2)
	srvSpan, cliSpan := byKind(spans, trace.SpanKindServer)[0], byKind(spans, trace.SpanKindClient)[0]
	if srvSpan.Parent().SpanID() != cliSpan.SpanContext().SpanID() {
		t.Errorf("notification's server span has parent %v, want %v", srvSpan.Parent(), cliSpan.SpanContext())
	}
	if got := seen.last(); got != `{"n":7}` {
		t.Errorf("handler saw %s", got)
	}
}

// TestWireWithoutPropagation: with Propagate off, nothing is added to
// the params on the wire; with it on, exactly the "_meta" member.
func TestWireWithoutPropagation(t *testing.T) {
	for _, prop := range []bool{false, true} {
		t.Run(strconv.FormatBool(prop), func(t *testing.T) {
			tp, _ := recorder(t)
			seen := &paramsLog{}
			// The server has no interceptor: its handler sees the params
			// as they were sent.
			l := server.NewLocal(&session.Options{Handler: methods(seen)}, &session.Options{
				OutgoingInterceptors: []session.OutgoingInterceptor{gorpcxotel.OutgoingInterceptor(&gorpcxotel.Options{TracerProvider: tp, Propagate: prop})},
			})
			defer l.Close()
			if err := l.Client.Call(context.Background(), "echo", map[string]int{"a": 1}, nil); err != nil {
				t.Fatal(err)
			}
			got := seen.last()
			if !prop {
				if got != `{"a":1}` {
					t.Errorf("sent %s, want the params unchanged", got)
				}
				return
			}
			var p struct {
				Meta map[string]string `json:"_meta"`
				A    int               `json:"a"`
			}
			if err := json.Unmarshal([]byte(got), &p); err != nil || p.A != 1 || len(p.Meta) != 1 || len(p.Meta["traceparent"]) != 55 {
				t.Errorf("sent %s (%v), want a and _meta.traceparent", got, err)
			}
		})
	}
}

// TestPropagatorOption: the configured propagator is used both ways
// (here with W3C baggage besides the trace context).
func TestPropagatorOption(t *testing.T) {
	tp, rec := recorder(t)
	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	opts := &gorpcxotel.Options{TracerProvider: tp, Propagate: true, Propagator: prop}
	seen := &paramsLog{}
	var gotBaggage string
	h := handler.Methods{"echo": session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		seen.add(req)
		var c propagationCarrier = map[string]string{}
		prop.Inject(ctx, c)
		gotBaggage = c["baggage"]
		return nil, nil
	})}
	l := server.NewLocal(&session.Options{Handler: h, Interceptors: []session.Interceptor{gorpcxotel.Interceptor(opts)}},
		&session.Options{OutgoingInterceptors: []session.OutgoingInterceptor{gorpcxotel.OutgoingInterceptor(opts)}})
	defer l.Close()
	ctx := prop.Extract(context.Background(), propagationCarrier{"baggage": "tenant=acme"})
	if err := l.Client.Call(ctx, "echo", map[string]int{"a": 1}, nil); err != nil {
		t.Fatal(err)
	}
	if gotBaggage != "tenant=acme" {
		t.Errorf("handler's baggage %q, want tenant=acme", gotBaggage)
	}
	if got := seen.last(); got != `{"a":1}` {
		t.Errorf("handler saw %s, want the fields of both propagators removed", got)
	}
	spans := waitSpans(t, rec, 2)
	if byKind(spans, trace.SpanKindServer)[0].Parent().SpanID() != byKind(spans, trace.SpanKindClient)[0].SpanContext().SpanID() {
		t.Errorf("server span not the client span's child")
	}
}

// propagationCarrier is a plain map carrier for the tests.
type propagationCarrier map[string]string

func (c propagationCarrier) Get(k string) string { return c[k] }
func (c propagationCarrier) Set(k, v string)     { c[k] = v }
func (c propagationCarrier) Keys() []string {
	var keys []string
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// TestGlobalProvider: with no TracerProvider, the interceptors use the
// global one, even when it is set after they are made.
func TestGlobalProvider(t *testing.T) {
	ic, oc := gorpcxotel.Interceptor(nil), gorpcxotel.OutgoingInterceptor(nil)
	tp, rec := recorder(t)
	old := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	defer otel.SetTracerProvider(old)
	l := server.NewLocal(&session.Options{Handler: methods(&paramsLog{}), Interceptors: []session.Interceptor{ic}},
		&session.Options{OutgoingInterceptors: []session.OutgoingInterceptor{oc}})
	defer l.Close()
	if err := l.Client.Call(context.Background(), "add", []int{1, 2}, nil); err != nil {
		t.Fatal(err)
	}
	spans := waitSpans(t, rec, 2)
	if len(byKind(spans, trace.SpanKindServer)) != 1 || len(byKind(spans, trace.SpanKindClient)) != 1 {
		t.Errorf("spans %v, want a server and a client span", spans)
	}
	if spans[0].InstrumentationScope().Name != gorpcxotel.ScopeName {
		t.Errorf("scope %q, want %q", spans[0].InstrumentationScope().Name, gorpcxotel.ScopeName)
	}
}

// TestNotSampled: with a provider that samples nothing, the requests
// are served as usual and nothing is recorded.
func TestNotSampled(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()), sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())
	opts := &gorpcxotel.Options{TracerProvider: tp, Propagate: true, RequestID: true}
	seen := &paramsLog{}
	l := server.NewLocal(&session.Options{Handler: methods(seen), Interceptors: []session.Interceptor{gorpcxotel.Interceptor(opts)}},
		&session.Options{OutgoingInterceptors: []session.OutgoingInterceptor{gorpcxotel.OutgoingInterceptor(opts)}})
	defer l.Close()
	if err := l.Client.Call(context.Background(), "echo", map[string]int{"a": 1}, nil); err != nil {
		t.Fatal(err)
	}
	if err := l.Client.Call(context.Background(), "fail", nil, nil); err == nil {
		t.Fatal("fail succeeded")
	}
	if got := seen.last(); got != `{"a":1}` {
		t.Errorf("handler saw %s", got)
	}
	if n := len(rec.Ended()); n != 0 {
		t.Errorf("%d spans recorded, want none", n)
	}
}

// TestServerWithoutConvention: a handler of handler.Func taking named
// params, on a server that does not take the trace context, rejects
// the "_meta" member (as the package documentation warns), and accepts
// the call once the server's interceptor takes it.
func TestServerWithoutConvention(t *testing.T) {
	for _, serverProp := range []bool{false, true} {
		t.Run(strconv.FormatBool(serverProp), func(t *testing.T) {
			tp, _ := recorder(t)
			add := handler.Methods{"add": handler.MustFunc(func(a, b int) int { return a + b }, "a", "b")}
			l := server.NewLocal(&session.Options{
				Handler:      add,
				Interceptors: []session.Interceptor{gorpcxotel.Interceptor(&gorpcxotel.Options{TracerProvider: tp, Propagate: serverProp})},
			}, &session.Options{
				OutgoingInterceptors: []session.OutgoingInterceptor{gorpcxotel.OutgoingInterceptor(&gorpcxotel.Options{TracerProvider: tp, Propagate: true})},
			})
			defer l.Close()
			var sum int
			err := l.Client.Call(context.Background(), "add", map[string]int{"a": 2, "b": 3}, &sum)
			if serverProp {
				if err != nil || sum != 5 {
					t.Errorf("add = %d, %v; want 5", sum, err)
				}
				return
			}
			var rpcErr *jsonrpc2.Error
			if !errors.As(err, &rpcErr) || rpcErr.Code != protocol.CodeInvalidParams {
				t.Errorf("add with _meta: %v, want -32602", err)
			}
		})
	}
}
