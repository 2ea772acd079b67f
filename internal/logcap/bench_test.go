package logcap

import (
	"io"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// BenchmarkCheck measures Check: "passed+write" a line within the rate,
// written (so that the checked entry goes back to zap's pool), against
// "wrapped+write", the same without the cap; both read the clock in the
// cap or the encoder. "dropped" is a line over the rate, which is what a
// flood costs, "disabled" a level the wrapped core does not enable; the
// "-parallel" variants run on every CPU at once, on one message or on
// eight.
func BenchmarkCheck(b *testing.B) {
	// A zero Time: the cap reads the system clock, so that lines within
	// the rate keep passing however many the benchmark makes.
	ent := zapcore.Entry{Level: zapcore.WarnLevel, Message: "response to unsent request"}
	// Stamped, as a zap.Logger stamps its entries: the cost of the cap
	// alone.
	stamped := ent
	stamped.Time = time.Now()
	dbg := stamped
	dbg.Level = zapcore.DebugLevel
	inner := func() zapcore.Core {
		enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
		return zapcore.NewCore(enc, zapcore.AddSync(io.Discard), zapcore.InfoLevel)
	}
	write := func(ce *zapcore.CheckedEntry) {
		if ce != nil {
			ce.Write()
		}
	}
	b.Run("wrapped+write", func(b *testing.B) {
		c := inner()
		for b.Loop() {
			write(c.Check(ent, nil))
		}
	})
	b.Run("passed+write", func(b *testing.B) {
		c := New(inner(), 1<<30, 1<<20)
		for b.Loop() {
			write(c.Check(ent, nil))
		}
		if c.Suppressed() != 0 {
			b.Fatalf("%d lines dropped", c.Suppressed())
		}
	})
	b.Run("dropped", func(b *testing.B) {
		c := New(inner(), 1, 1)
		write(c.Check(stamped, nil))
		for b.Loop() {
			write(c.Check(stamped, nil))
		}
	})
	b.Run("disabled", func(b *testing.B) {
		c := New(inner(), 1, 1)
		for b.Loop() {
			write(c.Check(dbg, nil))
		}
	})
	b.Run("dropped-parallel", func(b *testing.B) {
		c := New(inner(), 1, 1)
		write(c.Check(stamped, nil))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				write(c.Check(stamped, nil))
			}
		})
	})
	b.Run("dropped-parallel-keys", func(b *testing.B) {
		c := New(inner(), 1, 1)
		msgs := []string{"a", "bb", "ccc", "dddd", "eeeee", "ffffff", "ggggggg", "hhhhhhhh"}
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				e := stamped
				e.Message = msgs[i&7]
				i++
				write(c.Check(e, nil))
			}
		})
	})
}
