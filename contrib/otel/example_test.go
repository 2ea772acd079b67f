package gorpcxotel_test

import (
	"context"
	"fmt"
	"log"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	gorpcxotel "github.com/gorpcx/gorpcx/contrib/otel"
	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// A client and a server, both traced, with the trace context carried
// in the params: the server's span is a child of the client's, in the
// same trace. (A real program gives the tracer provider an exporter,
// such as OTLP's, in a batching span processor.)
func Example() {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())

	type args struct {
		Height int `json:"height"`
	}
	methods := handler.Methods{
		"blockchain.block.header": handler.MustFunc(func(a args) (string, error) {
			return fmt.Sprintf("header %d", a.Height), nil
		}),
	}
	opts := &gorpcxotel.Options{
		TracerProvider: tp,
		Propagate:      true,
		Methods:        []string{"blockchain.block.header"},
	}
	l := server.NewLocal(&session.Options{
		Handler:      methods,
		Interceptors: []session.Interceptor{gorpcxotel.Interceptor(opts)},
	}, &session.Options{
		OutgoingInterceptors: []session.OutgoingInterceptor{gorpcxotel.OutgoingInterceptor(opts)},
	})
	defer l.Close()

	var header string
	if err := l.Client.Call(context.Background(), "blockchain.block.header", args{Height: 5}, &header); err != nil {
		log.Fatal(err)
	}
	fmt.Println(header)

	spans := rec.Ended() // the server's ends before it replies
	srv, cli := spans[0], spans[1]
	fmt.Println(srv.SpanKind(), srv.Name())
	fmt.Println(cli.SpanKind(), cli.Name())
	fmt.Println("same trace:", srv.SpanContext().TraceID() == cli.SpanContext().TraceID())
	fmt.Println("server's parent is the client's span:", srv.Parent().SpanID() == cli.SpanContext().SpanID())
	// Output:
	// header 5
	// server blockchain.block.header
	// client blockchain.block.header
	// same trace: true
	// server's parent is the client's span: true
}
