package gorpcxotel_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/sourcegraph/jsonrpc2"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	gorpcxotel "github.com/gorpcx/gorpcx/contrib/otel"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// BenchmarkRoundTrip is a call with named params over an in-memory
// session (server.NewLocal), answered with its params: without the
// interceptors, with them on a no-op tracer provider, with them on the
// SDK sampling every span (and exporting none, to measure the
// interceptors and the SDK, not an exporter), and the same carrying the
// trace context in "_meta".
func BenchmarkRoundTrip(b *testing.B) {
	sdk := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	defer sdk.Shutdown(context.Background())
	echo := session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		return *req.Params, nil
	})
	for _, tt := range []struct {
		name      string
		tp        trace.TracerProvider // nil: no interceptor
		propagate bool
	}{
		{"none", nil, false},
		{"noop", noop.NewTracerProvider(), false},
		{"sdk", sdk, false},
		{"sdk-propagate", sdk, true},
	} {
		b.Run(tt.name, func(b *testing.B) {
			so, co := &session.Options{Handler: echo}, &session.Options{}
			if tt.tp != nil {
				opts := &gorpcxotel.Options{TracerProvider: tt.tp, Propagate: tt.propagate, Methods: []string{"echo"}}
				so.Interceptors = []session.Interceptor{gorpcxotel.Interceptor(opts)}
				co.OutgoingInterceptors = []session.OutgoingInterceptor{gorpcxotel.OutgoingInterceptor(opts)}
			}
			l := server.NewLocal(so, co)
			defer l.Close()
			ctx := context.Background()
			args := json.RawMessage(`{"tx":"0123456789abcdef"}`)
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
