package interop

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"
)

// These tests abuse the interop server as a misbehaving or merely
// demanding peer would, over real sockets, and check what a process
// must keep: progress when handlers call the peer back. They are not
// parallel: they load the machine.

// TestInteropServerCallbackFlood pipelines many requests whose handlers
// call the client back. The session must go on reading while those
// calls wait for their answers, past its queue limit, or the answers
// are never read: before the session engine was reworked, the 400
// requests below got no result for more than 10 s (until their 30 s
// processing timeout).
func TestInteropServerCallbackFlood(t *testing.T) {
	const (
		n     = 400
		guard = 25 * time.Second // against a hang only, not a speed assertion
	)
	p, addr := startInteropServer(t)
	conn, err := net.DialTimeout("tcp", addr, procWait)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(guard))

	var batch bytes.Buffer
	for i := range n {
		fmt.Fprintf(&batch, `{"jsonrpc":"2.0","id":%d,"method":"request_back","params":["client.ping",[%d]]}`+"\n", i, i)
	}
	start := time.Now()
	if _, err := conn.Write(batch.Bytes()); err != nil {
		t.Fatalf("writing %d requests: %v", n, err)
	}

	// One goroutine reads, and answers each callback as soon as it is
	// read, as a simple client would.
	type message struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	r := bufio.NewReader(conn)
	results := make(map[int]string, n)
	callbacks := 0
	for len(results) < n {
		line, err := r.ReadBytes('\n')
		if err != nil {
			t.Fatalf("after %v, %d callbacks and %d results of %d: read: %v; stderr:\n%s",
				time.Since(start).Round(time.Millisecond), callbacks, len(results), n, err, p.stderr.String())
		}
		var m message
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		switch {
		case m.Method != "":
			if m.Method != "client.ping" || m.ID == nil {
				t.Fatalf("unexpected request from the server: %s", line)
			}
			callbacks++
			answer := fmt.Sprintf(`{"jsonrpc":"2.0","result":%s,"id":%s}`+"\n", m.Params, m.ID)
			if _, err := conn.Write([]byte(answer)); err != nil {
				t.Fatalf("answering callback %d: %v", callbacks, err)
			}
		case m.Error != nil:
			t.Fatalf("error reply after %d callbacks and %d results: %s", callbacks, len(results), line)
		default:
			id, err := strconv.Atoi(string(m.ID))
			if err != nil || id < 0 || id >= n {
				t.Fatalf("reply with an id not sent: %s", line)
			}
			if _, dup := results[id]; dup {
				t.Fatalf("second reply to id %d: %s", id, line)
			}
			results[id] = string(m.Result)
		}
	}
	elapsed := time.Since(start)
	if callbacks != n {
		t.Errorf("%d callbacks for %d requests", callbacks, n)
	}
	for i := range n {
		if got, want := results[i], fmt.Sprintf("[%d]", i); got != want {
			t.Errorf("request %d: result %s, want %s", i, got, want)
		}
	}
	t.Logf("%d request_back calls pipelined in one write, each calling the client back: all answered in %v",
		n, elapsed.Round(time.Millisecond))
	conn.Close()
	stopInteropServer(t, p)
}
