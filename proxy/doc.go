// Package proxy connects through SOCKS proxies, as aiorpcX's socks
// module does, so that any gorpcx session can reach its peer through
// Tor or another SOCKS proxy. A [SOCKS] is a proxy and the way to use
// it: SOCKS5 (RFC 1928, through golang.org/x/net/proxy) without
// credentials or with a username and password (RFC 1929), SOCKS4 and
// SOCKS4a (written here), host names resolved by the proxy or locally,
// and fresh random credentials for every connection, which Tor takes
// as a request for a circuit of its own (stream isolation). A SOCKS is
// a dialer: give it as transport.Dialer.Via or server.Dialer.Via, and
// the connection reports the target as its remote address and the
// SOCKS as its proxy. A [Detector] finds which protocol a proxy speaks
// and on which port.
//
// Every failed dial returns an [*Error] naming the proxy and the target.
// Its cause is a [*ProtocolError] when the proxy broke the protocol, a
// [*RefusedError] with the reply code and its meaning when it refused,
// or the network or context error; errors.As finds each. The handshake
// is bounded by the context and [SOCKS.Timeout], reads exactly the
// bytes each reply declares and never more, and a proxy that goes
// silent makes it fail, not hang. Passwords never appear in strings,
// logs or errors.
//
// [ParseURL] reads proxy URLs with curl's schemes: socks5:// and
// socks4:// resolve host names locally, socks5h:// and socks4a:// have
// the proxy resolve them, and user:password@ gives credentials.
// Importing the package also registers socks4:// and socks4a:// with
// golang.org/x/net/proxy.FromURL, which handles socks5:// and socks5h://
// itself (both resolved by the proxy, with its own error values).
//
// For Tor, dial with the proxy resolving names, so that they do not
// leak to the local network, and with random credentials to keep
// connections apart:
//
//	tor := &proxy.SOCKS{Address: "127.0.0.1:9050", Auth: proxy.Auth{Random: true}}
//	d := server.Dialer{Via: tor}
//	s, err := d.Dial(ctx, "tcp", "electrum.example.onion:50001")
//
// or find the Tor daemon or the Tor Browser with
// (&proxy.Detector{}).DetectHost(ctx, "127.0.0.1", 9050, 9150).
package proxy
