package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// DefaultMaxMessage is the largest WebSocket message accepted or sent
// when no other limit is set: 1,000,000 bytes, the default of aiorpcX's
// framers (which limit only what they read).
const DefaultMaxMessage = 1_000_000

// DefaultWebSocketPingInterval is how long a WebSocket connection waits
// after a pong (or after it was opened) before it sends the next ping,
// when no other interval is set.
const DefaultWebSocketPingInterval = 30 * time.Second

// DefaultWebSocketPingTimeout is how long a WebSocket connection waits
// for the pong to its ping, when no other timeout is set.
const DefaultWebSocketPingTimeout = 15 * time.Second

// maxHandshake bounds the headers of the server's handshake response
// that a client reads.
const maxHandshake = 64 << 10

// closeTimeout bounds Close: the time to send the close frame and to
// wait for the peer's.
const closeTimeout = time.Second

// ErrWebSocketPingTimeout is the error ReadMessage and WriteMessage
// return once a connection has been closed because the peer did not
// answer a ping within the ping timeout. Its Timeout method reports
// true, as net.Error's does.
var ErrWebSocketPingTimeout error = pingTimeoutError{}

type pingTimeoutError struct{}

func (pingTimeoutError) Error() string {
	return "transport: WebSocket peer did not answer a ping in time"
}

func (pingTimeoutError) Timeout() bool { return true }

// MessageTooLargeError reports a WebSocket message over the size limit:
// one the peer sent (from ReadMessage; the connection has been closed
// with status 1009, "message too big") or one the program tried to send
// (from WriteMessage, which then sends nothing and leaves the
// connection usable).
//
// Its Fatal and CostHint methods are those of the framing package's
// Error interface, which it satisfies without this package importing
// framing, so a session handles a message received over the limit as
// it handles a fatal framing error: it charges the peer the cost and
// ends. A session ends on any error from WriteMessage too: a reply,
// request or notification over the limit closes the session (to have
// replies over a size replaced by an error reply instead, set the
// session's MaxResponseSize below the limit).
type MessageTooLargeError struct {
	// Limit is the limit that was exceeded, in bytes.
	Limit int
	// Size is the size of a message the program tried to send, or -1
	// for a message received, whose size is not known: reading stops
	// one byte past the limit.
	Size int64
}

// Error returns a message naming the limit and, if known, the size.
func (e *MessageTooLargeError) Error() string {
	s := "transport: WebSocket message"
	if e.Size >= 0 {
		s += " of " + strconv.FormatInt(e.Size, 10) + " bytes"
	}
	return s + " over the limit of " + strconv.Itoa(e.Limit) + " bytes"
}

// Fatal reports whether the connection has been closed: true for a
// message received (Size is -1), after which ReadMessage keeps
// returning this error; false for a message the program tried to send,
// which was not sent and affected nothing else.
func (e *MessageTooLargeError) Fatal() bool { return e.Size < 0 }

// CostHint returns 500, the cost aiorpcX charges for an oversized
// message.
func (e *MessageTooLargeError) CostHint() float64 { return 500 }

// WebSocketCloseError is the error ReadMessage returns when the peer
// closed the WebSocket with a status other than 1000 (normal closure),
// 1001 (going away) or none, for which it returns io.EOF.
type WebSocketCloseError struct {
	// Code is the status code of the peer's close frame, for example
	// 1009 when a message sent was over the peer's limit.
	Code int
	// Reason is the text of the peer's close frame, often empty.
	Reason string
}

// Error returns a message with the code and reason.
func (e *WebSocketCloseError) Error() string {
	return "transport: WebSocket closed by the peer with status " + strconv.Itoa(e.Code) + " " + strconv.Quote(e.Reason)
}

// WebSocketConn is a message stream over a WebSocket connection: each
// message is one WebSocket data message, text or binary, joined from
// its frames if the peer fragmented it. It has the ReadMessage,
// WriteMessage and Close methods of a framed message stream, so that a
// session can run over it as over a framed TCP connection.
//
// Unless switched off, the connection pings the peer (see
// [WebSocketDialer.PingInterval]) from a goroutine of its own, which
// ends when the connection is closed: call Close on every connection.
// Pongs, like every frame, are read by ReadMessage, so a pong counts
// only while ReadMessage is waiting: a peer is not blamed for a late
// pong while the program does not read, nor while a message is being
// sent to it (the ping waits behind it).
//
// One goroutine may call ReadMessage while others call WriteMessage;
// Close and the deadline methods may be called at any time.
type WebSocketConn struct {
	ws      *websocket.Conn
	raw     net.Conn // the connection beneath, to bound Close
	typ     websocket.MessageType
	max     int
	remote  NetAddress
	via     ContextDialer
	tls     *tls.ConnectionState
	request *http.Request

	rerr error // the error that ended reading; the reader's alone

	// steps counts the reader's progress for the pinger: it is odd
	// while a ReadMessage runs, and grows by 2 for each piece of a
	// message read.
	steps atomic.Uint64
	// writers is the number of WriteMessage calls running, writes the
	// number of those that returned.
	writers atomic.Int32
	writes  atomic.Uint64

	readDeadline  deadline
	writeDeadline deadline

	mu      sync.Mutex // guards what follows and the deadlines' timers
	failure error      // why the connection was closed under the program
	closing bool

	stopPings context.CancelFunc
	pingsDone chan struct{}
}

// deadline is a read or write deadline: when it is, its timer, and
// whether it has passed.
type deadline struct {
	expired atomic.Bool
	at      time.Time // guarded by WebSocketConn.mu, as timer is
	timer   *time.Timer
}

func newWebSocketConn(ws *websocket.Conn, raw net.Conn, maxMessage int, binary bool) *WebSocketConn {
	c := &WebSocketConn{ws: ws, raw: raw, typ: websocket.MessageText, max: maxMessage}
	if binary {
		c.typ = websocket.MessageBinary
	}
	switch {
	case c.max == 0:
		c.max = DefaultMaxMessage
	case c.max < 0:
		c.max = -1
	}
	ws.SetReadLimit(int64(c.max))
	return c
}

// startPings starts the pinger with an interval and timeout as the
// options give them (0: the default, negative: none).
func (c *WebSocketConn) startPings(interval, timeout time.Duration) {
	if interval < 0 {
		return
	}
	if interval == 0 {
		interval = DefaultWebSocketPingInterval
	}
	if timeout == 0 {
		timeout = DefaultWebSocketPingTimeout
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.stopPings, c.pingsDone = cancel, make(chan struct{})
	go c.ping(ctx, interval, timeout)
}

// ping sends a ping every interval after the last pong, until ctx is
// done or the connection fails; the ping itself runs in a goroutine of
// its own, which it waits for. The pong is awaited in windows of
// timeout: a window in which ReadMessage waited throughout with
// nothing read, and no message was being sent (which the ping may wait
// behind), closes the connection with ErrWebSocketPingTimeout; any
// other window (the program was not reading, the peer was sending, a
// message was being sent) is followed by another.
func (c *WebSocketConn) ping(ctx context.Context, interval, timeout time.Duration) {
	defer close(c.pingsDone)
	t := time.NewTimer(interval)
	defer t.Stop()
	pong := make(chan error, 1)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		steps, writes := c.steps.Load(), c.writes.Load()
		go func() { pong <- c.ws.Ping(ctx) }()
		if timeout > 0 {
			t.Reset(timeout)
		}
		var err error
	wait:
		for {
			select {
			case err = <-pong:
				break wait
			case <-t.C:
				s, w := c.steps.Load(), c.writes.Load()
				if s == steps && s&1 == 1 && w == writes && c.writers.Load() == 0 {
					c.fail(ErrWebSocketPingTimeout) // the ping returns
					continue
				}
				steps, writes = s, w
				t.Reset(timeout)
			}
		}
		if err != nil {
			return // closed, or closing
		}
		t.Reset(interval)
	}
}

// fail closes the connection at once, without a close handshake, and
// records why, unless it failed already or is closing.
func (c *WebSocketConn) fail(err error) {
	c.mu.Lock()
	if c.failure != nil || c.closing {
		c.mu.Unlock()
		return
	}
	c.failure = err
	c.mu.Unlock()
	c.ws.CloseNow()
}

// failed returns the error recorded by fail, or nil.
func (c *WebSocketConn) failed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failure
}

// ReadMessage returns the next data message, text or binary; pings are
// answered and pongs and close frames handled on the way. The message
// is the caller's to keep. When the peer closes the WebSocket normally
// (status 1000, 1001 or none) or the connection ends between frames it
// returns io.EOF; for another close status, a [*WebSocketCloseError].
//
// A message over the limit is not held in memory past the limit: the
// connection is closed with status 1009 ("message too big") and
// ReadMessage returns a fatal [*MessageTooLargeError]. When the peer
// did not answer a ping in time it returns [ErrWebSocketPingTimeout];
// when a read deadline passed, os.ErrDeadlineExceeded. After any of
// these errors every later call returns the same error.
func (c *WebSocketConn) ReadMessage() ([]byte, error) {
	if c.rerr != nil {
		return nil, c.rerr
	}
	c.steps.Add(1)
	if c.readDeadline.expired.Load() {
		c.steps.Add(1)
		return nil, os.ErrDeadlineExceeded
	}
	msg, err := c.read()
	c.steps.Add(1)
	if err != nil {
		return nil, c.readError(err)
	}
	return msg, nil
}

// readBufs holds the buffers messages are first read into.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 4096); return &b }}

// read reads one message: a message that fits in a pooled buffer is
// copied out of it at its size; a larger one grows its own buffer, up
// to one byte past the limit.
func (c *WebSocketConn) read() ([]byte, error) {
	_, r, err := c.ws.Reader(context.Background())
	if err != nil {
		return nil, err
	}
	pooled := readBufs.Get().(*[]byte)
	defer readBufs.Put(pooled)
	b, n, own := *pooled, 0, false
	for {
		if n == len(b) {
			size := 2 * len(b)
			if c.max >= 0 && size > c.max+1 {
				size = c.max + 1
			}
			if size > n {
				nb := make([]byte, size)
				copy(nb, b[:n])
				b, own = nb, true
			}
		}
		// At one byte past the limit, b[n:] is empty and the library's
		// read limit reports the message as too big.
		m, err := r.Read(b[n:])
		n += m
		if m > 0 {
			c.steps.Add(2)
		}
		switch {
		case err == io.EOF && own:
			return b[:n:n], nil
		case err == io.EOF:
			msg := make([]byte, n)
			copy(msg, b)
			return msg, nil
		case err != nil:
			return nil, err
		case m == 0 && n == len(b):
			// Nothing read and no error at the limit: over it all the
			// same (shutdown then sends the close frame).
			return nil, websocket.ErrMessageTooBig
		}
	}
}

// readError turns an error from reading into the one ReadMessage
// returns, and keeps it for later calls.
func (c *WebSocketConn) readError(err error) error {
	switch code := websocket.CloseStatus(err); {
	case errors.Is(err, websocket.ErrMessageTooBig):
		tl := &MessageTooLargeError{Limit: c.max, Size: -1}
		c.mu.Lock()
		if c.failure == nil {
			c.failure = tl
		}
		c.mu.Unlock()
		// The library has sent the close frame; the rest of the message
		// is discarded until the peer's close frame, within closeTimeout.
		c.shutdown(websocket.StatusMessageTooBig)
	case code == websocket.StatusNormalClosure, code == websocket.StatusGoingAway, code == websocket.StatusNoStatusRcvd:
		err = io.EOF
	case code != -1:
		var ce websocket.CloseError
		errors.As(err, &ce)
		err = &WebSocketCloseError{Code: int(ce.Code), Reason: ce.Reason}
	case errors.Is(err, io.EOF):
		err = io.EOF
	}
	if f := c.failed(); f != nil {
		err = f
	}
	c.rerr = err
	return err
}

// WriteMessage sends msg as one message in one frame: a text frame, or
// a binary frame if the connection was made with Binary set.
// Concurrent calls do not interleave. A message over the limit is not
// sent: it returns a [*MessageTooLargeError] and the connection stays
// usable (but a session closes on any write error; see
// MessageTooLargeError). After the connection failed it returns the
// error ReadMessage returns for the failure.
func (c *WebSocketConn) WriteMessage(msg []byte) error {
	if c.max >= 0 && len(msg) > c.max {
		return &MessageTooLargeError{Limit: c.max, Size: int64(len(msg))}
	}
	c.writers.Add(1)
	if c.writeDeadline.expired.Load() {
		c.writers.Add(-1)
		return os.ErrDeadlineExceeded
	}
	err := c.ws.Write(context.Background(), c.typ, msg)
	c.writes.Add(1)
	c.writers.Add(-1)
	if err != nil {
		if f := c.failed(); f != nil {
			return f
		}
		return err
	}
	return nil
}

// Close stops the pings, sends a close frame with status 1000 (normal
// closure) and waits for the peer's, then closes the connection; the
// whole takes at most a second, after which the connection is closed
// whatever the peer does. A blocked ReadMessage or WriteMessage returns
// an error. Close returns nil; calling it again does nothing.
func (c *WebSocketConn) Close() error {
	c.shutdown(websocket.StatusNormalClosure)
	return nil
}

// shutdown closes the connection once: it stops the deadlines' timers
// and the pinger, and runs the close handshake with code, bounded by
// closeTimeout.
func (c *WebSocketConn) shutdown(code websocket.StatusCode) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.closing = true
	for _, d := range []*deadline{&c.readDeadline, &c.writeDeadline} {
		if d.timer != nil {
			d.timer.Stop()
		}
	}
	c.mu.Unlock()
	if c.stopPings != nil {
		c.stopPings()
		<-c.pingsDone
	}
	c.raw.SetDeadline(time.Now().Add(closeTimeout))
	c.ws.Close(code, "")
}

// RemoteAddress returns the peer's address as [Conn.RemoteAddress]
// does: for a client, the host and port of the URL dialed (the target
// even through a proxy); for a server, the address of the HTTP
// request's peer, or, when the http.Server serves a [Listener] with
// the PROXY protocol on, the client's address from the header (the
// request's RemoteAddr is then the balancer's, since net/http takes it
// before the header is read); the zero NetAddress if there is none (a
// Unix socket).
func (c *WebSocketConn) RemoteAddress() NetAddress { return c.remote }

// Proxy returns the dialer the client connection was made through, or
// nil.
func (c *WebSocketConn) Proxy() ContextDialer { return c.via }

// TLSState returns the TLS state of a wss connection and true, or the
// zero state and false without TLS.
func (c *WebSocketConn) TLSState() (tls.ConnectionState, bool) {
	if c.tls == nil {
		return tls.ConnectionState{}, false
	}
	return *c.tls, true
}

// Request returns the HTTP request that opened a server connection, or
// nil on the client side. Its context is cancelled when the handler
// that accepted the connection returns.
func (c *WebSocketConn) Request() *http.Request { return c.request }

// Subprotocol returns the subprotocol the handshake agreed on, or ""
// for none.
func (c *WebSocketConn) Subprotocol() string { return c.ws.Subprotocol() }

// SetDeadline sets the read and write deadlines; see SetReadDeadline
// and SetWriteDeadline. It returns nil.
func (c *WebSocketConn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	c.SetWriteDeadline(t)
	return nil
}

// SetReadDeadline sets the time by which ReadMessage must return, as
// net.Conn.SetReadDeadline does, with one difference: a WebSocket
// cannot be resumed in the middle of a frame, so a deadline that
// passes while ReadMessage runs closes the connection, and that call
// and every later one return os.ErrDeadlineExceeded. A deadline that
// passed while no ReadMessage ran makes the next calls return
// os.ErrDeadlineExceeded at once, without closing, until it is moved.
// The zero time means no deadline. It returns nil.
func (c *WebSocketConn) SetReadDeadline(t time.Time) error {
	c.setDeadline(&c.readDeadline, t, func() bool { return c.steps.Load()&1 == 1 })
	return nil
}

// SetWriteDeadline sets the time by which WriteMessage must return, as
// SetReadDeadline does for ReadMessage: a deadline that passes while a
// WriteMessage runs closes the connection. It returns nil.
func (c *WebSocketConn) SetWriteDeadline(t time.Time) error {
	c.setDeadline(&c.writeDeadline, t, func() bool { return c.writers.Load() > 0 })
	return nil
}

// setDeadline sets d to t; busy reports whether a call it bounds is
// running. A time already past takes effect before it returns.
func (c *WebSocketConn) setDeadline(d *deadline, t time.Time, busy func() bool) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	d.at = t
	d.expired.Store(false)
	if d.timer != nil {
		d.timer.Stop()
	}
	if t.IsZero() {
		c.mu.Unlock()
		return
	}
	if dur := time.Until(t); dur > 0 {
		if d.timer == nil {
			d.timer = time.AfterFunc(dur, func() { c.expire(d, busy) })
		} else {
			d.timer.Reset(dur)
		}
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.expire(d, busy)
}

// expire marks d as passed if it has, and closes the connection if a
// call it bounds is running.
func (c *WebSocketConn) expire(d *deadline, busy func() bool) {
	c.mu.Lock()
	// A timer that fires for a deadline since moved does nothing.
	if c.closing || d.at.IsZero() || time.Now().Before(d.at) {
		c.mu.Unlock()
		return
	}
	// Mark first, then look: a call that starts meanwhile sees the
	// mark, or is seen running.
	d.expired.Store(true)
	c.mu.Unlock()
	if busy() {
		c.fail(os.ErrDeadlineExceeded)
	}
}

// WebSocketDialer holds the options for opening WebSocket connections.
// The zero WebSocketDialer dials directly, verifies wss servers against
// the system's roots, sends text frames of at most [DefaultMaxMessage]
// bytes and pings the server every 30 seconds.
type WebSocketDialer struct {
	// Dialer makes the connection beneath: its Via, Timeout, KeepAlive
	// and UserTimeout apply, and its TLS is the configuration for wss URLs
	// (nil means a default one). TLS is not used for ws URLs.
	Dialer Dialer

	// MaxMessage is the largest message accepted or sent, in bytes: 0
	// means DefaultMaxMessage, a negative value means no limit.
	MaxMessage int

	// Binary makes WriteMessage send binary frames instead of text.
	Binary bool

	// Origin is the Origin header sent; "" sends none, as non-browser
	// clients do.
	Origin string

	// Protocols are the subprotocols offered, if any.
	Protocols []string

	// Header holds extra headers for the handshake request.
	Header http.Header

	// PingInterval is how long the connection waits after a pong (or
	// after it opened) before it pings the server again: 0 means
	// DefaultWebSocketPingInterval, a negative value sends no pings.
	PingInterval time.Duration

	// PingTimeout is how long the connection waits for a pong before
	// it closes with ErrWebSocketPingTimeout: 0 means
	// DefaultWebSocketPingTimeout, a negative value waits for ever.
	// The wait counts only while ReadMessage waits (see WebSocketConn).
	PingTimeout time.Duration
}

// Dial opens a WebSocket connection to rawURL, "ws://host[:port]/path"
// or "wss://host[:port]/path" (the port defaults to 80 and 443). The
// host and port are checked as [ParseNetAddress] does before anything
// is dialed. The context bounds the connection, the TLS handshake and
// the WebSocket handshake; the headers of the server's handshake
// response may not exceed 64 KiB, and redirections are not followed.
// On failure it returns a [*DialError] naming the URL; no connection
// is left open.
func (d *WebSocketDialer) Dial(ctx context.Context, rawURL string) (*WebSocketConn, error) {
	var opts WebSocketDialer
	if d != nil {
		opts = *d
	}
	fail := func(err error) (*WebSocketConn, error) {
		return nil, &DialError{Network: "websocket", Address: rawURL, Via: opts.Dialer.Via, Err: err}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return fail(err)
	}
	defaultPort := 80
	switch u.Scheme {
	case "ws":
		opts.Dialer.TLS = nil
	case "wss":
		defaultPort = 443
		if opts.Dialer.TLS == nil {
			opts.Dialer.TLS = &tls.Config{}
		}
	default:
		return fail(fmt.Errorf("URL scheme %q is not ws or wss", u.Scheme))
	}
	if u.User != nil {
		return fail(errors.New("user information in a WebSocket URL is not supported"))
	}
	target, err := ParseNetAddress(u.Host, "", defaultPort)
	if err != nil {
		return fail(err)
	}
	if opts.Dialer.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Dialer.Timeout)
		defer cancel()
		opts.Dialer.Timeout = 0
	}
	conn, err := opts.Dialer.Dial(ctx, "tcp", target.String())
	if err != nil {
		var de *DialError
		if errors.As(err, &de) {
			err = de.Err
		}
		return fail(err)
	}
	ws, err := clientHandshake(ctx, u, &opts, conn)
	if err != nil {
		conn.Close()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return fail(fmt.Errorf("websocket handshake: %w", err))
	}
	c := newWebSocketConn(ws, conn, opts.MaxMessage, opts.Binary)
	c.remote, c.via = target, conn.via
	if st, ok := conn.TLSState(); ok {
		c.tls = &st
	}
	c.startPings(opts.PingInterval, opts.PingTimeout)
	return c, nil
}

// DialWebSocket opens a WebSocket connection to rawURL with the zero
// [WebSocketDialer]. See [WebSocketDialer.Dial].
func DialWebSocket(ctx context.Context, rawURL string) (*WebSocketConn, error) {
	var d WebSocketDialer
	return d.Dial(ctx, rawURL)
}

// errDialedTwice is what the handshake's HTTP transport gets if it asks
// for a second connection, which it should not.
var errDialedTwice = errors.New("transport: the WebSocket handshake asked for a second connection")

// clientHandshake runs the WebSocket client handshake on conn, which is
// up (TLS included for wss), bounded by ctx.
func clientHandshake(ctx context.Context, u *url.URL, opts *WebSocketDialer, conn *Conn) (*websocket.Conn, error) {
	var given atomic.Bool
	dial := func(context.Context, string, string) (net.Conn, error) {
		if given.Swap(true) {
			return nil, errDialedTwice
		}
		return conn, nil
	}
	// A transport of its own for the one request: the connection is
	// handed over, never kept idle, and no proxy from the environment
	// is used (Via is the proxy).
	tr := &http.Transport{
		DialContext:            dial,
		DialTLSContext:         dial,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: maxHandshake,
	}
	client := &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	header := opts.Header.Clone()
	if opts.Origin != "" {
		if header == nil {
			header = http.Header{}
		}
		header.Set("Origin", opts.Origin)
	}
	ws, _, err := websocket.Dial(ctx, u.String(), &websocket.DialOptions{
		HTTPClient:   client,
		HTTPHeader:   header,
		Subprotocols: opts.Protocols,
	})
	return ws, err
}

// WebSocketHandler is an http.Handler that accepts WebSocket
// connections and gives each to Serve; its Accept method upgrades one
// request and hands the connection to the caller instead. Serve it with
// an http.Server over HTTP/1.1 (a WebSocket takes over the connection,
// which HTTP/2 cannot hand over). Once upgraded, a connection belongs
// to this package, not to the http.Server: its Shutdown and Close
// neither wait for it nor close it.
//
// The Origin header is checked against cross-site use by browsers:
// with neither CheckOrigin nor OriginPatterns set, a request with no
// Origin header (what RPC clients send) or with an Origin whose host is
// the request's Host is accepted, and any other is refused with 403
// Forbidden.
type WebSocketHandler struct {
	// Serve runs one connection; the connection is closed when it
	// returns. ServeHTTP requires it; Accept does not use it.
	Serve func(c *WebSocketConn)

	// MaxMessage is the largest message accepted or sent, in bytes: 0
	// means DefaultMaxMessage, a negative value means no limit.
	MaxMessage int

	// Binary makes WriteMessage send binary frames instead of text.
	Binary bool

	// OriginPatterns are the other origins accepted, each a host
	// pattern ("example.com", "*.example.com") matched as path.Match
	// does, ignoring case, against the Origin's host, or, if the
	// pattern contains "://", against its scheme and host
	// ("https://*.example.com"). While a pattern is malformed, every
	// request is refused with 500 Internal Server Error.
	OriginPatterns []string

	// CheckOrigin, if not nil, replaces the Origin check: it is called
	// for every request, with or without an Origin header, before the
	// request is checked to be a WebSocket handshake, and an error
	// refuses the request with 403 Forbidden. OriginPatterns are then
	// not used.
	CheckOrigin func(r *http.Request) error

	// Protocols are the subprotocols the server agrees to, in order of
	// preference; with none, or none in common, no subprotocol is
	// chosen.
	Protocols []string

	// PingInterval is how long a connection waits after a pong (or
	// after it opened) before it pings the client again: 0 means
	// DefaultWebSocketPingInterval, a negative value sends no pings.
	PingInterval time.Duration

	// PingTimeout is how long a connection waits for a pong before it
	// closes with ErrWebSocketPingTimeout: 0 means
	// DefaultWebSocketPingTimeout, a negative value waits for ever.
	// The wait counts only while ReadMessage waits (see WebSocketConn).
	PingTimeout time.Duration
}

// errNeedsHTTP1 is the error of a request that cannot be upgraded.
var errNeedsHTTP1 = errors.New("transport: WebSocket needs HTTP/1.1 and a ResponseWriter that can hand over its connection")

// Accept upgrades the request to a WebSocket and returns the
// connection, which the caller must Close. On failure it has written
// an HTTP error response and returns an error: 505 if the request is
// not HTTP/1.1 or w cannot hand over its connection, 403 if the Origin
// is refused, 500 for a malformed OriginPatterns entry, and 4xx for a
// request that is not a valid WebSocket handshake.
//
// The handler that called Accept may return while the connection is
// in use: net/http hands an upgraded connection over entirely, so the
// connection outlives the handler, but the request's context is
// cancelled when the handler returns.
func (h *WebSocketHandler) Accept(w http.ResponseWriter, r *http.Request) (*WebSocketConn, error) {
	if r.ProtoMajor != 1 || !canHijack(w) {
		http.Error(w, "WebSocket needs HTTP/1.1", http.StatusHTTPVersionNotSupported)
		return nil, errNeedsHTTP1
	}
	opts := &websocket.AcceptOptions{Subprotocols: h.Protocols}
	if h.CheckOrigin != nil {
		if err := h.CheckOrigin(r); err != nil {
			http.Error(w, "Origin refused", http.StatusForbidden)
			return nil, fmt.Errorf("transport: WebSocket Origin refused: %w", err)
		}
		opts.InsecureSkipVerify = true // checked above
	} else {
		for _, p := range h.OriginPatterns {
			if _, err := path.Match(p, ""); err != nil {
				http.Error(w, "bad Origin pattern", http.StatusInternalServerError)
				return nil, fmt.Errorf("transport: WebSocket OriginPatterns entry %q: %w", p, err)
			}
		}
		opts.OriginPatterns = h.OriginPatterns
	}
	tap := &hijackTap{ResponseWriter: w}
	ws, err := websocket.Accept(tap, r, opts)
	if err != nil {
		return nil, fmt.Errorf("transport: WebSocket handshake: %w", err)
	}
	c := newWebSocketConn(ws, tap.conn, h.MaxMessage, h.Binary)
	c.request = r
	c.remote = remoteOfRequest(r)
	if client, ok := proxiedClient(tap.conn); ok {
		c.remote = client
	}
	c.tls = r.TLS
	c.startPings(h.PingInterval, h.PingTimeout)
	return c, nil
}

// ServeHTTP upgrades the request to a WebSocket with Accept, runs
// Serve on the connection and closes it when Serve returns. A request
// that Accept refuses gets its HTTP error, and so does every request if
// Serve is nil.
func (h *WebSocketHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.Serve == nil {
		http.Error(w, "WebSocketHandler has no Serve function", http.StatusInternalServerError)
		return
	}
	c, err := h.Accept(w, r)
	if err != nil {
		return
	}
	defer c.Close()
	h.Serve(c)
}

// canHijack reports whether w, or a ResponseWriter it wraps (found
// through Unwrap, as http.ResponseController does), can hand over its
// connection.
func canHijack(w http.ResponseWriter) bool {
	for {
		switch t := w.(type) {
		case http.Hijacker:
			return true
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return false
		}
	}
}

// hijackTap is a ResponseWriter that keeps the connection it hands
// over, so that Close can bound the close handshake.
type hijackTap struct {
	http.ResponseWriter
	conn net.Conn
}

// Hijack hands over the connection of the ResponseWriter beneath,
// with its deadlines cleared.
func (t *hijackTap) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(t.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	conn.SetDeadline(time.Time{})
	t.conn = conn
	return conn, brw, nil
}

// proxiedClient returns the client's address that the PROXY protocol
// header of conn (an HTTP connection handed over, with or without TLS
// over it) named, and true; false if it began with no such header.
// net/http has read the request, so the header has been read.
func proxiedClient(conn net.Conn) (NetAddress, bool) {
	if tc, ok := conn.(*tls.Conn); ok {
		conn = tc.NetConn()
	}
	c, ok := conn.(*Conn)
	if !ok || c.proxy == nil {
		return NetAddress{}, false
	}
	if h := c.proxy.accepted(); h != nil && !h.Local && !h.Source.IsZero() {
		return h.Source, true
	}
	return NetAddress{}, false
}

// remoteOfRequest is the NetAddress of an HTTP request's peer, or zero.
func remoteOfRequest(r *http.Request) NetAddress {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return NetAddress{}
	}
	return netAddressOf(net.TCPAddrFromAddrPort(ap))
}
