//go:build !race

package session

import (
	"bufio"
	"net"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/gorpcx/gorpcx/framing"
)

// TestInlineServeFitsInFourKiBStack pins the depth of the path of a
// request served inline over TCP (decode, dispatch, handler, encode,
// write system call), all on the reader's stack: it must fit in a
// 4 KiB stack. At 8 KiB every garbage collection shrank the stack of
// each waiting reader back to 4 KiB and its next request grew it again
// (a stack copy per session per cycle, 2.5% of the server's CPU at
// 1,000 connections), and a reader replaced when idle (restart.go) grew
// two copies instead of one. Cold paths (error logs) live in functions
// of their own to keep the frames on this path small.
//
// The race detector's instrumentation makes every frame larger, so the
// test runs without it.
func TestInlineServeFitsInFourKiBStack(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // no stack shrinking
	const n = 200
	type end struct {
		srv *Session
		cli net.Conn
	}
	ends := make([]end, 0, n)
	defer func() {
		for _, e := range ends {
			e.cli.Close()
			e.srv.Abort()
			<-e.srv.Done()
		}
	}()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for range n {
		cli, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		ends = append(ends, end{New(framing.NewStream(framing.Newline{}, c), &Options{Handler: benchAdd}), cli})
	}
	time.Sleep(20 * time.Millisecond) // every reader waits
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, e := range ends {
		if _, err := e.cli.Write([]byte(`{"jsonrpc":"2.0","id":1,"method":"echo","params":["0123456789abcdef"]}` + "\n")); err != nil {
			t.Fatal(err)
		}
		if _, err := bufio.NewReader(e.cli).ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	// A reader starts with 2 KiB: grown to 4 KiB it holds 2 KiB more,
	// to 8 KiB 6 KiB more.
	if grown := (int64(after.StackInuse) - int64(before.StackInuse)) / n; grown >= 4096 {
		t.Errorf("the stack of each reader grew by %d bytes serving one request inline, want under 4096 (a 4 KiB stack)", grown)
	}
}
