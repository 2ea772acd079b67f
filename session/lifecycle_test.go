package session

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/framing"
)

func TestGracefulClose(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		close(started)
		<-release
		return "finished", nil
	})
	s, peer := newRawPeer(t, &Options{Handler: h})
	peer.send(`{"jsonrpc":"2.0","id":1,"method":"x"}`)
	<-started
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	// New calls fail at once while closing.
	waitFor(t, "calls ended", s.callsEnded)
	var ce *ConnectionError
	if err := s.Call(context.Background(), "m", nil, nil); !errors.As(err, &ce) {
		t.Errorf("call while closing: %v", err)
	}
	close(release)
	if got := peer.recv(); got != `{"jsonrpc":"2.0","result":"finished","id":1}` {
		t.Errorf("got %s", got)
	}
	if err := <-closed; err != nil {
		t.Errorf("Close = %v", err)
	}
	if err := s.Wait(); !errors.Is(err, ErrClosed) {
		t.Errorf("Wait = %v", err)
	}
}

func TestShutdownDeadlineAborts(t *testing.T) {
	cancelled := make(chan struct{})
	h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		<-ctx.Done()
		close(cancelled)
		return nil, nil
	})
	s, peer := newRawPeer(t, &Options{Handler: h})
	peer.send(`{"jsonrpc":"2.0","id":1,"method":"x"}`)
	waitFor(t, "running", func() bool { return s.Stats().Running == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v", err)
	}
	<-cancelled
	waitEnded(t, s)
}

func TestCloseTimeoutOption(t *testing.T) {
	h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		<-ctx.Done()
		return nil, nil
	})
	s, peer := newRawPeer(t, &Options{Handler: h, CloseTimeout: 20 * time.Millisecond})
	peer.send(`{"jsonrpc":"2.0","id":1,"method":"x"}`)
	waitFor(t, "running", func() bool { return s.Stats().Running == 1 })
	if err := s.Close(); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v", err)
	}
}

// A peer that half-closes still gets the replies to what it sent.
func TestHalfClose(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	release := make(chan struct{})
	h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		<-release
		return "late but delivered", nil
	})
	ended := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			ended <- err
			return
		}
		s := New(framing.NewStream(framing.Newline{}, c), &Options{Handler: h})
		ended <- s.Wait()
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(`{"jsonrpc":"2.0","id":1,"method":"x"}` + "\n")); err != nil {
		t.Fatal(err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	close(release)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	all, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(all); got != `{"jsonrpc":"2.0","result":"late but delivered","id":1}`+"\n" {
		t.Errorf("got %q", got)
	}
	if err := <-ended; !errors.Is(err, io.EOF) {
		t.Errorf("session ended with %v", err)
	}
}

func TestIdleTimeout(t *testing.T) {
	s, peer := newRawPeer(t, &Options{Handler: echoParams, IdleTimeout: 150 * time.Millisecond})
	// Activity keeps it alive, for longer than the timeout in all.
	for range 8 {
		time.Sleep(25 * time.Millisecond)
		peer.send(`{"jsonrpc":"2.0","id":1,"method":"e","params":[]}`)
		peer.recv()
	}
	if err := s.Wait(); !errors.Is(err, ErrIdle) {
		t.Errorf("ended with %v", err)
	}
}

// A peer that never reads cannot hold the session: the stalled write
// aborts the connection.
func TestSendStall(t *testing.T) {
	s, peer := newRawPeer(t, &Options{Handler: echoParams, SendTimeout: 50 * time.Millisecond})
	_ = peer
	errc := make(chan error, 1)
	go func() { errc <- s.Notify(context.Background(), "nobody.reads", []int{1}) }()
	if err := waitEnded(t, s); !errors.Is(err, ErrSendStalled) {
		t.Errorf("ended with %v", err)
	}
	var ce *ConnectionError
	if err := <-errc; !errors.As(err, &ce) {
		t.Errorf("stalled notify returned %v", err)
	}
}

// A sender that would pass the write buffer limit waits for the peer
// to read, and gives up when its context ends; the session goes on.
func TestWriteBufferLimitMakesSendersWait(t *testing.T) {
	s, peer := newRawPeer(t, &Options{Handler: echoParams, SendTimeout: -1, MaxWriteBuffer: 1500})
	big := []string{strings.Repeat("x", 600)}
	// The first notification blocks in the write (nobody reads); the
	// second queues about 640 bytes, the third would pass the 1500-byte
	// limit.
	go func() { _ = s.Notify(context.Background(), "a", big) }()
	waitFor(t, "first write in progress", func() bool {
		s.w.mu.Lock()
		defer s.w.mu.Unlock()
		return s.w.flushing
	})
	go func() { _ = s.Notify(context.Background(), "b", big) }()
	waitFor(t, "second notification queued", func() bool {
		s.w.mu.Lock()
		defer s.w.mu.Unlock()
		return len(s.w.queue) == 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Notify(ctx, "c", big); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("third notify while nobody reads: %v", err)
	}
	if err := s.Err(); err != nil {
		t.Fatalf("session ended: %v", err)
	}
	// Once the peer reads, a waiting sender goes through.
	done := make(chan error, 1)
	go func() { done <- s.Notify(context.Background(), "d", big) }()
	for _, want := range []string{`"a"`, `"b"`, `"d"`} {
		if got := peer.recv(); !strings.Contains(got, want) {
			t.Errorf("peer read %.40s…, want method %s", got, want)
		}
	}
	if err := <-done; err != nil {
		t.Errorf("fourth notify: %v", err)
	}
}

// A peer that floods the session with bad messages while never reading
// its error replies passes the write buffer limit with replies the
// reader cannot wait to write: the connection is aborted.
func TestWriteBufferLimitAbortsFloodingPeerThatNeverReads(t *testing.T) {
	s, peer := newRawPeer(t, &Options{SendTimeout: -1, MaxWriteBuffer: 1000, Cost: &Cost{}})
	go func() {
		for range 200 {
			if _, err := peer.conn.Write([]byte("xyz\n")); err != nil {
				return
			}
		}
	}()
	if err := waitEnded(t, s); !errors.Is(err, ErrSendStalled) {
		t.Errorf("ended with %v", err)
	}
}

func TestOversizedNewlineMessageGoesOn(t *testing.T) {
	a, b := net.Pipe()
	s := New(framing.NewStream(framing.Newline{Max: 100}, a), &Options{Handler: echoParams})
	defer s.Abort()
	defer b.Close()
	peer := &rawPeer{t: t, conn: b}
	peer.r = newLineReader(b)
	peer.send(strings.Repeat("z", 500))
	peer.send(`{"jsonrpc":"2.0","id":1,"method":"e","params":[2]}`)
	if got := peer.recv(); got != `{"jsonrpc":"2.0","result":[2],"id":1}` {
		t.Errorf("got %s", got)
	}
	if st := s.Stats(); st.Errors != 1 {
		t.Errorf("errors = %d", st.Errors)
	}
}

func TestOversizedLengthPrefixedCloses(t *testing.T) {
	a, b := net.Pipe()
	s := New(framing.NewStream(framing.LengthPrefixed{Max: 100}, a), &Options{Handler: echoParams})
	defer b.Close()
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], 5000)
	go b.Write(hdr[:])
	err := s.Wait()
	var tl *framing.TooLargeError
	if !errors.As(err, &tl) {
		t.Errorf("ended with %v", err)
	}
	if st := s.Stats(); st.Errors != 1 {
		t.Errorf("errors = %d", st.Errors)
	}
}

func TestAbortIsImmediateAndIdempotent(t *testing.T) {
	s, _ := newRawPeer(t, nil)
	s.Abort()
	s.Abort()
	if err := s.Close(); err != nil {
		t.Errorf("Close after Abort = %v", err)
	}
	if err := s.Wait(); !errors.Is(err, ErrClosed) {
		t.Errorf("Wait = %v", err)
	}
}

// The framer's limit bounds what the session reads, not what it sends.
func TestSendingOverOwnReadLimit(t *testing.T) {
	got := make(chan int, 1)
	h := HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		got <- len(*req.Params)
		return nil, nil
	})
	a, b := net.Pipe()
	srv := New(framing.NewStream(framing.Newline{}, a), &Options{Handler: h})
	cli := New(framing.NewStream(framing.Newline{Max: 100}, b), &Options{Side: Client})
	defer srv.Abort()
	defer cli.Abort()
	big := []string{strings.Repeat("x", 500)}
	if err := cli.Notify(context.Background(), "big", big); err != nil {
		t.Fatal(err)
	}
	if n := <-got; n != 504 {
		t.Errorf("server got %d bytes of params", n)
	}
	if err := cli.Notify(context.Background(), "small", []int{1}); err != nil {
		t.Errorf("session broken after a large message: %v", err)
	}
	<-got
}
