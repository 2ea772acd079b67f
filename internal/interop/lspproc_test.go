package interop

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"testing"
	"time"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/session"
	"github.com/gorpcx/gorpcx/transport"
)

// lspPeer is a language server run as a child process, and a client
// session over its standard input and output with LSP's framing.
type lspPeer struct {
	*session.Session
	process *transport.Process
}

// startLSP starts cmd and a session with options o over it. The
// session, and with it the process, is ended when the test ends, if the
// test has not seen it end.
func startLSP(t *testing.T, cmd *exec.Cmd, o *session.Options) *lspPeer {
	t.Helper()
	p, err := transport.StartCommand(context.Background(), cmd)
	if err != nil {
		t.Fatal(err)
	}
	s := session.New(framing.NewStream(framing.ContentLength{}, p), o)
	t.Cleanup(func() {
		s.Abort()
		<-s.Done()
		p.Wait()
	})
	return &lspPeer{Session: s, process: p}
}

// checkExit waits for the process to exit by itself (within procWait)
// and checks that its status was 0, and that the session ended with it.
func (p *lspPeer) checkExit(t *testing.T) {
	t.Helper()
	start := time.Now()
	select {
	case <-p.Done():
	case <-time.After(procWait):
		t.Fatalf("the session did not end within %v; the process's standard error:\n%s", procWait, p.process.Stderr())
	}
	if err := p.process.Wait(); err != nil {
		t.Fatalf("the process ended with %v; want status 0", err)
	}
	// A process that exits with status 0 ends its output with io.EOF.
	if err := p.Err(); !errors.Is(err, io.EOF) {
		t.Errorf("the session ended with %v, want io.EOF", err)
	}
	t.Logf("the process exited with status 0, %v after exit was sent; the session ended with %v",
		time.Since(start).Round(time.Millisecond), p.Err())
}
