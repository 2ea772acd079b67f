package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Defaults of [ProcessConfig].
const (
	// DefaultProcessGrace is how long a process is given at each step
	// of ending it (see [Process.Close]).
	DefaultProcessGrace = 5 * time.Second
	// DefaultStderrLimit is how many bytes of a process's standard
	// error are kept: the last ones it wrote.
	DefaultStderrLimit = 64 << 10
)

// ErrGraceExpired is matched (with errors.Is) by the [*ExitError] of a
// process that had to be signalled because it had not exited within
// its grace period after its standard input was closed by
// [Process.Close].
var ErrGraceExpired = errors.New("transport: process still running a grace period after its standard input was closed")

// ProcessConfig starts programs to talk to over their standard input
// and output. The zero ProcessConfig uses the defaults.
type ProcessConfig struct {
	// Grace is how long the process is given at each step of ending
	// it: to exit after [Process.Close] closed its standard input, then
	// after SIGTERM, before SIGKILL. It is also how long, once the
	// process has exited, its standard output and error are still read
	// while a process it started keeps them open. 0 means
	// DefaultProcessGrace; a negative Grace makes Close kill the
	// process at once (SIGKILL), and leaves the wait after its exit at
	// DefaultProcessGrace.
	Grace time.Duration
	// StderrLimit is how many bytes of the process's standard error
	// are kept, the last ones written, for [Process.Stderr] and
	// [ExitError]: 0 means DefaultStderrLimit; a negative StderrLimit
	// sends standard error to the null device. It applies only when
	// the command's Stderr is nil: a Stderr set by the caller is left
	// as it is.
	StderrLimit int
}

// Command starts the program name with args (found as exec.Command
// finds it) with the default [ProcessConfig], and returns a [*Process]
// to talk to it over its standard input and output. ctx bounds the
// life of the process, as with exec.CommandContext: when it ends the
// process is killed. Errors are those of [ProcessConfig.Start].
func Command(ctx context.Context, name string, args ...string) (*Process, error) {
	return ProcessConfig{}.Start(ctx, exec.Command(name, args...))
}

// StartCommand starts cmd with the default [ProcessConfig]; see
// [ProcessConfig.Start].
func StartCommand(ctx context.Context, cmd *exec.Cmd) (*Process, error) {
	return ProcessConfig{}.Start(ctx, cmd)
}

// Start starts cmd, which must not have been started and must have no
// Stdin or Stdout of its own, and returns a [*Process] that writes to
// the process's standard input and reads its standard output. Standard
// error is kept in a bounded buffer ([Process.Stderr]) unless cmd.Stderr
// is set; if it is set to anything but an *os.File and cmd.WaitDelay is
// 0, WaitDelay is set to the grace period (DefaultProcessGrace when
// Grace is negative), so that a process it started holding the pipe
// cannot hold up the end (see exec.Cmd.WaitDelay).
//
// ctx bounds the life of the process: when it ends the process is
// killed at once (SIGKILL, as exec.CommandContext does), and the read
// side ends with an [*ExitError] that matches ctx's error (its cause,
// context.Cause). A cmd made with exec.CommandContext is also killed
// when its own context ends, by exec.
//
// Start returns a [*StartError]: for a nil cmd, one already started, or
// with Stdin or Stdout set, or wrapping the error of starting it (which
// matches exec.ErrNotFound for a program not found, and ctx's error if
// ctx has already ended).
func (c ProcessConfig) Start(ctx context.Context, cmd *exec.Cmd) (*Process, error) {
	if cmd == nil {
		return nil, &StartError{Err: errors.New("nil command")}
	}
	name := commandName(cmd)
	switch {
	case cmd.Process != nil:
		return nil, &StartError{Command: name, Err: errors.New("command already started")}
	case cmd.Stdin != nil:
		return nil, &StartError{Command: name, Err: errors.New("command has a Stdin of its own")}
	case cmd.Stdout != nil:
		return nil, &StartError{Command: name, Err: errors.New("command has a Stdout of its own")}
	}
	if err := ctx.Err(); err != nil {
		return nil, &StartError{Command: name, Err: context.Cause(ctx)}
	}
	grace := c.Grace
	if grace == 0 {
		grace = DefaultProcessGrace
	}
	drain := grace
	if drain < 0 {
		drain = DefaultProcessGrace
	}
	p := &Process{
		cmd:    cmd,
		name:   name,
		grace:  grace,
		drain:  drain,
		exited: make(chan struct{}),
		done:   make(chan struct{}),
	}
	// The child's ends, closed here once it has them.
	var child []*os.File
	closeAll := func(fs ...*os.File) {
		for _, f := range fs {
			if f != nil {
				f.Close()
			}
		}
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, &StartError{Command: name, Err: err}
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		closeAll(inR, inW)
		return nil, &StartError{Command: name, Err: err}
	}
	child = append(child, inR, outW)
	p.stdin, p.stdout = inW, outR
	cmd.Stdin, cmd.Stdout = inR, outW
	if cmd.Stderr == nil && c.StderrLimit >= 0 {
		limit := c.StderrLimit
		if limit == 0 {
			limit = DefaultStderrLimit
		}
		errR, errW, err := os.Pipe()
		if err != nil {
			closeAll(inR, inW, outR, outW)
			return nil, &StartError{Command: name, Err: err}
		}
		child = append(child, errW)
		p.errPipe = errR
		p.stderr = &tailBuffer{limit: limit}
		cmd.Stderr = errW
	} else if _, isFile := cmd.Stderr.(*os.File); cmd.Stderr != nil && !isFile && cmd.WaitDelay == 0 {
		cmd.WaitDelay = drain
	}
	err = cmd.Start()
	closeAll(child...)
	if err != nil {
		closeAll(p.stdin, p.stdout, p.errPipe)
		return nil, &StartError{Command: name, Err: err}
	}
	p.pid = cmd.Process.Pid
	if p.errPipe != nil {
		p.errDone = make(chan struct{})
		go p.readStderr()
	}
	if ctx.Done() != nil {
		p.stopCtx = context.AfterFunc(ctx, func() { p.cancel(context.Cause(ctx)) })
	}
	go p.wait()
	return p, nil
}

// commandName is how messages name cmd: the base name of its path.
func commandName(cmd *exec.Cmd) string {
	if cmd.Path != "" {
		return filepath.Base(cmd.Path)
	}
	if len(cmd.Args) > 0 {
		return cmd.Args[0]
	}
	return ""
}

// Process is a running program that this side talks to over its
// standard input and output, made by [Command], [StartCommand] or
// [ProcessConfig.Start]: an io.ReadWriteCloser whose Read reads the
// process's standard output and whose Write writes to its standard
// input, so that a session runs over it with
// framing.NewStream(framer, process).
//
// The process's exit is the end of the read side. Read returns what
// the process wrote, then, once its standard output has ended and it
// has exited, io.EOF if it exited with status 0, else an [*ExitError]
// (also when this side killed it). A Write that fails because the
// process is gone returns the same *ExitError, or one with status 0,
// rather than a broken pipe. So a session over a Process ends with the
// process's exit as its cause ([ExitError.ExitCode] gives the status).
//
// Call Close when done with a Process (a session over it does): it
// ends the process, and releases the pipes once the process has exited.
// One goroutine may read while others write; Close, CloseWrite and the
// other methods may be called from any goroutine, any number of times.
type Process struct {
	cmd   *exec.Cmd
	name  string
	pid   int
	grace time.Duration // < 0: kill at once on Close
	drain time.Duration // how long the pipes are read after the exit

	stdin   *os.File // our end of the process's standard input
	stdout  *os.File // our end of its standard output
	errPipe *os.File // our end of its standard error, or nil
	stderr  *tailBuffer
	errDone chan struct{} // closed when readStderr returns; nil without errPipe
	stopCtx func() bool   // stops the context's AfterFunc; nil without one

	// exited is closed when the process has exited and been waited for;
	// done when, in addition, its standard error has been read and
	// exitErr is set.
	exited chan struct{}
	done   chan struct{}
	// exitErr is the process's exit as an error: nil for status 0. Set
	// before done is closed, read after.
	exitErr *ExitError
	// eofErr is what Read returns at the end: io.EOF or exitErr.
	eofErr error
	// anyExit is the error of a Write that found the process gone: the
	// exit, status 0 included. Set before done is closed.
	anyExit *ExitError

	mu         sync.Mutex
	hasExited  bool        // under mu: wait has seen the exit
	closed     bool        // under mu: Close was called
	userClosed bool        // under mu: the caller closed standard input
	reason     error       // under mu: why this side ended the process
	timer      *time.Timer // under mu: the next step of ending it

	inOnce, outOnce sync.Once
	inErr           error
}

// Pid returns the process's ID.
func (p *Process) Pid() int { return p.pid }

// Read reads the process's standard output. At its end, once the
// process has exited, it returns io.EOF if the process exited with
// status 0, else its [*ExitError]; it waits for the exit, so a process
// that closes its standard output and goes on running holds Read until
// it exits or is ended by Close or the context. A process it started
// that keeps the pipe open does not hold Read longer than the grace
// period after the process exited: what is still unread by then is
// dropped (Unix; as with exec.Cmd.WaitDelay). After the end, Read
// returns the same error again. Read is for one goroutine at a time.
func (p *Process) Read(b []byte) (int, error) {
	n, err := p.stdout.Read(b)
	if err == nil || n > 0 {
		return n, nil
	}
	// The end of the stream, the deadline set at the exit, or the pipe
	// closed by Close after the exit: in each case the process is gone
	// or going, and its exit is the answer.
	if errors.Is(err, io.EOF) || errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, os.ErrClosed) {
		<-p.done
		p.closeStdout()
		return 0, p.eofErr
	}
	return 0, err
}

// Write writes b to the process's standard input. If the process has
// exited, or exits within the grace period of a failed write, it
// returns the process's [*ExitError] (status 0 included) instead of a
// broken pipe. After Close or CloseWrite it returns an error matching
// os.ErrClosed.
func (p *Process) Write(b []byte) (int, error) {
	n, err := p.stdin.Write(b)
	if err == nil {
		return n, nil
	}
	p.mu.Lock()
	userClosed := p.userClosed
	p.mu.Unlock()
	if userClosed {
		return n, err
	}
	t := time.NewTimer(p.drain)
	defer t.Stop()
	select {
	case <-p.done:
		return n, p.anyExit
	case <-t.C:
		return n, err
	}
}

// CloseWrite closes the process's standard input, so that it reads the
// end of its input, while its output can still be read: a program such
// as cat or a filter then finishes its work and exits. It does not end
// the process. It returns the error of closing the pipe the first time,
// nil afterwards.
func (p *Process) CloseWrite() error {
	p.mu.Lock()
	p.userClosed = true
	p.mu.Unlock()
	return p.closeStdin()
}

// Close ends the process and returns at once, without waiting for it:
//
//  1. it closes the process's standard input, which tells a well
//     behaved JSON-RPC peer (a language server, a tool server) to exit;
//  2. if the process has not exited within the grace period
//     ([ProcessConfig].Grace, 5 s by default), it is sent SIGTERM (on
//     Windows, which has no SIGTERM, it is killed);
//  3. if it has still not exited one more grace period later, it is
//     killed (SIGKILL).
//
// With a negative Grace it is killed at once. A goroutine of the
// Process waits for the exit (so no zombie is left) and the steps are
// timers, so Close never blocks, which a session needs of its stream's
// Close; [Process.Wait] waits for the end. Processes the process
// started are not signalled.
//
// Read goes on returning what the process writes until it exits, then
// its end as described there: a session over a Process is done only
// once the process has exited and everything of it is released. Close
// returns the error of closing standard input, or nil; calling it
// again returns nil.
func (p *Process) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.userClosed = true
	exited := p.hasExited
	kill := false
	if !exited && p.timer == nil {
		if p.grace < 0 {
			kill = true
		} else {
			p.timer = time.AfterFunc(p.grace, p.terminate)
		}
	}
	p.mu.Unlock()
	err := p.closeStdin()
	if kill {
		p.kill(nil)
	}
	if exited {
		p.closeStdout()
	}
	return err
}

// Wait waits until the process has exited and its standard error has
// been read, and returns nil if it exited with status 0, else its
// [*ExitError]. It does not end the process (see Close) and may be
// called any number of times, from any goroutine.
func (p *Process) Wait() error {
	<-p.done
	if p.exitErr == nil {
		return nil
	}
	return p.exitErr
}

// Stderr returns a copy of the last bytes the process wrote to its
// standard error, up to [ProcessConfig].StderrLimit (64 KiB by
// default); earlier ones are dropped. It may be called at any time,
// also after the process has exited. It returns nil when standard
// error is not kept (the command had a Stderr of its own, or
// StderrLimit is negative).
func (p *Process) Stderr() []byte {
	if p.stderr == nil {
		return nil
	}
	return p.stderr.bytes()
}

// closeStdin closes our end of the process's standard input, once.
func (p *Process) closeStdin() error {
	p.inOnce.Do(func() { p.inErr = p.stdin.Close() })
	return p.inErr
}

// closeStdout closes our end of the process's standard output, once:
// after the end was read, or by Close after the exit.
func (p *Process) closeStdout() {
	p.outOnce.Do(func() { p.stdout.Close() })
}

// terminate is the second step of Close: SIGTERM, and the third one
// armed.
func (p *Process) terminate() {
	p.mu.Lock()
	if p.hasExited {
		p.mu.Unlock()
		return
	}
	if p.reason == nil {
		p.reason = ErrGraceExpired
	}
	p.timer = time.AfterFunc(p.grace, func() { p.kill(nil) })
	p.mu.Unlock()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		// No SIGTERM here (Windows): the next step at once.
		p.kill(nil)
	}
}

// kill kills the process; reason, if not nil, is why (when no other
// reason was recorded first).
func (p *Process) kill(reason error) {
	p.mu.Lock()
	if p.hasExited {
		p.mu.Unlock()
		return
	}
	if p.reason == nil {
		p.reason = reason
	}
	p.mu.Unlock()
	// After the exit was seen this returns os.ErrProcessDone: the
	// process handle never signals a reused ID.
	_ = p.cmd.Process.Kill()
}

// cancel runs when the context ends.
func (p *Process) cancel(cause error) { p.kill(cause) }

// wait waits for the process to exit, then releases what waits on it.
func (p *Process) wait() {
	err := p.cmd.Wait()
	if p.stopCtx != nil {
		p.stopCtx()
	}
	p.mu.Lock()
	p.hasExited = true
	if p.timer != nil {
		p.timer.Stop()
	}
	closed := p.closed
	reason := p.reason
	p.mu.Unlock()
	// A process it started may hold the pipes open: read them no
	// longer than drain from now (where the system has deadlines on
	// pipes; elsewhere these fail and the pipes end when it closes
	// them).
	deadline := time.Now().Add(p.drain)
	_ = p.stdout.SetReadDeadline(deadline)
	if p.errPipe != nil {
		_ = p.errPipe.SetReadDeadline(deadline)
	}
	// Nobody can read what is written now: a Write fails at once.
	p.closeStdin()
	close(p.exited)
	if p.errDone != nil {
		<-p.errDone
	}
	state := p.cmd.ProcessState
	e := &ExitError{
		Command: p.name,
		Pid:     p.pid,
		State:   state,
		Err:     err,
		Cause:   reason,
	}
	if p.stderr != nil {
		e.Stderr = p.stderr.bytes()
	}
	p.anyExit = e
	p.eofErr = io.EOF
	if err != nil || state == nil || !state.Success() {
		p.exitErr = e
		p.eofErr = e
	}
	if closed {
		p.closeStdout()
	}
	close(p.done)
}

// readStderr keeps the tail of the process's standard error until the
// pipe ends, or fails (closed, or past the deadline set at the exit).
func (p *Process) readStderr() {
	defer close(p.errDone)
	defer p.errPipe.Close()
	buf := make([]byte, 4096)
	for {
		n, err := p.errPipe.Read(buf)
		p.stderr.write(buf[:n])
		if err != nil {
			return
		}
	}
}

// StartError is returned by [ProcessConfig.Start], [Command] and
// [StartCommand] when a process cannot be started. It names the
// program and wraps the cause.
type StartError struct {
	// Command is the base name of the program's path.
	Command string
	// Err is the cause: for example an *exec.Error matching
	// exec.ErrNotFound, or the context's error.
	Err error
}

// Error returns "transport: start COMMAND: CAUSE".
func (e *StartError) Error() string {
	return "transport: start " + e.Command + ": " + e.Err.Error()
}

// Unwrap returns Err.
func (e *StartError) Unwrap() error { return e.Err }

// ExitError reports how a process started by [ProcessConfig.Start]
// ended: [Process.Read] returns it at the end of the process's output
// unless the process exited with status 0, [Process.Wait] likewise, and
// [Process.Write] for any exit. errors.As finds the *exec.ExitError of
// a process that exited with another status or was killed by a signal
// (through Err), and errors.Is the context's error when the context
// ended the process, or [ErrGraceExpired] when Close had to signal it
// (through Cause).
type ExitError struct {
	// Command is the base name of the program's path; Pid its process ID.
	Command string
	Pid     int
	// State is the process's exit state, as os/exec reports it.
	State *os.ProcessState
	// Err is the error exec.Cmd.Wait returned: an *exec.ExitError, or
	// nil for a process that exited with status 0.
	Err error
	// Cause is why this side ended the process, if it did: the
	// context's cause when the context ended, ErrGraceExpired when
	// Close signalled it; nil when the process ended by itself
	// (including after its standard input was closed) or was killed
	// by Close with a negative grace period.
	Cause error
	// Stderr is what the process's standard error kept at the exit (see
	// Process.Stderr), or nil.
	Stderr []byte
}

// ExitCode returns the process's exit status, or -1 if it was killed
// by a signal (as os.ProcessState.ExitCode).
func (e *ExitError) ExitCode() int {
	if e.State == nil {
		return -1
	}
	return e.State.ExitCode()
}

// maxStderrLine bounds the stderr line an ExitError's message quotes.
const maxStderrLine = 200

// Error returns "transport: process COMMAND (pid N) STATE", with the
// reason this side ended it when it did, and the last line of its
// standard error, quoted and cut to 200 bytes, when it wrote one; for
// example `transport: process server (pid 42) exit status 3: stderr
// "fatal: no config"`.
func (e *ExitError) Error() string {
	var b bytes.Buffer
	b.WriteString("transport: process ")
	b.WriteString(e.Command)
	b.WriteString(" (pid ")
	b.WriteString(strconv.Itoa(e.Pid))
	b.WriteString(") ")
	switch {
	case e.State != nil:
		b.WriteString(e.State.String())
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	default:
		b.WriteString("exited")
	}
	if e.Err != nil && e.State != nil {
		if _, isExit := e.Err.(*exec.ExitError); !isExit {
			fmt.Fprintf(&b, " (%v)", e.Err)
		}
	}
	if e.Cause != nil {
		b.WriteString(", ended by this side: ")
		b.WriteString(e.Cause.Error())
	}
	if line := lastLine(e.Stderr); len(line) > 0 {
		if len(line) > maxStderrLine {
			line = line[len(line)-maxStderrLine:]
		}
		fmt.Fprintf(&b, ": stderr %q", line)
	}
	return b.String()
}

// Unwrap returns Err and Cause, those that are not nil.
func (e *ExitError) Unwrap() []error {
	var errs []error
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if e.Cause != nil {
		errs = append(errs, e.Cause)
	}
	return errs
}

// lastLine returns the last line of b that is not blank, trimmed.
func lastLine(b []byte) []byte {
	b = bytes.TrimRight(b, " \t\r\n")
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	}
	return bytes.TrimSpace(b)
}

// tailBuffer keeps the last limit bytes written to it, in a ring that
// grows to limit as bytes come.
type tailBuffer struct {
	mu    sync.Mutex
	limit int
	buf   []byte // the bytes kept; once len(buf) == limit, a ring
	start int    // in a full ring, where the oldest byte is
}

func (t *tailBuffer) write(p []byte) {
	if len(p) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(p) >= t.limit {
		if cap(t.buf) < t.limit {
			t.buf = make([]byte, t.limit)
		}
		t.buf = t.buf[:t.limit]
		copy(t.buf, p[len(p)-t.limit:])
		t.start = 0
		return
	}
	if room := t.limit - len(t.buf); room > 0 {
		n := min(room, len(p))
		if len(t.buf)+n > cap(t.buf) {
			grown := make([]byte, len(t.buf), min(t.limit, max(2*cap(t.buf), len(t.buf)+n, 512)))
			copy(grown, t.buf)
			t.buf = grown
		}
		t.buf = append(t.buf, p[:n]...)
		p = p[n:]
	}
	for len(p) > 0 {
		n := copy(t.buf[t.start:], p)
		p = p[n:]
		t.start = (t.start + n) % t.limit
	}
}

// bytes returns a copy of the bytes kept, oldest first.
func (t *tailBuffer) bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]byte, len(t.buf))
	n := copy(out, t.buf[t.start:])
	copy(out[n:], t.buf[:t.start])
	return out
}
