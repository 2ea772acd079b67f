package session

import (
	"context"
	"testing"
	"time"
)

// TestStatsTimes checks the times of the last message each way: zero
// before any, then within the call that sent and answered one (and
// the server's counting of its answer).
func TestStatsTimes(t *testing.T) {
	cli, srv := pair(t, nil, &Options{Handler: adder})
	if st := srv.Stats(); !st.LastRecv.IsZero() || !st.LastSend.IsZero() {
		t.Fatalf("before any message: LastRecv %v, LastSend %v", st.LastRecv, st.LastSend)
	}
	before := time.Now()
	var sum int
	if err := cli.Call(context.Background(), "add", []int{1, 2}, &sum); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the answer to be counted", func() bool { return srv.Stats().SendCount == 1 })
	after := time.Now()
	for _, st := range []Stats{srv.Stats(), cli.Stats()} {
		if st.Start.After(before) {
			t.Errorf("Start %v after the call began at %v", st.Start, before)
		}
		for name, at := range map[string]time.Time{"LastRecv": st.LastRecv, "LastSend": st.LastSend} {
			if at.Before(before) || at.After(after) {
				t.Errorf("%s %v, not within the call (%v to %v)", name, at, before, after)
			}
		}
	}
}
