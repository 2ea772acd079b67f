package framing

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// recordConn records each Write call; reads come from r.
type recordConn struct {
	r      io.Reader
	mu     sync.Mutex
	writes [][]byte
	err    error // returned by Write, if set
	short  bool  // Write reports one byte less than given
	closed bool
}

func (c *recordConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *recordConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	c.writes = append(c.writes, bytes.Clone(p))
	if c.short {
		return len(p) - 1, nil
	}
	return len(p), nil
}

func (c *recordConn) Close() error {
	c.closed = true
	return nil
}

func (c *recordConn) written() string {
	return string(bytes.Join(c.writes, nil))
}

// framers are the framers that carry any bytes (RawJSON carries JSON
// only, and has tests of its own).
var framers = map[string]Framer{
	"newline":        Newline{},
	"length":         LengthPrefixed{},
	"content-length": ContentLength{},
	"varint":         VarintPrefixed{},
}

// frames returns the frames of msgs by f, concatenated.
func frames(t *testing.T, f Framer, msgs ...string) string {
	t.Helper()
	var b []byte
	for _, m := range msgs {
		var err error
		if b, err = f.AppendFrame(b, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	return string(b)
}

func TestStreamOverPipe(t *testing.T) {
	msgs := []string{"", "hello", strings.Repeat("m", 100_000), "{\"jsonrpc\":\"2.0\"}"}
	for name, f := range framers {
		t.Run(name, func(t *testing.T) {
			a, b := net.Pipe()
			client, server := NewStream(f, a), NewStream(f, b)
			errc := make(chan error, 1)
			go func() {
				defer client.Close()
				for _, m := range msgs {
					if err := client.WriteMessage([]byte(m)); err != nil {
						errc <- err
						return
					}
				}
				errc <- client.WriteMessages([][]byte{[]byte("batch 1"), []byte("batch 2")})
			}()
			var got []string
			for {
				msg, err := server.ReadMessage()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, string(msg))
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			server.Close()
			if diff := cmp.Diff(append(msgs, "batch 1", "batch 2"), got); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStreamConcurrentWriters checks that messages written from many
// goroutines at once arrive whole and, per writer, in order.
func TestStreamConcurrentWriters(t *testing.T) {
	const writers, perWriter = 8, 100
	for name, f := range framers {
		t.Run(name, func(t *testing.T) {
			a, b := net.Pipe()
			client, server := NewStream(f, a), NewStream(f, b)
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			for w := range writers {
				wg.Go(func() {
					for i := 0; i < perWriter; i++ {
						// Sizes vary so that writes span several
						// pipe reads.
						body := strings.Repeat(string(rune('a'+w)), (i*97)%5000)
						m := []byte(fmt.Sprintf("%d %d %s", w, i, body))
						var err error
						if i%10 == 9 {
							err = client.WriteMessages([][]byte{m, []byte(fmt.Sprintf("%d %d+", w, i))})
						} else {
							err = client.WriteMessage(m)
						}
						if err != nil {
							errs <- err
							return
						}
					}
				})
			}
			go func() {
				wg.Wait()
				client.Close()
				close(errs)
			}()
			next := make([]int, writers)
			count := 0
			for {
				msg, err := server.ReadMessage()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				count++
				var w, i int
				if _, err := fmt.Sscanf(string(msg), "%d %d", &w, &i); err != nil || w < 0 || w >= writers {
					t.Fatalf("mangled message %.40q", msg)
				}
				head := fmt.Sprintf("%d %d", w, i)
				rest := string(msg[len(head):])
				if rest == "+" {
					continue
				}
				want := " " + strings.Repeat(string(rune('a'+w)), (i*97)%5000)
				if i != next[w] || rest != want {
					t.Fatalf("writer %d: got message %d (%d bytes), want message %d intact", w, i, len(msg), next[w])
				}
				next[w]++
			}
			server.Close()
			for err := range errs {
				t.Error(err)
			}
			if want := writers * (perWriter + perWriter/10); count != want {
				t.Errorf("got %d messages, want %d", count, want)
			}
		})
	}
}

func TestWriteMessagesWrites(t *testing.T) {
	kb := strings.Repeat("k", 1000)
	many := make([]string, 100)
	for i := range many {
		many[i] = kb
	}
	f := LengthPrefixed{}
	tests := []struct {
		name       string
		msgs       []string
		wantWrites int
	}{
		{name: "none", msgs: nil, wantWrites: 0},
		{name: "one", msgs: []string{"a"}, wantWrites: 1},
		{name: "several small", msgs: []string{"a", "b", "", "c"}, wantWrites: 1},
		{name: "over 64 KiB", msgs: many, wantWrites: 2},
		{name: "one large", msgs: []string{strings.Repeat("L", 300_000)}, wantWrites: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &recordConn{}
			s := NewStream(f, rc)
			msgs := make([][]byte, len(tt.msgs))
			for i, m := range tt.msgs {
				msgs[i] = []byte(m)
			}
			if err := s.WriteMessages(msgs); err != nil {
				t.Fatal(err)
			}
			if len(rc.writes) != tt.wantWrites {
				t.Errorf("%d Write calls, want %d", len(rc.writes), tt.wantWrites)
			}
			if diff := cmp.Diff(frames(t, f, tt.msgs...), rc.written()); diff != "" {
				t.Errorf("bytes written (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteMessagesFramingError(t *testing.T) {
	rc := &recordConn{}
	s := NewStream(Newline{Max: 3}, rc)
	// Max limits what is read: longer messages are written.
	if err := s.WriteMessages([][]byte{[]byte("a"), []byte("long")}); err != nil {
		t.Fatalf("got %v", err)
	}
	err := s.WriteMessages([][]byte{[]byte("b"), []byte("c"), []byte("d\ne"), []byte("f")})
	if !errors.Is(err, ErrNewlineInMessage) {
		t.Fatalf("got %v, want ErrNewlineInMessage", err)
	}
	if diff := cmp.Diff([][]byte{[]byte("a\nlong\n"), []byte("b\nc\n")}, rc.writes); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
	rc.writes = nil
	if err := s.WriteMessage([]byte("x\ny")); !errors.Is(err, ErrNewlineInMessage) {
		t.Errorf("got %v, want ErrNewlineInMessage", err)
	}
	if len(rc.writes) != 0 {
		t.Errorf("%d writes of messages that cannot be framed", len(rc.writes))
	}
}

func TestWriteErrorIsSticky(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		conn    *recordConn
		wantErr error
	}{
		{name: "failed write", conn: &recordConn{err: boom}, wantErr: boom},
		{name: "short write", conn: &recordConn{short: true}, wantErr: io.ErrShortWrite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStream(Newline{}, tt.conn)
			if err := s.WriteMessage([]byte("one")); err != tt.wantErr {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			tt.conn.err, tt.conn.short = nil, false
			writes := len(tt.conn.writes)
			if err := s.WriteMessage([]byte("two")); err != tt.wantErr {
				t.Errorf("next WriteMessage: got %v, want %v", err, tt.wantErr)
			}
			if err := s.WriteMessages([][]byte{[]byte("three")}); err != tt.wantErr {
				t.Errorf("next WriteMessages: got %v, want %v", err, tt.wantErr)
			}
			if err := s.WriteMessages([][]byte{[]byte("four"), []byte("x\n")}); !errors.Is(err, tt.wantErr) || !errors.Is(err, ErrNewlineInMessage) {
				t.Errorf("WriteMessages with a bad message: got %v, want both errors", err)
			}
			if len(tt.conn.writes) != writes {
				t.Errorf("%d writes after a failure", len(tt.conn.writes)-writes)
			}
		})
	}
}

func TestWriteMessagesErrorMidBatch(t *testing.T) {
	kb := []byte(strings.Repeat("k", 1000))
	msgs := make([][]byte, 100)
	for i := range msgs {
		msgs[i] = kb
	}
	boom := errors.New("boom")
	rc := &recordConn{err: boom}
	if err := NewStream(LengthPrefixed{}, rc).WriteMessages(msgs); err != boom {
		t.Errorf("got %v, want %v", err, boom)
	}
}

func TestCloseUnblocksRead(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	s := NewStream(Newline{}, a)
	errc := make(chan error, 1)
	go func() {
		_, err := s.ReadMessage()
		errc <- err
	}()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, io.ErrClosedPipe) {
			t.Errorf("got %v, want io.ErrClosedPipe", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ReadMessage still blocked after Close")
	}
	if err := s.WriteMessage([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("write after Close: got %v, want io.ErrClosedPipe", err)
	}
}

func TestNewStreamNil(t *testing.T) {
	for name, f := range map[string]func(){
		"nil framer":       func() { NewStream(nil, &recordConn{}) },
		"nil conn":         func() { NewStream(Newline{}, nil) },
		"nil bitcoin conn": func() { NewBitcoinStream(Bitcoin{}, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
}

func TestBitcoinStreamOverPipe(t *testing.T) {
	const writers, perWriter = 4, 50
	a, b := net.Pipe()
	client, server := NewBitcoinStream(Bitcoin{}, a), NewBitcoinStream(Bitcoin{}, b)
	var wg sync.WaitGroup
	errs := make(chan error, writers+1)
	for w := range writers {
		wg.Go(func() {
			for i := 0; i < perWriter; i++ {
				payload := bytes.Repeat([]byte{byte(w)}, (i*131)%3000)
				if err := client.WriteMessage(fmt.Sprintf("w%d", w), payload); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	go func() {
		wg.Wait()
		if err := client.WriteMessage("much-too-long-command", nil); !errors.Is(err, ErrInvalidCommand) {
			errs <- fmt.Errorf("long command: got %v", err)
		}
		client.Close()
		close(errs)
	}()
	next := make([]int, writers)
	for {
		m, err := server.ReadMessage()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var w int
		if _, err := fmt.Sscanf(m.Command, "w%d", &w); err != nil || w < 0 || w >= writers {
			t.Fatalf("bad command %q", m.Command)
		}
		want := bytes.Repeat([]byte{byte(w)}, (next[w]*131)%3000)
		if !bytes.Equal(m.Payload, want) {
			t.Fatalf("writer %d message %d: payload of %d bytes, want %d", w, next[w], len(m.Payload), len(want))
		}
		next[w]++
	}
	server.Close()
	for err := range errs {
		t.Error(err)
	}
	if diff := cmp.Diff([]int{perWriter, perWriter, perWriter, perWriter}, next); diff != "" {
		t.Errorf("messages per writer (-want +got):\n%s", diff)
	}
}

func TestBitcoinStreamWriteErrorIsSticky(t *testing.T) {
	boom := errors.New("boom")
	rc := &recordConn{err: boom}
	s := NewBitcoinStream(Bitcoin{}, rc)
	if err := s.WriteMessage("tx", nil); err != boom {
		t.Fatalf("got %v, want %v", err, boom)
	}
	rc.err = nil
	if err := s.WriteMessage("tx", nil); err != boom {
		t.Errorf("next write: got %v, want %v", err, boom)
	}
	if len(rc.writes) != 0 {
		t.Errorf("%d writes after a failure", len(rc.writes))
	}
	if err := s.Close(); err != nil || !rc.closed {
		t.Errorf("Close: %v, closed %v", err, rc.closed)
	}
}

func TestConnBuffered(t *testing.T) {
	for _, f := range []Framer{Newline{}, LengthPrefixed{}, ContentLength{}, VarintPrefixed{}, RawJSON{}} {
		var wire []byte
		for _, m := range []string{"[11]", "[22]"} {
			var err error
			if wire, err = f.AppendFrame(wire, []byte(m)); err != nil {
				t.Fatal(err)
			}
		}
		c := NewStream(f, &recordConn{r: bytes.NewReader(wire)})
		if got := c.Buffered(); got != 0 {
			t.Errorf("%T: Buffered before reading = %d", f, got)
		}
		if _, err := c.ReadMessage(); err != nil {
			t.Fatal(err)
		}
		if got, want := c.Buffered(), len(wire)/2; got != want {
			t.Errorf("%T: Buffered after one message = %d, want %d", f, got, want)
		}
		if _, err := c.ReadMessage(); err != nil {
			t.Fatal(err)
		}
		if got := c.Buffered(); got != 0 {
			t.Errorf("%T: Buffered after both = %d", f, got)
		}
	}
}
