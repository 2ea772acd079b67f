package logcap

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// base is the time every test's entries count from.
var base = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// logAt checks and writes one line of msg at lvl at base+at, reporting
// whether it was written.
func logAt(c zapcore.Core, lvl zapcore.Level, msg string, at time.Duration, fields ...zapcore.Field) bool {
	ce := c.Check(zapcore.Entry{Level: lvl, Message: msg, Time: base.Add(at)}, nil)
	if ce == nil {
		return false
	}
	ce.Write(fields...)
	return true
}

// reported sums the suppressed counts of the lines logs holds, for msg
// ("" for every message), from the lines of msg and from summaries
// naming msg.
func reported(logs *observer.ObservedLogs, msg string) int64 {
	var n int64
	for _, e := range logs.All() {
		m := e.ContextMap()
		c, ok := m[SuppressedKey].(int64)
		if !ok {
			continue
		}
		switch {
		case msg == "":
		case e.Message == SummaryMessage && m[LineKey] == msg:
		case e.Message == msg:
		default:
			continue
		}
		n += c
	}
	return n
}

// written counts the lines of msg logs holds, summaries not included.
func written(logs *observer.ObservedLogs, msg string) int {
	return logs.FilterMessage(msg).Len()
}

func TestBurstThenRate(t *testing.T) {
	// 2 a second (one per 500 ms) after a burst of 3.
	type step struct {
		at        time.Duration
		lines     int
		wantLines int
		wantCount int64 // the suppressed field of the first line written; 0: none
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"burst passes, the rest is dropped", []step{{0, 10, 3, 0}}},
		{"a token comes back every interval, carrying the count", []step{
			{0, 10, 3, 0},
			{499 * time.Millisecond, 5, 0, 0},
			{500 * time.Millisecond, 5, 1, 12},
			{time.Second, 1, 1, 4},
		}},
		{"a long silence refills the burst, not more", []step{
			{0, 3, 3, 0},
			{time.Hour, 10, 3, 0},
		}},
		{"a line a little older than the last is dropped, not a reset", []step{
			{time.Second, 3, 3, 0},
			{0, 3, 0, 0},
		}},
		{"a count rides on the next line however late", []step{
			{0, 4, 3, 0},
			{time.Hour, 1, 1, 1},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core, logs := observer.New(zapcore.DebugLevel)
			c := New(core, 2, 3)
			for i, s := range tt.steps {
				before := logs.Len()
				got := 0
				for range s.lines {
					if logAt(c, zapcore.WarnLevel, "m", s.at) {
						got++
					}
				}
				if got != s.wantLines || logs.Len()-before != s.wantLines {
					t.Fatalf("step %d: %d lines written, want %d", i, got, s.wantLines)
				}
				if s.wantLines > 0 {
					first := logs.All()[before].ContextMap()
					count, has := first[SuppressedKey]
					if s.wantCount == 0 && has {
						t.Errorf("step %d: first line carries %v, want no count", i, count)
					}
					if s.wantCount != 0 && count != s.wantCount {
						t.Errorf("step %d: first line carries %v, want %d", i, count, s.wantCount)
					}
				}
			}
		})
	}
}

// TestEveryLineWrittenOrCounted drives several messages at irregular
// times and checks that written lines plus reported counts plus what is
// pending add up to the lines triggered, and that each message stays
// within burst + rate × span.
func TestEveryLineWrittenOrCounted(t *testing.T) {
	const perSecond, burst = 5, 4
	core, logs := observer.New(zapcore.DebugLevel)
	c := New(core, perSecond, burst)
	msgs := []string{"alpha", "beta", "gamma"}
	triggered := map[string]int64{}
	var at time.Duration
	x := uint32(12345)
	for range 20000 {
		x = x*1664525 + 1013904223 // a fixed linear congruential sequence
		msg := msgs[x>>30%3]
		at += time.Duration(x>>8%2000) * time.Microsecond
		logAt(c, zapcore.InfoLevel, msg, at)
		triggered[msg]++
	}
	span := at.Seconds()
	for _, m := range msgs {
		w := written(logs, m)
		if limit := burst + perSecond*span + 1; float64(w) > limit {
			t.Errorf("%s: %d lines written in %.1f s, limit %.0f", m, w, span, limit)
		}
	}
	pending := c.Pending()
	if pending == 0 {
		t.Fatal("nothing pending before Flush: the test does not test Flush")
	}
	if got := int64(logs.Len()) + reported(logs, "") + pending; got != 20000 {
		t.Errorf("written + reported + pending = %d, want 20000", got)
	}
	if err := c.Sync(); err != nil {
		t.Fatal(err)
	}
	if c.Pending() != 0 {
		t.Errorf("pending after Sync = %d", c.Pending())
	}
	for _, m := range msgs {
		if got := int64(written(logs, m)) + reported(logs, m); got != triggered[m] {
			t.Errorf("%s: written + reported = %d, want %d", m, got, triggered[m])
		}
	}
	var dropped int64
	for _, m := range msgs {
		dropped += triggered[m] - int64(written(logs, m))
	}
	if c.Suppressed() != dropped {
		t.Errorf("Suppressed = %d, want %d", c.Suppressed(), dropped)
	}
}

func TestLevels(t *testing.T) {
	tests := []struct {
		level   zapcore.Level
		enabled zapcore.Level // of the wrapped core
		want    int           // lines written of 10 at once, burst 2
		counted int64
	}{
		{zapcore.DebugLevel, zapcore.DebugLevel, 2, 8},
		{zapcore.InfoLevel, zapcore.DebugLevel, 2, 8},
		{zapcore.WarnLevel, zapcore.DebugLevel, 2, 8},
		{zapcore.ErrorLevel, zapcore.DebugLevel, 2, 8},
		{zapcore.DPanicLevel, zapcore.DebugLevel, 10, 0},
		{zapcore.DebugLevel, zapcore.InfoLevel, 0, 0}, // not enabled: not counted either
		{zapcore.InfoLevel, zapcore.WarnLevel, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.level.String()+"/"+tt.enabled.String(), func(t *testing.T) {
			core, logs := observer.New(tt.enabled)
			c := New(core, 1, 2)
			for range 10 {
				logAt(c, tt.level, "m", 0)
			}
			if logs.Len() != tt.want || c.Suppressed() != tt.counted {
				t.Errorf("written %d, counted %d; want %d, %d", logs.Len(), c.Suppressed(), tt.want, tt.counted)
			}
		})
	}
}

func TestWithSharesBuckets(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	c := New(core, 1, 2)
	a := c.With([]zapcore.Field{zap.String("session", "a")})
	b := a.With([]zapcore.Field{zap.String("peer", "p")})
	logAt(a, zapcore.WarnLevel, "m", 0)
	logAt(b, zapcore.WarnLevel, "m", 0)
	logAt(c, zapcore.WarnLevel, "m", 0) // the third of a burst of 2: dropped
	if !logAt(b, zapcore.WarnLevel, "m", time.Second) {
		t.Fatal("line after a second dropped")
	}
	all := logs.All()
	if len(all) != 3 {
		t.Fatalf("%d lines, want 3", len(all))
	}
	want := []map[string]any{
		{"session": "a"},
		{"session": "a", "peer": "p"},
		{"session": "a", "peer": "p", SuppressedKey: int64(1)},
	}
	for i, e := range all {
		if got := e.ContextMap(); fmt.Sprint(got) != fmt.Sprint(want[i]) {
			t.Errorf("line %d fields %v, want %v", i, got, want[i])
		}
	}
	if _, ok := b.(*Core); !ok {
		t.Errorf("With returned %T, want *Core", b)
	}
}

func TestMaxKeys(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	c := New(core, 1, 1)
	const n = MaxKeys + 44
	for i := range n {
		msg := fmt.Sprintf("message %d", i)
		logAt(c, zapcore.WarnLevel, msg, 0)
		logAt(c, zapcore.WarnLevel, msg, 0)
	}
	// Each tracked message passed once; the 44 others shared a bucket.
	if logs.Len() != MaxKeys+1 {
		t.Fatalf("%d lines written, want %d", logs.Len(), MaxKeys+1)
	}
	logs.TakeAll()
	c.Flush()
	sums := logs.FilterMessage(SummaryMessage).All()
	if len(sums) != MaxKeys+1 {
		t.Fatalf("%d summary lines, want %d", len(sums), MaxKeys+1)
	}
	other := logs.FilterField(zap.String(LineKey, OtherMessages)).All()
	if len(other) != 1 || other[0].ContextMap()[SuppressedKey] != int64(44*2-1) {
		t.Errorf("summary of the other messages: %v", other)
	}
	if c.lim.keys.Load() != MaxKeys {
		t.Errorf("%d keys tracked", c.lim.keys.Load())
	}
}

func TestLongMessagesShareByPrefix(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	c := New(core, 1, 1)
	prefix := strings.Repeat("x", KeyLength)
	logAt(c, zapcore.WarnLevel, prefix+"a", 0)
	logAt(c, zapcore.WarnLevel, prefix+"b", 0)
	logAt(c, zapcore.WarnLevel, prefix[1:]+"c", 0)
	if logs.Len() != 2 || c.Suppressed() != 1 {
		t.Errorf("written %d, dropped %d; want 2, 1", logs.Len(), c.Suppressed())
	}
}

func TestClockGoingBackStartsAfresh(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	c := New(core, 1, 2)
	for range 5 {
		logAt(c, zapcore.WarnLevel, "m", time.Hour)
	}
	if !logAt(c, zapcore.WarnLevel, "m", 0) {
		t.Fatal("a line an hour earlier was dropped")
	}
	if logs.Len() != 3 || logs.All()[2].ContextMap()[SuppressedKey] != int64(3) {
		t.Errorf("lines %v", logs.AllUntimed())
	}
}

func TestZeroTimeUsesSystemClock(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	c := New(core, 1, 3)
	for range 10 {
		if ce := c.Check(zapcore.Entry{Level: zapcore.WarnLevel, Message: "m"}, nil); ce != nil {
			ce.Write()
		}
	}
	// Within the first second at most one token more than the burst.
	if n := logs.Len(); n < 3 || n > 4 {
		t.Errorf("%d lines written, want 3 or 4", n)
	}
}

func TestSyncReportsABurstFollowedBySilence(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	c := New(core, 1, 1)
	logAt(c, zapcore.InfoLevel, "m", 0)
	logAt(c, zapcore.WarnLevel, "m", 0)
	logAt(c, zapcore.InfoLevel, "m", 0)
	logAt(c, zapcore.DebugLevel, "m", 0) // not enabled: not counted
	logger := zap.New(c)
	if err := logger.Sync(); err != nil {
		t.Fatal(err)
	}
	sums := logs.FilterMessage(SummaryMessage).All()
	if len(sums) != 1 {
		t.Fatalf("%d summary lines, want 1", len(sums))
	}
	s := sums[0]
	if s.Level != zapcore.WarnLevel || s.ContextMap()[LineKey] != "m" || s.ContextMap()[SuppressedKey] != int64(2) {
		t.Errorf("summary %v %v", s.Level, s.ContextMap())
	}
	if err := logger.Sync(); err != nil {
		t.Fatal(err)
	}
	if logs.FilterMessage(SummaryMessage).Len() != 1 {
		t.Error("a second Sync repeated the summary")
	}
}

func TestTeeAndLoggerLevel(t *testing.T) {
	capped, cappedLogs := observer.New(zapcore.WarnLevel)
	all, allLogs := observer.New(zapcore.DebugLevel)
	c := New(capped, 1, 1)
	if got := zap.New(c).Level(); got != zapcore.WarnLevel {
		t.Errorf("logger level %v, want warn", got)
	}
	logger := zap.New(zapcore.NewTee(c, all), zap.WithClock(fixedClock{base}))
	for range 5 {
		logger.Warn("m")
		logger.Info("i")
	}
	if cappedLogs.Len() != 1 || allLogs.Len() != 10 {
		t.Errorf("capped core wrote %d, the other %d; want 1, 10", cappedLogs.Len(), allLogs.Len())
	}
}

// fixedClock is a zapcore.Clock that always says t.
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time                         { return c.t }
func (c fixedClock) NewTicker(d time.Duration) *time.Ticker { return time.NewTicker(d) }

// TestConcurrentLinesAddUp logs from several goroutines on the system
// clock: every line is written or counted, and each message stays
// within burst + rate × elapsed.
func TestConcurrentLinesAddUp(t *testing.T) {
	const perSecond, burst, workers, each = 100, 10, 8, 5000
	core, logs := observer.New(zapcore.DebugLevel)
	c := New(core, perSecond, burst)
	logger := zap.New(c)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := logger.With(zap.Int("worker", w))
			for i := range each {
				l.Warn([]string{"a", "b"}[i%2])
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	for _, m := range []string{"a", "b"} {
		if w, limit := written(logs, m), burst+perSecond*elapsed+1; float64(w) > limit {
			t.Errorf("%s: %d lines in %.2f s, limit %.0f", m, w, elapsed, limit)
		}
	}
	if err := c.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := int64(written(logs, "a")+written(logs, "b")) + reported(logs, ""); got != workers*each {
		t.Errorf("written + reported = %d, want %d", got, workers*each)
	}
}

func TestBadRatesTakenAsOne(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	c := New(core, 0, -5)
	logAt(c, zapcore.WarnLevel, "m", 0)
	logAt(c, zapcore.WarnLevel, "m", 0)
	logAt(c, zapcore.WarnLevel, "m", time.Second)
	if logs.Len() != 2 {
		t.Errorf("%d lines, want 2", logs.Len())
	}
}
