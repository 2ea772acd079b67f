package interop

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// procWait bounds every wait on a process: its next line of output, its
// exit. It is generous, to avoid hangs only, never to measure anything.
const procWait = 20 * time.Second

// proc is a process started by a test: its standard output read line by
// line, its standard error kept for failure messages, its standard input
// held open (the Python scripts exit when it closes). It is killed and
// waited for in t.Cleanup if the test did not wait for it.
type proc struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser

	lines      chan string   // stdout, line by line; closed at EOF
	readerDone chan struct{} // the reader goroutine has ended
	quit       chan struct{} // closed when nobody reads lines any more

	stderr syncBuffer

	waitOnce sync.Once
	exitErr  error
}

// syncBuffer is a bytes.Buffer safe for the writer exec starts and a
// reader in the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startProc starts name with args.
func startProc(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	p := &proc{
		name:       name,
		lines:      make(chan string, 1024),
		readerDone: make(chan struct{}),
		quit:       make(chan struct{}),
	}
	p.cmd = exec.Command(name, args...)
	p.cmd.Env = childEnv()
	p.cmd.Stderr = &p.stderr
	// Wait must not hang on output copying once the process is gone.
	p.cmd.WaitDelay = procWait
	stdin, err := p.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stdin = stdin
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stdout = w
	if err := p.cmd.Start(); err != nil {
		r.Close()
		w.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	w.Close()
	go p.read(r)
	t.Cleanup(p.kill)
	return p
}

// read sends stdout's lines to p.lines until EOF or quit.
func (p *proc) read(r *os.File) {
	defer close(p.readerDone)
	defer r.Close()
	defer close(p.lines)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		select {
		case p.lines <- sc.Text():
		case <-p.quit:
			return
		}
	}
}

// line returns the next line of output; it fails the test if there is
// none within procWait.
func (p *proc) line(t *testing.T) string {
	t.Helper()
	timer := time.NewTimer(procWait)
	defer timer.Stop()
	select {
	case l, ok := <-p.lines:
		if !ok {
			t.Fatalf("%s: output ended; stderr:\n%s", p.name, p.stderr.String())
		}
		return l
	case <-timer.C:
		t.Fatalf("%s: no output line within %v; stderr:\n%s", p.name, procWait, p.stderr.String())
	}
	return ""
}

// rest returns the remaining lines until the output ends (within
// procWait, else the test fails).
func (p *proc) rest(t *testing.T) []string {
	t.Helper()
	timer := time.NewTimer(procWait)
	defer timer.Stop()
	var out []string
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				return out
			}
			out = append(out, l)
		case <-timer.C:
			t.Fatalf("%s: output did not end within %v; so far %q; stderr:\n%s", p.name, procWait, out, p.stderr.String())
		}
	}
}

// signal sends sig to the process.
func (p *proc) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("%s: signal %v: %v", p.name, sig, err)
	}
}

// wait waits for the process to exit (killing it after procWait) and
// returns its exit code, or -1 if it was killed.
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	exited := make(chan struct{})
	go func() {
		p.finish()
		close(exited)
	}()
	timer := time.NewTimer(procWait)
	defer timer.Stop()
	select {
	case <-exited:
	case <-timer.C:
		p.kill()
		<-exited
		t.Errorf("%s: did not exit within %v; killed; stderr:\n%s", p.name, procWait, p.stderr.String())
	}
	var ee *exec.ExitError
	switch {
	case p.exitErr == nil:
		return 0
	case errors.As(p.exitErr, &ee):
		return ee.ExitCode()
	}
	t.Errorf("%s: %v", p.name, p.exitErr)
	return -1
}

// kill ends the process at once (by its pid) and waits for it.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill() // an error means it has already exited
	p.finish()
}

// finish closes stdin, waits for the process and for the reader of its
// output; only the first call does it, the others wait for it.
func (p *proc) finish() {
	p.waitOnce.Do(func() {
		p.stdin.Close()
		p.exitErr = p.cmd.Wait()
		close(p.quit)
		<-p.readerDone
	})
}

// runProc runs name with args to completion (bounded by procWait) and
// returns its standard output, standard error and exit code.
func runProc(t *testing.T, stdin string, name string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runProcEnv(t, nil, stdin, name, args...)
}

// runProcEnv is runProc with the variables of env ("NAME=value") added
// to the process's environment.
func runProcEnv(t *testing.T, env []string, stdin string, name string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), procWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(childEnv(), env...)
	cmd.WaitDelay = procWait
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %q: did not finish within %v; stdout:\n%s\nstderr:\n%s", name, args, procWait, out.String(), errb.String())
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("%s %q: %v", name, args, err)
	}
	return out.String(), errb.String(), code
}

// childEnv is the environment of the processes the tests start: this
// one's, with the race detector's pause at exit (a second, by default)
// shortened for the example programs built with it.
func childEnv() []string {
	env := os.Environ()
	if raceEnabled {
		gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=10")
		env = append(env, "GORACE="+gorace)
	}
	return env
}
