package transport

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pires/go-proxyproto"
)

// DefaultProxyHeaderTimeout bounds the read of a PROXY protocol header
// when [ProxyProtocol].HeaderTimeout is zero.
const DefaultProxyHeaderTimeout = 10 * time.Second

// ProxyMode says which PROXY protocol headers a listener reads.
type ProxyMode int

const (
	// ProxyOff reads no PROXY protocol header: every connection is
	// served with its socket's address. It is the zero ProxyMode.
	ProxyOff ProxyMode = iota
	// ProxyV1 reads version 1 headers (the text form, HAProxy's
	// send-proxy) and refuses version 2.
	ProxyV1
	// ProxyV2 reads version 2 headers (the binary form, HAProxy's
	// send-proxy-v2) and refuses version 1.
	ProxyV2
	// ProxyAny reads headers of either version.
	ProxyAny
)

var proxyModeNames = [...]string{ProxyOff: "off", ProxyV1: "v1", ProxyV2: "v2", ProxyAny: "any"}

// String returns the mode's name: "off", "v1", "v2" or "any", or
// "ProxyMode(N)" for a value that is none of these.
func (m ProxyMode) String() string {
	if m >= 0 && int(m) < len(proxyModeNames) {
		return proxyModeNames[m]
	}
	return "ProxyMode(" + strconv.Itoa(int(m)) + ")"
}

// valid reports whether m is one of the four modes.
func (m ProxyMode) valid() bool { return m >= 0 && int(m) < len(proxyModeNames) }

// allows reports whether the mode accepts a header of the version.
func (m ProxyMode) allows(version int) bool {
	switch m {
	case ProxyV1:
		return version == 1
	case ProxyV2:
		return version == 2
	case ProxyAny:
		return version == 1 || version == 2
	}
	return false
}

// ParseProxyMode returns the mode named s: "off", "v1", "v2" or "any",
// in any case, as a command-line flag gives it. For any other name it
// returns an [*AddressError] of type "PROXY protocol mode" quoting s.
func ParseProxyMode(s string) (ProxyMode, error) {
	for m, name := range proxyModeNames {
		if strings.EqualFold(s, name) {
			return ProxyMode(m), nil
		}
	}
	return ProxyOff, &AddressError{Type: "PROXY protocol mode", Input: s, Reason: "want off, v1, v2 or any"}
}

// ProxyProtocol configures the PROXY protocol (HAProxy's, versions 1
// and 2) on a listener, through which a load balancer or reverse proxy
// in front of the server tells it the address of the real client. With
// it, an accepted [*Conn] reports that client as its
// [Conn.RemoteAddress] and [Conn.RemoteAddr], and the balancer as its
// [Conn.Balancer].
//
// The header is read lazily, never by Accept: by [Conn.Handshake] or
// the connection's first Read or Write. It is judged by the socket's
// peer (the party that connected, the balancer or a client connecting
// directly):
//
//   - a header from a trusted source (see Trusted) of a version the Mode
//     allows is read, and its source address becomes the connection's
//     remote address;
//   - a header from a source that is not trusted is refused
//     ([ErrProxyUntrusted]): anyone could claim any address;
//   - a source that is not trusted and sends no header is served as a
//     direct client, with its socket's address;
//   - a trusted source that sends no header is refused
//     ([ErrProxyHeaderMissing]) unless Optional is set;
//   - a header of a version the Mode does not allow is refused
//     ([ErrProxyVersion]), and a malformed one too
//     ([ErrProxyHeaderInvalid]).
//
// A refused connection is closed, and every call on it returns a
// [*ProxyError]. A header with the LOCAL command (version 2, as sent by
// a balancer's own health checks) or the UNKNOWN protocol (version 1)
// is accepted and the socket's address kept.
//
// Whether a header is coming is decided from the first bytes of the
// connection: a header starts with "PROXY " (version 1) or a 12-byte
// signature (version 2) that no JSON, TLS or HTTP stream starts with.
// So the first bytes are waited for, up to HeaderTimeout, even from a
// source that sends no header; a protocol in which the server speaks
// first waits that long for a silent client before its first Write.
type ProxyProtocol struct {
	// Mode is the header versions read. ProxyOff (the zero value)
	// switches the PROXY protocol off, as a nil *ProxyProtocol does.
	Mode ProxyMode

	// Trusted lists the networks from which a header is accepted: the
	// addresses of the balancers. An IPv4 peer of a dual-stack listener
	// is compared as an IPv4 address. Nil means [DefaultTrusted]
	// (loopback only); an empty, non-nil slice trusts no source, so
	// that every header is refused.
	//
	// On a Unix socket every peer is trusted, whatever Trusted says:
	// the socket file's permissions decide who may connect (see
	// [ListenConfig].UnixMode).
	Trusted []netip.Prefix

	// Optional lets a trusted source connect without a header: it is
	// served with its socket's address. Without it, a trusted source
	// must send a header.
	Optional bool

	// HeaderTimeout bounds the wait for the first bytes and the read of
	// the header, from the moment the read starts (Handshake, or the
	// first Read or Write). Zero means [DefaultProxyHeaderTimeout]
	// (10 s); a negative value means no bound (Handshake's context and
	// the connection's deadlines still apply). When it passes before
	// any byte arrives, a trusted source is refused (unless Optional)
	// and any other is served as a direct client; in the middle of a
	// header, the header is refused as malformed.
	HeaderTimeout time.Duration
}

// DefaultTrusted returns the networks trusted to send a PROXY protocol
// header when [ProxyProtocol].Trusted is nil: 127.0.0.1/32 and ::1/128,
// for a balancer on the same host. Each call returns a new slice.
func DefaultTrusted() []netip.Prefix {
	return []netip.Prefix{
		netip.PrefixFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), 32),
		netip.PrefixFrom(netip.IPv6Loopback(), 128),
	}
}

// ParsePrefixes parses a comma-separated list of networks, as a
// command-line flag gives them: each item is a CIDR prefix
// ("10.0.0.0/8", "2001:db8::/32") or a bare IP address, which stands
// for itself alone (/32 or /128). Spaces around items are ignored. A
// prefix with host bits set ("10.1.2.3/8") is taken as its network
// (10.0.0.0/8), and an IPv4-mapped IPv6 prefix ("::ffff:10.0.0.0/104")
// as the IPv4 prefix it maps (10.0.0.0/8). The empty string gives an
// empty, non-nil list.
//
// An item that is neither (an empty item, a host name, an IPv6 zone)
// is an [*AddressError] of type "network list" quoting s, which wraps
// one of type "network" quoting the item.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	out := []netip.Prefix{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for item := range strings.SplitSeq(s, ",") {
		p, err := parsePrefix(strings.TrimSpace(item))
		if err != nil {
			return nil, &AddressError{Type: "network list", Input: s, Err: err}
		}
		out = append(out, p)
	}
	return out, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	fail := func(reason string) (netip.Prefix, error) {
		return netip.Prefix{}, &AddressError{Type: "network", Input: s, Reason: reason}
	}
	if s == "" {
		return fail("empty")
	}
	if strings.Contains(s, "%") {
		return fail("a network cannot have an IPv6 zone")
	}
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return fail("not an IP address or a CIDR prefix")
		}
		return normalizePrefix(netip.PrefixFrom(a, a.BitLen())), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return fail("not an IP address or a CIDR prefix")
	}
	return normalizePrefix(p), nil
}

// normalizePrefix masks the host bits off and turns an IPv4-mapped IPv6
// prefix of at least 96 bits into the IPv4 prefix it maps, since peers
// are compared in their unmapped form.
func normalizePrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked()
}

// ProxyHeader is the PROXY protocol header a connection began with.
type ProxyHeader struct {
	// Version is 1 (text) or 2 (binary).
	Version int
	// Local is set for a header that carries no client: version 2's
	// LOCAL command (a balancer's own connection, such as a health
	// check) or version 1's UNKNOWN protocol. The connection keeps its
	// socket's address.
	Local bool
	// Source is the real client's address and Destination the address
	// the client connected to (the balancer's frontend). Both are the
	// zero NetAddress when Local is set or when the header carries
	// Unix socket addresses (then [Conn.RemoteAddr] gives the client's
	// *net.UnixAddr).
	Source      NetAddress
	Destination NetAddress
}

// ErrProxyUntrusted is matched (with errors.Is) by the [*ProxyError] of
// a connection that began with a PROXY protocol header but whose
// socket's peer is not among [ProxyProtocol].Trusted.
var ErrProxyUntrusted = errors.New("transport: PROXY protocol header from an untrusted source")

// ErrProxyHeaderMissing is matched (with errors.Is) by the
// [*ProxyError] of a connection from a trusted source that did not
// begin with a PROXY protocol header, on a listener where the header is
// not [ProxyProtocol].Optional. When the header timeout passed first,
// the error also matches os.ErrDeadlineExceeded; when the peer closed
// first, io.EOF.
var ErrProxyHeaderMissing = errors.New("transport: no PROXY protocol header from a trusted source")

// ErrProxyVersion is matched (with errors.Is) by the [*ProxyError] of a
// connection that began with a PROXY protocol header of a version the
// listener's [ProxyMode] does not allow.
var ErrProxyVersion = errors.New("transport: PROXY protocol header of a version the listener does not accept")

// ErrProxyHeaderInvalid is matched (with errors.Is) by the [*ProxyError]
// of a connection that began with a malformed PROXY protocol header, or
// one cut short (by the peer closing, or by the header timeout: the
// error then also matches os.ErrDeadlineExceeded).
var ErrProxyHeaderInvalid = errors.New("transport: malformed PROXY protocol header")

// ProxyError reports a connection refused because of its PROXY protocol
// header. The connection has been closed. errors.Is matches it against
// its Reason and against Err's chain.
type ProxyError struct {
	// Reason is ErrProxyUntrusted, ErrProxyHeaderMissing,
	// ErrProxyVersion or ErrProxyHeaderInvalid.
	Reason error
	// Peer is the address of the socket's peer: the party that
	// connected and sent, or failed to send, the header.
	Peer net.Addr
	// Err is the cause beneath Reason, or nil: the parser's complaint
	// about a malformed header, io.EOF, or a timeout.
	Err error
}

// Error returns the reason, the peer and the cause, as in
// "transport: malformed PROXY protocol header (peer 127.0.0.1:41000):
// invalid address".
func (e *ProxyError) Error() string {
	var b strings.Builder
	if e.Reason != nil {
		b.WriteString(e.Reason.Error())
	} else {
		b.WriteString("transport: PROXY protocol header refused")
	}
	if e.Peer != nil {
		b.WriteString(" (peer ")
		b.WriteString(e.Peer.String())
		b.WriteByte(')')
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "proxyproto: "))
	}
	return b.String()
}

// Unwrap returns Reason and Err, those that are not nil.
func (e *ProxyError) Unwrap() []error {
	switch {
	case e.Reason == nil && e.Err == nil:
		return nil
	case e.Reason == nil:
		return []error{e.Err}
	case e.Err == nil:
		return []error{e.Reason}
	}
	return []error{e.Reason, e.Err}
}

// proxyConfig is a listener's ProxyProtocol, checked and resolved.
type proxyConfig struct {
	mode     ProxyMode
	trusted  []netip.Prefix
	optional bool
	timeout  time.Duration // <= 0: none
}

// newProxyConfig checks p and resolves its defaults; it returns nil,
// nil when the PROXY protocol is off.
func newProxyConfig(p *ProxyProtocol) (*proxyConfig, error) {
	if p == nil || p.Mode == ProxyOff {
		return nil, nil
	}
	if !p.Mode.valid() {
		return nil, fmt.Errorf("transport: invalid PROXY protocol mode %v", p.Mode)
	}
	cfg := &proxyConfig{mode: p.Mode, optional: p.Optional, timeout: p.HeaderTimeout}
	if cfg.timeout == 0 {
		cfg.timeout = DefaultProxyHeaderTimeout
	}
	trusted := p.Trusted
	if trusted == nil {
		trusted = DefaultTrusted()
	}
	cfg.trusted = make([]netip.Prefix, len(trusted))
	for i, pre := range trusted {
		if !pre.IsValid() {
			return nil, fmt.Errorf("transport: invalid trusted network %v in the PROXY protocol configuration", pre)
		}
		cfg.trusted[i] = normalizePrefix(pre)
	}
	return cfg, nil
}

// trusts reports whether the socket peer at addr may send a header.
func (cfg *proxyConfig) trusts(addr net.Addr) bool {
	var ip netip.Addr
	switch a := addr.(type) {
	case *net.UnixAddr:
		return true
	case *net.TCPAddr:
		ip = a.AddrPort().Addr()
	default:
		return false
	}
	ip = ip.Unmap().WithZone("")
	for _, p := range cfg.trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// The states of a proxyConn. Reads after the header look at the state
// only, with one atomic load.
const (
	proxyPending  int32 = iota // the header has not been read
	proxyBuffered              // read; bytes after it wait in br
	proxyReady                 // read; br is drained
	proxyFailed                // refused: err says why; the socket is closed
)

// proxyBufferSize is the reader's buffer while the header is read. A
// version 1 header must fit in it whole (107 bytes at most); a version
// 2 header streams through it.
const proxyBufferSize = 256

// proxyConn is an accepted socket on a listener with the PROXY protocol
// on: it reads the header before anything else, and then reports the
// client the header names. A TLS connection runs over it.
type proxyConn struct {
	raw   net.Conn
	cfg   *proxyConfig
	state atomic.Int32

	// mu is held while the header is read and while bytes buffered
	// behind it are drained.
	mu     sync.Mutex
	br     *bufio.Reader
	header *ProxyHeader // set before state leaves proxyPending
	remote net.Addr     // the client's address, for RemoteAddr
	err    error        // set before state becomes proxyFailed

	// dlMu guards the read deadline while the header is read, during
	// which the socket's deadline is the earlier of the caller's and
	// the header's.
	dlMu         sync.Mutex
	readDeadline time.Time // the caller's
	headerBy     time.Time // zero outside the header read
}

var _ net.Conn = (*proxyConn)(nil)

func newProxyConn(raw net.Conn, cfg *proxyConfig) *proxyConn {
	return &proxyConn{raw: raw, cfg: cfg, remote: raw.RemoteAddr()}
}

// ensure reads the header if that has not been done, and returns the
// error of the refusal if the connection was refused.
func (p *proxyConn) ensure(ctx context.Context) error {
	switch p.state.Load() {
	case proxyBuffered, proxyReady:
		return nil
	case proxyFailed:
		return p.err
	}
	return p.readHeader(ctx)
}

func (p *proxyConn) readHeader(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.state.Load() {
	case proxyBuffered, proxyReady:
		return nil
	case proxyFailed:
		return p.err
	}
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { p.raw.Close() })
	}
	err := p.read()
	if stop != nil && !stop() {
		// ctx ended, and the socket was closed under the read.
		err = fmt.Errorf("transport: reading the PROXY protocol header: %w", ctx.Err())
	}
	if err != nil {
		p.raw.Close()
		p.err = err
		p.br = nil
		p.state.Store(proxyFailed)
		return err
	}
	if p.br != nil && p.br.Buffered() > 0 {
		p.state.Store(proxyBuffered)
	} else {
		p.br = nil
		p.state.Store(proxyReady)
	}
	return nil
}

// read looks for a header at the start of the stream and judges it;
// on success p.header and p.remote are set if a header was accepted.
// It returns a *ProxyError for a refusal, or the error of the read.
func (p *proxyConn) read() error {
	if p.cfg.timeout > 0 {
		if err := p.setHeaderDeadline(time.Now().Add(p.cfg.timeout)); err != nil {
			return err
		}
		defer p.clearHeaderDeadline()
	}
	peer := p.raw.RemoteAddr()
	refuse := func(reason, err error) error {
		return &ProxyError{Reason: reason, Peer: peer, Err: err}
	}
	trusted := p.cfg.trusts(peer)
	p.br = bufio.NewReaderSize(p.raw, proxyBufferSize)
	version, err := sniffProxyHeader(p.br)
	if version == 0 {
		if trusted && !p.cfg.optional {
			return refuse(ErrProxyHeaderMissing, err)
		}
		// A direct client. What it sent so far stays in br; the error
		// that ended the wait, if any, is met again by the next read
		// of the socket (a timeout is not: the caller's deadline is
		// back).
		return nil
	}
	if !trusted {
		return refuse(ErrProxyUntrusted, nil)
	}
	if !p.cfg.mode.allows(version) {
		return refuse(ErrProxyVersion, fmt.Errorf("version %d; the listener accepts %s", version, p.cfg.mode.describe()))
	}
	h, err := proxyproto.Read(p.br)
	if err != nil {
		return refuse(ErrProxyHeaderInvalid, err)
	}
	hdr := &ProxyHeader{Version: int(h.Version), Local: h.Command.IsLocal()}
	if !hdr.Local && h.SourceAddr != nil {
		hdr.Source = netAddressOf(h.SourceAddr)
		hdr.Destination = netAddressOf(h.DestinationAddr)
		p.remote = h.SourceAddr
	}
	p.header = hdr
	return nil
}

// describe names the versions a mode accepts, for messages.
func (m ProxyMode) describe() string {
	switch m {
	case ProxyV1:
		return "version 1 only"
	case ProxyV2:
		return "version 2 only"
	}
	return "versions 1 and 2"
}

var (
	proxySigV1 = []byte("PROXY ")
	proxySigV2 = []byte("\r\n\r\n\x00\r\nQUIT\n")
)

// sniffProxyHeader tells from the first bytes of br whether a header
// follows: it returns 1 or 2 once a whole signature is buffered, and 0
// as soon as the bytes cannot begin one, or when the stream ends or
// fails (the error is returned then) before they can tell. It waits
// only while what has arrived is the beginning of a signature, and
// consumes nothing.
func sniffProxyHeader(br *bufio.Reader) (int, error) {
	first, err := br.Peek(1)
	if err != nil {
		return 0, err
	}
	var sig []byte
	version := 0
	switch first[0] {
	case proxySigV1[0]:
		sig, version = proxySigV1, 1
	case proxySigV2[0]:
		sig, version = proxySigV2, 2
	default:
		return 0, nil
	}
	for {
		n := min(br.Buffered(), len(sig))
		got, _ := br.Peek(n)
		if !bytes.Equal(got, sig[:n]) {
			return 0, nil
		}
		if n == len(sig) {
			return version, nil
		}
		if _, err := br.Peek(n + 1); err != nil {
			return 0, err
		}
	}
}

// setHeaderDeadline bounds the socket's reads by t while the header is
// read, or by the caller's read deadline if that is earlier.
func (p *proxyConn) setHeaderDeadline(t time.Time) error {
	p.dlMu.Lock()
	defer p.dlMu.Unlock()
	p.headerBy = t
	return p.raw.SetReadDeadline(earlier(p.readDeadline, t))
}

// clearHeaderDeadline gives the socket back the caller's read deadline.
func (p *proxyConn) clearHeaderDeadline() {
	p.dlMu.Lock()
	defer p.dlMu.Unlock()
	p.headerBy = time.Time{}
	p.raw.SetReadDeadline(p.readDeadline)
}

// earlier returns the earlier of two deadlines, a zero one being none.
func earlier(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero():
		return a
	case a.Before(b):
		return a
	}
	return b
}

// Read reads the header first if that has not been done, then the
// bytes buffered behind it, then the socket.
func (p *proxyConn) Read(b []byte) (int, error) {
	if p.state.Load() == proxyReady {
		return p.raw.Read(b)
	}
	if err := p.ensure(context.Background()); err != nil {
		return 0, err
	}
	p.mu.Lock()
	if br := p.br; br != nil {
		n, err := br.Read(b)
		if br.Buffered() == 0 {
			p.br = nil
			p.state.Store(proxyReady)
		}
		p.mu.Unlock()
		return n, err
	}
	p.mu.Unlock()
	return p.raw.Read(b)
}

// Write reads the header first if that has not been done: nothing is
// sent to a connection that may yet be refused.
func (p *proxyConn) Write(b []byte) (int, error) {
	if s := p.state.Load(); s != proxyReady && s != proxyBuffered {
		if err := p.ensure(context.Background()); err != nil {
			return 0, err
		}
	}
	return p.raw.Write(b)
}

// Close closes the socket.
func (p *proxyConn) Close() error { return p.raw.Close() }

// CloseWrite shuts down the socket's writing side.
func (p *proxyConn) CloseWrite() error { return closeWrite(p.raw) }

// NetConn returns the socket.
func (p *proxyConn) NetConn() net.Conn { return p.raw }

// LocalAddr returns the socket's local address.
func (p *proxyConn) LocalAddr() net.Addr { return p.raw.LocalAddr() }

// RemoteAddr returns the client's address from the header once it has
// been read, else the socket's peer.
func (p *proxyConn) RemoteAddr() net.Addr {
	switch p.state.Load() {
	case proxyBuffered, proxyReady:
		return p.remote
	}
	return p.raw.RemoteAddr()
}

// SetDeadline sets the read and write deadlines.
func (p *proxyConn) SetDeadline(t time.Time) error {
	if err := p.SetReadDeadline(t); err != nil {
		return err
	}
	return p.raw.SetWriteDeadline(t)
}

// SetReadDeadline sets the read deadline; while the header is read the
// socket keeps the earlier of it and the header's, and gets it back
// afterwards.
func (p *proxyConn) SetReadDeadline(t time.Time) error {
	if s := p.state.Load(); s == proxyReady || s == proxyBuffered {
		return p.raw.SetReadDeadline(t)
	}
	p.dlMu.Lock()
	defer p.dlMu.Unlock()
	p.readDeadline = t
	return p.raw.SetReadDeadline(earlier(t, p.headerBy))
}

// SetWriteDeadline sets the write deadline.
func (p *proxyConn) SetWriteDeadline(t time.Time) error { return p.raw.SetWriteDeadline(t) }

// accepted returns the header once it has been read and accepted, or
// nil.
func (p *proxyConn) accepted() *ProxyHeader {
	switch p.state.Load() {
	case proxyBuffered, proxyReady:
		return p.header
	}
	return nil
}
