package proxy

import (
	"context"
	"fmt"
	"net"
	"net/netip"
)

// Resolver looks up the IP addresses of a host name, for
// [SOCKS.ResolveLocally]. A *net.Resolver is one.
type Resolver interface {
	// LookupNetIP returns the addresses of host on network "ip",
	// "ip4" or "ip6".
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// dialResolved looks up the host name of t and asks the proxy for each
// address found, in turn, until one connects. SOCKS4 and SOCKS4a use
// the IPv4 addresses only. If the proxy itself cannot be reached, or
// ctx ends, the other addresses are not tried. The error names each
// address tried.
func (s *SOCKS) dialResolved(ctx context.Context, network string, t target) (*Conn, error) {
	ipNetwork := "ip"
	switch {
	case s.Protocol != SOCKS5 && network == "tcp6":
		return nil, fmt.Errorf("%w, not tcp6", ErrIPv4Only)
	case s.Protocol != SOCKS5 || network == "tcp4":
		ipNetwork = "ip4"
	case network == "tcp6":
		ipNetwork = "ip6"
	}
	var r Resolver = net.DefaultResolver
	if s.Resolver != nil {
		r = s.Resolver
	}
	addrs, err := r.LookupNetIP(ctx, ipNetwork, t.host)
	if err != nil {
		return nil, err
	}
	var tried attemptsError
	for _, addr := range addrs {
		addr = addr.Unmap().WithZone("")
		if !fits(network, addr) || ipNetwork == "ip4" && !addr.Is4() {
			continue // the resolver returned what was not asked for
		}
		at := target{addr: addr, port: t.port}
		c, reached, err := s.dialOnce(ctx, at)
		if err == nil {
			return c, nil
		}
		tried = append(tried, attempt{target: at.String(), err: err})
		if !reached || ctx.Err() != nil {
			break
		}
	}
	if len(tried) == 0 {
		return nil, fmt.Errorf("no %s address found for %s", ipNetwork, t.host)
	}
	return nil, tried
}
