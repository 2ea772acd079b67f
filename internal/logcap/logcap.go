package logcap

import (
	"hash/maphash"
	"math"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

const (
	// DefaultPerSecond is the rate per message a server may start from:
	// ten lines a second once the burst is spent.
	DefaultPerSecond = 10
	// DefaultBurst is the burst per message a server may start from.
	DefaultBurst = 50
	// MaxKeys is how many distinct messages have a bucket of their
	// own; the lines of any further message share one.
	MaxKeys = 256
	// KeyLength is how many bytes of a message tell it apart: longer
	// messages that begin alike share a bucket.
	KeyLength = 128

	// SuppressedKey is the field that carries the count of lines
	// dropped since the last line of the same message was written.
	SuppressedKey = "suppressed"
	// SummaryMessage is the message of the lines Flush writes.
	SummaryMessage = "log lines suppressed"
	// LineKey is the field of a summary line that names the message
	// whose lines were dropped.
	LineKey = "line"
	// OtherMessages is the LineKey of the summary of the messages past
	// MaxKeys, which share one bucket.
	OtherMessages = "(other messages)"
)

// backStep is how far an entry's time may lie behind a bucket's before
// the clock is taken to have gone back: entries logged at the same time
// on several goroutines reach Check in any order, so a line a little
// older than the last one passed is an ordinary line.
const backStep = 10 * time.Second

// tableSize is the number of slots of the open-addressing table: twice
// MaxKeys, so that a probe always finds an empty slot or its key soon.
const tableSize = 2 * MaxKeys

// Core is a zapcore.Core that caps the lines it passes to the core it
// wraps (see the package documentation). It is safe for concurrent use.
type Core struct {
	zapcore.Core
	lim *limiter
}

// limiter is what a Core and every core made from it by With share.
type limiter struct {
	interval  int64 // nanoseconds per token
	tolerance int64 // (burst-1) × interval: how far ahead a bucket may run
	limit     int64 // burst × interval + backStep: beyond it, the clock went back
	start     time.Time
	seed      maphash.Seed
	keys      atomic.Int32
	table     [tableSize]atomic.Pointer[bucket]
	other     bucket
	root      zapcore.Core // the wrapped core, without any With fields
}

// bucket is the state of one message: a token bucket kept as a
// theoretical arrival time (the generic cell rate algorithm), so that
// one compare-and-swap updates it.
type bucket struct {
	key     string
	tat     atomic.Int64 // nanoseconds since start; math.MinInt64: never
	pending atomic.Int64 // dropped since the last report
	dropped atomic.Int64 // dropped since New
	level   atomic.Int32 // the highest level dropped
}

// New returns a Core that passes to core at most burst lines at once and
// perSecond lines a second of each message, at levels up to Error (see
// the package documentation). Values below 1 are taken as 1.
func New(core zapcore.Core, perSecond, burst int) *Core {
	perSecond = max(perSecond, 1)
	burst = max(burst, 1)
	interval := max(int64(time.Second)/int64(perSecond), 1)
	l := &limiter{
		interval:  interval,
		tolerance: int64(burst-1) * interval,
		limit:     int64(burst)*interval + int64(backStep),
		start:     time.Now(),
		seed:      maphash.MakeSeed(),
		root:      core,
	}
	l.other.key = OtherMessages
	l.other.tat.Store(math.MinInt64)
	l.other.level.Store(int32(zapcore.DebugLevel))
	return &Core{Core: core, lim: l}
}

// Level returns the least level the wrapped core enables, so that
// zap.Logger.Level stays accurate.
func (c *Core) Level() zapcore.Level { return zapcore.LevelOf(c.Core) }

// With returns a core that adds fields to every line and shares c's
// buckets and counts.
func (c *Core) With(fields []zapcore.Field) zapcore.Core {
	return &Core{Core: c.Core.With(fields), lim: c.lim}
}

// Check adds the wrapped core to ce if the wrapped core enables ent's
// level and ent's message is within its rate, else counts ent as
// dropped and returns ce unchanged.
func (c *Core) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if !c.Core.Enabled(ent.Level) {
		return ce
	}
	if ent.Level > zapcore.ErrorLevel {
		return c.Core.Check(ent, ce)
	}
	l := c.lim
	b := l.lookup(ent.Message)
	if !b.allow(l.now(ent.Time), l.interval, l.tolerance, l.limit) {
		b.drop(ent.Level)
		return ce
	}
	if b.pending.Load() != 0 {
		if n := b.pending.Swap(0); n != 0 {
			return c.Core.With([]zapcore.Field{zap.Int64(SuppressedKey, n)}).Check(ent, ce)
		}
	}
	return c.Core.Check(ent, ce)
}

// Flush writes one summary line for each message with lines dropped and
// not yet reported, at the highest level ever dropped of that message, to the wrapped core
// without the fields added by With (the buckets are shared by cores with
// different fields).
func (c *Core) Flush() {
	l := c.lim
	for i := range l.table {
		if b := l.table[i].Load(); b != nil {
			l.report(b)
		}
	}
	l.report(&l.other)
}

// Sync flushes (see Flush), then syncs the wrapped core and returns its
// error.
func (c *Core) Sync() error {
	c.Flush()
	return c.Core.Sync()
}

// Suppressed returns how many lines have been dropped since New, by
// this core and every core made from it by With.
func (c *Core) Suppressed() int64 {
	return c.lim.sum(func(b *bucket) int64 { return b.dropped.Load() })
}

// Pending returns how many dropped lines no line and no Flush has
// reported yet.
func (c *Core) Pending() int64 {
	return c.lim.sum(func(b *bucket) int64 { return b.pending.Load() })
}

func (l *limiter) sum(f func(*bucket) int64) int64 {
	n := f(&l.other)
	for i := range l.table {
		if b := l.table[i].Load(); b != nil {
			n += f(b)
		}
	}
	return n
}

// report writes the summary line of b's pending count, if any.
func (l *limiter) report(b *bucket) {
	if b.pending.Load() == 0 {
		return
	}
	n := b.pending.Swap(0)
	if n == 0 {
		return
	}
	ent := zapcore.Entry{
		Level:   zapcore.Level(b.level.Load()),
		Time:    time.Now(),
		Message: SummaryMessage,
	}
	if ce := l.root.Check(ent, nil); ce != nil {
		ce.Write(zap.String(LineKey, b.key), zap.Int64(SuppressedKey, n))
	}
}

// now returns t as nanoseconds since the limiter's start; the zero
// time means now.
func (l *limiter) now(t time.Time) int64 {
	if t.IsZero() {
		return int64(time.Since(l.start))
	}
	return int64(t.Sub(l.start))
}

// lookup returns the bucket of msg, adding one if there is room.
func (l *limiter) lookup(msg string) *bucket {
	key := msg
	if len(key) > KeyLength {
		key = key[:KeyLength]
	}
	i := maphash.String(l.seed, key) & (tableSize - 1)
	var fresh *bucket
	for {
		b := l.table[i].Load()
		if b == nil {
			if fresh == nil {
				if l.keys.Load() >= MaxKeys || l.keys.Add(1) > MaxKeys {
					return &l.other
				}
				fresh = &bucket{key: strings.Clone(key)}
				fresh.tat.Store(math.MinInt64)
				fresh.level.Store(int32(zapcore.DebugLevel))
			}
			if l.table[i].CompareAndSwap(nil, fresh) {
				return fresh
			}
			continue // another key took slot i: look at it
		}
		if b.key == key {
			if fresh != nil {
				l.keys.Add(-1)
			}
			return b
		}
		i = (i + 1) & (tableSize - 1)
	}
}

// allow takes a token from b at time now if there is one.
func (b *bucket) allow(now, interval, tolerance, limit int64) bool {
	for {
		tat := b.tat.Load()
		t := max(tat, now)
		if ahead := t - now; ahead > tolerance {
			if ahead <= limit {
				return false
			}
			t = now // the clock went back: start the bucket afresh
		}
		if b.tat.CompareAndSwap(tat, t+interval) {
			return true
		}
	}
}

// drop counts one line dropped at level lvl. The level is raised first,
// so that a Flush that sees the count sees a level that was dropped.
func (b *bucket) drop(lvl zapcore.Level) {
	for {
		old := b.level.Load()
		if int32(lvl) <= old || b.level.CompareAndSwap(old, int32(lvl)) {
			break
		}
	}
	b.pending.Add(1)
	b.dropped.Add(1)
}
