package session

import (
	"bufio"
	"context"
	"errors"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/protocol"
)

const echoLine = `{"jsonrpc":"2.0","id":1,"method":"e","params":[1]}`

// write writes raw bytes, without a newline.
func (p *rawPeer) write(b string) error {
	p.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := p.conn.Write([]byte(b))
	return err
}

// drip writes b one byte every gap in a goroutine until stop is closed
// or a write fails (the session closed), for at most 5 s; the returned
// channel is closed when it has stopped.
func (p *rawPeer) drip(b string, gap time.Duration, stop <-chan struct{}) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		deadline := time.Now().Add(5 * time.Second)
		for i := 0; time.Now().Before(deadline); i++ {
			select {
			case <-stop:
				return
			case <-time.After(gap):
			}
			if p.write(b[i%len(b):i%len(b)+1]) != nil {
				return
			}
		}
	}()
	return done
}

// stillOpen checks, after d, that s has not ended nor begun to (its
// end waits for its handlers).
func stillOpen(t *testing.T, s *Session, d time.Duration) {
	t.Helper()
	select {
	case <-s.Done():
		t.Fatalf("the session ended: %v", s.Wait())
	case <-time.After(d):
	}
	if err := s.Err(); err != nil {
		t.Fatalf("the session is ending: %v", err)
	}
}

func TestFirstMessageTimeout(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		peer func(p *rawPeer, stop <-chan struct{}) // nil: silent
		want error                                  // nil: stays open
	}{
		{name: "silent", opts: Options{FirstMessageTimeout: 100 * time.Millisecond}, want: ErrFirstMessageTimeout},
		{
			name: "one byte at a time, never a whole message",
			opts: Options{FirstMessageTimeout: 150 * time.Millisecond},
			peer: func(p *rawPeer, stop <-chan struct{}) { p.drip(echoLine, 20*time.Millisecond, stop) },
			want: ErrFirstMessageTimeout,
		},
		{
			// The hour has passed since the connection was accepted
			// (a TLS handshake, a PROXY header): closed at once.
			name: "counted from Accepted",
			opts: Options{FirstMessageTimeout: time.Hour, Accepted: time.Now().Add(-2 * time.Hour)},
			want: ErrFirstMessageTimeout,
		},
		{
			name: "a message in time",
			opts: Options{FirstMessageTimeout: 100 * time.Millisecond},
			peer: func(p *rawPeer, stop <-chan struct{}) {
				p.send(echoLine)
				p.recv()
			},
		},
		{
			// A message the session drops still is a whole message.
			name: "a message that cannot be decoded",
			opts: Options{FirstMessageTimeout: 100 * time.Millisecond},
			peer: func(p *rawPeer, stop <-chan struct{}) {
				p.send(`{"jsonrpc":`)
				p.recv()
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Handler = echoParams
			s, peer := newRawPeer(t, &opts)
			stop := make(chan struct{})
			defer close(stop)
			if tt.peer != nil {
				tt.peer(peer, stop)
			}
			if tt.want == nil {
				stillOpen(t, s, 300*time.Millisecond)
				return
			}
			if err := waitEnded(t, s); !errors.Is(err, tt.want) {
				t.Errorf("ended with %v, want %v", err, tt.want)
			}
		})
	}
}

func TestMessageTimeout(t *testing.T) {
	const timeout = 150 * time.Millisecond
	tests := []struct {
		name string
		peer func(t *testing.T, p *rawPeer, stop <-chan struct{})
		want error // nil: stays open
	}{
		{
			name: "begun and never finished",
			peer: func(t *testing.T, p *rawPeer, stop <-chan struct{}) {
				p.send(echoLine)
				p.recv()
				p.write(`{"jsonrpc":"2.0",`)
			},
			want: ErrMessageTimeout,
		},
		{
			name: "one byte at a time",
			peer: func(t *testing.T, p *rawPeer, stop <-chan struct{}) {
				p.drip(`{"jsonrpc":"2.0","method":"e","params":["`+strings.Repeat("z", 500), 20*time.Millisecond, stop)
			},
			want: ErrMessageTimeout,
		},
		{
			// Its first bytes came with the message before it, in one
			// read: the Gate saw no new message begin.
			name: "begun in the same read as a whole message",
			peer: func(t *testing.T, p *rawPeer, stop <-chan struct{}) {
				p.write(echoLine + "\n" + `{"jsonrpc":"2.0",`)
				p.recv()
			},
			want: ErrMessageTimeout,
		},
		{
			// The framer drops the rest of an oversized line as it
			// arrives; a peer dripping it is still closed.
			name: "line over the limit, its rest dripped",
			peer: func(t *testing.T, p *rawPeer, stop <-chan struct{}) {
				p.write(strings.Repeat("z", 2000))
				p.drip("z", 20*time.Millisecond, stop)
			},
			want: ErrMessageTimeout,
		},
		{
			name: "whole messages, steadily",
			peer: func(t *testing.T, p *rawPeer, stop <-chan struct{}) {
				for range 12 {
					p.send(echoLine)
					p.recv()
					time.Sleep(timeout / 5)
				}
			},
		},
		{
			// Each message arrives in chunks within the timeout, all
			// of them together over several times the timeout.
			name: "large messages in chunks",
			peer: func(t *testing.T, p *rawPeer, stop <-chan struct{}) {
				msg := `{"jsonrpc":"2.0","id":1,"method":"e","params":["` + strings.Repeat("z", 800) + `"]}` + "\n"
				for range 8 {
					for i := 0; i < len(msg); i += 200 {
						if err := p.write(msg[i:min(i+200, len(msg))]); err != nil {
							t.Error(err)
							return
						}
						time.Sleep(timeout / 15)
					}
					p.recv()
				}
			},
		},
		{
			name: "quiet between messages",
			peer: func(t *testing.T, p *rawPeer, stop <-chan struct{}) {
				p.send(echoLine)
				p.recv()
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, peer := gatedPeer(t, NewBudget(0), framing.Newline{Max: 1000},
				&Options{Handler: echoParams, MessageTimeout: timeout})
			stop := make(chan struct{})
			defer close(stop)
			tt.peer(t, peer, stop)
			if tt.want == nil {
				stillOpen(t, s, 3*timeout)
				return
			}
			if err := waitEnded(t, s); !errors.Is(err, tt.want) {
				t.Errorf("ended with %v, want %v", err, tt.want)
			}
		})
	}
}

// MessageTimeout needs a Gate: without one it does not apply, and the
// session says so in its log.
func TestMessageTimeoutWithoutGateDoesNotApply(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	s, peer := newRawPeer(t, &Options{Handler: echoParams, MessageTimeout: 50 * time.Millisecond, Logger: zap.New(core)})
	peer.write(`{"jsonrpc":"2.0",`)
	stillOpen(t, s, 200*time.Millisecond)
	if n := logs.FilterMessageSnippet("MessageTimeout needs Options.Gate").Len(); n != 1 {
		t.Errorf("logged %d times", n)
	}
}

// The timeouts used to be at risk of counting against the peer the
// time the session itself stopped reading: its queue full (the reader
// waits to queue a request), or its bytes held (the Gate waits for
// room, the start of a message read).
func TestTimeoutsIgnoreTimeReadingWasPaused(t *testing.T) {
	const timeout = 100 * time.Millisecond
	block := func(size int) string {
		return `{"jsonrpc":"2.0","id":1,"method":"block","params":["` + strings.Repeat("z", size) + `"]}`
	}
	tests := []struct {
		name   string
		opts   Options
		before string // sent at once: the reader stops reading
		rest   string // sent once the session may read again
	}{
		{
			// One running, one queued, one the reader waits to queue,
			// and the start of a fourth in the framing's buffer.
			name:   "queue full",
			opts:   Options{IdleTimeout: timeout, MessageTimeout: timeout, Concurrency: 1, MaxQueued: 1},
			before: block(0) + "\n" + block(0) + "\n" + echoLine + "\n" + `{"jsonrpc":"2.0",`,
			rest:   `"id":2,"method":"e","params":[2]}` + "\n",
		},
		{
			// The running request holds 200 of the 300 bytes: the Gate
			// reads 100 bytes of the next message, then waits.
			name:   "bytes held",
			opts:   Options{MessageTimeout: timeout, MaxIncomingBytes: 300},
			before: block(150) + "\n" + `{"jsonrpc":"2.0","id":2,"method":"e","params":["` + strings.Repeat("z", 200),
			rest:   `"]}` + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			h := Methods{
				"block": HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
					<-release
					return "released", nil
				}),
				"e": echoParams,
			}
			opts := tt.opts
			opts.Handler = h
			s, peer := gatedPeer(t, NewBudget(0), framing.Newline{}, &opts)
			var once sync.Once
			unblock := func() { once.Do(func() { close(release) }) }
			t.Cleanup(unblock) // before the session is aborted
			wrote := make(chan error, 1)
			go func() { wrote <- peer.write(tt.before) }()
			waitFor(t, "the reader waiting for room", func() bool {
				return s.readerWaiting.Load() || s.gate.acct.waiting.Load()
			})
			stillOpen(t, s, 4*timeout)
			unblock()
			if err := <-wrote; err != nil {
				t.Fatal(err)
			}
			if err := peer.write(tt.rest); err != nil {
				t.Fatal(err)
			}
			for range strings.Count(tt.before+tt.rest, "\n") {
				peer.recv()
			}
			if err := s.Err(); err != nil {
				t.Errorf("session ended: %v", err)
			}
		})
	}
}

// A Gate waiting for room in a full shared budget while its session
// holds nothing but the start of a message is waiting on that peer:
// counting the wait as the session's own pause would let peers that
// hold the budget with unfinished messages keep it for good.
func TestMessageTimeoutClosesPeerHoldingSharedBudget(t *testing.T) {
	s, peer := gatedPeer(t, NewBudget(300), framing.Newline{}, &Options{MessageTimeout: 100 * time.Millisecond})
	go peer.write(`{"jsonrpc":"2.0","method":"e","params":["` + strings.Repeat("z", 1000))
	waitFor(t, "the Gate waiting for room", s.gate.acct.waiting.Load)
	if err := waitEnded(t, s); !errors.Is(err, ErrMessageTimeout) {
		t.Errorf("ended with %v", err)
	}
}

// A message the framing dropped (here: a bad checksum) used to be at
// risk of counting as a message begun and never finished.
func TestMessageTimeoutNotStartedByDroppedMessage(t *testing.T) {
	const timeout = 100 * time.Millisecond
	a, c := net.Pipe()
	defer c.Close()
	g := NewBudget(0).Gate(a)
	var handled atomic.Int32
	ms := NewMessageSession(g, framing.Bitcoin{}, MessageHandlerFunc(func(context.Context, string, []byte) error {
		handled.Add(1)
		return nil
	}), &Options{Gate: g, MessageTimeout: timeout})
	defer ms.Abort()
	good, _ := framing.Bitcoin{}.AppendMessage(nil, "ping", []byte("12345678"))
	bad, _ := framing.Bitcoin{}.AppendMessage(nil, "ping", []byte("12345678"))
	bad[20] ^= 0xff // the checksum
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(good); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the good message handled", func() bool { return handled.Load() == 1 })
	if _, err := c.Write(bad); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the bad message counted", func() bool { return ms.Stats().Errors == 1 })
	select {
	case <-ms.Done():
		t.Fatalf("the session ended: %v", ms.Wait())
	case <-time.After(3 * timeout):
	}
	// The timeout still works for a message begun and left unfinished.
	if _, err := c.Write(good[:10]); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ms.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the session did not end")
	}
	if err := ms.Wait(); !errors.Is(err, ErrMessageTimeout) {
		t.Errorf("ended with %v", err)
	}
}

// All three timeouts on, one timer: a peer sending steadily is never
// closed, and a peer that goes quiet is closed as idle.
func TestTimeoutsTogether(t *testing.T) {
	const timeout = 150 * time.Millisecond
	s, peer := gatedPeer(t, NewBudget(0), framing.Newline{}, &Options{
		Handler: echoParams, IdleTimeout: timeout, FirstMessageTimeout: timeout, MessageTimeout: timeout,
	})
	for range 15 {
		peer.send(echoLine)
		peer.recv()
		time.Sleep(timeout / 6)
	}
	if err := s.Err(); err != nil {
		t.Fatalf("session ended: %v", err)
	}
	if err := waitEnded(t, s); !errors.Is(err, ErrIdle) {
		t.Errorf("ended with %v", err)
	}
}

// Sessions with none of the timeouts or pings have no watchdog.
func TestNoWatchdogByDefault(t *testing.T) {
	s, _ := gatedPeer(t, NewBudget(0), framing.Newline{}, &Options{})
	if s.watch != nil || s.gate.w != nil {
		t.Error("a watchdog was made")
	}
	s2, _ := newRawPeer(t, &Options{IdleTimeout: -1, Ping: &Ping{Method: "p", Interval: -1}})
	if s2.watch != nil {
		t.Error("a watchdog was made with everything off")
	}
}

// pingCounter is a handler that counts the pings it gets and answers
// them with answer.
func pingCounter(n *atomic.Int32, answer func() (any, error)) Handler {
	return HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		if req.Method == "server.ping" {
			n.Add(1)
		}
		return answer()
	})
}

func TestPingAnswered(t *testing.T) {
	tests := []struct {
		name   string
		answer func() (any, error)
	}{
		{"with a result", func() (any, error) { return nil, nil }},
		{"with method not found", func() (any, error) { return nil, protocol.MethodNotFound("server.ping") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pings atomic.Int32
			_, srv := pair(t, &Options{Handler: pingCounter(&pings, tt.answer)},
				&Options{Ping: &Ping{Method: "server.ping", Interval: 40 * time.Millisecond, Misses: 1}})
			waitFor(t, "4 pings", func() bool { return pings.Load() >= 4 })
			if err := srv.Err(); err != nil {
				t.Errorf("session ended: %v", err)
			}
		})
	}
}

func TestPingUnanswered(t *testing.T) {
	tests := []struct {
		name    string
		dialect protocol.Dialect
		params  any
		want    string
	}{
		{"2.0, no params", protocol.V2, nil, `{"jsonrpc":"2.0","method":"server.ping","id":0}`},
		{"2.0, params", protocol.V2, []string{"x"}, `{"jsonrpc":"2.0","method":"server.ping","params":["x"],"id":0}`},
		{"1.0, no params", protocol.V1, nil, `{"method":"server.ping","params":[],"id":0}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const misses = 2
			s, peer := newRawPeer(t, &Options{Dialect: tt.dialect,
				Ping: &Ping{Method: "server.ping", Params: tt.params, Interval: 50 * time.Millisecond, Misses: misses}})
			lines := make(chan []string, 1)
			go func() {
				var got []string
				sc := bufio.NewScanner(peer.conn)
				for sc.Scan() {
					got = append(got, sc.Text())
				}
				lines <- got
			}()
			if err := waitEnded(t, s); !errors.Is(err, ErrPingTimeout) {
				t.Errorf("ended with %v", err)
			}
			got := <-lines
			if len(got) != misses {
				t.Fatalf("got %d pings, want %d: %q", len(got), misses, got)
			}
			if got[0] != tt.want {
				t.Errorf("ping %s, want %s", got[0], tt.want)
			}
		})
	}
}

// While the peer sends, it is not pinged; once it stops, it is.
func TestPingNotSentWhileTrafficFlows(t *testing.T) {
	const interval = 200 * time.Millisecond
	s, peer := newRawPeer(t, &Options{Handler: echoParams, Ping: &Ping{Method: "server.ping", Interval: interval}})
	start := time.Now()
	for time.Since(start) < 3*interval {
		peer.send(echoLine)
		if got := peer.recv(); strings.Contains(got, "server.ping") {
			t.Fatalf("pinged while sending: %s", got)
		}
		time.Sleep(interval / 10)
	}
	if got := peer.recv(); !strings.Contains(got, "server.ping") {
		t.Errorf("got %s, want a ping", got)
	}
	if err := s.Err(); err != nil {
		t.Errorf("session ended: %v", err)
	}
}

// A session aborted while a ping waits for its answer leaves no
// goroutine of the ping behind.
func TestPingInFlightEndsWithSession(t *testing.T) {
	s, peer := newRawPeer(t, &Options{Ping: &Ping{Method: "server.ping", Interval: 50 * time.Millisecond, Misses: 100}})
	if got := peer.recv(); !strings.Contains(got, "server.ping") {
		t.Fatalf("got %s", got)
	}
	s.Abort()
	if err := s.Wait(); !errors.Is(err, ErrClosed) {
		t.Errorf("ended with %v", err)
	}
	// Wait returns once the ping goroutine has called wg.Done; it may
	// take a moment more to return from its frame.
	buf := make([]byte, 1<<20)
	deadline := time.Now().Add(2 * time.Second)
	for {
		st := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(st, "sendPing") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a ping goroutine outlived the session:\n%s", st)
		}
		time.Sleep(time.Millisecond)
	}
}

// A Ping that cannot be sent is switched off, with a warning.
func TestPingBadConfiguration(t *testing.T) {
	tests := []struct {
		name string
		ping Ping
		log  string
	}{
		{"no method", Ping{Interval: time.Millisecond}, "Options.Ping has no Method"},
		{"params not array or object", Ping{Method: "p", Params: 5, Interval: time.Millisecond}, "params that cannot be sent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core, logs := observer.New(zapcore.DebugLevel)
			s, _ := newRawPeer(t, &Options{Ping: &tt.ping, Logger: zap.New(core)})
			if s.watch != nil {
				t.Error("a watchdog was made")
			}
			if n := logs.FilterMessageSnippet(tt.log).FilterLevelExact(zapcore.WarnLevel).Len(); n != 1 {
				t.Errorf("warned %d times", n)
			}
		})
	}
}

func TestActivity(t *testing.T) {
	s, peer := newRawPeer(t, &Options{Handler: echoParams})
	if n, last := s.Activity(); n != 0 || !last.IsZero() {
		t.Errorf("before any message: %d, %v", n, last)
	}
	for range 2 {
		peer.send(echoLine)
		peer.recv()
	}
	n, last := s.Activity()
	st := s.Stats()
	if n != 2 || !last.Equal(st.LastRecv) {
		t.Errorf("got %d, %v; stats %d, %v", n, last, st.RecvCount, st.LastRecv)
	}
}
