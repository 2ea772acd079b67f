package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/protocol"
	"github.com/gorpcx/gorpcx/session"
)

// minBackoff is the first wait before connecting again.
const minBackoff = 250 * time.Millisecond

// backoff is an exponential back-off with jitter: each wait is drawn
// between half and all of a bound that doubles from minBackoff up to
// max.
type backoff struct {
	max   time.Duration
	bound time.Duration
}

// next returns the next wait and doubles the bound.
func (b *backoff) next() time.Duration {
	if b.bound < minBackoff {
		b.bound = minBackoff
	}
	d := b.bound/2 + rand.N(b.bound/2+1)
	b.bound = min(2*b.bound, b.max)
	return d
}

// reset starts the waits from minBackoff again.
func (b *backoff) reset() { b.bound = minBackoff }

// lineWriter writes whole lines to w, one at a time.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// line writes b and a newline.
func (lw *lineWriter) line(b []byte) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	lw.w.Write(append(b, '\n'))
}

// notification is the line printed for a notification.
type notification struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

// resultLine is the line printed for METHOD's result.
type resultLine struct {
	Result json.RawMessage `json:"result"`
}

// watch calls cfg.method, prints its result and every notification,
// and connects and calls again whenever the connection is lost, until
// ctx ends (status 0) or an error that trying again cannot mend.
func watch(ctx context.Context, cfg *config, stdout, stderr io.Writer) int {
	out := &lineWriter{w: stdout}
	bo := backoff{max: cfg.backoffMax}
	for {
		status, retry := watchOnce(ctx, cfg, out, stderr, &bo)
		if !retry || ctx.Err() != nil {
			if ctx.Err() != nil {
				return exitOK
			}
			return status
		}
		wait := bo.next()
		fmt.Fprintf(stderr, "rpccall: connecting again in %v\n", wait.Round(time.Millisecond))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return exitOK
		case <-t.C:
		}
	}
}

// watchOnce connects, calls the method, prints the result and then the
// notifications until the connection ends or ctx does. It returns the
// exit status of a failure and whether to try again.
func watchOnce(ctx context.Context, cfg *config, out *lineWriter, stderr io.Writer, bo *backoff) (status int, retry bool) {
	// Notifications wait for the result's line to be printed first:
	// the server may push one before Call has returned.
	printed := make(chan struct{})
	handler := session.HandlerFunc(func(hctx context.Context, req *jsonrpc2.Request) (any, error) {
		if !req.Notif {
			return nil, &jsonrpc2.Error{Code: jsonrpc2.CodeMethodNotFound, Message: "rpccall serves no methods"}
		}
		select {
		case <-printed:
		case <-hctx.Done():
			return nil, nil
		}
		n := notification{Method: req.Method, Params: json.RawMessage("null")}
		if req.Params != nil {
			n.Params = *req.Params
		}
		line, err := json.Marshal(n)
		if err != nil { // params that are not JSON cannot be decoded in the first place
			return nil, nil
		}
		out.line(line)
		return nil, nil
	})

	dctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	d := cfg.dial
	// One at a time, so that they are printed in the order received.
	d.opts.Concurrency = 1
	client, err := d.dial(dctx, handler)
	if err != nil {
		if ctx.Err() != nil {
			return exitOK, false
		}
		reportDial(stderr, err)
		var he *handshakeError
		return exitConnection, !(errors.As(err, &he) && he.fatal)
	}
	defer client.Abort()

	var result json.RawMessage
	err = client.Call(dctx, cfg.method, paramsOf(cfg.params), &result)
	if err != nil {
		if ctx.Err() != nil {
			return exitOK, false
		}
		status := report(stderr, "rpccall: "+cfg.method+": ", err, cfg.timeout)
		var rpcErr *jsonrpc2.Error
		var pe *protocol.ProtocolError
		return status, !errors.As(err, &rpcErr) && !errors.As(err, &pe)
	}
	line, err := json.Marshal(resultLine{Result: result})
	if err != nil {
		line = fmt.Appendf(nil, `{"result": %q}`, result)
	}
	out.line(line)
	close(printed)
	bo.reset()

	select {
	case <-ctx.Done():
		return exitOK, false
	case <-client.Done():
	}
	fmt.Fprintf(stderr, "rpccall: connection lost: %v\n", client.Err())
	return exitConnection, true
}
