package session

import (
	"testing"
)

// TestAsyncWorkRunsOnAParkedWorker: goAsync (the writer's flush of a
// burst's replies, the graceful close) runs on a parked worker when
// there is one, whose stack is grown already, else on a new goroutine.
func TestAsyncWorkRunsOnAParkedWorker(t *testing.T) {
	cli, srv := pair(t, nil, &Options{Handler: benchAdd})
	ranOnWorker := func() bool {
		ran := make(chan bool, 1)
		srv.goAsync(func() { ran <- srv.onOwnGoroutine() })
		return <-ran
	}
	if ranOnWorker() {
		t.Fatal("with no worker parked, the work ran on a handler goroutine")
	}
	// A batch is served by workers, which then park.
	var b Batch
	b.Call("add", []int{1, 1}, nil)
	b.Call("add", []int{2, 2}, nil)
	if err := cli.SendBatch(t.Context(), &b); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a worker to park", func() bool {
		srv.sched.mu.Lock()
		defer srv.sched.mu.Unlock()
		return len(srv.sched.idle) > 0
	})
	if !ranOnWorker() {
		t.Fatal("with a worker parked, the work ran on a new goroutine")
	}
	// The worker parks again and serves requests as before.
	var sum int
	if err := cli.Call(t.Context(), "add", []int{2, 3}, &sum); err != nil || sum != 5 {
		t.Fatalf("add = %d, %v", sum, err)
	}
}
