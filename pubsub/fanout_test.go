package pubsub

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/session"
)

// fanOutSubscribers is how many subscribed sessions BenchmarkFanOut
// publishes to, each over its own loopback TCP connection.
const fanOutSubscribers = 10_000

// fanOutChild is set in the environment of the fan-out benchmark's
// child process, to the address it connects to and the number of
// connections ("ADDR N").
const fanOutChild = "GORPCX_FANOUT_CHILD"

// runFanOutChild is the clients' side of BenchmarkFanOut, in a process
// of its own (one process could not hold both ends of 10,000
// connections within its file limit). It makes the connections, prints
// "ready", then for each round, once every connection has read one
// line, prints the wall-clock times (UnixNano) of the last receipt and
// of the 99th percentile. It exits when its standard input closes.
func runFanOutChild(spec string) {
	var addr string
	var n int
	if _, err := fmt.Sscan(spec, &addr, &n); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	times := make([]int64, n)
	var remaining atomic.Int64
	remaining.Store(int64(n))
	var out sync.Mutex
	for i := range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		go func() {
			br := bufio.NewReaderSize(c, 4096)
			for {
				if _, err := br.ReadSlice('\n'); err != nil {
					return
				}
				times[i] = time.Now().UnixNano()
				if remaining.Add(-1) == 0 {
					sorted := slices.Clone(times)
					slices.Sort(sorted)
					remaining.Store(int64(n))
					out.Lock()
					fmt.Println(sorted[n-1], sorted[n*99/100])
					out.Unlock()
				}
			}
		}()
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// clients is the child process of the fan-out benchmark.
type clients struct {
	cmd   *exec.Cmd
	lines *bufio.Scanner
}

// fanOutSetup starts the child process with n connections to a new
// listener and returns their server ends.
func fanOutSetup(b *testing.B, n int) ([]net.Conn, *clients) {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run", "^$")
	cmd.Env = append(os.Environ(), fanOutChild+"="+ln.Addr().String()+" "+strconv.Itoa(n))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	cl := &clients{cmd: cmd, lines: bufio.NewScanner(stdout)}
	servers := make([]net.Conn, 0, n)
	b.Cleanup(func() {
		for _, s := range servers {
			s.Close()
		}
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	for range n {
		s, err := ln.Accept()
		if err != nil {
			b.Fatal(err)
		}
		servers = append(servers, s)
	}
	if line := cl.next(b); line != "ready" {
		b.Fatalf("the clients' process said %q", line)
	}
	return servers, cl
}

func (c *clients) next(b *testing.B) string {
	b.Helper()
	if !c.lines.Scan() {
		b.Fatalf("the clients' process ended: %v", c.lines.Err())
	}
	return c.lines.Text()
}

// round waits for the clients' report of a round that started at t0
// and returns the time to the last delivery and the p99 latency.
func (c *clients) round(b *testing.B, t0 time.Time) (last, p99 time.Duration) {
	b.Helper()
	var lastNs, p99Ns int64
	if _, err := fmt.Sscan(c.next(b), &lastNs, &p99Ns); err != nil {
		b.Fatal(err)
	}
	return time.Duration(lastNs - t0.UnixNano()), time.Duration(p99Ns - t0.UnixNano())
}

// tipParams is a publication the size of an Electrum header
// notification.
var tipParams = json.RawMessage(`[{"hex":"` + strings.Repeat("0f", 80) + `","height":800000}]`)

// BenchmarkFanOut publishes one notification to 10,000 subscribed
// sessions over loopback TCP and waits until every client (in a child
// process) has read it: last-ns is the median time from the start of
// the publication to the last delivery, p99-ns that of the 99th
// percentile; ns/op adds the child's report. plain-loop writes the same
// bytes to the same number of sockets in a loop, the limit the hub is
// held to.
func BenchmarkFanOut(b *testing.B) {
	wire := []byte(`{"jsonrpc":"2.0","method":"` + tip.Method + `","params":` + string(tipParams) + "}\n")
	b.Run("hub", func(b *testing.B) {
		conns, r := fanOutSetup(b, fanOutSubscribers)
		h, err := NewHub(nil)
		if err != nil {
			b.Fatal(err)
		}
		defer h.Close()
		h.Declare("tip", tip)
		sessions := make([]*session.Session, len(conns))
		for i, c := range conns {
			sessions[i] = session.New(framing.NewStream(framing.Newline{}, c), &session.Options{Side: session.Server})
			if _, err := h.Subscribe(sessions[i], "tip", nil); err != nil {
				b.Fatal(err)
			}
		}
		defer func() {
			for _, s := range sessions {
				s.Abort()
			}
		}()
		var lasts, p99s []time.Duration
		b.ResetTimer()
		for b.Loop() {
			t0 := time.Now()
			if err := h.Publish(context.Background(), "tip", tipParams); err != nil {
				b.Fatal(err)
			}
			last, p99 := r.round(b, t0)
			lasts, p99s = append(lasts, last), append(p99s, p99)
		}
		reportMedian(b, lasts, "last-ns")
		reportMedian(b, p99s, "p99-ns")
	})
	b.Run("plain-loop", func(b *testing.B) {
		conns, r := fanOutSetup(b, fanOutSubscribers)
		var lasts, p99s []time.Duration
		b.ResetTimer()
		for b.Loop() {
			t0 := time.Now()
			for _, c := range conns {
				if _, err := c.Write(wire); err != nil {
					b.Fatal(err)
				}
			}
			last, p99 := r.round(b, t0)
			lasts, p99s = append(lasts, last), append(p99s, p99)
		}
		reportMedian(b, lasts, "last-ns")
		reportMedian(b, p99s, "p99-ns")
	})
}

// reportMedian reports the median over the rounds of a per-round
// figure: the time to the last delivery (last-ns) or the 99th
// percentile delivery latency (p99-ns), from the publication's start.
func reportMedian(b *testing.B, per []time.Duration, unit string) {
	slices.Sort(per)
	b.ReportMetric(float64(per[len(per)/2].Nanoseconds()), unit)
}
