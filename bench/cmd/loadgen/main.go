// Loadgen is the load generator of the gorpcx benchmarks: it speaks
// newline-delimited JSON-RPC 2.0 to a server that answers
// echo(value) -> value, and prints one JSON line of results.
//
// Usage:
//
//	loadgen -addr HOST:PORT [-c 1] [-p 1] [-d 10s] [-warmup 2s] [-payload 16]
//	        [-batch 0] [-seed 1] [-method echo] [-tls] [-server NAME] [-setting NAME]
//	loadgen -addr HOST:PORT -idle N [-tls] [-hold 10m] [-method echo]
//
// -method names the echo method (default "echo"; go-ethereum's server,
// whose methods are namespaced, calls it "bench_echo").
//
// It opens -c connections and keeps -p messages in flight on each
// (pipelined): a message is one request, or with -batch B a batch of B
// requests. Each connection has one writer goroutine, which writes every
// message it may send at that moment in a single write (the requests are
// built from a template and an incrementing ID, into a reused buffer),
// and one reader goroutine, which checks every answer: the ID is one in
// flight, and the result is, byte for byte, the value sent (a JSON string
// of -payload random letters and digits, fixed by -seed, different for
// each connection). Responses are scanned, not decoded: no reflection and
// no allocation per message. The time from writing a message to reading
// its answer goes into a log-linear histogram (buckets at most 3 % wide).
//
// With -tls every connection speaks TLS (crypto/tls, Go's defaults, TLS
// 1.3 at least) and finishes its handshake while the connections are
// opened, before the warm-up; the messages then take the same path,
// through the tls.Conn (which itself allocates 24 bytes per Read, not per
// message, in Go's crypto/tls). The server's certificate is not verified:
// the benchmark servers make a self-signed one at start, on loopback.
//
// After -warmup, answers are counted and timed for -d. The output is one
// JSON line:
//
//	server, setting  the labels given by -server and -setting
//	rps              messages (requests, or batches) answered per second
//	items_per_sec    requests answered per second (rps × B with batches)
//	p50_us, p99_us   latency percentiles of a message, in microseconds
//	requests         requests answered in the measured window
//	errors           answers that were wrong (each wrong message counts
//	                 once) and connections that failed
//	cpu_user_s, cpu_sys_s, cpu_per_req_us
//	                 the load generator's own CPU time in the window,
//	                 and per request answered
//
// When the measured window starts and ends it writes "loadgen: measuring"
// and "loadgen: done" to standard error, so that a harness can sample the
// server's CPU time over the same window. The exit status is 0 for a run
// without errors, 1 for a run with errors, 2 if it could not run.
//
// With -idle N it opens N connections instead, makes one echo call on
// each, prints a JSON line (server, setting, idle, errors) once all are
// up, and holds them open without traffic until SIGINT or SIGTERM (or
// -hold passes): a harness measures the server's memory meanwhile.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// config is the command line.
type config struct {
	addr            string
	conns, depth    int
	duration        time.Duration
	warmup          time.Duration
	payload, batch  int
	seed            uint64
	method          string
	server, setting string
	idle            int
	tls             bool
	hold            time.Duration
	dialTimeout     time.Duration
	cpuProfile      string
}

// run is the state the connections of a run share.
type run struct {
	method       string
	depth, batch int
	began        time.Time
	phase        atomic.Int32
	stop         chan struct{} // closed when the run stops
}

// result is the JSON line printed.
type result struct {
	Server      string  `json:"server"`
	Setting     string  `json:"setting"`
	Conns       int     `json:"conns"`
	Depth       int     `json:"depth,omitempty"`
	Batch       int     `json:"batch,omitempty"`
	Payload     int     `json:"payload"`
	Seconds     float64 `json:"seconds,omitempty"`
	RPS         float64 `json:"rps"`
	ItemsPerSec float64 `json:"items_per_sec"`
	P50us       float64 `json:"p50_us"`
	P99us       float64 `json:"p99_us"`
	Errors      uint64  `json:"errors"`
	Requests    uint64  `json:"requests"`
	CPUUser     float64 `json:"cpu_user_s"`
	CPUSys      float64 `json:"cpu_sys_s"`
	CPUPerReq   float64 `json:"cpu_per_req_us"`
	Idle        int     `json:"idle,omitempty"`
	FirstError  string  `json:"first_error,omitempty"`
}

func main() {
	cfg, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	var res *result
	if cfg.idle > 0 {
		res, err = idle(cfg)
	} else if res, err = load(cfg); err == nil {
		err = printResult(res)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	if res.Errors > 0 {
		os.Exit(1)
	}
}

func parseFlags() (*config, error) {
	var c config
	flag.StringVar(&c.addr, "addr", "", "server `address` (HOST:PORT), required")
	flag.IntVar(&c.conns, "c", 1, "connections")
	flag.IntVar(&c.depth, "p", 1, "messages in flight per connection")
	flag.DurationVar(&c.duration, "d", 10*time.Second, "measured `duration`")
	flag.DurationVar(&c.warmup, "warmup", 2*time.Second, "warm-up `duration` before measuring")
	flag.IntVar(&c.payload, "payload", 16, "characters of the echo value (a JSON string)")
	flag.IntVar(&c.batch, "batch", 0, "requests per batch (0: no batches)")
	flag.Uint64Var(&c.seed, "seed", 1, "seed of the echo values")
	flag.StringVar(&c.method, "method", "echo", "`name` of the echo method")
	flag.StringVar(&c.server, "server", "", "server label for the output")
	flag.StringVar(&c.setting, "setting", "", "setting label for the output")
	flag.IntVar(&c.idle, "idle", 0, "open this many idle connections and hold them")
	flag.BoolVar(&c.tls, "tls", false, "speak TLS, with the handshake done before the warm-up (the server's certificate is not verified)")
	flag.DurationVar(&c.hold, "hold", 10*time.Minute, "with -idle, the longest time to hold the connections")
	flag.DurationVar(&c.dialTimeout, "dial-timeout", 10*time.Second, "timeout of each dial")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the measured window to `file`")
	flag.Parse()
	switch {
	case flag.NArg() > 0:
		return nil, fmt.Errorf("unexpected arguments %q", flag.Args())
	case c.addr == "":
		return nil, errors.New("-addr is required")
	case c.conns < 1 || c.depth < 1:
		return nil, errors.New("-c and -p must be at least 1")
	case c.duration <= 0 || c.warmup < 0:
		return nil, errors.New("-d must be positive and -warmup not negative")
	case c.payload < 0 || c.batch < 0 || c.idle < 0:
		return nil, errors.New("-payload, -batch and -idle must not be negative")
	case c.method == "":
		return nil, errors.New("-method must not be empty")
	}
	return &c, nil
}

// clientTLS is the TLS configuration of -tls. InsecureSkipVerify: the
// benchmark servers make a self-signed certificate at start and listen on
// loopback, so there is nothing to verify it against; the benchmark
// measures the cost of TLS, not trust.
var clientTLS = &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}

// dial opens one connection to cfg.addr and, with -tls, completes the TLS
// handshake, each within the dial timeout.
func dial(cfg *config, d *net.Dialer) (net.Conn, error) {
	nc, err := d.Dial("tcp", cfg.addr)
	if err != nil || !cfg.tls {
		return nc, err
	}
	tc := tls.Client(nc, clientTLS)
	ctx, cancel := context.WithTimeout(context.Background(), cfg.dialTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("TLS handshake: %w", err)
	}
	return tc, nil
}

// dialAll opens n connections (with -tls, handshakes done), 64 at a time.
func dialAll(cfg *config, n int) ([]net.Conn, error) {
	conns := make([]net.Conn, n)
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	d := net.Dialer{Timeout: cfg.dialTimeout}
	for range min(n, 64) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				nc, err := dial(cfg, &d)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("connection %d: %w", i, err)
					}
					mu.Unlock()
					return
				}
				conns[i] = nc
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		closeAll(conns)
		return nil, firstErr
	}
	return conns, nil
}

func closeAll(conns []net.Conn) {
	for _, nc := range conns {
		if nc != nil {
			_ = nc.Close()
		}
	}
}

// values returns the echo value of each of n connections.
func values(cfg *config, n int) [][]byte {
	rng := rand.New(rand.NewPCG(cfg.seed, 0x9e3779b97f4a7c15))
	vs := make([][]byte, n)
	for i := range vs {
		vs[i] = makeValue(cfg.payload, rng)
	}
	return vs
}

// load runs the load and returns its result.
func load(cfg *config) (*result, error) {
	ncs, err := dialAll(cfg, cfg.conns)
	if err != nil {
		return nil, err
	}
	r := &run{method: cfg.method, depth: cfg.depth, batch: cfg.batch, began: time.Now(), stop: make(chan struct{})}
	vs := values(cfg, cfg.conns)
	conns := make([]*conn, len(ncs))
	var wg sync.WaitGroup
	for i, nc := range ncs {
		conns[i] = newConn(nc, r, vs[i])
		conns[i].serve(&wg)
	}

	time.Sleep(cfg.warmup)
	if cfg.cpuProfile != "" {
		stopProfile, err := startProfile(cfg.cpuProfile)
		if err != nil {
			return nil, err
		}
		defer stopProfile()
	}
	cpu0 := cpuTime()
	t0 := time.Now()
	r.phase.Store(measuring)
	fmt.Fprintln(os.Stderr, "loadgen: measuring")
	time.Sleep(cfg.duration)
	r.phase.Store(stopping)
	elapsed := time.Since(t0)
	cpu1 := cpuTime()
	pprof.StopCPUProfile()
	fmt.Fprintln(os.Stderr, "loadgen: done")
	close(r.stop)
	closeAll(ncs)
	wg.Wait()

	res := &result{
		Server: cfg.server, Setting: cfg.setting,
		Conns: cfg.conns, Depth: cfg.depth, Batch: cfg.batch, Payload: cfg.payload,
		Seconds: round(elapsed.Seconds(), 3),
	}
	var h histogram
	var messages uint64
	for _, c := range conns {
		h.merge(&c.hist)
		messages += c.answered
		res.Errors += c.errors
		if c.firstErr != nil && res.FirstError == "" {
			res.FirstError = c.firstErr.Error()
		}
		if c.writeErr != nil {
			res.Errors++
			if res.FirstError == "" {
				res.FirstError = "write: " + c.writeErr.Error()
			}
		}
	}
	items := uint64(max(cfg.batch, 1))
	res.Requests = messages * items
	res.RPS = round(float64(messages)/elapsed.Seconds(), 1)
	res.ItemsPerSec = round(float64(res.Requests)/elapsed.Seconds(), 1)
	res.P50us = round(h.quantile(0.50)/1e3, 2)
	res.P99us = round(h.quantile(0.99)/1e3, 2)
	res.CPUUser = round(cpu1.user-cpu0.user, 3)
	res.CPUSys = round(cpu1.sys-cpu0.sys, 3)
	if res.Requests > 0 {
		res.CPUPerReq = round((res.CPUUser+res.CPUSys)*1e6/float64(res.Requests), 3)
	}
	return res, nil
}

// startProfile starts CPU profiling into the file at path; the returned
// function closes the file once profiling has stopped.
func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}

func printResult(res *result) error {
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	_, err = fmt.Printf("%s\n", b)
	return err
}

// cpu is a process's CPU time in seconds.
type cpu struct{ user, sys float64 }

// cpuTime returns this process's CPU time so far (every thread).
func cpuTime() cpu {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return cpu{}
	}
	return cpu{
		user: float64(ru.Utime.Sec) + float64(ru.Utime.Usec)/1e6,
		sys:  float64(ru.Stime.Sec) + float64(ru.Stime.Usec)/1e6,
	}
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}
