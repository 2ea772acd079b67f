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

// Options are the limits a codec applies to what it decodes, and how
// strictly it reads responses. The zero value (and a nil *Options)
// gives the defaults; a zero or negative limit takes its default.
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
	// (and 1.0 IDs) given to the encoder obey it too, counted as in a
	// single message, so that a codec never writes what it would
	// refuse.
	MaxDepth int
	// Strict reads responses by the letter of the dialect instead of
	// as real peers send them. By default (false) a V1 response that
	// lacks "result" or "error" is read with the missing member null
	// (as Open vSwitch's ovsdb-server answers errors:
	// {"id":0,"error":"unknown method"}), and a V2 error that is not an
	// object with an integer "code" and a string "message" is read as
	// V1 and Loose read it (code -100, the whole value in Error.Data).
	// With Strict, such a response is malformed: the pending call gets
	// a *ProtocolError. Strict changes nothing else: requests are read
	// alike, what the codec writes is strict either way, Loose is
	// lenient by definition, and Auto applies it to the dialect it
	// detects.
	Strict bool
}

// limits are resolved Options.
type limits struct {
	maxBatch, maxMethod, maxDepth int
	strict                        bool
}

func (o *Options) limits() limits {
	l := limits{maxBatch: DefaultMaxBatch, maxMethod: DefaultMaxMethod, maxDepth: DefaultMaxDepth}
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
	l.strict = o.Strict
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
	methods methodCache
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
