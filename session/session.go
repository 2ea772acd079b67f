package session

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/protocol"
)

var (
	errDeadline      = context.DeadlineExceeded
	errSessionClosed = errors.New("session closing")
	sessionCounter   atomic.Uint64
)

// Session is one JSON-RPC conversation with one peer over a message
// stream (aiorpcX's RPCSession). Both sides can call, notify and batch,
// and both can serve. All methods are safe for concurrent use.
//
// A session starts reading as soon as it is made and ends when the
// connection is lost, the peer closes, or Close, Shutdown or Abort is
// called; [Session.Wait] returns why. Every goroutine the session
// started has ended by the time Done is closed.
type Session struct {
	stream  framing.Stream
	codec   protocol.Codec
	handler Handler
	cfg     settings
	// baseLog is Options.Logger; log, made from it at the first line
	// written (see logger), adds the session's name and peer.
	baseLog *zap.Logger
	log     atomic.Pointer[zap.Logger]
	name    string
	peer    string
	side    Side
	parent  context.Context
	onClose func(error)

	w    *writer
	out  *outgoingLimit
	cost *costMeter

	// tracker allocates the IDs of outgoing requests and matches the
	// responses to them (see tracker.go).
	tracker tracker

	// acct counts the bytes of incoming work the session holds, against
	// Options.MaxIncomingBytes and the shared Options.Budget.
	acct *account // its own, or Options.Gate's
	gate *Gate    // Options.Gate, or nil
	// awaiting counts outgoing calls and batches waiting for the peer:
	// while any does, the reader must go on reading (see accept).
	awaiting atomic.Int32
	// readerWaiting is set while the reader waits for room (readerWake).
	readerWaiting atomic.Bool

	// sched is the state of the incoming side, owned by sched.mu (see
	// scheduler.go).
	sched scheduler

	// handOff is the timer of a request served inline (see inline.go).
	handOff      *time.Timer
	inlineBudget time.Duration

	// restart is the reader's own: the deadline after which a fresh
	// goroutine reads on (see restart.go). restarts counts them.
	restart  readerRestart
	restarts atomic.Uint64

	// bursting is the reader's own: it is dispatching a burst.
	bursting bool
	// items is the reader's own too: a message that is not a batch is
	// decoded into it, and what is kept of it is copied out.
	items [1]protocol.Item
	// recvAt is when the message being dispatched was read, as time
	// since start: processing deadlines count from it.
	recvAt time.Duration

	wg sync.WaitGroup // every goroutine of the session but the reader

	// Closing. calls is closed when no more outgoing calls are taken;
	// done when the session has ended.
	closeMu  sync.Mutex
	cause    error
	calls    chan struct{}
	callsEnd bool
	abortOne sync.Once
	done     chan struct{}
	quit     chan struct{} // closed when the session aborts
	// watch is the timer of the idle, first-message and
	// unfinished-message timeouts and of pings; nil when all are off.
	watch *watchdog

	stats counters
	start time.Time
	// lineLimits rate-limit the log lines a peer can trigger (see
	// warn.go), made at the first one.
	lineLimits atomic.Pointer[lineLimits]

	// ext holds what the program attaches (see values.go), made at
	// first use: most sessions have none.
	ext     atomic.Pointer[attached]
	closing atomic.Bool // closeAfterReply started
	excess  atomic.Bool // over the hard cost limit: what is read is ignored

	// incomingChain and outgoingChain are the interceptors' chains,
	// nil when there are none.
	incomingChain Handle
	outgoingChain SendFunc
	observer      Observer

	// proto is the kind of messages the engine runs: JSON-RPC
	// (jsonrpcMessages) or (command, payload) messages (messageMode).
	proto messages
	// msgSession is the wrapper of a MessageSession, else nil.
	msgSession *MessageSession
}

// New starts a session over stream, with options o (nil for the
// defaults). The session owns stream from then on and closes it when it
// ends. It panics if stream is nil.
func New(stream framing.Stream, o *Options) *Session {
	if stream == nil {
		panic("session: New with a nil stream")
	}
	if o == nil {
		o = &Options{}
	}
	return newSession(stream, o, nil)
}

// messages is what the engine of a session runs for one kind of
// protocol: how messages are read and dispatched, and how one read is
// served. The engine (scheduling, limits, cost, writing, closing) is
// the same for all.
type messages interface {
	// readLoop reads and dispatches messages until the stream fails;
	// it returns errHandedOff when another goroutine took over.
	readLoop() error
	// serve runs the handler of one message read and answers it.
	serve(in *incoming)
}

// jsonrpcMessages runs JSON-RPC over the session's stream (reader.go,
// incoming.go).
type jsonrpcMessages struct{ s *Session }

func (j jsonrpcMessages) readLoop() error    { return j.s.readLoop() }
func (j jsonrpcMessages) serve(in *incoming) { j.s.serveRequest(in) }

func newSession(stream framing.Stream, o *Options, mode *messageMode) *Session {
	s := &Session{
		stream:  stream,
		codec:   protocol.New(o.Dialect, o.Protocol),
		handler: o.Handler,
		cfg:     resolve(o),
		name:    o.Name,
		peer:    o.Peer,
		side:    o.Side,
		parent:  o.Context,
		onClose: o.OnClose,
		calls:   make(chan struct{}),
		done:    make(chan struct{}),
		quit:    make(chan struct{}),
		start:   time.Now(),

		inlineBudget: defaultInlineBudget,
	}
	if s.parent == nil {
		s.parent = context.Background()
	}
	if s.name == "" {
		s.name = "session-" + strconv.FormatUint(sessionCounter.Add(1), 10)
	}
	s.baseLog = o.Logger
	if s.baseLog == nil {
		s.baseLog = zap.NewNop()
	}
	s.sched.queue.queue = true
	if o.Gate != nil {
		s.gate = o.Gate
		s.acct = o.Gate.acct
		if o.Budget != nil {
			s.acct.budget = o.Budget
		}
	} else {
		s.acct = &account{budget: o.Budget}
	}
	s.acct.limit = int64(s.cfg.maxIncomingBytes)
	s.acct.awaiting = &s.awaiting
	s.sched.base = s.cfg.concurrency
	s.sched.target = s.sched.base
	s.cost = newCostMeter(s.cfg.cost, s.cfg.clock, s.retarget)
	s.out = newOutgoingLimit(s.cfg.outgoing, s.calls, func(from, to int) {
		if ce, n := s.peerCheck(lineOutgoingConcurrency); ce != nil {
			ce.Write(zap.Int("from", from), zap.Int("to", to), suppressed(n))
		}
	})
	s.w = newWriter(stream, &s.cfg, s)
	s.setInterceptors(o)
	s.observer = o.Observer
	if s.cfg.processingTimeout > 0 {
		s.sched.expiry = time.AfterFunc(time.Hour, s.expire)
		s.sched.expiry.Stop()
	}
	// Made here, not on first use: the goroutines that use them must
	// all see the same timer.
	s.handOff = time.AfterFunc(time.Hour, s.takeOverReading)
	s.handOff.Stop()
	if s.gate != nil {
		// What the framing holds, so that the Gate releases what it
		// drops; for a message session, its reader's.
		if b, ok := stream.(interface{ Buffered() int }); ok {
			s.gate.buffered = b.Buffered
		}
		if mode != nil {
			s.gate.buffered = mode.reader.Buffered
		}
	}
	if mode != nil {
		mode.s = s
		s.proto = mode
		s.msgSession = &MessageSession{s: s, mode: mode}
	} else {
		s.proto = jsonrpcMessages{s}
	}
	if mode == nil {
		s.initRestart(stream)
	}
	s.watch = newWatchdog(s, o, mode == nil)
	if s.gate != nil {
		s.gate.w = s.watch
	}
	s.emit(SessionOpened, "", nil, 0)
	s.wg.Add(1)
	go s.read()
	if s.watch != nil {
		s.watch.start()
	}
	return s
}

// Name returns the session's name, as it appears in its logs.
func (s *Session) Name() string { return s.name }

// Peer returns the peer's description given in Options.
func (s *Session) Peer() string { return s.peer }

// Side returns which end of the connection the session is.
func (s *Session) Side() Side { return s.side }

// Dialect returns the JSON-RPC dialect in use (for auto-detection, the
// one detected, or protocol.Auto before the first message).
func (s *Session) Dialect() protocol.Dialect { return s.codec.Dialect() }

// Done returns a channel that is closed when the session has ended and
// all its goroutines have finished.
func (s *Session) Done() <-chan struct{} { return s.done }

// Wait blocks until the session has ended and returns why: ErrClosed
// when this side closed it, io.EOF when the peer did; ErrIdle,
// ErrFirstMessageTimeout, ErrMessageTimeout or ErrPingTimeout when a
// timeout of Options closed it; ErrExcessiveCost, ErrSendStalled, or
// the network or framing error that broke the connection. Compare with
// errors.Is.
func (s *Session) Wait() error {
	<-s.done
	return s.Err()
}

// Err returns why the session ended or is ending, or nil while it is
// open.
func (s *Session) Err() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	return s.cause
}

// SetConcurrency changes how many incoming requests run at once
// (aiorpcX's Concurrency.set_target). Cost throttling scales the new
// value. A value of 0 or less makes every further request excessive:
// it gets -101 and the session closes.
func (s *Session) SetConcurrency(n int) {
	s.sched.mu.Lock()
	s.sched.base = max(n, 0)
	s.sched.target = concurrencyTarget(s.sched.base, s.sched.fraction)
	s.spawnLocked()
	s.sched.mu.Unlock()
}

// retarget applies a new cost fraction to the concurrency target.
func (s *Session) retarget(fraction float64) {
	s.sched.mu.Lock()
	old := s.sched.target
	s.sched.fraction = fraction
	s.sched.target = concurrencyTarget(s.sched.base, fraction)
	if d := s.sched.target - old; d > 1 || d < -1 {
		if ce, n := s.peerCheck(lineTaskConcurrency); ce != nil {
			ce.Write(zap.Int("from", old), zap.Int("to", s.sched.target), suppressed(n))
		}
	}
	if s.sched.target != old {
		s.emit(Throttled, "", nil, float64(s.sched.target))
	}
	s.spawnLocked()
	s.sched.mu.Unlock()
	if fraction >= 1 {
		// At the hard limit, whatever the peer sent: requests already
		// read get -101 (the target is 0), then the session closes.
		s.excessiveCost()
	}
}

// FromContext returns the session serving the request whose context is
// ctx, or nil.
func FromContext(ctx context.Context) *Session {
	s, _ := ctx.Value(sessionKey{}).(*Session)
	return s
}

type sessionKey struct{}

// read is a reader goroutine: it reads until the connection ends, then
// tears the session down, or until it hands the reading over to another
// (see inline.go). Every reader goroutine is counted in wg.
func (s *Session) read() {
	s.addGoroutine()
	cause := s.proto.readLoop()
	if cause == errHandedOff {
		s.removeGoroutine()
		s.wg.Done()
		return
	}
	s.endBurst()
	s.w.uncork()
	s.removeGoroutine()
	s.wg.Done()
	s.teardown(cause)
}
