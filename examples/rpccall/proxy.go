package main

import (
	"github.com/gorpcx/gorpcx/proxy"
	"github.com/gorpcx/gorpcx/transport"
)

// proxyDialer returns the dialer of the SOCKS proxy at rawURL, for
// server.Dialer.Via. The schemes are curl's: socks5:// and socks4://
// resolve the target's host name locally, socks5h:// and socks4a://
// have the proxy resolve it; user:password@ gives credentials. It
// returns an error for a URL that does not parse or another scheme; the
// error never shows the password.
func proxyDialer(rawURL string) (transport.ContextDialer, error) {
	return proxy.ParseURL(rawURL)
}
