//go:build unix

package transport_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/session"
	"github.com/gorpcx/gorpcx/transport"
)

// processTimeout only keeps a broken test from hanging.
const processTimeout = 20 * time.Second

// startChild starts the test binary as a child in mode with cfg.
func startChild(t *testing.T, ctx context.Context, cfg transport.ProcessConfig, mode string) *transport.Process {
	t.Helper()
	cmd, err := childCommand(mode)
	if err != nil {
		t.Fatal(err)
	}
	// A test that fails half way: the process must not outlive it.
	ctx, cancel := context.WithCancel(ctx)
	p, err := cfg.Start(ctx, cmd)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = p.Close()
		_ = p.Wait()
	})
	return p
}

// waitProcess waits for p to end, failing the test if it does not in
// processTimeout, and returns what Wait returned.
func waitProcess(t *testing.T, p *transport.Process) error {
	t.Helper()
	ch := make(chan error, 1)
	go func() { ch <- p.Wait() }()
	select {
	case err := <-ch:
		return err
	case <-time.After(processTimeout):
		t.Fatalf("process %d has not ended", p.Pid())
		return nil
	}
}

// waitSession waits for s to end and returns its cause.
func waitSession(t *testing.T, s *session.Session) error {
	t.Helper()
	select {
	case <-s.Done():
		return s.Err()
	case <-time.After(processTimeout):
		t.Fatal("session has not ended")
		return nil
	}
}

// checkReaped fails the test unless pid, a child of this process, has
// been waited for: still running or a zombie, wait4 would not answer
// ECHILD.
func checkReaped(t *testing.T, pid int) {
	t.Helper()
	var ws syscall.WaitStatus
	got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
	if !errors.Is(err, syscall.ECHILD) {
		t.Errorf("wait4(%d) = %d, %v: want ECHILD (the process was waited for)", pid, got, err)
	}
}

// clientOver starts a client session over p with newline framing.
func clientOver(p *transport.Process) *session.Session {
	return session.New(framing.NewStream(framing.Newline{}, p), &session.Options{Side: session.Client})
}

// TestProcessSession calls a JSON-RPC server running as a child over
// its standard input and output; Close ends the child (which exits by
// itself when its input ends) and leaves no zombie and no goroutine.
func TestProcessSession(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), processTimeout)
	defer cancel()
	p := startChild(t, ctx, transport.ProcessConfig{}, "echo")
	client := clientOver(p)

	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"string", "hello", `"hello"`},
		{"number", 42, `42`},
		{"object", map[string]any{"a": []int{1, 2}}, `{"a":[1,2]}`},
		{"null", nil, `null`},
		{"large", strings.Repeat("y", 200_000), `"` + strings.Repeat("y", 200_000) + `"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got jsonRaw
			if err := client.Call(ctx, "echo", []any{tc.v}, &got); err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("echo = %.60s, want %.60s", got, tc.want)
			}
		})
	}
	var pid int
	if err := client.Call(ctx, "pid", nil, &pid); err != nil {
		t.Fatal(err)
	}
	if pid != p.Pid() {
		t.Errorf("the child says its PID is %d, Pid() = %d", pid, p.Pid())
	}

	if err := client.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := client.Wait(); !errors.Is(err, session.ErrClosed) {
		t.Errorf("session ended with %v, want ErrClosed", err)
	}
	// The session is done only once the process has exited (by itself,
	// with status 0, when its standard input ended) and been waited for.
	checkReaped(t, pid)
	if err := p.Wait(); err != nil {
		t.Errorf("Wait = %v, want nil (the child exits 0 at the end of its input)", err)
	}
	if got := string(p.Stderr()); !strings.Contains(got, "session ended: EOF") {
		t.Errorf("the child's standard error %q does not say its session saw EOF", got)
	}
	goleak.VerifyNone(t)
}

// jsonRaw keeps a result as it came.
type jsonRaw []byte

func (r *jsonRaw) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

// TestProcessExitStatus: a child that exits with status 3 ends the
// client's session with an *ExitError that says so, with the child's
// last line of standard error.
func TestProcessExitStatus(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), processTimeout)
	defer cancel()
	p := startChild(t, ctx, transport.ProcessConfig{}, "echo")
	client := clientOver(p)
	err := client.Call(ctx, "exit", []int{3}, nil)
	var ce *session.ConnectionError
	if !errors.As(err, &ce) {
		t.Fatalf("call = %v, want a ConnectionError", err)
	}
	cause := waitSession(t, client)
	var ee *transport.ExitError
	if !errors.As(cause, &ee) {
		t.Fatalf("session ended with %v (%T), want an *ExitError", cause, cause)
	}
	if ee.ExitCode() != 3 {
		t.Errorf("ExitCode = %d, want 3", ee.ExitCode())
	}
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("the pending call's error %v does not carry the exit", err)
	}
	var xe *exec.ExitError
	if !errors.As(cause, &xe) || xe.ExitCode() != 3 {
		t.Errorf("errors.As(*exec.ExitError) on %v: %v", cause, xe)
	}
	if ee.Pid != p.Pid() || ee.Cause != nil {
		t.Errorf("Pid %d (want %d), Cause %v (want nil)", ee.Pid, p.Pid(), ee.Cause)
	}
	msg := cause.Error()
	for _, want := range []string{"exit status 3", `stderr "exiting with status 3"`, "(pid "} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if !bytes.Contains(ee.Stderr, []byte("exiting with status 3\n")) {
		t.Errorf("ExitError.Stderr = %q", ee.Stderr)
	}
	if err := p.Wait(); err != cause {
		t.Errorf("Wait = %v, want the session's cause", err)
	}
	checkReaped(t, p.Pid())
}

// TestProcessStderrBounded: standard error is kept up to StderrLimit,
// the last bytes.
func TestProcessStderrBounded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), processTimeout)
	defer cancel()
	const limit = 1000
	p := startChild(t, ctx, transport.ProcessConfig{StderrLimit: limit}, "echo")
	client := clientOver(p)
	for _, n := range []int{10, 300_000} {
		if err := client.Call(ctx, "stderr", []int{n}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	if err := waitProcess(t, p); err != nil {
		t.Fatal(err)
	}
	got := p.Stderr()
	if len(got) != limit {
		t.Errorf("kept %d bytes of standard error, want %d", len(got), limit)
	}
	// The end: "xxx…\nlast line\nsession ended: EOF\n".
	tail := "\nlast line\nsession ended: EOF\n"
	if !strings.HasSuffix(string(got), tail) || strings.Trim(string(got[:len(got)-len(tail)]), "x") != "" {
		t.Errorf("kept %q…%q", got[:20], got[len(got)-40:])
	}
}

// TestProcessStderrNotKept: with a negative limit, or a Stderr of the
// caller's, nothing is kept.
func TestProcessStderrNotKept(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), processTimeout)
	defer cancel()
	var own bytes.Buffer
	for _, tc := range []struct {
		name   string
		cfg    transport.ProcessConfig
		stderr io.Writer
	}{
		{"negative limit", transport.ProcessConfig{StderrLimit: -1}, nil},
		{"caller's Stderr", transport.ProcessConfig{}, &own},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd, err := childCommand("echo")
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = tc.stderr
			p, err := tc.cfg.Start(ctx, cmd)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			if err := waitProcess(t, p); err != nil {
				t.Fatal(err)
			}
			if got := p.Stderr(); got != nil {
				t.Errorf("Stderr = %q, want nil", got)
			}
		})
	}
	if !strings.Contains(own.String(), "session ended: EOF") {
		t.Errorf("the caller's Stderr got %q", own.String())
	}
}

// readyChild starts a child in mode and waits for its "ready" line,
// read through p (Read before the exit).
func readyChild(t *testing.T, cfg transport.ProcessConfig, mode string) *transport.Process {
	t.Helper()
	p := startChild(t, context.Background(), cfg, mode)
	line, err := bufio.NewReader(p).ReadString('\n')
	if line != "ready\n" {
		t.Fatalf("child said %q, %v", line, err)
	}
	return p
}

// TestProcessCloseEscalates: a child that ignores the end of its input
// is sent SIGTERM after the grace period; one that also ignores SIGTERM
// is killed one more grace period later. Close never blocks.
func TestProcessCloseEscalates(t *testing.T) {
	for _, tc := range []struct {
		mode, signal string
		grace        time.Duration
		cause        error
	}{
		{"ignore-stdin", "signal: terminated", 50 * time.Millisecond, transport.ErrGraceExpired},
		{"ignore-term", "signal: killed", 50 * time.Millisecond, transport.ErrGraceExpired},
		{"ignore-term", "signal: killed", -1, nil}, // no grace: killed at once
	} {
		t.Run(tc.mode+"/"+tc.grace.String(), func(t *testing.T) {
			p := readyChild(t, transport.ProcessConfig{Grace: tc.grace}, tc.mode)
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			err := waitProcess(t, p)
			var ee *transport.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("Wait = %v, want an *ExitError", err)
			}
			if ee.State.String() != tc.signal || ee.ExitCode() != -1 {
				t.Errorf("ended with %v (code %d), want %s", ee.State, ee.ExitCode(), tc.signal)
			}
			if ee.Cause != tc.cause {
				t.Errorf("Cause = %v, want %v", ee.Cause, tc.cause)
			}
			// Read after the end: the exit.
			if n, rerr := p.Read(make([]byte, 10)); n != 0 || rerr != err {
				t.Errorf("Read = %d, %v, want the exit", n, rerr)
			}
			checkReaped(t, p.Pid())
		})
	}
}

// TestProcessContextKills: the context's end kills the child; the
// client session ends with an *ExitError that matches the context's
// error.
func TestProcessContextKills(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := startChild(t, ctx, transport.ProcessConfig{}, "echo")
	client := clientOver(p)
	callCtx, callCancel := context.WithTimeout(context.Background(), processTimeout)
	defer callCancel()
	if err := client.Call(callCtx, "echo", []int{1}, nil); err != nil {
		t.Fatal(err)
	}
	cancel()
	cause := waitSession(t, client)
	var ee *transport.ExitError
	if !errors.As(cause, &ee) || !errors.Is(cause, context.Canceled) {
		t.Fatalf("session ended with %v, want an *ExitError matching context.Canceled", cause)
	}
	if ee.ExitCode() != -1 || ee.State.String() != "signal: killed" {
		t.Errorf("ended with %v", ee.State)
	}
	if !strings.Contains(cause.Error(), "ended by this side: context canceled") {
		t.Errorf("message %q", cause)
	}
	checkReaped(t, p.Pid())
}

// TestProcessCloseWrite: half-close; the child finishes its work and
// exits 0; Read ends with io.EOF.
func TestProcessCloseWrite(t *testing.T) {
	p := startChild(t, context.Background(), transport.ProcessConfig{}, "cat")
	data := bytes.Repeat([]byte("0123456789"), 20_000) // past a pipe's buffer
	werr := make(chan error, 1)
	go func() {
		_, err := p.Write(data)
		if err == nil {
			err = p.CloseWrite()
		}
		werr <- err
	}()
	got, err := io.ReadAll(p)
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("read %d bytes, want %d", len(got), len(data))
	}
	if n, err := p.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("Read after the end = %d, %v", n, err)
	}
	if _, err := p.Write([]byte("x")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after CloseWrite = %v, want os.ErrClosed", err)
	}
	if err := p.Wait(); err != nil {
		t.Errorf("Wait = %v", err)
	}
	checkReaped(t, p.Pid())
}

// TestProcessWriteAfterExit: writing to a process that exited (status
// 0, without reading) returns its exit, not a broken pipe; Read gives
// io.EOF.
func TestProcessWriteAfterExit(t *testing.T) {
	p := startChild(t, context.Background(), transport.ProcessConfig{}, "exit0")
	if err := waitProcess(t, p); err != nil {
		t.Fatal(err)
	}
	_, err := p.Write([]byte("{}\n"))
	var ee *transport.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 0 {
		t.Errorf("Write = %v, want an *ExitError with status 0", err)
	}
	if n, err := p.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Errorf("Read = %d, %v, want io.EOF", n, err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	checkReaped(t, p.Pid())
}

// TestProcessDescendantHoldsStdout: a child that exits while a process
// it started keeps its standard output open does not hold the read side
// past the grace period.
func TestProcessDescendantHoldsStdout(t *testing.T) {
	p := startChild(t, context.Background(), transport.ProcessConfig{Grace: 100 * time.Millisecond}, "grandchild")
	r := bufio.NewReader(p)
	line, err := r.ReadBytes('\n')
	if err != nil {
		t.Fatal(err)
	}
	gpid, err := pidLine(line)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(gpid, syscall.SIGKILL) })
	done := make(chan error, 1)
	go func() {
		_, err := r.ReadByte()
		done <- err
	}()
	select {
	case err := <-done:
		if err != io.EOF {
			t.Errorf("Read = %v, want io.EOF", err)
		}
	case <-time.After(processTimeout):
		t.Fatal("Read held by the grandchild")
	}
	if err := syscall.Kill(gpid, 0); err != nil {
		t.Errorf("the grandchild should still run: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Error(err)
	}
	checkReaped(t, p.Pid())
}

// TestStartErrors: what cannot be started is a *StartError.
func TestStartErrors(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	started := exec.Command("true")
	if err := started.Start(); err != nil {
		t.Fatal(err)
	}
	defer started.Wait()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		cmd  *exec.Cmd
		is   error
		msg  string
	}{
		{"nil", context.Background(), nil, nil, "transport: start : nil command"},
		{"stdin", context.Background(), &exec.Cmd{Path: "/bin/cat", Stdin: strings.NewReader("")}, nil, "transport: start cat: command has a Stdin of its own"},
		{"stdout", context.Background(), &exec.Cmd{Path: "/bin/cat", Stdout: io.Discard}, nil, "transport: start cat: command has a Stdout of its own"},
		{"started", context.Background(), started, nil, "already started"},
		{"not found", context.Background(), exec.Command("gorpcx-no-such-program"), exec.ErrNotFound, "gorpcx-no-such-program"},
		{"context ended", canceled, exec.Command("true"), context.Canceled, "context canceled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := transport.ProcessConfig{}.Start(tc.ctx, tc.cmd)
			var se *transport.StartError
			if p != nil || !errors.As(err, &se) {
				t.Fatalf("Start = %v, %v, want a *StartError", p, err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("%v does not match %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("message %q lacks %q", err, tc.msg)
			}
		})
	}
}

// TestStdioClose: a server on transport.Stdio whose session is closed
// by a handler, while the peer keeps its standard input open: the
// blocked Read returns, the peer reads the end of the stream while the
// child still runs, and standard input and output point at /dev/null.
func TestStdioClose(t *testing.T) {
	cmd, err := childCommand("stdio-close")
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// One Wait, once standard output has been read to its end; exited
	// is closed when it has returned waitErr.
	var waitErr error
	exited := make(chan struct{})
	readOut := make(chan struct{})
	go func() {
		<-readOut
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-readOut:
		default:
			close(readOut)
		}
		<-exited
	})
	defer stdin.Close()
	if _, err := io.WriteString(stdin, `{"jsonrpc":"2.0","id":1,"method":"close"}`+"\n"); err != nil {
		t.Fatal(err)
	}
	out := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(stdout)
		out <- b
	}()
	select {
	case b := <-out:
		if want := `{"jsonrpc":"2.0","result":"closing","id":1}` + "\n"; string(b) != want {
			t.Errorf("child wrote %q, want %q", b, want)
		}
	case <-time.After(processTimeout):
		t.Fatal("the child's standard output did not end")
	}
	close(readOut)
	// Still running: it exits 7 on SIGTERM, once its session has ended.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		err = waitErr
	case <-time.After(processTimeout):
		t.Fatal("the child has not exited: its session has not ended")
	}
	var xe *exec.ExitError
	if !errors.As(err, &xe) || xe.ExitCode() != 7 {
		t.Fatalf("child ended with %v, want status 7; stderr:\n%s", err, stderr.String())
	}
	want := strings.Join([]string{
		"session ended: session closed",
		"second Stdio in use: true",
		"stdin after close: 0 EOF",
		"stdout after close: 20 <nil>",
		"Stdio again: <nil>",
		"waiting for SIGTERM",
	}, "\n") + "\n"
	if got := stderr.String(); got != want {
		t.Errorf("child reported:\n%s\nwant:\n%s", got, want)
	}
}
