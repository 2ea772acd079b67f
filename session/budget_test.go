package session

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

func TestBudgetShares(t *testing.T) {
	b := NewBudget(1000)
	var x, y account
	x.budget, y.budget = b, b
	x.limit, y.limit = 1<<20, 1<<20
	x.take(900)
	if got := b.room(0); got != 100 {
		t.Errorf("room under the limit = %d, want the 100 free bytes", got)
	}
	y.take(100)
	if got := b.Held(); got != 1000 {
		t.Fatalf("held %d", got)
	}
	// At the limit the equal share is 500: x (900) waits, y (100) may
	// take up to 400 more.
	if x.room(1) {
		t.Error("the largest holder may still take bytes at the limit")
	}
	if !y.room(400) || y.room(401) {
		t.Errorf("the small holder's room at the limit: %d", b.room(100))
	}
	x.give(900)
	y.give(100)
	if b.Held() != 0 || b.holders.Load() != 0 {
		t.Errorf("after release: held %d, holders %d", b.Held(), b.holders.Load())
	}
	var none *Budget
	if none.Limit() != 0 || none.Held() != 0 || none.room(5) <= 0 {
		t.Error("a nil budget limits nothing")
	}
}

// A Gate stops reading while its session holds its limit, and goes on
// once the bytes are released; closing it ends the wait.
func TestGateWaitsForRoom(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	g := NewBudget(0).Gate(a)
	g.acct.limit = 10
	go b.Write(bytes.Repeat([]byte("x"), 30))
	buf := make([]byte, 64)
	n, err := g.Read(buf[:5])
	if err != nil || n == 0 {
		t.Fatalf("first read: %d, %v", n, err)
	}
	g.acct.take(10) // as the session would for a kept request
	read := make(chan int, 1)
	go func() {
		n, _ := g.Read(buf)
		read <- n
	}()
	select {
	case n := <-read:
		t.Fatalf("read %d bytes over the limit", n)
	case <-time.After(20 * time.Millisecond):
	}
	g.acct.give(8) // 7 held, 2 of them a request: room for 3 more
	select {
	case n := <-read:
		if n == 0 || n > 3 {
			t.Errorf("read %d bytes after release, want 1 to 3", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the read did not resume after release")
	}
	g.acct.take(100)
	go func() {
		_, err := g.Read(buf)
		read <- len(err.Error())
	}()
	g.Close()
	if n := <-read; n == 0 {
		t.Error("no error from a read ended by Close")
	}
	_, _ = io.Copy(io.Discard, b)
}
