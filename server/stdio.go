package server

import (
	"context"
	"errors"
	"io"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/session"
	"github.com/gorpcx/gorpcx/transport"
)

// ServeStdio serves one session on the program's own standard input and
// output (transport.Stdio), for a program started by its peer: a
// language server, a tool server in the style of MCP. Messages are
// framed by f (nil: framing.Newline{}); o gives the session's options
// (nil for the defaults), with Side always session.Server and Peer
// "stdio" unless set. None of a Server's network timeouts apply: the
// peer is the process that started this one.
//
// It returns when the session has ended: nil when the peer closed its
// end (io.EOF) or this side closed the session (a handler's Close, say);
// ctx.Err() when ctx ended, after a graceful close bounded by
// o.CloseTimeout; the error of transport.Stdio; or the cause the
// session ended with. Standard input and output are then released as
// transport.Stdio says (descriptors 0 and 1 point at /dev/null on Unix).
func ServeStdio(ctx context.Context, f framing.Framer, o *session.Options) error {
	pipe, err := transport.Stdio()
	if err != nil {
		return err
	}
	if f == nil {
		f = framing.Newline{}
	}
	var opts session.Options
	if o != nil {
		opts = *o
	}
	opts.Side = session.Server
	if opts.Peer == "" {
		opts.Peer = "stdio"
	}
	s := session.New(framing.NewStream(f, pipe), &opts)
	select {
	case <-s.Done():
	case <-ctx.Done():
		_ = s.Close()
		return ctx.Err()
	}
	err = s.Err()
	if errors.Is(err, io.EOF) || errors.Is(err, session.ErrClosed) {
		return nil
	}
	return err
}
