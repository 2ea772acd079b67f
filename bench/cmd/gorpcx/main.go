// Gorpcx is the gorpcx server of the benchmarks: echo(value) -> value
// over newline-delimited JSON-RPC 2.0, with the default settings of
// examples/interop-server. Every protection stays on: the 1,000,000-byte
// message limit, 20 requests processed at once per session, the 30 s
// processing timeout, the send timeout and write buffer cap, and cost
// accounting with aiorpcX's limits. The only setting changed from a
// default is the limit of sessions held at once, given by -max-sessions
// (the default 1,000 would refuse the benchmark's 10,000 idle sessions).
// For the notes of the page, -byte-cost changes the cost of each byte
// sent or received (0: bytes are free; errors still cost). With -tls the
// endpoint serves TLS (server.Server's TLS field, as interop-server's
// -tls sets it) with the configuration of every benchmark server's -tls:
// a self-signed ECDSA P-256 certificate from transport.SelfSigned, TLS
// 1.3, Go's defaults otherwise.
//
// The echo method is a session.HandlerFunc, in a handler.Methods table,
// that splits the params with handler.Positional (no reflection) and
// returns the first element unchanged; with -func it is instead the
// ordinary Go function func(value json.RawMessage) json.RawMessage
// adapted by handler.MustFunc, exactly as interop-server registers it.
//
// Usage:
//
//	gorpcx [-addr 127.0.0.1:0] [-max-sessions 1000] [-func] [-tls] [-byte-cost 0.00001] [-log info] [-cpuprofile F] [-memprofile F]
//
// The first line on standard output is "listening on HOST:PORT". Logs go
// to standard error. It serves until SIGINT or SIGTERM, then shuts down
// gracefully (for up to a second).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/gorpcx/gorpcx/bench/internal/startup"
	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/protocol"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen `address`")
	maxSessions := flag.Int("max-sessions", server.DefaultMaxSessions, "sessions held at once")
	useFunc := flag.Bool("func", false, "register echo with handler.MustFunc, as interop-server does")
	useTLS := flag.Bool("tls", false, "serve TLS 1.3 with a self-signed ECDSA P-256 certificate made at start")
	byteCost := flag.Float64("byte-cost", session.DefaultCost().PerByte, "cost of each byte sent or received (aiorpcX's 1/100,000 by default)")
	level := flag.String("log", "info", "log level: debug, info, warn or error")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to `file` until shutdown")
	memProfile := flag.String("memprofile", "", "write a heap profile to `file` at shutdown")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gorpcx:", err)
			os.Exit(2)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "gorpcx:", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	if *memProfile != "" {
		defer func() {
			f, err := os.Create(*memProfile)
			if err == nil {
				runtime.GC()
				_ = pprof.WriteHeapProfile(f)
				f.Close()
			}
		}()
	}
	lvl, err := zapcore.ParseLevel(*level)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gorpcx:", err)
		os.Exit(2)
	}
	enc := zap.NewDevelopmentEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	logger := zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.Lock(os.Stderr), lvl))
	defer func() { _ = logger.Sync() }()

	var echo session.Handler = session.HandlerFunc(echoRaw)
	if *useFunc {
		echo = handler.MustFunc(func(value json.RawMessage) json.RawMessage { return value }, "value")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cost := session.DefaultCost()
	cost.PerByte = *byteCost
	srv := &server.Server{
		Address: *addr,
		Framer:  framing.Newline{Max: framing.DefaultMax},
		Options: session.Options{
			Handler:           handler.Methods{"echo": echo},
			Dialect:           protocol.V2,
			Concurrency:       session.DefaultConcurrency,
			ProcessingTimeout: session.DefaultProcessingTimeout,
			Cost:              &cost,
		},
		MaxSessions: *maxSessions,
		Logger:      logger,
	}
	if *useTLS {
		srv.TLS = startup.TLSConfig()
	}
	if err := srv.Listen(ctx); err != nil {
		logger.Error("cannot listen", zap.Error(err))
		os.Exit(1)
	}
	fmt.Printf("listening on %s\n", srv.Addr())

	<-ctx.Done()
	if *memProfile != "" {
		// The heap of the live sessions, before they are closed.
		if f, err := os.Create(*memProfile); err == nil {
			runtime.GC()
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Fprintf(os.Stderr, "memory: heap in use %d, heap idle %d, released %d, stacks %d, goroutines %d, sys %d\n",
			ms.HeapInuse, ms.HeapIdle, ms.HeapReleased, ms.StackInuse, runtime.NumGoroutine(), ms.Sys)
		*memProfile = ""
	}
	_ = srv.Close()
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
}

// echoRaw answers echo(value) with value, as it was sent.
func echoRaw(_ context.Context, req *jsonrpc2.Request) (any, error) {
	var buf [2]json.RawMessage
	params, err := handler.Positional(req, buf[:0])
	if err != nil {
		return nil, err
	}
	if len(params) != 1 {
		return nil, &jsonrpc2.Error{Code: jsonrpc2.CodeInvalidParams, Message: "echo takes one value"}
	}
	return params[0], nil
}
