// Package realpeer starts real programs that tests of several gorpcx
// packages run against, such as HAProxy in front of a server, the NATS
// server a fleet of hubs publishes through, Open vSwitch's ovsdb-server
// (JSON-RPC 1.0 over Unix and TCP sockets) and pylsp, a language server
// run over its standard input and output. Each program runs as a child
// of the test, from a configuration the helper writes into the test's
// temporary directory, and is stopped by its process id when the test
// ends; no system service is used or touched.
//
// A program that is not installed skips the test, except in CI (the
// environment variable CI is "true"), where it fails it: CI installs
// every program the tests need (.ci/run).
package realpeer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// wait bounds every wait on a program (its start, its exit). It is
// generous, to avoid hangs only, never to measure anything.
const wait = 20 * time.Second

// sbin are the directories where Debian installs servers (haproxy,
// nats-server), which the PATH of a user who is not root often lacks.
var sbin = []string{"/usr/sbin", "/usr/local/sbin"}

// Need returns the path of the program named name, found on PATH or in
// /usr/sbin or /usr/local/sbin. When it is not installed it fails t if
// the environment variable CI is "true", and skips t otherwise, naming
// the Debian package to install.
func Need(t testing.TB, name, debianPackage string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	for _, dir := range sbin {
		if p, serr := exec.LookPath(filepath.Join(dir, name)); serr == nil {
			return p
		}
	}
	missing(t, fmt.Sprintf("%s not found (apt-get install %s): %v", name, debianPackage, err))
	return ""
}

// missing fails t with msg if the environment variable CI is "true",
// and skips it otherwise: what a test does when something it needs is
// not installed.
func missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// HAProxyConfig says what an HAProxy started by [StartHAProxy] does.
type HAProxyConfig struct {
	// Server is the address of the one backend server every connection
	// is forwarded to: "host:port", or an absolute Unix socket path.
	Server string
	// ServerOptions are appended to the server line, such as
	// "send-proxy" (PROXY protocol v1) or "send-proxy-v2".
	ServerOptions string
}

// StartHAProxy starts HAProxy in TCP mode in front of cfg.Server: it
// writes a configuration into t.TempDir() with a frontend on a free
// loopback port, starts haproxy in the foreground as a child process,
// waits until it serves, and returns the frontend's address
// ("127.0.0.1:PORT"). The process is stopped by its id when the test
// ends. HAProxy's readiness is checked on a second frontend of its own
// (an HTTP monitor URI), so no connection reaches cfg.Server before
// the test makes one. It fails t if HAProxy does not start, and skips
// or fails it as [Need] does if HAProxy is not installed.
func StartHAProxy(t testing.TB, cfg HAProxyConfig) string {
	t.Helper()
	bin := Need(t, "haproxy", "haproxy")
	dir := t.TempDir()
	// A free port found here may be taken by another process before
	// HAProxy binds it: then HAProxy exits, and it is tried again.
	var failures []string
	for attempt := range 5 {
		frontend, ready := freePort(), freePort()
		if frontend == "" || ready == "" || frontend == ready {
			t.Fatalf("realpeer: no two free loopback ports (%q, %q)", frontend, ready)
		}
		conf := filepath.Join(dir, fmt.Sprintf("haproxy-%d.cfg", attempt))
		if err := os.WriteFile(conf, []byte(haproxyConfig(cfg, frontend, ready)), 0o600); err != nil {
			t.Fatal(err)
		}
		log := filepath.Join(dir, fmt.Sprintf("haproxy-%d.log", attempt))
		p, err := start(bin, log, "-f", conf, "-db")
		if err != nil {
			t.Fatal(err)
		}
		if err = p.waitHTTP(ready, "/ready"); err == nil {
			t.Cleanup(func() {
				if err := p.stop(); err != nil {
					t.Errorf("realpeer: stopping haproxy: %v\n%s", err, p.output())
				}
			})
			return frontend
		}
		p.stop()
		failures = append(failures, fmt.Sprintf("attempt %d: %v\n%s", attempt+1, err, p.output()))
		if !strings.Contains(p.output(), "Address already in use") {
			break
		}
	}
	t.Fatalf("realpeer: haproxy did not start:\n%s", strings.Join(failures, "\n"))
	return ""
}

func haproxyConfig(cfg HAProxyConfig, frontend, ready string) string {
	return fmt.Sprintf(`global
    maxconn 256
    nbthread 1

defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend ready
    mode http
    bind %s
    monitor-uri /ready

frontend fe
    bind %s
    default_backend be

backend be
    server s1 %s %s
`, ready, frontend, cfg.Server, cfg.ServerOptions)
}

// freePort returns "127.0.0.1:PORT" with a port free a moment ago, or
// "" if none could be had.
func freePort() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return ""
	}
	defer ln.Close()
	return ln.Addr().String()
}

// process is a started program, its output going to a file.
type process struct {
	cmd    *exec.Cmd
	log    string
	exited chan struct{} // closed once Wait has returned
	err    error         // Wait's result, set before exited is closed
}

func start(bin, log string, args ...string) (*process, error) {
	return startCmd(exec.Command(bin, args...), log)
}

// startCmd starts cmd in the directory of log, its output going to
// log.
func startCmd(cmd *exec.Cmd, log string) (*process, error) {
	out, err := os.Create(log)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd.Dir = filepath.Dir(log)
	cmd.Stdout, cmd.Stderr = out, out // a file: no copying goroutines
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("realpeer: starting %s: %w", cmd.Path, err)
	}
	p := &process{cmd: cmd, log: log, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// output returns what the program wrote so far.
func (p *process) output() string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// waitHTTP waits until the program answers GET path on addr with 200,
// and fails if it exits first or does not answer in time.
func (p *process) waitHTTP(addr, path string) error {
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return fmt.Errorf("exited: %v", p.err)
		default:
		}
		if httpOK(addr, path) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("not serving after " + wait.String())
}

// httpOK makes one HTTP/1.0 request by hand (no client whose idle
// connections would outlive the test) and reports a 200 status.
func httpOK(addr, path string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.0\r\n\r\n", path); err != nil {
		return false
	}
	status := make([]byte, len("HTTP/1.x 200"))
	if _, err := io.ReadFull(c, status); err != nil {
		return false
	}
	return bytes.HasPrefix(status, []byte("HTTP/1.")) && bytes.HasSuffix(status, []byte(" 200"))
}

// stop ends the program by its process id (SIGTERM, then SIGKILL if it
// lingers) and waits for it. A program that had already exited, or
// that exits on the signal, is no error.
func (p *process) stop() error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	proc := p.cmd.Process // the handle of the child's process id
	if err := proc.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-p.exited:
		return nil
	case <-timer.C:
	}
	proc.Kill()
	<-p.exited
	return fmt.Errorf("pid %d ignored SIGTERM for %v and was killed", proc.Pid, wait)
}
