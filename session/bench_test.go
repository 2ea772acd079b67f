package session

import (
	"context"
	"encoding/json"
	"net"
	"net/rpc"
	"net/rpc/jsonrpc"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/framing"
)

// benchAdd is the handler the benchmarks call: add two numbers.
var benchAdd = Methods{
	"add": HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		var n [2]int
		if err := json.Unmarshal(*req.Params, &n); err != nil {
			return nil, err
		}
		return n[0] + n[1], nil
	}),
	"echo": HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		return *req.Params, nil
	}),
}

// BenchmarkRoundTrip measures one call and its answer, both ends
// together (allocations of client and server in one process).
func BenchmarkRoundTrip(b *testing.B) {
	for _, tr := range []struct {
		name string
		mk   func(testing.TB, *Options, *Options) (*Session, *Session)
	}{{"pipe", pair}, {"tcp", tcpPair}} {
		b.Run(tr.name+"/typed", func(b *testing.B) {
			cli, _ := tr.mk(b, nil, &Options{Handler: benchAdd})
			ctx := context.Background()
			args := []int{1, 2}
			var sum int
			b.ReportAllocs()
			for b.Loop() {
				if err := cli.Call(ctx, "add", args, &sum); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tr.name+"/raw", func(b *testing.B) {
			cli, _ := tr.mk(b, nil, &Options{Handler: benchAdd})
			ctx := context.Background()
			args := json.RawMessage(`["0123456789abcdef"]`)
			var res json.RawMessage
			b.ReportAllocs()
			for b.Loop() {
				if err := cli.Call(ctx, "echo", args, &res); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPipelined keeps 64 calls in flight on one session.
func BenchmarkPipelined(b *testing.B) {
	for _, tr := range []struct {
		name string
		mk   func(testing.TB, *Options, *Options) (*Session, *Session)
	}{{"pipe", pair}, {"tcp", tcpPair}} {
		b.Run(tr.name, func(b *testing.B) {
			cli, _ := tr.mk(b, &Options{Outgoing: &Outgoing{Initial: 64, Max: 64}},
				&Options{Handler: benchAdd, Concurrency: 64})
			ctx := context.Background()
			b.ReportAllocs()
			b.SetParallelism(64)
			b.RunParallel(func(pb *testing.PB) {
				args := json.RawMessage(`["0123456789abcdef"]`)
				var res json.RawMessage
				for pb.Next() {
					if err := cli.Call(ctx, "echo", args, &res); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// Arith is the net/rpc service of the comparison benchmark.
type Arith struct{}

// Add sets reply to the sum of args.
func (Arith) Add(args [2]int, reply *int) error {
	*reply = args[0] + args[1]
	return nil
}

// BenchmarkNetRPCJSON is the same round trip with the standard
// library's net/rpc/jsonrpc, for comparison in the same run.
func BenchmarkNetRPCJSON(b *testing.B) {
	for _, transport := range []string{"pipe", "tcp"} {
		b.Run(transport, func(b *testing.B) {
			srv := rpc.NewServer()
			if err := srv.Register(Arith{}); err != nil {
				b.Fatal(err)
			}
			var a, c net.Conn
			if transport == "pipe" {
				a, c = net.Pipe()
			} else {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					b.Fatal(err)
				}
				defer ln.Close()
				accepted := make(chan net.Conn, 1)
				go func() {
					conn, _ := ln.Accept()
					accepted <- conn
				}()
				if a, err = net.Dial("tcp", ln.Addr().String()); err != nil {
					b.Fatal(err)
				}
				c = <-accepted
			}
			done := make(chan struct{})
			go func() {
				srv.ServeCodec(jsonrpc.NewServerCodec(c))
				close(done)
			}()
			client := jsonrpc.NewClient(a)
			var sum int
			b.ReportAllocs()
			for b.Loop() {
				if err := client.Call("Arith.Add", [2]int{1, 2}, &sum); err != nil {
					b.Fatal(err)
				}
			}
			client.Close()
			<-done
		})
	}
}

// BenchmarkSendBatch sends a batch of 10 calls and waits for its
// answers.
func BenchmarkSendBatch(b *testing.B) {
	cli, _ := pair(b, nil, &Options{Handler: benchAdd})
	ctx := context.Background()
	args := json.RawMessage(`["0123456789abcdef"]`)
	b.ReportAllocs()
	for b.Loop() {
		batch := &Batch{}
		for range 10 {
			batch.Call("echo", args, nil)
		}
		if err := cli.SendBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoundTripGated is BenchmarkRoundTrip/pipe/raw with the
// server's connection under a Gate, as a server.Server runs it: with
// the timeouts off, and with the idle, first-message and
// unfinished-message timeouts on (what they add to each message).
func BenchmarkRoundTripGated(b *testing.B) {
	for _, tt := range []struct {
		name string
		opts Options
	}{
		{"off", Options{}},
		{"timeouts", Options{IdleTimeout: time.Hour, FirstMessageTimeout: time.Hour, MessageTimeout: time.Hour}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			x, y := net.Pipe()
			g := NewBudget(512 << 20).Gate(y)
			opts := tt.opts
			opts.Handler = benchAdd
			opts.Gate = g
			srv := New(framing.NewStream(framing.Newline{}, g), &opts)
			cli := New(framing.NewStream(framing.Newline{}, x), &Options{Side: Client})
			b.Cleanup(func() {
				cli.Abort()
				srv.Abort()
			})
			ctx := context.Background()
			args := json.RawMessage(`["0123456789abcdef"]`)
			var res json.RawMessage
			b.ReportAllocs()
			for b.Loop() {
				if err := cli.Call(ctx, "echo", args, &res); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRoundTripIntercepted is BenchmarkRoundTrip/pipe/raw with no
// interceptor and with one that times the request (the cost of the
// chain: its Request and its closure).
func BenchmarkRoundTripIntercepted(b *testing.B) {
	timing := func(ctx context.Context, req *Request, next Handle) (any, error) {
		start := time.Now()
		res, err := next(ctx, req)
		_ = time.Since(start)
		return res, err
	}
	for _, tt := range []struct {
		name string
		ics  []Interceptor
	}{{"none", nil}, {"one", []Interceptor{timing}}} {
		b.Run(tt.name, func(b *testing.B) {
			cli, _ := pair(b, nil, &Options{Handler: benchAdd, Interceptors: tt.ics})
			ctx := context.Background()
			args := json.RawMessage(`["0123456789abcdef"]`)
			var res json.RawMessage
			b.ReportAllocs()
			for b.Loop() {
				if err := cli.Call(ctx, "echo", args, &res); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
