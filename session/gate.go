package session

import (
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// Gate is a connection whose reads are charged to a session's incoming
// budget, so that the bytes of a message still arriving count too, not
// only the requests read whole: a peer that sends the start of a large
// message and stops holds those bytes against its session and its
// Budget. Read waits while the session holds its limit
// (Options.MaxIncomingBytes) or its share of the Budget, except while a
// call of the session waits for the peer, whose answer must be read.
//
// Make one with [Budget.Gate] over the connection, build the session's
// stream over the Gate, and pass it as Options.Gate; the session takes
// its limits from Options as usual. A Gate serves one session, and its
// Read is for one goroutine at a time (the session's reader).
type Gate struct {
	conn io.ReadWriteCloser
	acct *account // &a
	a    account
	// buffered reports what the framing holds now (set by the session
	// from its stream), so that bytes it dropped are released.
	buffered func() int
	// w is the session's watchdog, if it has one (set by the session):
	// Read tells it when reading waits for room and, for
	// Options.MessageTimeout, when a message began. began is when the
	// message now arriving began: it is later than the session's last
	// message received (Stats.LastRecv) while one has begun and not
	// been read whole. Only the reader writes it, once per message at
	// most: Read when the first bytes of one arrive, or when the
	// framing already held some as the last message was cut; the
	// reader after a message was dropped. The watchdog reads it.
	w     *watchdog
	began moment

	closeOnce sync.Once
	closed    chan struct{}
}

// Gate returns conn wrapped so that its reads are charged to a session
// of this budget; see [Gate]. b may be nil (no shared budget: only the
// session's own limit applies).
func (b *Budget) Gate(conn io.ReadWriteCloser) *Gate {
	g := &Gate{conn: conn, closed: make(chan struct{})}
	g.a = account{budget: b, gated: true}
	g.acct = &g.a
	return g
}

// Read reads from the connection once there is room for more bytes,
// at most as many as there is room for. It returns net.ErrClosed once
// the Gate is closed.
func (g *Gate) Read(p []byte) (int, error) {
	if g.buffered != nil {
		// A framer that drops bytes (the rest of a line over its
		// limit) drops them inside one call: what it no longer holds
		// is released before the next read.
		if b := int64(g.buffered()); b < g.acct.framing {
			g.acct.give(g.acct.framing - b)
			g.acct.framing = b
		}
	}
	begins := g.w != nil && g.w.message > 0 && g.beginning()
	for {
		select {
		case <-g.closed:
			return 0, net.ErrClosed
		default:
		}
		room := g.acct.readRoom(g.acct.framing)
		if room > 0 {
			if int64(len(p)) > room {
				p = p[:room]
			}
			// What may be read is reserved before the read, so that
			// sessions reading at the same moment cannot together pass
			// the limit; what the read did not fill is given back.
			reserved := int64(len(p))
			g.acct.take(reserved)
			n, err := g.conn.Read(p)
			if begins && n > 0 {
				g.began.set(g.w.s.since())
			}
			g.acct.framing += int64(n)
			if d := int64(n) - reserved; d > 0 {
				g.acct.take(d)
			} else if d < 0 {
				g.acct.give(-d)
			}
			return n, err
		}
		// While the session holds requests of the peer's, the wait is
		// the session's (it serves them), not the peer's time. While
		// it holds nothing but the start of a message, it is the
		// peer's: its timeouts go on, so that peers holding a shared
		// budget with unfinished messages do not keep it.
		paused := g.w != nil && g.acct.held.Load() > g.acct.framing
		if paused {
			g.w.pause()
		}
		g.acct.wait(g.acct.framing, g.closed)
		if paused {
			g.w.resume()
		}
	}
}

// beginning is called by Read before it reads, with the framing's
// bytes settled. It reports whether the bytes about to be read begin a
// message; and if no message has begun since the last one was read
// whole although the framing holds bytes, those arrived with that one,
// and the next message began when it was read (1 ns later, so that
// began is after it).
func (g *Gate) beginning() bool {
	last := g.w.s.stats.lastRecv.v.Load()
	if g.began.v.Load() > last {
		return false
	}
	if g.acct.framing > 0 {
		g.began.v.Store(last + 1)
		return false
	}
	return true
}

// dropped is called by the reader after the framing dropped a message
// (buffered: what it still holds): bytes still held began the next
// message now, else none has begun. The rest of a line over the newline
// framer's limit, which the framer drops as it arrives, begins one too,
// which ends only with the next message read whole.
func (g *Gate) dropped(buffered int) {
	if buffered > 0 {
		g.began.set(g.w.s.since())
	} else {
		g.began.clear()
	}
}

// begun returns when the message now arriving began, and false if none
// has begun since lastRecv, the session's last message received. Safe
// for concurrent use with the reader.
func (g *Gate) begun(lastRecv *moment) (time.Duration, bool) {
	b := g.began.v.Load()
	if b <= lastRecv.v.Load() {
		return 0, false
	}
	return time.Duration(b - 1), true
}

// Write writes to the connection.
func (g *Gate) Write(p []byte) (int, error) { return g.conn.Write(p) }

// SetReadDeadline sets the read deadline of the connection, if it has
// one: a Read waiting for the connection when it passes returns an error
// that wraps os.ErrDeadlineExceeded (a Read waiting for room is not
// ended by it). It returns os.ErrNoDeadline if the connection has no
// read deadline, else the connection's error.
func (g *Gate) SetReadDeadline(t time.Time) error {
	if d, ok := g.conn.(interface{ SetReadDeadline(time.Time) error }); ok {
		return d.SetReadDeadline(t)
	}
	return os.ErrNoDeadline
}

// Close closes the connection and ends a Read waiting for room.
func (g *Gate) Close() error {
	g.closeOnce.Do(func() { close(g.closed) })
	return g.conn.Close()
}

// settle is called by the session's reader after a message was cut:
// buffered is what the framing still holds, and the rest of what was
// read (the message and its framing) is released; the session charges
// the requests it keeps itself.
func (g *Gate) settle(buffered int) {
	if consumed := g.acct.framing - int64(buffered); consumed > 0 {
		g.acct.framing = int64(buffered)
		g.acct.give(consumed)
	}
}

// readRoom is how many bytes may be read now, framing of them being
// bytes of messages not yet cut: any number while a call waits for the
// peer; else what the session's limit leaves, or any number while the
// session holds no requests (a message larger than the limit must still
// be read whole), and in both cases at most what the budget leaves.
func (a *account) readRoom(framing int64) int64 {
	if a.awaiting != nil && a.awaiting.Load() > 0 {
		return 1 << 30
	}
	held := a.held.Load()
	own := a.limit - held
	if held-framing <= 0 {
		own = 1 << 30
	}
	return min(own, a.budget.room(held))
}

// wait blocks until bytes are released by the session or the budget,
// a call starts waiting for the peer, or closed is closed.
func (a *account) wait(framing int64, closed <-chan struct{}) {
	a.mu.Lock()
	if a.wake == nil {
		a.wake = make(chan struct{})
	}
	ch := a.wake
	a.waiting.Store(true)
	a.mu.Unlock()
	var shared <-chan struct{}
	if b := a.budget; b != nil && b.limit > 0 {
		shared = b.waitChan()
		defer b.doneWaiting()
	}
	if a.readRoom(framing) <= 0 { // released between the check and the wait
		select {
		case <-ch:
		case <-shared:
		case <-closed:
		}
	}
	a.waiting.Store(false)
}

// signal wakes a Read waiting for room.
func (a *account) signal() {
	if !a.waiting.Load() {
		return
	}
	a.mu.Lock()
	if a.wake != nil {
		close(a.wake)
		a.wake = nil
	}
	a.mu.Unlock()
}

var _ io.ReadWriteCloser = (*Gate)(nil)
