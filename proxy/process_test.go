package proxy_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// program returns the path of the program name, looked up in PATH and
// in /usr/sbin. If it is missing, the test fails under CI (CI=true)
// and is skipped elsewhere, naming the Debian package pkg.
func program(t testing.TB, name, pkg string) string {
	t.Helper()
	if path, err := exec.LookPath(name); err == nil {
		return path
	}
	path := filepath.Join("/usr/sbin", name)
	if fi, err := os.Stat(path); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return path
	}
	missing(t, "%s not found: install the Debian package %s", name, pkg)
	return ""
}

// missing fails the test under CI, where every real peer must run, and
// skips it elsewhere.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// freePort returns a TCP port that was free on 127.0.0.1 a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	return mustPort(t, closedPort(t))
}

// process is a program started by a test in a process group of its
// own, killed with the group and waited for when the test ends.
type process struct {
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
}

// startProcess starts path with args, its output going to the file
// log.
func startProcess(t testing.TB, log, path string, args ...string) *process {
	t.Helper()
	out, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	p := &process{cmd: cmd, log: log, exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the group: children too
		cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// Pid returns the process id.
func (p *process) Pid() int { return p.cmd.Process.Pid }

// Log returns what the process has written.
func (p *process) Log() string {
	b, _ := os.ReadFile(p.log)
	return strings.TrimSpace(string(b))
}

// waitListening waits up to 15 s for address to accept connections. It
// reports false, with the reason, if the process exits or time runs
// out first.
func (p *process) waitListening(address string) (bool, string) {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return false, p.cmd.Path + " exited: " + p.cmd.ProcessState.String() + "\n" + p.Log()
		default:
		}
		if c, err := net.DialTimeout("tcp", address, time.Second); err == nil {
			c.Close()
			return true, ""
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false, p.cmd.Path + " does not listen on " + address + " after 15 s\n" + p.Log()
}

// mustListen is waitListening that fails the test.
func (p *process) mustListen(t testing.TB, address string) {
	t.Helper()
	if ok, why := p.waitListening(address); !ok {
		t.Fatal(why)
	}
}

// loopback returns "127.0.0.1:port".
func loopback(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }
