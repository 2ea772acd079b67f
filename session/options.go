package session

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/gorpcx/gorpcx/protocol"
)

// Side says which end of the connection a session is.
type Side uint8

const (
	// Server is the side that accepted the connection (the zero value).
	Server Side = iota
	// Client is the side that dialed. Its cost accounting is off by
	// default, as in aiorpcX.
	Client
)

// String returns "server" or "client".
func (s Side) String() string {
	if s == Client {
		return "client"
	}
	return "server"
}

// Defaults, from aiorpcX where it has the setting; docs/limits.md lists
// every limit, its default and what happens at it.
const (
	DefaultConcurrency       = 20
	DefaultQueueFactor       = 4
	DefaultProcessingTimeout = 30 * time.Second
	DefaultSendTimeout       = 20 * time.Second
	DefaultMaxWriteBuffer    = 8 << 20 // 8 MiB
	// DefaultMaxIncomingBytes bounds the bytes of incoming work one
	// session holds: 16 MiB, room for 16 messages at the newline
	// framer's default limit of 1,000,000 bytes, or for the 100
	// requests of the default concurrency and queue at 160 KiB each.
	DefaultMaxIncomingBytes = 16 << 20
	DefaultRequestTimeout   = 30 * time.Second
	DefaultCloseTimeout     = 30 * time.Second
)

// Options configures a session. The zero value is a working server
// side with aiorpcX's defaults. For durations, zero means the default
// and a negative value switches the limit off; for counts, zero means
// the default.
type Options struct {
	// Handler serves the peer's requests and notifications. Nil answers
	// every request with -32601 (method not found).
	Handler Handler
	// Side is who dialed; it sets the cost defaults.
	Side Side
	// Dialect is the JSON-RPC dialect (default 2.0). Protocol sets the
	// codec's limits (batch size, method length, nesting) and whether
	// it reads responses strictly (protocol.Options.Strict).
	Dialect  protocol.Dialect
	Protocol *protocol.Options

	// Context is the parent of every handler's context; its values are
	// visible to handlers. Cancelling it does not close the session.
	Context context.Context
	// Logger receives the session's logs (no-op when nil); Name and
	// Peer are added to every line (defaults: "session-N" and none).
	Logger *zap.Logger
	Name   string
	Peer   string

	// Concurrency is how many incoming requests run at once (20).
	// MaxQueued is how many read requests may wait for a turn
	// (4 × Concurrency); when the queue is full the session stops
	// reading from the connection, unless one of its calls waits for
	// the peer (see MaxIncomingBytes).
	Concurrency int
	MaxQueued   int
	// MaxIncomingBytes bounds the bytes of the requests the session
	// holds, read and not yet answered, queued or running (16 MiB).
	// At the bound the session stops reading; but while one of its
	// calls waits for the peer it goes on reading (the answer may be
	// next), queueing past MaxQueued within this bound, and answers a
	// request past it with -102 "server busy" (a notification past it
	// is dropped). A single message larger than the bound is still
	// taken when the session holds nothing else.
	MaxIncomingBytes int
	// Budget, if set, is a byte budget shared with other sessions
	// (a server's): the bytes this session holds count against it too.
	Budget *Budget
	// Gate, if set, is the connection under the session's stream,
	// wrapped by Budget.Gate: the bytes of a message still arriving
	// then count against MaxIncomingBytes and the Budget too (the
	// Budget given to Budget.Gate, unless Budget is set here).
	Gate *Gate
	// ProcessingTimeout bounds the time from reading a request to its
	// reply (30 s); past it the peer gets -102 "server busy - request
	// timed out" and the handler's context is cancelled.
	ProcessingTimeout time.Duration
	// SendTimeout is how long one write may stall before the connection
	// is aborted (20 s). MaxWriteBuffer bounds the bytes waiting to be
	// written (8 MiB): past half of it the session stops reading
	// requests until the peer has read; a handler's reply, a call or a
	// notification that would pass it waits until the peer has read
	// enough; only a peer that sends without reading while its replies
	// pile up past it is aborted (ErrSendStalled).
	SendTimeout    time.Duration
	MaxWriteBuffer int
	// MaxResponseSize replaces a reply larger than this with -32600
	// "response too large (over N bytes)"; 0 (the default) is off.
	MaxResponseSize int
	// IdleTimeout closes a session that receives no message for this
	// long (ErrIdle); 0 (the default) is off. It counts from New, and
	// from the last message received (a response to a ping too).
	IdleTimeout time.Duration
	// FirstMessageTimeout closes a session that has not received one
	// complete message (one the framer returned, whatever it holds)
	// within this time of Accepted (ErrFirstMessageTimeout); 0 (the
	// default) is off.
	FirstMessageTimeout time.Duration
	// Accepted is when the connection was accepted, so that a TLS
	// handshake or a PROXY protocol header read before the session was
	// made counts against FirstMessageTimeout; the zero value means
	// when New was called.
	Accepted time.Time
	// MessageTimeout (the unfinished-message timeout) closes a session
	// when a message whose first bytes have arrived is not complete
	// within this time of them (ErrMessageTimeout); 0 (the default) is
	// off. It bounds the time a whole message may take to arrive, so a
	// large message on a slow link needs a longer timeout. It needs
	// Options.Gate (a server.Server always sets one), which sees the
	// bytes arrive under the framer; without one it does not apply, and
	// New logs that at Debug level.
	MessageTimeout time.Duration
	// Ping, if set, has the session call the peer when it has received
	// nothing for a while, and abort when the peer stops answering
	// (ErrPingTimeout); see [Ping]. Nil (the default) is off.
	Ping *Ping
	// CloseTimeout is how long a graceful Close waits for running
	// handlers before aborting (30 s, aiorpcX's force_after).
	CloseTimeout time.Duration

	// RequestTimeout bounds each outgoing call (30 s), on top of the
	// call's own context.
	RequestTimeout time.Duration
	// Outgoing limits the requests in flight to the peer; nil means
	// aiorpcX's adaptive defaults.
	Outgoing *Outgoing
	// Cost is the resource accounting of the peer; nil means the
	// defaults for Side (DefaultCost for a server, off for a client).
	Cost *Cost
	// Cancel, if set, turns on cancellation across the wire in the
	// convention it describes (LSP's "$/cancelRequest" by default): a
	// call that gives up tells the peer, and the peer's cancellation
	// cancels the matching handler's context; see [Cancellation]. Nil
	// (the default) is off: JSON-RPC 2.0 has no standard for it.
	Cancel *Cancellation
	// Clock supplies time to cost accounting, throttling and the limit
	// on log lines a peer can trigger; nil is the system clock.
	Clock Clock

	// Interceptors wrap the serving of every incoming request and
	// notification, the first outermost: Interceptors[0] sees a request
	// first and its outcome last. OutgoingInterceptors wrap every Call
	// and Notify the same way. None (the default) costs nothing.
	Interceptors         []Interceptor
	OutgoingInterceptors []OutgoingInterceptor

	// Observer, if set, receives the session's events (see Event): its
	// opening and end, throttling, the cost limit, messages rejected by
	// a limit. None (the default) costs nothing.
	Observer Observer

	// OnClose, if set, is called once when the session has ended, with
	// the cause Wait will return, before the functions added with
	// Session.AfterClose and before Done is closed. It runs on the
	// session's last goroutine and must not wait for the session (Wait,
	// Close, Shutdown, Abort).
	OnClose func(err error)
}

// Outgoing configures the concurrency of outgoing requests, adapted as
// aiorpcX does: every Recalibrate responses the limit moves towards
// TargetRoundTrip, by at most +10 % (at least 3) or −20 % (at least 1)
// a step, within [Min, Max].
type Outgoing struct {
	// Disabled switches the limit off.
	Disabled bool
	// Initial, Min, Max: 50, 1, 250 when zero.
	Initial, Min, Max int
	// TargetRoundTrip: 3 s when zero.
	TargetRoundTrip time.Duration
	// Recalibrate: 30 when zero.
	Recalibrate int
}

// Cost configures the resource accounting of a peer, exactly as
// aiorpcX's SessionBase. Every byte each way costs PerByte, every error
// ErrorBase plus its own cost hint; the cost decays by DecayPerSecond.
// Between SoftLimit and HardLimit each request first sleeps up to
// MaxSleep in proportion and the concurrency target shrinks in
// proportion; at HardLimit the request gets -101 "excessive resource
// usage" and the session is closed after that reply. A HardLimit of 0
// switches all of it off. Fields are taken as given: start from
// [DefaultCost].
type Cost struct {
	SoftLimit      float64
	HardLimit      float64
	DecayPerSecond float64
	PerByte        float64
	ErrorBase      float64
	MaxSleep       time.Duration
	// Extra adds a cost computed elsewhere (for example shared by all
	// sessions of one IP) when throttling is recalculated; may be nil.
	Extra func() float64
	// OnExcessive is called once just before the session is closed for
	// excessive cost; may be nil.
	OnExcessive func()
}

// DefaultCost returns aiorpcX's cost settings: soft limit 2,000, hard
// limit 10,000, decay of the hard limit per hour, 1/100,000 per byte,
// 100 per error and up to 2 s of delay.
func DefaultCost() Cost {
	return Cost{
		SoftLimit:      2000,
		HardLimit:      10000,
		DecayPerSecond: 10000.0 / 3600,
		PerByte:        1.0 / 100000,
		ErrorBase:      100,
		MaxSleep:       2 * time.Second,
	}
}

// Clock is the source of time for cost accounting, throttling delays
// and the limit on log lines a peer can trigger, so that tests can be
// exact and fast.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done, returning ctx.Err() then.
	Sleep(ctx context.Context, d time.Duration) error
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// settings is Options resolved to concrete values.
type settings struct {
	concurrency       int
	maxQueued         int
	processingTimeout time.Duration // 0: off
	sendTimeout       time.Duration // 0: off
	maxWriteBuffer    int
	maxIncomingBytes  int
	maxResponseSize   int
	idleTimeout       time.Duration // 0: off
	firstTimeout      time.Duration // 0: off
	messageTimeout    time.Duration // 0: off
	closeTimeout      time.Duration
	requestTimeout    time.Duration // 0: off
	outgoing          Outgoing
	cost              Cost
	clock             Clock
	cancel            *Cancellation // nil: off
}

func duration(v, def time.Duration) time.Duration {
	switch {
	case v < 0:
		return 0
	case v == 0:
		return def
	}
	return v
}

func resolve(o *Options) settings {
	s := settings{
		concurrency:       o.Concurrency,
		maxQueued:         o.MaxQueued,
		processingTimeout: duration(o.ProcessingTimeout, DefaultProcessingTimeout),
		sendTimeout:       duration(o.SendTimeout, DefaultSendTimeout),
		maxWriteBuffer:    o.MaxWriteBuffer,
		maxIncomingBytes:  o.MaxIncomingBytes,
		maxResponseSize:   o.MaxResponseSize,
		idleTimeout:       duration(o.IdleTimeout, 0),
		firstTimeout:      duration(o.FirstMessageTimeout, 0),
		messageTimeout:    duration(o.MessageTimeout, 0),
		closeTimeout:      duration(o.CloseTimeout, DefaultCloseTimeout),
		requestTimeout:    duration(o.RequestTimeout, DefaultRequestTimeout),
		clock:             o.Clock,
		cancel:            resolveCancel(o.Cancel),
	}
	if s.concurrency <= 0 {
		s.concurrency = DefaultConcurrency
	}
	if s.maxQueued <= 0 {
		s.maxQueued = DefaultQueueFactor * s.concurrency
	}
	if s.maxWriteBuffer <= 0 {
		s.maxWriteBuffer = DefaultMaxWriteBuffer
	}
	if s.maxIncomingBytes <= 0 {
		s.maxIncomingBytes = DefaultMaxIncomingBytes
	}
	if s.clock == nil {
		s.clock = systemClock{}
	}
	if o.Outgoing != nil {
		s.outgoing = *o.Outgoing
	}
	if s.outgoing.Initial <= 0 {
		s.outgoing.Initial = 50
	}
	if s.outgoing.Min <= 0 {
		s.outgoing.Min = 1
	}
	if s.outgoing.Max <= 0 {
		s.outgoing.Max = 250
	}
	if s.outgoing.Max < s.outgoing.Min {
		s.outgoing.Max = s.outgoing.Min
	}
	s.outgoing.Initial = min(max(s.outgoing.Initial, s.outgoing.Min), s.outgoing.Max)
	if s.outgoing.TargetRoundTrip <= 0 {
		s.outgoing.TargetRoundTrip = 3 * time.Second
	}
	if s.outgoing.Recalibrate <= 0 {
		s.outgoing.Recalibrate = 30
	}
	switch {
	case o.Cost != nil:
		s.cost = *o.Cost
	case o.Side == Server:
		s.cost = DefaultCost()
	default:
		s.cost = DefaultCost()
		s.cost.HardLimit = 0
	}
	return s
}
