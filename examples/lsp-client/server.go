package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/session"
	"github.com/gorpcx/gorpcx/transport"
)

// server is the language server: its process, and the session over
// the process's standard input and output.
type server struct {
	process *transport.Process
	session *session.Session
}

// startServer starts the command of the command line as a child
// process, its standard error going to stderr, and a client session
// over its standard input and output with LSP's framing, serving d.
// The session owns the process: closing the session ends it (its
// standard input closed first, then SIGTERM, then SIGKILL, a few
// seconds apart), and the process's exit ends the session.
func startServer(cfg *config, d *diagnostics, stderr io.Writer) (*server, error) {
	cmd := exec.Command(cfg.command[0], cfg.command[1:]...)
	cmd.Stderr = stderr
	p, err := transport.StartCommand(context.Background(), cmd)
	if err != nil {
		return nil, err
	}
	s := session.New(framing.NewStream(framing.ContentLength{}, p), &session.Options{
		Side:           session.Client,
		Name:           "lsp",
		Peer:           fmt.Sprintf("%s[%d]", cfg.command[0], p.Pid()),
		Handler:        methods(d),
		RequestTimeout: cfg.timeout,
	})
	return &server{process: p, session: s}, nil
}

// stop ends the session and the server, if they have not ended, and
// waits for the server's exit: no process is left behind, whatever
// went wrong.
func (s *server) stop() {
	s.session.Abort()
	s.process.Wait()
}

// wait waits until the server has exited after the exit notification
// and returns nil if its status was 0, else a *transport.ExitError. If
// it has not exited when ctx ends, it is ended and wait returns an
// error saying so.
func (s *server) wait(ctx context.Context) error {
	select {
	case <-s.session.Done(): // the process's output ended: it exited
	case <-ctx.Done():
		s.session.Abort()
		s.process.Wait()
		return errors.New("did not exit after the exit notification, and was ended")
	}
	return s.process.Wait()
}
