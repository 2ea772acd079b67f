package session

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/internal/logcap"
)

// floodKinds are the bad messages of the flood tests: each triggers one
// log line, and some are answered.
var floodKinds = []struct {
	line    string // the message of the log line it triggers
	msg     string
	replies bool
}{
	{"protocol error", `{"jsonrpc":"2.0","id":1,"method":`, true},
	{"response to unsent request", `{"jsonrpc":"2.0","id":424242,"result":1}`, false},
	{"handler panicked", `{"jsonrpc":"2.0","id":2,"method":"panic"}`, true},
	{"handler failed", `{"jsonrpc":"2.0","id":3,"method":"fail"}`, true},
	{"dropping message", strings.Repeat("x", 300), false}, // over Newline{Max: 256}
}

// floodHandler panics on "panic", fails on "fail", answers "ok".
var floodHandler = Methods{
	"panic": HandlerFunc(func(context.Context, *jsonrpc2.Request) (any, error) { panic("boom") }),
	"fail":  HandlerFunc(func(context.Context, *jsonrpc2.Request) (any, error) { return nil, errors.New("failed") }),
	"ok":    HandlerFunc(func(context.Context, *jsonrpc2.Request) (any, error) { return "ok", nil }),
}

// flood sends n bad messages (floodKinds in turn) then an "ok" request
// to a session with opts over net.Pipe, reads every reply, closes the
// session and waits for its end; every 1,000 messages it calls tick,
// if not nil. It returns how many of each log line it triggered, by
// message, counting only the levels enabled in level.
func flood(opts *Options, n int, level zapcore.LevelEnabler, tick func()) (map[string]int64, error) {
	a, b := net.Pipe()
	defer b.Close()
	s := New(framing.NewStream(framing.Newline{Max: 256}, a), opts)
	defer func() {
		s.Abort()
		<-s.Done()
	}()
	triggered := map[string]int64{}
	replies := 1 // the final "ok"
	for i := range n {
		k := floodKinds[i%len(floodKinds)]
		if k.replies {
			replies++
		}
		var spec *struct {
			level zapcore.Level
			msg   string
		}
		for j := range peerLineSpecs {
			if peerLineSpecs[j].msg == k.line {
				spec = &peerLineSpecs[j]
			}
		}
		if spec == nil {
			return nil, fmt.Errorf("%q is not a peer line", k.line)
		}
		if level.Enabled(spec.level) {
			triggered[k.line]++
		}
	}
	read := make(chan error, 1)
	go func() {
		r := bufio.NewReader(b)
		for range replies {
			b.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := r.ReadString('\n'); err != nil {
				read <- err
				return
			}
		}
		read <- nil
	}()
	b.SetWriteDeadline(time.Now().Add(30 * time.Second))
	w := bufio.NewWriter(b)
	for i := range n {
		if tick != nil && i > 0 && i%1000 == 0 {
			if err := w.Flush(); err != nil {
				return nil, fmt.Errorf("writing the flood: %w", err)
			}
			tick()
		}
		w.WriteString(floodKinds[i%len(floodKinds)].msg)
		w.WriteByte('\n')
	}
	w.WriteString(`{"jsonrpc":"2.0","id":9,"method":"ok"}` + "\n")
	if err := w.Flush(); err != nil {
		return nil, fmt.Errorf("writing the flood: %w", err)
	}
	if err := <-read; err != nil {
		return nil, fmt.Errorf("reading the replies: %w", err)
	}
	if err := s.Close(); err != nil {
		return nil, fmt.Errorf("close: %w", err)
	}
	<-s.Done()
	return triggered, nil
}

// accounted returns, for the lines of msg in logs, how many were
// written and how many the session reported held back (on later lines
// and in its summary when it ended).
func accounted(logs *observer.ObservedLogs, msg string) (written, held int64) {
	for _, e := range logs.All() {
		m := e.ContextMap()
		switch e.Message {
		case msg:
			written++
			if n, ok := m[suppressedKey]; ok {
				held += n.(int64)
			}
		case "log lines suppressed":
			if lines, ok := m["lines"].(map[string]any); ok {
				if n, ok := lines[msg]; ok {
					held += n.(int64)
				}
			}
		}
	}
	return written, held
}

// TestLogFloodIsBounded floods a session with 10,000 bad messages:
// parse errors, responses to requests never sent, requests whose
// handler panics or fails, and oversized lines. Each kind of line is
// written at most once a second (by the session's clock), and every
// line triggered is either written or counted in a count the session
// reported, exactly. The bound is a count: lines per kind at most one
// plus the seconds the session's clock moved on.
func TestLogFloodIsBounded(t *testing.T) {
	tests := []struct {
		name    string
		clock   *fakeClock // nil: the system clock
		advance bool       // move the clock on a second every 1,000 messages
		level   zapcore.Level
		kinds   int // kinds of line that the level enables
		traced  bool
	}{
		{"stopped clock, debug", newFakeClock(), false, zapcore.DebugLevel, 5, true},
		{"stopped clock, warn", newFakeClock(), false, zapcore.WarnLevel, 4, false},
		{"clock moving a second per 1000 messages", newFakeClock(), true, zapcore.DebugLevel, 5, true},
		{"system clock, debug", nil, false, zapcore.DebugLevel, 5, true},
	}
	const n = 10000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core, logs := observer.New(tt.level)
			opts := &Options{Handler: floodHandler, Logger: zap.New(core), Cost: &Cost{}}
			if tt.clock != nil {
				opts.Clock = tt.clock
			}
			var tick func()
			ticks := 0
			if tt.advance {
				tick = func() {
					tt.clock.Advance(peerLogEvery)
					ticks++
				}
			}
			start := time.Now()
			triggered, err := flood(opts, n, tt.level, tick)
			elapsed := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			if len(triggered) != tt.kinds {
				t.Fatalf("%d kinds of line triggered, want %d", len(triggered), tt.kinds)
			}
			// At most one line of a kind per second, plus the first: the
			// count of seconds started, by the clock the session used.
			perKind := int64(1 + ticks)
			if tt.clock == nil {
				perKind += int64(elapsed / peerLogEvery)
			}
			var total int64
			for msg, want := range triggered {
				written, held := accounted(logs, msg)
				if written+held != want {
					t.Errorf("%s: %d written + %d counted = %d, want %d triggered", msg, written, held, written+held, want)
				}
				if written < 1 || written > perKind {
					t.Errorf("%s: %d lines written in %v, want 1 to %d", msg, written, elapsed, perKind)
				}
				total += written
			}
			// Every line but the per-message trace at debug level
			// ("received message"), which is not limited.
			lines := logs.Len() - logs.FilterMessage("received message").Len()
			if tt.traced && logs.FilterMessage("received message").Len() == 0 {
				t.Error("no trace at debug level")
			}
			if summaries := logs.FilterMessage("log lines suppressed").Len(); summaries != 1 {
				t.Errorf("%d summary lines, want 1", summaries)
			}
			want := total + 1
			if tt.traced {
				want++ // "session ended", at debug level
			}
			if int64(lines) != want {
				t.Errorf("%d lines, want %d (the limited lines, one summary, the end): %v", lines, want, lineMessages(logs))
			}
			for _, e := range logs.FilterMessage("handler panicked").All() {
				if !strings.Contains(fmt.Sprint(e.ContextMap()["stack"]), "goroutine") {
					t.Errorf("panic line without its stack: %v", e.ContextMap())
				}
			}
			if tt.advance && logs.FilterFieldKey(suppressedKey).Len() == 0 {
				t.Error("no line carried a count: the clock moved on for nothing")
			}
			t.Logf("%d bad messages in %v: %d lines", n, elapsed.Round(time.Millisecond), lines)
		})
	}
}

// lineMessages lists the messages of logs' lines but the trace, for a
// failure's report.
func lineMessages(logs *observer.ObservedLogs) []string {
	var out []string
	for _, e := range logs.All() {
		if e.Message != "received message" {
			out = append(out, e.Message)
		}
	}
	return out
}

// TestLogFloodCappedAcrossSessions floods many sessions sharing one
// logger capped by logcap: each session writes its one line of each
// kind, and the cap writes only its burst of each across all of them,
// counting the rest, which its Sync reports.
func TestLogFloodCappedAcrossSessions(t *testing.T) {
	const sessions, burst = 20, 2
	core, logs := observer.New(zapcore.WarnLevel)
	capped := logcap.New(core, 1, burst)
	logger := zap.New(capped, zap.WithClock(stoppedClock{}))
	clock := newFakeClock()
	var wg sync.WaitGroup
	triggered := make([]map[string]int64, sessions)
	errs := make([]error, sessions)
	for i := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			opts := &Options{Handler: floodHandler, Logger: logger, Cost: &Cost{}, Clock: clock, Name: fmt.Sprint("s", i)}
			triggered[i], errs[i] = flood(opts, 50, zapcore.WarnLevel, nil)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if err := capped.Sync(); err != nil {
		t.Fatal(err)
	}
	// Each session passes one line of each kind (its clock is stopped)
	// and one summary: the cap writes burst of each, then one summary
	// of the rest.
	kinds := append(func() []string {
		var ks []string
		for k := range triggered[0] {
			ks = append(ks, k)
		}
		return ks
	}(), "log lines suppressed")
	for _, msg := range kinds {
		var written int
		for _, e := range logs.FilterMessage(msg).All() {
			if _, ok := e.ContextMap()[logcap.LineKey]; !ok {
				written++
			}
		}
		if written != burst {
			t.Errorf("%s: %d lines written, want %d", msg, written, burst)
		}
		sum := logs.FilterMessage(logcap.SummaryMessage).FilterField(zap.String(logcap.LineKey, msg)).All()
		if len(sum) != 1 || sum[0].ContextMap()[logcap.SuppressedKey] != int64(sessions-burst) {
			t.Errorf("%s: cap's summary %v, want one of %d", msg, sum, sessions-burst)
		}
	}
	if want := (burst + 1) * len(kinds); logs.Len() != want {
		t.Errorf("%d lines, want %d", logs.Len(), want)
	}
	if capped.Suppressed() != int64(len(kinds)*(sessions-burst)) {
		t.Errorf("cap dropped %d, want %d", capped.Suppressed(), len(kinds)*(sessions-burst))
	}
}

// stoppedClock is a zapcore.Clock that does not move.
type stoppedClock struct{}

func (stoppedClock) Now() time.Time                         { return time.Unix(1_700_000_000, 0) }
func (stoppedClock) NewTicker(d time.Duration) *time.Ticker { return time.NewTicker(d) }

// TestPeerLineDroppedDownstreamKeepsItsCount: a line the session lets
// through but a cap further on drops is counted there, and the count of
// the lines the session held back before it is not lost with it: the
// session reports it later (here, in its summary when it ends).
func TestPeerLineDroppedDownstreamKeepsItsCount(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	capped := logcap.New(core, 1, 1)
	clock := newFakeClock()
	opts := &Options{Handler: floodHandler, Logger: zap.New(capped, zap.WithClock(stoppedClock{})), Clock: clock}
	s, peer := newRawPeer(t, opts)
	const unsent = `{"jsonrpc":"2.0","id":424242,"result":1}`
	settle := func() {
		peer.send(`{"jsonrpc":"2.0","id":9,"method":"ok"}`)
		peer.recv()
	}
	for range 3 { // one written, two held back by the session
		peer.send(unsent)
	}
	settle()
	clock.Advance(peerLogEvery)
	peer.send(unsent) // let through by the session with its count of 2, dropped by the cap
	settle()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	<-s.Done()
	if err := capped.Sync(); err != nil {
		t.Fatal(err)
	}
	const msg = "response to unsent request"
	written, held := accounted(logs, msg)
	sum := logs.FilterMessage(logcap.SummaryMessage).FilterField(zap.String(logcap.LineKey, msg)).All()
	if len(sum) != 1 || sum[0].ContextMap()[logcap.SuppressedKey] != int64(1) {
		t.Fatalf("cap's summary %v, want one of 1", sum)
	}
	if written != 1 || held != 2 {
		t.Errorf("%d written, %d held back by the session; want 1 and 2", written, held)
	}
}

// BenchmarkPeerCheck is what a flood of bad messages costs the session
// per line held back ("held") and per line whose level is off ("off").
func BenchmarkPeerCheck(b *testing.B) {
	for _, tt := range []struct {
		name  string
		level zapcore.Level
	}{{"held", zapcore.DebugLevel}, {"off", zapcore.ErrorLevel}} {
		b.Run(tt.name, func(b *testing.B) {
			core, _ := observer.New(tt.level)
			s, _ := newRawPeer(b, &Options{Logger: zap.New(core)})
			if ce, n := s.peerCheck(lineUnsent); ce != nil {
				ce.Write(suppressed(n))
			}
			for b.Loop() {
				if ce, n := s.peerCheck(lineUnsent); ce != nil {
					ce.Write(suppressed(n))
				}
			}
		})
	}
}

// TestPeerLinesDocumented keeps docs/limits.md's table of the lines a
// peer can trigger in step with the kinds the session limits.
func TestPeerLinesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/limits.md")
	if err != nil {
		t.Fatal(err)
	}
	for k, spec := range peerLineSpecs {
		if spec.msg == "" {
			t.Errorf("kind %d has no message", k)
			continue
		}
		if !strings.Contains(string(doc), "`"+spec.msg+"`") {
			t.Errorf("docs/limits.md does not list %q", spec.msg)
		}
	}
}
