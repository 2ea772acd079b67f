package gorpcxprom_test

import (
	"context"
	"encoding/json"
	"net"
	"testing"

	"github.com/sourcegraph/jsonrpc2"

	gorpcxprom "github.com/gorpcx/gorpcx/contrib/prometheus"
	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

var benchEcho = handler.Methods{
	"echo": session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		return *req.Params, nil
	}),
}

// BenchmarkRoundTrip is one call and its answer over net.Pipe, client
// and server in one process (session's BenchmarkRoundTrip/pipe/raw):
// with no metrics, with the Interceptor on the server, with the
// Observer too, and with the OutgoingInterceptor on the client as well.
func BenchmarkRoundTrip(b *testing.B) {
	m := mustNew(b, &gorpcxprom.Options{Methods: []string{"echo"}})
	for _, tc := range []struct {
		name           string
		server, client session.Options
	}{
		{"none", session.Options{Handler: benchEcho}, session.Options{}},
		{"interceptor", session.Options{Handler: benchEcho, Interceptors: []session.Interceptor{m.Interceptor()}}, session.Options{}},
		{"interceptor+observer", session.Options{Handler: benchEcho, Interceptors: []session.Interceptor{m.Interceptor()}, Observer: m.Observer()}, session.Options{}},
		{"both sides", session.Options{Handler: benchEcho, Interceptors: []session.Interceptor{m.Interceptor()}, Observer: m.Observer()},
			session.Options{OutgoingInterceptors: []session.OutgoingInterceptor{m.OutgoingInterceptor()}, Observer: m.Observer()}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			l := server.NewLocal(&tc.server, &tc.client)
			defer l.Close()
			ctx := context.Background()
			args := json.RawMessage(`["0123456789abcdef"]`)
			var res json.RawMessage
			b.ReportAllocs()
			for b.Loop() {
				if err := l.Client.Call(ctx, "echo", args, &res); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkInterceptor is the interceptor alone around a handler that
// does nothing: a known method and an unknown one.
func BenchmarkInterceptor(b *testing.B) {
	m := mustNew(b, &gorpcxprom.Options{Methods: []string{"a", "b", "c", "echo"}})
	in := m.Interceptor()
	next := func(context.Context, *session.Request) (any, error) { return nil, nil }
	for _, method := range []string{"echo", "unknown"} {
		b.Run(method, func(b *testing.B) {
			req := &session.Request{Request: &jsonrpc2.Request{Method: method}}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				in(ctx, req, next)
			}
		})
	}
}

// BenchmarkScrape is one Gather of a Metrics tracking 1,000 live
// sessions.
func BenchmarkScrape(b *testing.B) {
	m := mustNew(b, &gorpcxprom.Options{Methods: []string{"echo"}})
	for range 1000 {
		c1, c2 := net.Pipe()
		s := session.New(framing.NewStream(framing.Newline{}, c1), &session.Options{Observer: m.Observer()})
		b.Cleanup(func() {
			s.Abort()
			c2.Close()
		})
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Gatherer().Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
