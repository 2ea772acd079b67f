package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorpcx/gorpcx/session"
)

// These tests abuse the interop server as a misbehaving or merely
// demanding peer would, over real sockets, and check what a process
// must keep: progress when handlers call the peer back, and memory
// bounded when peers send more than the server can serve. They are not
// parallel: they load the machine, and each measures the peak memory of
// its own server process.

const mib = 1 << 20

var (
	plainOnce sync.Once
	plainPath string
	plainErr  string
)

// plainInteropServer returns the interop server built without the race
// detector, for the tests that measure its memory: under the race
// detector a process's resident memory is mostly shadow memory, several
// times what the program itself touches, and it says nothing of the
// engine's bounds. Without the race detector in the tests, that is the
// binary example builds.
func plainInteropServer(t *testing.T) string {
	t.Helper()
	if !raceEnabled {
		return example(t, "interop-server")
	}
	plainOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			plainErr = "the go command is not on PATH: " + err.Error()
			return
		}
		dir := filepath.Join(binDir, "norace")
		ctx, cancel := context.WithTimeout(context.Background(), buildWait)
		defer cancel()
		// The interop server is a module of its own: built in its
		// directory.
		args := []string{"build", "-o", dir + string(filepath.Separator), "."}
		cmd := exec.CommandContext(ctx, goTool, args...)
		cmd.Dir = exampleDir("interop-server")
		if out, err := cmd.CombinedOutput(); err != nil {
			plainErr = "go " + joinArgs(args) + " (in " + cmd.Dir + "): " + err.Error() + "\n" + string(out)
			return
		}
		plainPath = filepath.Join(dir, "interop-server")
	})
	if plainErr != "" {
		t.Fatal(plainErr)
	}
	return plainPath
}

// startPlainInteropServer starts plainInteropServer with flags, as
// startInteropServer does.
func startPlainInteropServer(t *testing.T, flags ...string) (*proc, string) {
	t.Helper()
	p := startProc(t, plainInteropServer(t), flags...)
	line := p.line(t)
	m := listeningLine.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("interop-server %q: first line %q, want %q; stderr:\n%s", flags, line, "listening on 127.0.0.1:PORT", p.stderr.String())
	}
	return p, m[1]
}

// peakRSS returns the peak resident set size of process pid (VmHWM in
// /proc/PID/status), in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	return procStatusKB(t, pid, "VmHWM") << 10
}

// procStatusKB returns a field of /proc/PID/status given in kB.
func procStatusKB(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("reading the status of process %d: %v", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("/proc/%d/status: %q: %v", pid, line, err)
			}
			return kb
		}
	}
	t.Fatalf("/proc/%d/status has no %s", pid, field)
	return 0
}

// bytesRead returns how many bytes process pid has read with read(2)
// and the like, sockets included (rchar in /proc/PID/io), or -1 if the
// file cannot be read.
func bytesRead(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "rchar:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// waitReadsSettle waits until process pid has read nothing more for
// quiet, bounded by limit, and returns how much it read since it had
// read from bytes, or -1 if that is unknown.
func waitReadsSettle(pid int, from int64, quiet, limit time.Duration) int64 {
	if from < 0 {
		return -1
	}
	end := time.Now().Add(limit)
	last, since := bytesRead(pid), time.Now()
	for time.Now().Before(end) && time.Since(since) < quiet {
		time.Sleep(50 * time.Millisecond)
		if n := bytesRead(pid); n != last {
			last, since = n, time.Now()
		}
	}
	if last < 0 {
		return -1
	}
	return last - from
}

// mibOf formats bytes in MiB, or "an unknown amount" for -1.
func mibOf(n int64) string {
	if n < 0 {
		return "an unknown amount (/proc/PID/io cannot be read)"
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/mib)
}

// checkResponsive checks that the server still answers a fresh
// connection.
func checkResponsive(t *testing.T, addr string) {
	t.Helper()
	c := dialRaw(t, addr)
	if got, want := c.roundTrip(`{"jsonrpc":"2.0","id":"after","method":"echo","params":["still here"]}`), `{"jsonrpc":"2.0","result":"still here","id":"after"}`; got != want {
		t.Errorf("after the load: got %s, want %s", got, want)
	}
	c.conn.Close()
}

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

// TestInteropServerMemoryBoundedQueuedLargeRequests has 16 clients
// occupy every handler slot of their sessions with a long sleep, then
// pipeline large echo requests behind it, as fast as the server takes
// them. The requests queue; what a session may hold is bounded in bytes
// (session.DefaultMaxIncomingBytes, 16 MiB, while nothing of the session
// waits for the peer): past it the session stops reading, and the
// clients' writes block. Before the session engine was reworked, a
// session read up to its queue limit of 80 requests whatever their size:
// this load took that server past 1 GB of RSS, all it was sent.
func TestInteropServerMemoryBoundedQueuedLargeRequests(t *testing.T) {
	const (
		clients     = 16
		concurrency = 20 // the server's default -concurrency
		sleep       = 30 // seconds the handler slots are held: longer than the test
		perClient   = 96 // echo requests a client writes at most, past the old queue limit
		payload     = 990_000
		// writeFor bounds the clients' writing, while every request
		// but the sleeps is queued.
		writeFor = 4 * time.Second
	)
	p, addr := startPlainInteropServer(t)
	pid := p.cmd.Process.Pid
	base := peakRSS(t, pid)

	var sleeps bytes.Buffer
	for i := range concurrency {
		fmt.Fprintf(&sleeps, `{"jsonrpc":"2.0","id":"sleep%d","method":"sleep","params":[%d]}`+"\n", i, sleep)
	}
	body := strings.Repeat("x", payload)

	conns := make([]net.Conn, clients)
	for i := range conns {
		c, err := net.DialTimeout("tcp", addr, procWait)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	rchar0 := bytesRead(pid)
	end := time.Now().Add(writeFor)
	var sent, blocked atomic.Int64
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() {
			c.SetWriteDeadline(end)
			n, err := c.Write(sleeps.Bytes())
			sent.Add(int64(n))
			if err != nil {
				t.Errorf("client %d: writing the sleeps: %v", i, err)
				return
			}
			// One buffer for all the requests of a client: only the
			// id (a string of 3 digits) changes.
			msg := []byte(`{"jsonrpc":"2.0","id":"e000","method":"echo","params":["` + body + `"]}` + "\n")
			idAt := bytes.Index(msg, []byte("000"))
			for j := range perClient {
				copy(msg[idAt:], fmt.Sprintf("%03d", j))
				n, err := c.Write(msg)
				sent.Add(int64(n))
				if err != nil {
					if !errors.Is(err, os.ErrDeadlineExceeded) {
						t.Errorf("client %d: writing echo %d: %v", i, j, err)
					}
					blocked.Add(1)
					return
				}
			}
		})
	}
	wg.Wait()
	accepted := waitReadsSettle(pid, rchar0, 300*time.Millisecond, 2*time.Second)
	checkResponsive(t, addr)
	peak := peakRSS(t, pid)
	// What is queued would only run after the sleeps, on connections
	// closed by then: the process is killed rather than shut down
	// (the shutdown is tested elsewhere).
	p.kill()

	t.Logf("%d clients wrote %.1f MiB in %v (%d of them blocked by back-pressure); the server read %s",
		clients, float64(sent.Load())/mib, writeFor, blocked.Load(), mibOf(accepted))
	t.Logf("server peak RSS %.1f MiB (%.1f MiB at start)", float64(peak)/mib, float64(base)/mib)

	// The sessions may hold 16 × 16 MiB = 256 MiB of requests, plus
	// each a message being read, and the garbage collector lets the
	// heap grow to twice what is live (GOGC=100): 512 MiB. Measured:
	// 274 to 279 MiB, with 256 MiB read and the rest of what the clients
	// wrote left in the kernel's socket buffers; the server of before
	// the rework read 1224 MiB of the 1332 MiB it was sent and peaked at
	// 1260 MiB.
	const limit = 512 * mib
	if peak > limit {
		t.Errorf("server peak RSS %.1f MiB, want under %d MiB", float64(peak)/mib, limit/mib)
	}
}

// TestInteropServerMemoryBoundedPartialMessages has many clients each
// send most of a large message and then hold it unfinished. The bytes
// of a message still arriving count against the server's budget for all
// sessions (server.DefaultMaxIncomingBytes, 512 MiB): at the limit the
// sessions holding the most stop reading, and the rest stays in the
// kernel's socket buffers or blocks the clients. Before the rework,
// 999 such connections took the server to 1.26 GB of RSS.
//
// The server reads no more than its budget (510 to 512 MiB measured)
// and peaks at 689 to 796 MiB of RSS. (While session.Budget let sessions
// that arrived at its limit each read an equal share, it read 725 to
// 827 MiB and peaked at 1019 to 1192 MiB; TestBudgetLatecomersStayWithinLimit
// in package session pins that defect.)
func TestInteropServerMemoryBoundedPartialMessages(t *testing.T) {
	const (
		want    = 999
		partial = 999_000 // under -max-message, 1,000,000 by default
		budget  = 512 * mib
		// readBuffer bounds what a session may read past the budget:
		// a session holding nothing reads session.BudgetTrickle bytes
		// at a time at the limit.
		readBuffer = session.BudgetTrickle
		// writeFor bounds each client's write: a write still blocked
		// then shows the server's back-pressure.
		writeFor = 3 * time.Second
	)
	clients := fdRoom(t, want)

	p, addr := startPlainInteropServer(t)
	pid := p.cmd.Process.Pid
	base := peakRSS(t, pid)

	conns := make([]net.Conn, 0, clients)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range clients {
		c, err := net.DialTimeout("tcp", addr, procWait)
		if err != nil {
			t.Fatalf("connection %d: %v", len(conns)+1, err)
		}
		conns = append(conns, c)
	}
	// The start of one request whose string never ends, no newline.
	start := `{"jsonrpc":"2.0","id":1,"method":"echo","params":["`
	msg := []byte(start + strings.Repeat("y", partial-len(start)))
	rchar0 := bytesRead(pid)
	end := time.Now().Add(writeFor)
	var sent, blocked atomic.Int64
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() {
			c.SetWriteDeadline(end)
			n, err := c.Write(msg)
			sent.Add(int64(n))
			if err != nil {
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Errorf("client %d: %v", i, err)
				}
				blocked.Add(1)
			}
		})
	}
	wg.Wait()
	accepted := waitReadsSettle(pid, rchar0, 300*time.Millisecond, 3*time.Second)
	checkResponsive(t, addr)
	peak := peakRSS(t, pid)
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	stopInteropServer(t, p)

	t.Logf("%d clients wrote %.1f MiB of %.1f MiB (%d blocked by back-pressure); the server read %s",
		clients, float64(sent.Load())/mib, float64(clients*partial)/mib, blocked.Load(), mibOf(accepted))
	t.Logf("server peak RSS %.1f MiB (%.1f MiB at start)", float64(peak)/mib, float64(base)/mib)

	// The sessions together hold at most the budget plus one read per
	// session: all the server reads, since no message ends.
	if accepted < 0 {
		t.Log("the bytes the server read are not checked")
	} else if bound := int64(budget + clients*readBuffer); accepted > bound {
		t.Errorf("the server read %.1f MiB of unfinished messages, want at most %.1f MiB (its budget, 512 MiB, and %d KiB for each of %d sessions)",
			float64(accepted)/mib, float64(bound)/mib, readBuffer>>10, clients)
	}
	// Resident memory is about 1.4 to 1.5 times what the sessions hold
	// (measured: 689 to 796 MiB for 510 to 512 MiB read), from the
	// framing buffers doubling as a message arrives and the garbage
	// collector's slack. The bound leaves about 1.4 times the highest
	// measured and stays under what all the messages took before the
	// rework (1182 to 1311 MiB).
	const limit = 1100 * mib
	if peak > limit {
		t.Errorf("server peak RSS %.1f MiB, want under %d MiB", float64(peak)/mib, limit/mib)
	}
}

// fdRoom returns how many connections (up to want) the test can open
// to a server process: each takes a descriptor here and one in the
// server, which inherits this process's limit. It raises the soft limit
// up to the hard one if needed.
func fdRoom(t *testing.T, want int) int {
	t.Helper()
	const spare = 200 // descriptors for everything else, each side
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	need := uint64(want + spare)
	if lim.Cur < need && lim.Max > lim.Cur {
		old := lim
		lim.Cur = min(need, lim.Max)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
	}
	n := want
	if lim.Cur < need {
		n = max(int(lim.Cur)-spare, 1)
		t.Logf("file descriptor limit %d (hard %d): %d connections instead of %d", lim.Cur, lim.Max, n, want)
	} else {
		t.Logf("file descriptor limit %d: %d connections", lim.Cur, n)
	}
	return n
}
