package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/client"
	"github.com/gorpcx/gorpcx/protocol"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// minBackoff is the first wait before connecting again.
const minBackoff = 250 * time.Millisecond

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
// and, through a client.Client that reconnects with back-off, connects
// and calls again whenever the connection is lost, until ctx ends
// (status 0) or an error that trying again cannot mend.
func watch(ctx context.Context, cfg *config, stdout, stderr io.Writer) int {
	out := &lineWriter{w: stdout}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	// status is the exit status of an error that ends the watch; set
	// by the client's goroutine (OnConnect, OnState) before stop.
	var status atomic.Int32
	fail := func(code int) {
		status.CompareAndSwap(0, int32(code))
		stop()
	}
	// printed is closed once the result of the current connection has
	// been printed: its notifications wait for it. Replaced by
	// OnConnect before it calls, so before the server can push.
	var printed atomic.Pointer[chan struct{}]
	first := make(chan struct{})
	printed.Store(&first)
	handler := session.HandlerFunc(func(hctx context.Context, req *jsonrpc2.Request) (any, error) {
		if !req.Notif {
			return nil, &jsonrpc2.Error{Code: jsonrpc2.CodeMethodNotFound, Message: "rpccall serves no methods"}
		}
		select {
		case <-*printed.Load():
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

	d := cfg.dial
	opts := d.opts
	opts.Handler = handler
	// One at a time, so that they are printed in the order received.
	opts.Concurrency = 1
	c, err := client.New(&client.Options{
		Endpoints: []client.Endpoint{{Network: d.network, Address: d.address}},
		Dialer: server.Dialer{
			Via:     tlsDialer{d},
			Timeout: cfg.timeout,
			Framer:  d.framer,
			Options: opts,
		},
		MinBackoff: minBackoff,
		MaxBackoff: cfg.backoffMax,
		OnConnect: func(cctx context.Context, s *session.Session) error {
			ch := make(chan struct{})
			printed.Store(&ch)
			callCtx, cancel := context.WithTimeout(cctx, cfg.timeout)
			defer cancel()
			var result json.RawMessage
			if err := s.Call(callCtx, cfg.method, paramsOf(cfg.params), &result); err != nil {
				if ctx.Err() != nil {
					return err
				}
				code := report(stderr, "rpccall: "+cfg.method+": ", err, cfg.timeout)
				var rpcErr *jsonrpc2.Error
				var pe *protocol.ProtocolError
				if errors.As(err, &rpcErr) || errors.As(err, &pe) {
					fail(code) // the server said no: asking again will not help
				}
				return fmt.Errorf("%w: %w", errCallFailed, err)
			}
			line, err := json.Marshal(resultLine{Result: result})
			if err != nil {
				line = fmt.Appendf(nil, `{"result": %q}`, result)
			}
			out.line(line)
			close(ch)
			return nil
		},
		OnState: func(st client.State) {
			switch st.Kind {
			case client.Disconnected:
				if ctx.Err() == nil {
					fmt.Fprintf(stderr, "rpccall: connection lost: %v\n", st.Err)
				}
			case client.Failed:
				if ctx.Err() != nil {
					return
				}
				var he *handshakeError
				if errors.As(st.Err, &he) {
					reportDial(stderr, st.Err)
					if he.fatal {
						fail(exitConnection)
						return
					}
				} else if st.Err != nil && !errors.Is(st.Err, errCallFailed) {
					reportDial(stderr, st.Err)
				}
				fmt.Fprintf(stderr, "rpccall: connecting again in %v\n", st.Retry.Round(time.Millisecond))
			}
		},
	})
	if err != nil {
		fmt.Fprintf(stderr, "rpccall: %v\n", err)
		return exitUsage
	}
	<-ctx.Done()
	c.Close()
	return int(status.Load())
}

// errCallFailed marks a connection dropped because METHOD failed on it
// (reported when it failed).
var errCallFailed = errors.New("the call failed")

// tlsDialer makes rpccall's connections for the client: the transport
// dial, then the TLS handshake with its hints when -tls is on.
type tlsDialer struct{ d dialer }

// DialContext connects to address and shakes hands.
func (t tlsDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	conn, err := t.d.transport.Dial(ctx, network, address)
	if err != nil {
		return nil, err
	}
	if t.d.tls == nil {
		return conn, nil
	}
	tc, err := t.d.handshake(ctx, conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return tc, nil
}
