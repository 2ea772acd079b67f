package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"golang.org/x/net/websocket"
)

// DefaultMaxMessage is the largest WebSocket message accepted or sent
// when no other limit is set: 1,000,000 bytes, the default of aiorpcX's
// framers (which limit only what they read).
const DefaultMaxMessage = 1_000_000

// maxHandshake bounds what a WebSocket client reads of the server's
// handshake response.
const maxHandshake = 64 << 10

// MessageTooLargeError reports a WebSocket message over the size limit:
// one the peer sent (from ReadMessage, which skips it: the stream goes
// on with the next message) or one the program tried to send (from
// WriteMessage, which then sends nothing).
//
// Its Fatal and CostHint methods are those of the framing package's
// Error interface, which it satisfies without this package importing
// framing, so a session handles a message received over the limit as
// it handles a non-fatal framing error: it charges the peer the cost,
// drops the message and reads on. Fatal describes the reading side
// only. A session ends on any error from WriteMessage, this one
// included: a reply, request or notification over the limit closes the
// session (to have replies over a size replaced by an error reply
// instead, set the session's MaxResponseSize below the limit).
type MessageTooLargeError struct {
	// Limit is the limit that was exceeded, in bytes.
	Limit int
	// Size is the size of the message, or -1 when it is not known (a
	// message received is rejected from its frame header).
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

// Fatal returns false: a message received over the limit is skipped
// and the next ReadMessage returns the one after it; a message to send
// over the limit is not sent, and nothing else is affected.
func (e *MessageTooLargeError) Fatal() bool { return false }

// CostHint returns 500, the cost aiorpcX charges for an oversized
// message.
func (e *MessageTooLargeError) CostHint() float64 { return 500 }

// WebSocketConn is a message stream over a WebSocket connection: each
// message is the payload of one data frame. It has the ReadMessage,
// WriteMessage and Close methods of a framed message stream, so that a
// session can run over it as over a framed TCP connection.
//
// golang.org/x/net/websocket, which this is built on, does not join a
// message fragmented into several frames: each fragment is returned as
// a message. JSON-RPC peers send each message in one frame.
//
// One goroutine may call ReadMessage while others call WriteMessage;
// Close may be called at any time.
type WebSocketConn struct {
	ws      *websocket.Conn
	max     int
	remote  NetAddress
	via     ContextDialer
	tls     *tls.ConnectionState
	request *http.Request
}

func newWebSocketConn(ws *websocket.Conn, maxMessage int, binary bool) *WebSocketConn {
	ws.PayloadType = websocket.TextFrame
	if binary {
		ws.PayloadType = websocket.BinaryFrame
	}
	lim := maxMessage
	switch {
	case lim == 0:
		lim = DefaultMaxMessage
	case lim < 0:
		lim = -1
	}
	ws.MaxPayloadBytes = lim
	if lim < 0 {
		ws.MaxPayloadBytes = math.MaxInt
	}
	return &WebSocketConn{ws: ws, max: lim}
}

// ReadMessage returns the payload of the next data frame, text or
// binary; pings are answered and skipped. The message is the caller's
// to keep. A message over the limit is skipped and reported as a
// [*MessageTooLargeError], without being held in memory; the next call
// reads the message after it. When the peer closes the WebSocket it
// returns io.EOF.
func (c *WebSocketConn) ReadMessage() ([]byte, error) {
	var msg []byte
	err := websocket.Message.Receive(c.ws, &msg)
	if errors.Is(err, websocket.ErrFrameTooLarge) {
		return nil, &MessageTooLargeError{Limit: c.max, Size: -1}
	}
	if err != nil {
		return nil, err
	}
	return msg, nil
}

// WriteMessage sends msg as one frame: a text frame, or a binary frame
// if the connection was made with Binary set. Concurrent calls do not
// interleave. A message over the limit is not sent: it returns a
// [*MessageTooLargeError] and the connection stays usable (but a
// session closes on any write error; see MessageTooLargeError).
func (c *WebSocketConn) WriteMessage(msg []byte) error {
	if c.max >= 0 && len(msg) > c.max {
		return &MessageTooLargeError{Limit: c.max, Size: int64(len(msg))}
	}
	_, err := c.ws.Write(msg)
	return err
}

// Close sends a close frame, if it can, and closes the connection; a
// blocked ReadMessage returns an error.
func (c *WebSocketConn) Close() error { return c.ws.Close() }

// RemoteAddress returns the peer's address as [Conn.RemoteAddress]
// does: for a client, the host and port of the URL dialed (the target
// even through a proxy); for a server, the address of the HTTP
// request's peer; the zero NetAddress if there is none (a Unix socket).
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
// nil on the client side.
func (c *WebSocketConn) Request() *http.Request { return c.request }

// SetDeadline sets the read and write deadlines of the connection
// beneath, as net.Conn.SetDeadline.
func (c *WebSocketConn) SetDeadline(t time.Time) error { return c.ws.SetDeadline(t) }

// SetReadDeadline sets the read deadline, as net.Conn.SetReadDeadline.
func (c *WebSocketConn) SetReadDeadline(t time.Time) error { return c.ws.SetReadDeadline(t) }

// SetWriteDeadline sets the write deadline, as net.Conn.SetWriteDeadline.
func (c *WebSocketConn) SetWriteDeadline(t time.Time) error { return c.ws.SetWriteDeadline(t) }

// WebSocketDialer holds the options for opening WebSocket connections.
// The zero WebSocketDialer dials directly, verifies wss servers against
// the system's roots, and sends text frames of at most
// [DefaultMaxMessage] bytes.
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

	// Origin is the Origin header sent; "" means "http://" followed by
	// the URL's host.
	Origin string

	// Protocols are the subprotocols offered, if any.
	Protocols []string

	// Header holds extra headers for the handshake request.
	Header http.Header
}

// Dial opens a WebSocket connection to rawURL, "ws://host[:port]/path"
// or "wss://host[:port]/path" (the port defaults to 80 and 443). The
// host and port are checked as [ParseNetAddress] does before anything
// is dialed. The context bounds the connection, the TLS handshake and
// the WebSocket handshake; the server's handshake response may not
// exceed 64 KiB. On failure it returns a [*DialError] naming the URL.
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
	origin := opts.Origin
	if origin == "" {
		origin = "http://" + u.Host
	}
	cfg, err := websocket.NewConfig(u.String(), origin)
	if err != nil {
		return fail(err)
	}
	cfg.Protocol = opts.Protocols
	for k, v := range opts.Header {
		cfg.Header[k] = v
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
	ws, err := clientHandshake(ctx, cfg, conn)
	if err != nil {
		conn.Close()
		return fail(fmt.Errorf("websocket handshake: %w", err))
	}
	c := newWebSocketConn(ws, opts.MaxMessage, opts.Binary)
	c.remote, c.via = target, conn.via
	if st, ok := conn.TLSState(); ok {
		c.tls = &st
	}
	return c, nil
}

// DialWebSocket opens a WebSocket connection to rawURL with the zero
// [WebSocketDialer]. See [WebSocketDialer.Dial].
func DialWebSocket(ctx context.Context, rawURL string) (*WebSocketConn, error) {
	var d WebSocketDialer
	return d.Dial(ctx, rawURL)
}

// clientHandshake runs the WebSocket client handshake on conn, bounded
// by ctx and by maxHandshake bytes of response.
func clientHandshake(ctx context.Context, cfg *websocket.Config, conn *Conn) (*websocket.Conn, error) {
	// When ctx ends, a deadline in the past unblocks the handshake.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	lc := &limitedConn{Conn: conn, left: maxHandshake}
	ws, err := websocket.NewClient(cfg, lc)
	if !stop() {
		// The deadline was, or is being, set: the connection is spent
		// whatever the handshake's outcome.
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	lc.left = -1 // before the connection is shared: no race
	return ws, nil
}

// limitedConn limits the bytes read through it while left is not -1.
type limitedConn struct {
	*Conn
	left int
}

var errHandshakeTooLarge = errors.New("handshake response over 64 KiB")

func (l *limitedConn) Read(b []byte) (int, error) {
	if l.left < 0 {
		return l.Conn.Read(b)
	}
	if l.left == 0 {
		return 0, errHandshakeTooLarge
	}
	if len(b) > l.left {
		b = b[:l.left]
	}
	n, err := l.Conn.Read(b)
	l.left -= n
	return n, err
}

// WebSocketHandler is an http.Handler that accepts WebSocket
// connections and gives each to Serve. Serve it with an http.Server
// over HTTP/1.1 (a WebSocket takes over the connection, which HTTP/2
// cannot hand over); such connections are not tracked by the
// http.Server, so its Shutdown does not wait for them.
type WebSocketHandler struct {
	// Serve runs one connection; the connection is closed when it
	// returns. It is required.
	Serve func(c *WebSocketConn)

	// MaxMessage is the largest message accepted or sent, in bytes: 0
	// means DefaultMaxMessage, a negative value means no limit.
	MaxMessage int

	// Binary makes WriteMessage send binary frames instead of text.
	Binary bool

	// CheckOrigin, if not nil, accepts or refuses a handshake from its
	// request: an error refuses it with 403 Forbidden. With nil, any
	// Origin is accepted, and none is needed: RPC clients are seldom
	// browsers. A server that browsers can reach should check it.
	CheckOrigin func(r *http.Request) error
}

// ServeHTTP upgrades the request to a WebSocket and runs Serve on it.
// A request that is not a WebSocket handshake gets an HTTP error, and
// so does every request if Serve is nil.
func (h *WebSocketHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.Serve == nil {
		http.Error(w, "WebSocketHandler has no Serve function", http.StatusInternalServerError)
		return
	}
	if _, ok := w.(http.Hijacker); !ok || r.ProtoMajor != 1 {
		http.Error(w, "WebSocket needs HTTP/1.1", http.StatusHTTPVersionNotSupported)
		return
	}
	srv := websocket.Server{
		Handshake: func(_ *websocket.Config, r *http.Request) error {
			if h.CheckOrigin != nil {
				return h.CheckOrigin(r)
			}
			return nil
		},
		Handler: func(ws *websocket.Conn) {
			c := newWebSocketConn(ws, h.MaxMessage, h.Binary)
			c.request = ws.Request()
			c.remote = remoteOfRequest(c.request)
			c.tls = c.request.TLS
			defer c.Close()
			h.Serve(c)
		},
	}
	srv.ServeHTTP(w, r)
}

// remoteOfRequest is the NetAddress of an HTTP request's peer, or zero.
func remoteOfRequest(r *http.Request) NetAddress {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return NetAddress{}
	}
	return netAddressOf(net.TCPAddrFromAddrPort(ap))
}
