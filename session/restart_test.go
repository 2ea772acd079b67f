package session

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorpcx/gorpcx/framing"
)

// restartPeer is a server session over loopback TCP, framed by f, with
// the restart deadline shortened, and the raw client connection.
func restartPeer(t *testing.T, f framing.Framer) (*Session, net.Conn, *bufio.Reader) {
	t.Helper()
	old := restartAfter
	restartAfter = 20 * time.Millisecond
	t.Cleanup(func() { restartAfter = old })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cli, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	srv := New(framing.NewStream(f, c), &Options{Handler: benchAdd})
	t.Cleanup(func() {
		cli.Close()
		srv.Abort()
		<-srv.Done()
	})
	return srv, cli, bufio.NewReader(cli)
}

func TestIdleReaderIsReplacedAfterServingInline(t *testing.T) {
	srv, cli, r := restartPeer(t, framing.Newline{})
	send := func(parts ...string) {
		t.Helper()
		for _, p := range parts {
			if _, err := cli.Write([]byte(p)); err != nil {
				t.Fatal(err)
			}
		}
	}
	answer := func(id, result string) {
		t.Helper()
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"jsonrpc":"2.0","result":` + result + `,"id":` + id + `}`; strings.TrimSpace(line) != want {
			t.Fatalf("answer %s, want %s", line, want)
		}
	}
	// restarted waits (boundedly) for the count to pass n.
	restarted := func(n uint64) bool {
		for range 25 {
			if srv.Stats().ReaderRestarts > n {
				return true
			}
			time.Sleep(restartAfter)
		}
		return false
	}
	// A request served by the reader itself arms the deadline (one the
	// reader hands over, when slow under the race detector, does not:
	// the reader that takes over is new anyway), so each attempt makes
	// a call, then leaves a message cut in two while the deadline
	// passes. The new reader must read the message whole.
	replacedMidMessage := false
	for attempt := 0; attempt < 20 && !replacedMidMessage; attempt++ {
		id := strconv.Itoa(attempt + 1)
		before := srv.Stats().ReaderRestarts
		send(`{"jsonrpc":"2.0","id":` + id + `,"method":"add","params":[1,2]}` + "\n")
		answer(id, "3")
		send(`{"jsonrpc":"2.0","id":1` + id + `,"meth`)
		replacedMidMessage = restarted(before)
		send(`od":"add","params":[2,2]}` + "\n")
		answer("1"+id, "4")
	}
	if !replacedMidMessage {
		t.Fatal("the reader was never replaced in 20 attempts")
	}
	// With nothing more served, the reader is replaced at most once
	// more (for the last request) and then kept.
	restarted(srv.Stats().ReaderRestarts)
	n := srv.Stats().ReaderRestarts
	time.Sleep(10 * restartAfter)
	if m := srv.Stats().ReaderRestarts; m != n {
		t.Fatalf("ReaderRestarts went from %d to %d on an idle session", n, m)
	}
	if err := srv.Err(); err != nil {
		t.Fatalf("session ended: %v", err)
	}
}

func TestReaderIsKeptWhenTheFramerCannotResume(t *testing.T) {
	srv, cli, r := restartPeer(t, framing.RawJSON{})
	if _, err := cli.Write([]byte(`{"jsonrpc":"2.0","id":1,"method":"add","params":[1,2]}`)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := r.Read(buf)
	if err != nil || !strings.Contains(string(buf[:n]), `"result":3`) {
		t.Fatalf("answer %q, %v", buf[:n], err)
	}
	time.Sleep(5 * restartAfter)
	if n := srv.Stats().ReaderRestarts; n != 0 {
		t.Fatalf("ReaderRestarts = %d, want 0", n)
	}
	if err := srv.Err(); err != nil {
		t.Fatalf("session ended: %v", err)
	}
}

// TestBusyReaderIsKept: a session that goes on receiving keeps its
// reader (the deadline is only set again); once it goes quiet, the
// reader is replaced.
func TestBusyReaderIsKept(t *testing.T) {
	srv, cli, r := restartPeer(t, framing.Newline{})
	// restartPeer made restartAfter 20 ms for the session: requests
	// every 2 ms for 30 of its periods would have restarted a reader
	// that ignored the traffic about 30 times. A stall of the machine
	// longer than a period may let one through.
	deadline := time.Now().Add(30 * 20 * time.Millisecond)
	for i := 0; time.Now().Before(deadline); i++ {
		if _, err := cli.Write([]byte(`{"jsonrpc":"2.0","id":` + strconv.Itoa(i) + `,"method":"add","params":[1,2]}` + "\n")); err != nil {
			t.Fatal(err)
		}
		if _, err := r.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if n := srv.Stats().ReaderRestarts; n > 3 {
		t.Errorf("ReaderRestarts = %d while the session was busy, want at most 3", n)
	}
	busy := srv.Stats().ReaderRestarts
	waitFor(t, "the reader of the quiet session to be replaced", func() bool { return srv.Stats().ReaderRestarts > busy })
}
