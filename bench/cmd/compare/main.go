// Compare is the performance yardstick of gorpcx: it builds the load
// generator and the servers of this module, runs every server under every
// setting, and writes a page of the medians, with a chart and the
// micro-benchmarks of the SDK's layers.
//
// Usage (from the bench directory; `make compare` runs it):
//
//	go run ./cmd/compare [-duration 10s] [-warmup 2s] [-reps 3]
//	                     [-out ../docs/performance.md] [-servers a,b] [-settings x,y]
//
// Servers (see servers.go): raw-echo (the ceiling), gorpcx, gorpcx-func
// (echo adapted by handler.MustFunc), sourcegraph, sourcegraph-async,
// jrpc2, geth (go-ethereum's rpc.Server, whose echo is bench_echo: the
// load generator is told each server's method name), aiorpcx and
// gorpcx-free-bytes (c1d64 and batch only).
// Settings: c1d1 (pinned to CPU 0 with taskset), c1d64, c64d8, c1000d1,
// batch (4 connections, 4 batches of 100 in flight), c64d8-tls (c64d8
// over TLS) and the idle-memory tests idle1k, idle10k and idle10k-tls.
// The TLS settings pass -tls to the server and to the load generator,
// and run only the servers that serve TLS (raw-echo, gorpcx,
// gorpcx-func); raw-echo with -tls is the raw TLS echo, the ceiling
// there.
//
// Every server runs under every setting -reps times. Within a repetition
// the settings run in turn, and for each setting the servers in an order
// rotated by one per repetition, so that no server's runs come all in a
// row. Each run starts a fresh server process, runs the load generator
// for -warmup and then -duration, and records the load generator's line,
// plus the server's CPU time over the measured window (from /proc). The
// idle tests read the server's VmRSS before the sessions and once they
// are all up. The page (-out; the chart goes next to it, as .svg) shows
// the median of the repetitions.
//
// aiorpcX runs with -python (Debian's /usr/bin/python3). If it cannot
// import aiorpcx, compare installs python3-aiorpcx with apt-get when run
// as root, and otherwise leaves aiorpcX out with a note on the page.
// The file descriptor limit is raised to its hard limit for the 10,000
// sessions; if that is too low, idle10k is left out with a note.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// harness is the configuration and the findings of one comparison.
type harness struct {
	duration, warmup, pause time.Duration
	reps, payload           int
	out                     string
	root, benchDir          string
	python                  string
	install                 bool
	micro                   bool
	benchtime               string

	binDir, logDir string
	servers        []server
	settings       []setting
	notes          []string
	results        []measurement
	started        time.Time
}

func (h *harness) bin(name string) string { return filepath.Join(h.binDir, name) }

// note records a remark for the page and prints it.
func (h *harness) note(format string, a ...any) {
	s := fmt.Sprintf(format, a...)
	h.notes = append(h.notes, s)
	fmt.Fprintln(os.Stderr, "compare: note:", s)
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func run() error {
	h := &harness{started: time.Now()}
	var servers, settings string
	flag.DurationVar(&h.duration, "duration", 10*time.Second, "measured `time` of each run")
	flag.DurationVar(&h.warmup, "warmup", 2*time.Second, "warm-up `time` before each measured run")
	flag.DurationVar(&h.pause, "pause", time.Second, "pause between runs")
	flag.IntVar(&h.reps, "reps", 3, "repetitions of each server under each setting")
	flag.IntVar(&h.payload, "payload", 16, "characters of the echo value")
	flag.StringVar(&h.out, "out", "../docs/performance.md", "the page to write; the chart goes next to it (.svg)")
	flag.StringVar(&h.root, "root", "..", "the gorpcx module's directory (for the micro-benchmarks)")
	flag.StringVar(&h.benchDir, "bench", ".", "this module's directory")
	flag.StringVar(&h.python, "python", "/usr/bin/python3", "the Python interpreter that imports aiorpcx")
	flag.BoolVar(&h.install, "install", true, "install python3-aiorpcx with apt-get if missing (as root)")
	flag.BoolVar(&h.micro, "micro", true, "run the micro-benchmarks of the SDK's packages and pubsub's fan-out benchmark")
	flag.StringVar(&h.benchtime, "benchtime", "", "go test -benchtime for the micro-benchmarks (default: go test's)")
	flag.StringVar(&servers, "servers", strings.Join(defaultServers, ","), "servers to compare, comma-separated")
	flag.StringVar(&settings, "settings", settingNames(), "settings to run, comma-separated")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	if h.reps < 1 || h.duration <= 0 || h.warmup < 0 {
		return errors.New("-reps must be at least 1, -duration positive, -warmup not negative")
	}
	for _, name := range strings.Split(servers, ",") {
		s, ok := findServer(strings.TrimSpace(name))
		if !ok {
			return fmt.Errorf("unknown server %q", name)
		}
		h.servers = append(h.servers, s)
	}
	for _, name := range strings.Split(settings, ",") {
		s, ok := findSetting(strings.TrimSpace(name))
		if !ok {
			return fmt.Errorf("unknown setting %q", name)
		}
		h.settings = append(h.settings, s)
	}
	var err error
	if h.root, err = filepath.Abs(h.root); err != nil {
		return err
	}
	if h.benchDir, err = filepath.Abs(h.benchDir); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(h.benchDir, "cmd", "loadgen")); err != nil {
		return fmt.Errorf("-bench %s is not the bench module's directory", h.benchDir)
	}

	tmp, err := os.MkdirTemp("", "gorpcx-compare-")
	if err != nil {
		return err
	}
	h.binDir = filepath.Join(tmp, "bin")
	h.logDir = filepath.Join(tmp, "logs")
	if err := os.MkdirAll(h.logDir, 0o755); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "compare: building into", h.binDir, "; server logs in", h.logDir)
	if err := h.build(); err != nil {
		return err
	}
	h.checkPython()
	h.raiseFileLimit()

	m := h.machine()
	h.runAll()
	var micro, fanout *microResult
	if h.micro {
		micro = h.runMicro()
		fanout = h.runFanOut()
	}
	if err := h.write(m, micro, fanout); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "compare: wrote %s and %s in %s\n", h.out, svgPath(h.out), time.Since(h.started).Round(time.Second))
	return os.RemoveAll(h.binDir) // keep the logs
}

// settingNames is every setting, comma-separated: the default of
// -settings.
func settingNames() string {
	names := make([]string, len(allSettings))
	for i, st := range allSettings {
		names[i] = st.name
	}
	return strings.Join(names, ",")
}

// build compiles the load generator and the Go servers.
func (h *harness) build() error {
	cmd := exec.Command("go", "build", "-o", h.binDir+string(filepath.Separator),
		"./cmd/loadgen", "./cmd/rawecho", "./cmd/gorpcx", "./cmd/sourcegraph", "./cmd/jrpc2", "./cmd/geth")
	cmd.Dir = h.benchDir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building: %w", err)
	}
	return nil
}

// checkPython makes sure the aiorpcX server can run, installing Debian's
// python3-aiorpcx if allowed, or drops it with a note.
func (h *harness) checkPython() {
	i := slices.IndexFunc(h.servers, func(s server) bool { return s.python })
	if i < 0 {
		return
	}
	canImport := func() bool { return exec.Command(h.python, "-c", "import aiorpcx").Run() == nil }
	if canImport() {
		return
	}
	if h.install && os.Geteuid() == 0 {
		fmt.Fprintln(os.Stderr, "compare: installing python3-aiorpcx")
		apt := func(args ...string) {
			cmd := exec.Command("apt-get", args...)
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
			_ = cmd.Run()
		}
		apt("install", "-y", "python3-aiorpcx")
		if !canImport() {
			apt("update")
			apt("install", "-y", "python3-aiorpcx")
		}
		if canImport() {
			return
		}
	}
	h.note("aiorpcX was left out: %s cannot import aiorpcx (install Debian's python3-aiorpcx).", h.python)
	h.servers = slices.Delete(h.servers, i, i+1)
}

// raiseFileLimit raises the open-file limit to what the largest idle test
// needs (the servers and the load generator inherit it), or drops the
// tests it cannot serve, with a note.
func (h *harness) raiseFileLimit() {
	need := uint64(0)
	for _, st := range h.settings {
		need = max(need, uint64(max(st.idle, st.conns))+256)
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	if lim.Max < need {
		raised := syscall.Rlimit{Cur: need, Max: need}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised) == nil {
			return
		}
	}
	lim.Cur = lim.Max
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	h.settings = slices.DeleteFunc(h.settings, func(st setting) bool {
		if uint64(max(st.idle, st.conns))+256 <= lim.Max {
			return false
		}
		h.note("%s was left out: the open-file limit (ulimit -Hn) is %d, and it needs %d.", st.name, lim.Max, max(st.idle, st.conns)+256)
		return true
	})
}

// runAll runs every server under every setting, h.reps times, in the
// rotated order.
func (h *harness) runAll() {
	total := 0
	for _, st := range h.settings {
		for _, s := range h.servers {
			if s.runs(st) {
				total++
			}
		}
	}
	total *= h.reps
	fmt.Fprintf(os.Stderr, "compare: %d runs of %s after %s of warm-up\n", total, h.duration, h.warmup)
	for _, s := range h.servers {
		if !s.batches && slices.ContainsFunc(h.settings, func(st setting) bool { return st.batch > 0 }) {
			h.note("%s has no batch test: the library does not support JSON-RPC batches.", s.name)
		}
	}
	if i := slices.IndexFunc(h.servers, func(s server) bool { return s.name == freeBytesName }); i >= 0 &&
		slices.ContainsFunc(h.settings, h.servers[i].runs) {
		h.note("c1d64 and batch put all of their load on one and four sessions. gorpcx keeps aiorpcX's cost model by default: every byte each way costs 1/100,000, the cost decays by 10,000 an hour, and over the soft limit of 2,000 the session's requests are delayed and its concurrency cut (over 10,000 it is disconnected). That is a limit on volume: a session that has moved about 200 MB is throttled. A request and its answer are about 130 bytes here, so a session that answers 300,000 requests a second gets there after about 5 s, inside the %s of a run, and is throttled from then on, as aiorpcX would throttle it (aiorpcX itself is too slow to get there within a run). %s, the same server with no cost per byte, shows the rate before the throttle. The c1d64 goal is judged on %s; the other goals on gorpcx with its defaults.",
			h.warmup+h.duration, freeBytesName, freeBytesName)
	}
	n := 0
	for rep := range h.reps {
		for _, st := range h.settings {
			for k := range h.servers {
				s := h.servers[(k+rep)%len(h.servers)]
				if !s.runs(st) {
					continue
				}
				n++
				var m measurement
				if st.idle > 0 {
					m = h.measureIdle(rep, s, st)
				} else {
					m = h.measure(rep, s, st)
				}
				h.results = append(h.results, m)
				fmt.Fprintf(os.Stderr, "compare: [%d/%d] rep %d %-8s %-18s %s\n", n, total, rep+1, st.name, s.name, m.summary())
				time.Sleep(h.pause)
			}
		}
	}
}

// summary is a one-line account of a measurement, for the progress log.
func (m *measurement) summary() string {
	switch {
	case m.err != nil:
		return "FAILED: " + m.err.Error()
	case m.kibPerSession != 0 || m.load.Idle > 0:
		return fmt.Sprintf("%.1f KiB per session", m.kibPerSession)
	default:
		return fmt.Sprintf("%.0f req/s (%.0f items/s), p50 %.0f µs, p99 %.0f µs, CPU per request: server %.2f µs, loadgen %.2f µs",
			m.load.RPS, m.load.ItemsPerSec, m.load.P50us, m.load.P99us, m.serverCPUPerReq, m.load.CPUPerReq)
	}
}
