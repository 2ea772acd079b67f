// Geth is the github.com/ethereum/go-ethereum/rpc server of the
// benchmarks: bench_echo(value) -> value over newline-delimited JSON-RPC
// 2.0. It serves TCP connections the way a go-ethereum node serves its IPC
// endpoint (rpc.StartIPCEndpoint): an rpc.Server from rpc.NewServer,
// Server.ServeListener, which serves each accepted connection with
// Server.ServeCodec over rpc.NewCodec (a json.Decoder reading values back
// to back, each answer written as one line). Geth's methods are
// namespaced: the receiver registered under the name "bench" has an
// Echo(json.RawMessage) json.RawMessage method, so the method is called
// "bench_echo" and the value comes back byte for byte.
//
// It is the one Go peer with limits on by default. In go-ethereum
// v1.17.10 these are:
//
//   - batches of at most 1,000 requests (a larger batch is answered with
//     a single error, "batch too large") and at most 25,000,000 bytes of
//     results and errors in the answer to one batch (past it, the requests
//     not yet answered get an error, "response too large"): the defaults
//     of a go-ethereum node (node.DefaultConfig's BatchRequestLimit and
//     BatchResponseMaxSize), which the node gives to its in-process,
//     HTTP and WebSocket servers with Server.SetBatchLimits, set here the
//     same way. A node's IPC endpoint itself is a bare rpc.NewServer,
//     without batch limits; -no-batch-limits serves like that.
//   - method names of at most 2,048 bytes, and each answer written within
//     10 s (a write deadline), which every rpc.Server has.
//
// A stream connection has no limit on the size of a request: the
// json.Decoder of rpc.NewCodec reads a value of any length.
//
// Usage:
//
//	geth [-addr 127.0.0.1:0] [-no-batch-limits]
//
// The first line on standard output is "listening on HOST:PORT". It
// serves until SIGINT or SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"os/signal"
	"syscall"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/gorpcx/gorpcx/bench/internal/startup"
)

// The batch limits of a go-ethereum node at its defaults (node.DefaultConfig
// in go-ethereum v1.17.10).
const (
	batchRequestLimit    = 1000
	batchResponseMaxSize = 25 * 1000 * 1000
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen `address`")
	noLimits := flag.Bool("no-batch-limits", false, "serve without batch limits, as a node's IPC endpoint does")
	flag.Parse()

	srv, err := newServer(!*noLimits)
	if err != nil {
		log.Fatal(err)
	}
	ln := startup.Listen(*addr)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = ln.Close()
	}()
	_ = srv.ServeListener(ln) // returns once the listener is closed
	srv.Stop()
}

// newServer returns the rpc.Server of the benchmarks, with the service
// "bench" registered and, if batchLimits is set, a node's default batch
// limits. It returns the error of the registration, if any.
func newServer(batchLimits bool) (*rpc.Server, error) {
	srv := rpc.NewServer()
	if batchLimits {
		srv.SetBatchLimits(batchRequestLimit, batchResponseMaxSize)
	}
	if err := srv.RegisterName("bench", bench{}); err != nil {
		srv.Stop()
		return nil, err
	}
	return srv, nil
}

// bench is the service registered as "bench".
type bench struct{}

// Echo answers bench_echo(value) with value, as it was sent.
func (bench) Echo(value json.RawMessage) json.RawMessage { return value }
