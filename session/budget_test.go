package session

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

func TestBudgetShares(t *testing.T) {
	b := NewBudget(1000) // high water 750
	var x, y account
	x.budget, y.budget = b, b
	x.limit, y.limit = 1<<20, 1<<20
	x.take(600)
	if got := b.room(0); got != 400 {
		t.Errorf("room under the high water = %d, want the 400 free bytes", got)
	}
	y.take(200)
	// 800 held, between high water and limit: the equal share of the
	// high water is 375; x (600) waits, y (200) may take 175 more.
	if got := b.room(600); got != 0 {
		t.Errorf("the largest holder's room = %d, want 0", got)
	}
	if got := b.room(200); got != 175 {
		t.Errorf("the small holder's room = %d, want 175", got)
	}
	if got := b.room(0); got != 200 {
		t.Errorf("a new holder's room = %d, want 200 (its share of 250, within the 200 free)", got)
	}
	y.take(200)
	// At the limit: only a session holding nothing reads, a trickle.
	if b.room(600) != 0 || b.room(400) != 0 || b.room(0) != BudgetTrickle {
		t.Errorf("room at the limit: %d, %d, %d", b.room(600), b.room(400), b.room(0))
	}
	if got := b.Held(); got != 1000 {
		t.Fatalf("held %d", got)
	}
	x.give(600)
	y.give(400)
	if b.Held() != 0 || b.holders.Load() != 0 {
		t.Errorf("after release: held %d, holders %d", b.Held(), b.holders.Load())
	}
	var none *Budget
	if none.Limit() != 0 || none.Held() != 0 || none.room(5) <= 0 {
		t.Error("a nil budget limits nothing")
	}
}

// Sessions arriving one after another, each holding an unfinished
// message, cannot take the group past its limit by more than a trickle
// each (they used to, each taking the equal share of its moment).
func TestBudgetLatecomersStayWithinLimit(t *testing.T) {
	const limit = 8 << 20
	b := NewBudget(limit)
	grab := func(a *account, want int64) {
		for a.held.Load() < want {
			r := b.room(a.held.Load())
			if r <= 0 {
				return
			}
			a.take(min(r, 64<<10, want-a.held.Load()))
		}
	}
	for i := range 108 {
		a := &account{budget: b, limit: 1 << 30}
		grab(a, 999_000)
		if i == 7 || i == 107 {
			t.Logf("%d sessions hold %.2f MiB", i+1, float64(b.Held())/(1<<20))
		}
	}
	if held := b.Held(); held > limit+108*BudgetTrickle {
		t.Errorf("108 sessions hold %d bytes, over the limit of %d plus a trickle each", held, limit)
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

// BenchmarkAccountTakeGive is what every request costs its session's
// account and the shared budget: one take when read, one give when
// answered, from many sessions at once.
func BenchmarkAccountTakeGive(b *testing.B) {
	budget := NewBudget(512 << 20)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		a := &account{budget: budget, limit: 16 << 20}
		for pb.Next() {
			a.take(130)
			if !a.room(130) {
				b.Fatal("no room")
			}
			a.give(130)
		}
	})
}

// BenchmarkGateRead is the cost a Gate adds to each read of a
// connection: the room check, the reservation and its settling.
func BenchmarkGateRead(b *testing.B) {
	g := NewBudget(512 << 20).Gate(nopConn{})
	g.acct.limit = 16 << 20
	buf := make([]byte, 4096)
	b.ReportAllocs()
	for b.Loop() {
		n, _ := g.Read(buf)
		g.settle(0)
		_ = n
	}
}

// BenchmarkGateReadTimed is BenchmarkGateRead with the session's
// MessageTimeout on: each read begins a message, which the Gate
// records, and each message read is noted as the session does anyway
// (Stats.LastRecv).
func BenchmarkGateReadTimed(b *testing.B) {
	g := NewBudget(512 << 20).Gate(nopConn{})
	g.acct.limit = 16 << 20
	s := &Session{start: time.Now(), gate: g}
	g.w = &watchdog{s: s, message: time.Hour}
	buf := make([]byte, 4096)
	b.ReportAllocs()
	for b.Loop() {
		n, _ := g.Read(buf)
		g.settle(0)
		s.stats.lastRecv.set(s.since())
		_ = n
	}
}

// nopConn reads 4 KiB of zeros at a time.
type nopConn struct{}

func (nopConn) Read(p []byte) (int, error)  { return min(len(p), 4096), nil }
func (nopConn) Write(p []byte) (int, error) { return len(p), nil }
func (nopConn) Close() error                { return nil }
