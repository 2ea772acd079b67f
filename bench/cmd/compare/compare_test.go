package main

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{5}, 5},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %g, want %g", tt.in, got, tt.want)
		}
	}
}

func TestFormats(t *testing.T) {
	got := []string{
		fmtCount(0), fmtCount(999), fmtCount(1000), fmtCount(1234567.6), fmtCount(-45678),
		fmtMicros(21.24), fmtMicros(1234.5),
		shortNumber(950), shortNumber(2.5), shortNumber(3580), shortNumber(35804), shortNumber(1103702),
		tickLabel(0), tickLabel(1000), tickLabel(1e6), tickLabel(2.5),
	}
	want := []string{
		"0", "999", "1,000", "1,234,568", "-45,678",
		"21.2", "1,235",
		"950", "2.5", "3.6k", "36k", "1.10M",
		"0", "1k", "1M", "2.5",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("formats (-want +got):\n%s", diff)
	}
	for _, tt := range []struct{ in, want float64 }{{0.3, 0.5}, {7, 10}, {13, 20}, {0, 1}} {
		if got := niceStep(tt.in); got != tt.want {
			t.Errorf("niceStep(%g) = %g, want %g", tt.in, got, tt.want)
		}
	}
}

func TestMicroParse(t *testing.T) {
	out := `goos: linux
goarch: amd64
pkg: github.com/gorpcx/gorpcx/framing
cpu: AMD EPYC
BenchmarkNewline/read-2         	 1000000	      1050 ns/op	 975.24 MB/s	       0 B/op	       0 allocs/op
PASS
ok  	github.com/gorpcx/gorpcx/framing	1.2s
goos: linux
goarch: amd64
pkg: github.com/gorpcx/gorpcx/session
cpu: AMD EPYC
BenchmarkCall-2   	  100000	     10500 ns/op	     512 B/op	       9 allocs/op
`
	var r microResult
	r.parse([]byte(out))
	if diff := cmp.Diff([]string{"goos: linux", "goarch: amd64", "cpu: AMD EPYC"}, r.header); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	type row struct{ pkg, name, ns, mbs, b, allocs string }
	var got []row
	for _, x := range r.rows {
		got = append(got, row{x.pkg, x.name, x.metric("ns/op"), x.metric("MB/s"), x.metric("B/op"), x.metric("allocs/op")})
	}
	want := []row{
		{"framing", "BenchmarkNewline/read-2", "1050", "975.24", "0", "0"},
		{"session", "BenchmarkCall-2", "10500", "", "512", "9"},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(row{})); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestProc(t *testing.T) {
	if _, err := cpuSeconds(os.Getpid()); err != nil {
		t.Errorf("cpuSeconds: %v", err)
	}
	if rss, err := rssKiB(os.Getpid()); err != nil || rss <= 0 {
		t.Errorf("rssKiB = %g, %v", rss, err)
	}
	if got := string(lastLine([]byte("a\n{\"x\":1}\n\n"))); got != `{"x":1}` {
		t.Errorf("lastLine = %q", got)
	}
}

// fakeHarness is a harness with made-up results for every server and
// setting: throughput = base × speed, the idle memory given.
func fakeHarness() *harness {
	h := &harness{reps: 1, duration: time.Second, warmup: time.Second, payload: 16, out: "performance.md"}
	for _, name := range defaultServers {
		s, _ := findServer(name)
		h.servers = append(h.servers, s)
	}
	h.settings = allSettings
	speed := map[string]float64{rawName: 10, gorpcxName: 9, freeBytesName: 20, funcName: 7, "sourcegraph": 2, "sourcegraph-async": 2.5, "jrpc2": 2.2, gethName: 1.5, aiorpcxName: 0.4}
	for _, st := range h.settings {
		for _, s := range h.servers {
			m := measurement{server: s.name, setting: st.name}
			switch {
			case !s.runs(st):
				continue
			case st.idle > 0:
				m.kibPerSession = 16 - speed[s.name]
				m.load.Idle = st.idle
			case st.tls:
				// Over TLS the raw echo is faster than the others by
				// less, so that its ratios differ from c64d8's.
				m.load.RPS = 5000 * speed[s.name]
				if s.name == rawName {
					m.load.RPS = 60000
				}
				m.load.ItemsPerSec = m.load.RPS
				m.load.P50us, m.load.P99us = 100/speed[s.name], 1000/speed[s.name]
			default:
				m.load.RPS = 10000 * speed[s.name]
				m.load.ItemsPerSec = m.load.RPS * float64(max(st.batch, 1))
				m.load.P50us, m.load.P99us = 100/speed[s.name], 1000/speed[s.name]
			}
			h.results = append(h.results, m)
		}
	}
	h.results = append(h.results, measurement{server: "jrpc2", setting: "c1d1", err: errors.New("boom | bang")})
	return h
}

func TestEarlierGoals(t *testing.T) {
	r := &report{h: fakeHarness()}
	r.cells = medians(r.h.results)
	type line struct {
		setting, got string
		met          bool
	}
	var got []line
	for _, g := range r.earlierGoals() {
		if g.met == nil {
			t.Fatalf("goal %s not measured", g.setting)
		}
		got = append(got, line{g.setting, g.got, *g.met})
	}
	want := []line{
		{"c64d8", "3.60 × sourcegraph-async, 0.90 × raw echo", true},
		{"c1d64", "3.60 × sourcegraph-async (gorpcx-free-bytes with no cost per byte: 8.00 ×; see the notes)", false},
		{"c1d1, pinned", "0.90 × raw echo; 1.1 µs added per round trip", true},
		{"c1000d1", "0.90 × raw echo", true},
		{"batch", "4.09 × jrpc2 (gorpcx-free-bytes with no cost per byte: 9.09 ×; see the notes)", true},
		{"p99 latency at c64d8", "gorpcx 111 µs; lowest peer sourcegraph-async 400 µs", true},
		{"idle memory at 10,000 sessions", "7.0 KiB", true},
		{"aiorpcX", "22.5 × aiorpcX", true},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(line{})); diff != "" {
		t.Errorf("goals (-want +got):\n%s", diff)
	}

	// geth is a Go peer: the best one, it is the one compared with.
	for i, m := range r.h.results {
		if m.server == gethName && m.setting == "c64d8" {
			r.h.results[i].load.RPS = 45000
		}
	}
	r.cells = medians(r.h.results)
	if g := r.earlierGoals()[0]; g.got != "2.00 × geth, 0.90 × raw echo" || *g.met {
		t.Errorf("c64d8 goal with geth the best Go peer: %q, met %v", g.got, *g.met)
	}
}

// fakeFanOut is go test's output of pubsub's fan-out benchmark: medians
// 130 ms (hub) and 170 ms (plain loop) to the last delivery, 120 ms and
// 170 ms at the 99th percentile.
const fakeFanOut = `goos: linux
pkg: github.com/gorpcx/gorpcx/pubsub
BenchmarkFanOut/hub-2         	       9	 117228912 ns/op	 110000000 last-ns	 100000000 p99-ns	  887824 B/op	   14443 allocs/op
BenchmarkFanOut/hub-2         	       8	 127167614 ns/op	 130000000 last-ns	 120000000 p99-ns	  267699 B/op	   13801 allocs/op
BenchmarkFanOut/hub-2         	       3	 340867783 ns/op	 300000000 last-ns	 310000000 p99-ns	  480917 B/op	   20141 allocs/op
BenchmarkFanOut/plain-loop-2  	       7	 160677750 ns/op	 160000000 last-ns	 150000000 p99-ns	     232 B/op	       6 allocs/op
BenchmarkFanOut/plain-loop-2  	       6	 170949681 ns/op	 170000000 last-ns	 170000000 p99-ns	     241 B/op	       6 allocs/op
`

// fakeMicro returns the micro-benchmark output of the session package
// with the net.Pipe round trip at allocs allocations (and a typed one,
// which the goal must not take).
func fakeMicro(allocs int) *microResult {
	out := fmt.Sprintf(`pkg: github.com/gorpcx/gorpcx/session
BenchmarkRoundTrip/pipe/typed-2 	  150000	      8154 ns/op	     920 B/op	      11 allocs/op
BenchmarkRoundTrip/pipe/raw-2   	  180000	      6668 ns/op	     644 B/op	       %d allocs/op
BenchmarkRoundTrip/tcp/raw-2    	   40000	     30782 ns/op	     644 B/op	       1 allocs/op
`, allocs)
	r := &microResult{command: "go test -bench . ./session"}
	r.parse([]byte(out))
	return r
}

func parsed(out string) *microResult {
	r := &microResult{command: "go test"}
	r.parse([]byte(out))
	return r
}

// goalLine is a goal as the table shows it.
type goalLine struct{ setting, server, got, verdict string }

func goalLines(gs []goal) []goalLine {
	var ls []goalLine
	for _, g := range gs {
		ls = append(ls, goalLine{g.setting, g.server, g.got, g.verdict()})
	}
	return ls
}

func TestGoals(t *testing.T) {
	const (
		c1d1  = "c1d1, pinned"
		c64   = "c64d8"
		c1000 = "c1000d1"
		batch = "batch (items/s)"
		free  = "c1d64, no cost per byte"
		c1d64 = "c1d64, default cost per byte"
		tls   = "c64d8 over TLS"
		fan   = "fan-out: one notification to 10,000 subscribed sessions"
		idle  = "idle memory per session, 10,000 sessions"
		idleT = "idle memory per TLS session, 10,000 sessions"
		rt    = "round trip over net.Pipe, both ends"
	)
	full := []goalLine{
		{c1d1, gorpcxName, "0.90 × raw echo (90,000 against 100,000); 1.1 µs added per round trip", "**met**"},
		{c1d1, funcName, "0.70 × raw echo (70,000 against 100,000); 4.3 µs added per round trip", "not met"},
		{c64, gorpcxName, "0.90 × raw echo (90,000 against 100,000)", "**met**"},
		{c64, funcName, "0.70 × raw echo (70,000 against 100,000)", "**met**"},
		{c1000, gorpcxName, "0.90 × raw echo (90,000 against 100,000)", "**met**"},
		{c1000, funcName, "0.70 × raw echo (70,000 against 100,000)", "not met"},
		{batch, gorpcxName, "0.90 × raw echo (9,000,000 against 10,000,000)", "**met**"},
		{batch, funcName, "0.70 × raw echo (7,000,000 against 10,000,000)", "**met**"},
		{free, freeBytesName, "2.00 × raw echo (200,000 against 100,000)", "**met**"},
		{c1d64, gorpcxName, "0.90 × raw echo (90,000 against 100,000)", "information"},
		{c1d64, funcName, "0.70 × raw echo (70,000 against 100,000)", "information"},
		{tls, gorpcxName, "0.75 × raw TLS echo (45,000 against 60,000)", "**met**"},
		{tls, funcName, "0.58 × raw TLS echo (35,000 against 60,000)", "not met"},
		{fan, "pubsub.Hub", "0.76 × plain loop (130.0 ms against 170.0 ms); p99 delivery 120.0 ms (plain loop 170.0 ms)", "**met**"},
		{idle, gorpcxName, "7.0 KiB", "**met**"},
		{idle, funcName, "9.0 KiB", "not met"},
		{idleT, gorpcxName, "7.0 KiB (raw TLS echo 6.0 KiB)", "information"},
		{idleT, funcName, "9.0 KiB (raw TLS echo 6.0 KiB)", "information"},
		{rt, "session", "6 allocs/op, 644 B/op (BenchmarkRoundTrip/pipe/raw)", "not met"},
	}
	// with returns full with the rows of the given settings replaced.
	with := func(repl ...goalLine) []goalLine {
		out := slices.Clone(full)
		for _, l := range repl {
			i := slices.IndexFunc(out, func(o goalLine) bool { return o.setting == l.setting && o.server == l.server })
			out[i] = l
		}
		return out
	}
	notRun := make([]goalLine, len(full))
	for i, l := range full {
		notRun[i] = goalLine{l.setting, l.server, "–", "not run"}
	}
	// failTLS makes every run of gorpcx over TLS a failure.
	failTLS := func(h *harness) {
		for i, m := range h.results {
			if m.server == gorpcxName && m.setting == "c64d8-tls" {
				h.results[i].err = errors.New("handshake")
			}
		}
	}
	// onlySettings keeps the results of the named settings.
	onlySettings := func(names ...string) func(*harness) {
		return func(h *harness) {
			h.results = slices.DeleteFunc(h.results, func(m measurement) bool { return !slices.Contains(names, m.setting) })
		}
	}
	tests := []struct {
		name          string
		change        func(*harness)
		micro, fanout *microResult
		want          []goalLine
	}{
		{name: "every setting", micro: fakeMicro(6), fanout: parsed(fakeFanOut), want: full},
		{name: "four allocations meet the goal", micro: fakeMicro(4), fanout: parsed(fakeFanOut),
			want: with(goalLine{rt, "session", "4 allocs/op, 644 B/op (BenchmarkRoundTrip/pipe/raw)", "**met**"})},
		{name: "nothing run", change: func(h *harness) { h.results = nil }, want: notRun},
		{name: "gorpcx failed over TLS", change: failTLS, micro: fakeMicro(6), fanout: parsed(fakeFanOut),
			want: with(goalLine{tls, gorpcxName, "–", "failed"})},
		{name: "only c64d8", change: onlySettings("c64d8"),
			want: func() []goalLine {
				out := slices.Clone(notRun)
				out[2], out[3] = full[2], full[3]
				return out
			}()},
		{name: "benchmarks that failed", micro: parsed("FAIL\n"), fanout: parsed("FAIL\n"),
			want: with(goalLine{fan, "pubsub.Hub", "–", "failed"}, goalLine{rt, "session", "–", "failed"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := fakeHarness()
			if tt.change != nil {
				tt.change(h)
			}
			r := &report{h: h, cells: medians(h.results), micro: tt.micro, fanout: tt.fanout}
			if diff := cmp.Diff(tt.want, goalLines(r.goals()), cmp.AllowUnexported(goalLine{})); diff != "" {
				t.Errorf("goals (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRuns(t *testing.T) {
	tests := []struct {
		server, setting string
		want            bool
	}{
		{rawName, "c64d8-tls", true},
		{gorpcxName, "c64d8-tls", true},
		{funcName, "idle10k-tls", true},
		{"sourcegraph", "c64d8-tls", false},
		{aiorpcxName, "idle10k-tls", false},
		{freeBytesName, "c64d8-tls", false},
		{freeBytesName, "c1d64", true},
		{"sourcegraph", "batch", false},
		{"jrpc2", "batch", true},
		{funcName, "c1000d1", true},
	}
	for _, tt := range tests {
		s, ok1 := findServer(tt.server)
		st, ok2 := findSetting(tt.setting)
		if !ok1 || !ok2 {
			t.Fatalf("no server %q or setting %q", tt.server, tt.setting)
		}
		if got := s.runs(st); got != tt.want {
			t.Errorf("%s runs %s = %v, want %v", tt.server, tt.setting, got, tt.want)
		}
	}
	if !slices.Contains(defaultServers, funcName) {
		t.Errorf("%s is not compared by default", funcName)
	}
	for _, name := range []string{"c64d8-tls", "idle10k-tls"} {
		if !slices.Contains(strings.Split(settingNames(), ","), name) {
			t.Errorf("%s is not run by default", name)
		}
	}
}

func TestBenchBase(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"BenchmarkRoundTrip/pipe/raw-2", "BenchmarkRoundTrip/pipe/raw"},
		{"BenchmarkRoundTrip/pipe/raw", "BenchmarkRoundTrip/pipe/raw"},
		{"BenchmarkFanOut/plain-loop-16", "BenchmarkFanOut/plain-loop"},
		{"BenchmarkFanOut/plain-loop", "BenchmarkFanOut/plain-loop"},
	} {
		if got := benchBase(tt.in); got != tt.want {
			t.Errorf("benchBase(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPageAndChart(t *testing.T) {
	h := fakeHarness()
	h.notes = []string{"a note."}
	r := &report{h: h, m: machineInfo{cpus: 2, model: "Test CPU", goVer: "go1.26", date: time.Unix(0, 0).UTC()}, cells: medians(h.results)}
	page := r.page()
	for _, want := range []string{
		"The load generator and the server share the machine's 2 CPUs",
		"![Requests per second and idle memory per session, by server and setting](performance.svg)",
		"| **gorpcx** | 90,000 (0.90) |",
		"| sourcegraph | 20,000 (0.20) | 20,000 (0.20) | 20,000 (0.20) | 20,000 (0.20) | no batches |",
		"| jrpc2 | 22,000 (0.22) |",
		"| geth | 15,000 (0.15) |",
		"- `geth`: github.com/ethereum/go-ethereum/rpc,",
		"echo has another name (`geth` as `bench_echo`)",
		"| gorpcx-free-bytes | – | 200,000 (2.00) | – | – | 20,000,000 (2.00) |",
		`boom \| bang`,
		"| sourcegraph | 20,000 (0.20) | 20,000 (0.20) | 20,000 (0.20) | 20,000 (0.20) | no batches | no TLS |",
		"| **gorpcx** | 90,000 (0.90) | 90,000 (0.90) | 90,000 (0.90) | 90,000 (0.90) | 9,000,000 (0.90) | 45,000 (0.75) |",
		"| 1,000 sessions | 10,000 sessions | 10,000 TLS sessions |",
		"| aiorpcx | 15.6 | 15.6 | no TLS |",
		"- `c64d8-tls`: c64d8 over TLS",
		"- `gorpcx-func`: gorpcx with echo adapted by handler.MustFunc",
		"Over TLS (`c64d8-tls`, `idle10k-tls`) only the servers that serve TLS run (`raw-echo`, `gorpcx`, `gorpcx-func`)",
		"| goal | server | wanted | measured | |",
		"| c64d8 over TLS | **gorpcx** | ≥ 0.6 × raw TLS echo | 0.75 × raw TLS echo (45,000 against 60,000) | **met** |",
		"| round trip over net.Pipe, both ends | session | ≤ 4 allocations | – | not run |",
		"### Earlier goals (issue 7)",
		"| idle memory at 10,000 sessions | ≤ 16 KiB per session | 7.0 KiB | **met** |",
		"- a note.",
		"## Micro-benchmarks",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	chart := r.chart()
	if n := strings.Count(chart, "<title>"+freeBytesName+" "); n != 2 {
		t.Errorf("chart has %d bars of %s, want 2 (c1d64 and batch only)", n, freeBytesName)
	}
	if n := strings.Count(chart, ">n/a<"); n != 2 {
		t.Errorf("chart has %d bars marked n/a, want 2 (batch of the sourcegraph servers; nothing for servers without TLS)", n)
	}
	if n := strings.Count(chart, "<title>"+funcName+" "); n != 6+3 {
		t.Errorf("chart has %d bars of %s, want 9 (every setting)", n, funcName)
	}
	d := xml.NewDecoder(strings.NewReader(chart))
	for {
		_, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("chart is not well-formed XML: %v", err)
		}
	}
}

func TestFanOutSection(t *testing.T) {
	fan := &microResult{command: "go test -bench FanOut ./pubsub"}
	fan.parse([]byte(fakeFanOut))
	r := &report{h: fakeHarness(), cells: map[key]*cell{}, fanout: fan}
	var b strings.Builder
	r.fanOutSection(func(f string, a ...any) { fmt.Fprintf(&b, f+"\n", a...) })
	for _, want := range []string{
		"## Fan-out",
		"| hub | 130.0 ms | 120.0 ms |",
		"| plain loop | 170.0 ms | 170.0 ms |",
		"| **hub / plain loop** | **0.76x** | **0.71x** |",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("section lacks %q:\n%s", want, b.String())
		}
	}
}
