package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	xproxy "golang.org/x/net/proxy"
)

// The URL schemes of SOCKS proxies, with curl's meanings: the "h" and
// "a" variants have the proxy resolve host names.
var schemes = map[string]struct {
	protocol Protocol
	local    bool
}{
	"socks5":  {SOCKS5, true},
	"socks5h": {SOCKS5, false},
	"socks4":  {SOCKS4, true},
	"socks4a": {SOCKS4a, false},
}

// init registers the schemes "socks4" and "socks4a" with
// golang.org/x/net/proxy.RegisterDialerType, so that its FromURL
// returns a *SOCKS for them (made as by ParseURL, with FromURL's
// forward dialer as Forward). FromURL handles "socks5" and "socks5h"
// itself, before any registered scheme, with its own SOCKS5 dialer,
// which always has the proxy resolve host names; ParseURL gives a
// *SOCKS for those schemes.
func init() {
	for _, scheme := range []string{"socks4", "socks4a"} {
		xproxy.RegisterDialerType(scheme, fromURL)
	}
}

// fromURL is the constructor registered with x/net/proxy.
func fromURL(u *url.URL, forward xproxy.Dialer) (xproxy.Dialer, error) {
	s, err := socksFromURL(u)
	if err != nil {
		return nil, err
	}
	switch f := forward.(type) {
	case nil:
	case ContextDialer:
		s.Forward = f
	default:
		s.Forward = dialFunc(func(_ context.Context, network, address string) (net.Conn, error) {
			return f.Dial(network, address)
		})
	}
	return s, nil
}

// ParseURL returns the proxy that rawURL describes, in the form
// SCHEME://[USER[:PASSWORD]@]HOST[:PORT], the port 1080 by default.
// The scheme says the protocol and who resolves host names, as for
// curl:
//
//   - socks5: SOCKS5, resolving locally;
//   - socks5h: SOCKS5, the proxy resolving;
//   - socks4: SOCKS4, resolving locally;
//   - socks4a: SOCKS4a, the proxy resolving.
//
// USER and PASSWORD, percent-encoded, become [SOCKS.Auth]. A path other
// than "/", a query or a fragment is an error. Errors never show the
// password.
func ParseURL(rawURL string) (*SOCKS, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the URL, password and all
		}
		return nil, fmt.Errorf("proxy: invalid URL: %w", err)
	}
	return socksFromURL(u)
}

// socksFromURL is ParseURL for a parsed URL.
func socksFromURL(u *url.URL) (*SOCKS, error) {
	scheme, ok := schemes[strings.ToLower(u.Scheme)]
	switch {
	case !ok:
		return nil, fmt.Errorf("proxy: URL scheme %q is not socks4, socks4a, socks5 or socks5h", u.Scheme)
	case u.Opaque != "":
		return nil, errors.New("proxy: URL has no host")
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "":
		return nil, fmt.Errorf("proxy: URL %s has a path, query or fragment", u.Redacted())
	case u.Hostname() == "":
		return nil, fmt.Errorf("proxy: URL %s has no host", u.Redacted())
	}
	port := u.Port()
	if port == "" {
		port = "1080"
	} else if _, err := parsePort(port); err != nil {
		return nil, fmt.Errorf("proxy: URL %s: %w", u.Redacted(), err)
	}
	s := &SOCKS{
		Protocol:       scheme.protocol,
		Address:        net.JoinHostPort(u.Hostname(), port),
		ResolveLocally: scheme.local,
	}
	if u.User != nil {
		s.Auth.Username = u.User.Username()
		s.Auth.Password, _ = u.User.Password()
	}
	return s, nil
}
