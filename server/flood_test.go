package server

import (
	"bufio"
	"context"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/internal/testcert"
	"github.com/gorpcx/gorpcx/session"
)

// needFiles skips (fails in CI) a test that needs n file descriptors
// when the process may not open that many.
func needFiles(t *testing.T, n uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur >= n {
		return
	}
	msg := "the process may open only " + strconv.FormatUint(lim.Cur, 10) + " files; this test needs " + strconv.FormatUint(n, 10)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// attackers holds connections that flood a server: silent ones, and
// slow ones that send one byte a second and never finish a message.
// Each reconnects when the server closes it, until stop.
type attackers struct {
	addr string
	stop chan struct{}
	wg   sync.WaitGroup
}

func (a *attackers) run(n int, slow bool) {
	for range n {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			for {
				select {
				case <-a.stop:
					return
				default:
				}
				c, err := net.DialTimeout("tcp", a.addr, 5*time.Second)
				if err != nil {
					select {
					case <-a.stop:
						return
					case <-time.After(50 * time.Millisecond):
					}
					continue
				}
				a.hold(c, slow)
				c.Close()
			}
		}()
	}
}

// hold keeps c until the server closes it or the flood stops.
func (a *attackers) hold(c net.Conn, slow bool) {
	closed := make(chan struct{})
	go func() {
		// A read returns when the server closes the connection.
		c.Read(make([]byte, 1))
		close(closed)
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-a.stop:
			c.Close()
			<-closed
			return
		case <-closed:
			// Evicted: pause before reconnecting, as a real flood's
			// rate is bounded too.
			select {
			case <-a.stop:
			case <-time.After(50 * time.Millisecond):
			}
			return
		case <-tick.C:
			if slow {
				c.Write([]byte("{"))
			}
		}
	}
}

func (a *attackers) halt() {
	close(a.stop)
	a.wg.Wait()
}

// A flood of 1,000 silent and 1,000 slow connections against a server
// with the default limits does not lock a new client out: time after
// time, it connects and has its request answered within 2 s.
func TestFloodOfSilentAndSlowConnectionsDoesNotLockOut(t *testing.T) {
	if testing.Short() {
		t.Skip("floods 2,000 connections")
	}
	needFiles(t, 6000)
	echo := session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) { return "ok", nil })
	srv := start(t, &Server{Options: session.Options{Handler: echo}})
	addr := srv.Addr().String()
	flood := &attackers{addr: addr, stop: make(chan struct{})}
	defer flood.halt()
	flood.run(1000, false)
	flood.run(1000, true)
	waitFor(t, "the flood to fill the server", func() bool { return srv.Stats().Connections >= DefaultMaxSessions })
	var slowest time.Duration
	for round := range 10 {
		began := time.Now()
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		c.SetDeadline(time.Now().Add(2 * time.Second))
		_, err = c.Write([]byte(`{"jsonrpc":"2.0","method":"echo","params":[1],"id":1}` + "\n"))
		var line string
		if err == nil {
			line, err = bufio.NewReader(c).ReadString('\n')
		}
		c.Close()
		if err != nil || line != `{"jsonrpc":"2.0","result":"ok","id":1}`+"\n" {
			t.Fatalf("round %d: a new client during the flood got %q, %v", round, line, err)
		}
		slowest = max(slowest, time.Since(began))
		if st := srv.Stats(); st.Connections > DefaultMaxSessions {
			t.Fatalf("round %d: %d connections held, over the limit of %d", round, st.Connections, DefaultMaxSessions)
		}
		time.Sleep(200 * time.Millisecond)
	}
	st := srv.Stats()
	if st.Evicted < 1000 {
		t.Errorf("only %d evictions for 2,000 flooding connections and 1,000 places", st.Evicted)
	}
	t.Logf("slowest answer to a new client: %v; after the flood: %+v", slowest, st)
}

// Connections still in their TLS handshake count against MaxSessions:
// 500 that never shake hands hold at most MaxSessions places, and a
// real client is served among them.
func TestSilentTLSConnectionsCountAgainstMaxSessions(t *testing.T) {
	needFiles(t, 2000)
	srvCfg, cliCfg := testcert.Configs(t)
	srv := start(t, &Server{
		MaxSessions: 5,
		TLS:         srvCfg,
		Options:     session.Options{Handler: hello},
	})
	addr := srv.Addr().String()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 500 {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	waitFor(t, "the server to accept the 500", func() bool { return srv.Stats().Accepted >= 500 })
	if st := srv.Stats(); st.Connections > 5 || st.Evicted < 495 {
		t.Fatalf("with 500 silent TLS connections: %+v; want at most 5 held, 495 evicted", st)
	}
	cli := dial(t, &Dialer{TLS: cliCfg}, "tcp", addr)
	var got string
	if err := cli.Call(context.Background(), "x", nil, &got); err != nil {
		t.Fatalf("a TLS client among 500 silent ones: %v", err)
	}
}
