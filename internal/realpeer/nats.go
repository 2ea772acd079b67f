package realpeer

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// NATS is a nats-server started by [StartNATS] for one test. It can be
// stopped and started again on the same address, to test what its
// clients do while it is down and after it comes back.
type NATS struct {
	// URL is the address clients connect to: "nats://127.0.0.1:PORT".
	URL string
	// Addr is the same address as "127.0.0.1:PORT".
	Addr string

	t    testing.TB
	bin  string
	conf string
	dir  string
	runs int      // times the server was started, naming its log files
	p    *process // the running server; nil while stopped
}

// StartNATS starts nats-server on a free loopback port: it writes a
// configuration into t.TempDir(), starts `nats-server -c CONFIG` as a
// child process, waits until it greets a client, and returns it. The
// process is stopped by its id when the test ends. It fails t if the
// server does not start, and skips or fails it as [Need] does if
// nats-server is not installed (Debian package nats-server).
func StartNATS(t testing.TB) *NATS {
	t.Helper()
	n := &NATS{t: t, bin: Need(t, "nats-server", "nats-server"), dir: t.TempDir()}
	t.Cleanup(func() {
		if n.p == nil {
			return
		}
		if err := n.p.stop(); err != nil {
			t.Errorf("realpeer: stopping nats-server: %v\n%s", err, n.p.output())
		}
	})
	// A free port found here may be taken by another process before
	// nats-server binds it: then it exits, and another port is tried.
	var failures []string
	for attempt := range 5 {
		addr := freePort()
		if addr == "" {
			t.Fatal("realpeer: no free loopback port")
		}
		n.Addr, n.URL = addr, "nats://"+addr
		n.conf = filepath.Join(n.dir, fmt.Sprintf("nats-%d.conf", attempt))
		if err := os.WriteFile(n.conf, []byte(natsConfig(addr)), 0o600); err != nil {
			t.Fatal(err)
		}
		err := n.run()
		if err == nil {
			return n
		}
		failures = append(failures, fmt.Sprintf("attempt %d: %v", attempt+1, err))
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	t.Fatalf("realpeer: nats-server did not start:\n%s", strings.Join(failures, "\n"))
	return nil
}

func natsConfig(addr string) string {
	return fmt.Sprintf("# written by a gorpcx test\nlisten: %q\n", addr)
}

// Stop ends the server by its process id (SIGTERM, then SIGKILL if it
// lingers) and waits for it to exit; its clients see their connections
// close. Stopping a stopped server does nothing. It fails t if the
// process could not be ended.
func (n *NATS) Stop() {
	n.t.Helper()
	if n.p == nil {
		return
	}
	p := n.p
	n.p = nil
	if err := p.stop(); err != nil {
		n.t.Fatalf("realpeer: stopping nats-server: %v\n%s", err, p.output())
	}
}

// Start starts the stopped server again with the same configuration,
// on the same address, and waits until it greets a client. Starting a
// running server does nothing. The address is tried for a few seconds
// in case the port is still held; it fails t if the server does not
// start.
func (n *NATS) Start() {
	n.t.Helper()
	if n.p != nil {
		return
	}
	deadline := time.Now().Add(wait)
	for {
		err := n.run()
		if err == nil {
			return
		}
		if !strings.Contains(err.Error(), "address already in use") || time.Now().After(deadline) {
			n.t.Fatalf("realpeer: nats-server did not start again on %s: %v", n.Addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// run starts the server once and waits until it serves; on failure the
// process is ended and the error carries its output.
func (n *NATS) run() error {
	n.runs++
	log := filepath.Join(n.dir, fmt.Sprintf("nats-server-%d.log", n.runs))
	p, err := start(n.bin, log, "-c", n.conf)
	if err != nil {
		return err
	}
	if err := p.waitNATS(n.Addr); err != nil {
		p.stop()
		return fmt.Errorf("%v\n%s", err, p.output())
	}
	n.p = p
	return nil
}

// waitNATS waits until a NATS server on addr greets a new client with
// its INFO line, and fails if the program exits first or does not
// answer in time.
func (p *process) waitNATS(addr string) error {
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return fmt.Errorf("exited: %v", p.err)
		default:
		}
		if natsGreets(addr) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("not serving after " + wait.String())
}

// natsGreets connects to addr and reports whether the first line read
// is a NATS INFO line.
func natsGreets(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "INFO {")
}
