package protocol

import (
	"sync/atomic"
)

// The default limits.
const (
	DefaultMaxBatch  = 1000
	DefaultMaxMethod = 256
	DefaultMaxDepth  = 256
)

// Options are the limits a codec applies to what it decodes. The zero
// value (and a nil *Options) gives the defaults; a zero or negative
// field takes its default.
type Options struct {
	// MaxBatch is the most items a batch may hold (default 1,000);
	// a bigger batch gets one -32600 "batch too large" error.
	MaxBatch int
	// MaxMethod is the longest method name accepted, in bytes once
	// unescaped (default 256); a longer one makes the request invalid
	// (-32600).
	MaxMethod int
	// MaxDepth is the deepest nesting of arrays and objects accepted,
	// counting the message's own brackets (default 256); deeper input
	// is a parse error (-32700). Raw params, results and error data
	// given to the encoder obey it too, counted as in a single message,
	// so that a codec never writes what it would refuse.
	MaxDepth int
}

// limits are resolved Options.
type limits struct {
	maxBatch, maxMethod, maxDepth int
}

func (o *Options) limits() limits {
	l := limits{DefaultMaxBatch, DefaultMaxMethod, DefaultMaxDepth}
	if o == nil {
		return l
	}
	if o.MaxBatch > 0 {
		l.maxBatch = o.MaxBatch
	}
	if o.MaxMethod > 0 {
		l.maxMethod = o.MaxMethod
	}
	if o.MaxDepth > 0 {
		l.maxDepth = o.MaxDepth
	}
	return l
}

// New returns a codec for dialect d with the limits in o (nil means
// the defaults). For Auto it returns a fresh codec that detects the
// dialect from the first message it decodes (that is not a parse
// error) and keeps it: use one per connection, and decode with one
// goroutine at a time. Codecs for the other dialects keep no state and
// may be shared. New panics if d is not one of the four dialects.
func New(d Dialect, o *Options) Codec {
	if !d.valid() {
		panic("protocol: New with unknown dialect " + d.String())
	}
	c := &codec{limits: o.limits()}
	c.dialect.Store(uint32(d))
	return c
}

// codec implements Codec. Its limits never change; dialect changes
// once, from Auto to the detected dialect, in Decode.
type codec struct {
	limits
	dialect atomic.Uint32
}

func (c *codec) Dialect() Dialect { return Dialect(c.dialect.Load()) }

// output returns the dialect to write: Auto writes as Loose, which
// writes 2.0.
func (c *codec) output() Dialect {
	d := c.Dialect()
	if d == Auto {
		return Loose
	}
	return d
}
