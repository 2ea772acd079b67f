// Package transport listens for and dials the byte-stream connections
// that gorpcx sessions run over: TCP (IPv4 and IPv6), TLS on top of
// either, and Unix sockets. A [Dialer] can make its connections through
// another dialer with the shape of golang.org/x/net/proxy.ContextDialer,
// which is how a SOCKS proxy plugs in without this package knowing
// about proxies. Every connection is a [*Conn], a net.Conn that also
// reports the remote address as the caller meant it (the target, not
// the proxy), the proxy that carried it and its TLS state, as aiorpcX's
// remote_address() and proxy() do.
//
// The package also parses and validates network addresses and services
// as aiorpcX's NetAddress and Service do: a [Host] is an IPv4 address,
// an IPv6 address or a host name; a [NetAddress] is a host and a port,
// written "host:port" or "[ipv6]:port"; a [Service] is a protocol and
// an address, written "protocol://host:port". Invalid input is reported
// as an [*AddressError] that quotes it.
//
// Behind a load balancer such as HAProxy, a listener can read the PROXY
// protocol (versions 1 and 2, [ListenConfig].Proxy): each connection
// from a trusted balancer begins with a header naming the real client,
// which the connection then reports as its remote address, the balancer
// staying readable as [Conn.Balancer]. The guarantees:
//
//   - a header is taken only from a trusted source (the networks of
//     [ProxyProtocol].Trusted, loopback by default; every peer of a
//     Unix socket): a header from any other is refused and the
//     connection closed, so that no client can claim another's address;
//   - a trusted source must send a header (unless Optional), of a
//     version the [ProxyMode] allows, and well formed; a source that is
//     not trusted and sends none is served as a direct client;
//   - the header is never read by Accept, so that a silent or slow
//     peer cannot hold up the accept loop: [Conn.Handshake] reads it
//     (then runs the TLS handshake, which comes after it), or the first
//     Read or Write does; its read is bounded by a timeout (10 s by
//     default) and by Handshake's context, and a version 2 header by
//     4,096 bytes after its fixed part;
//   - a refusal is a [*ProxyError] matching one of [ErrProxyUntrusted],
//     [ErrProxyHeaderMissing], [ErrProxyVersion] or
//     [ErrProxyHeaderInvalid], and no byte is written to a connection
//     before the start of its stream has been judged.
//
// Headers are parsed by github.com/pires/go-proxyproto, whose types
// stay inside this package.
//
// For peers that speak over WebSocket, a [WebSocketDialer] and a
// [WebSocketHandler] (golang.org/x/net/websocket underneath) give a
// [*WebSocketConn], whose ReadMessage, WriteMessage and Close make it a
// message stream in its own right, one message per frame.
//
// The package imports none of gorpcx's framing, protocol or session
// packages, and knows nothing of JSON. For byte-stream connections the
// framing package turns a connection into a message stream. A
// WebSocket connection is one already, and is shaped to fit the
// framing package's interfaces without importing it: a
// [*WebSocketConn] has the methods of framing.Stream, and a
// [*MessageTooLargeError] the Fatal and CostHint methods of
// framing.Error, so a session runs over a WebSocket as over a framed
// connection and treats an oversized WebSocket message as a non-fatal
// framing error.
package transport
