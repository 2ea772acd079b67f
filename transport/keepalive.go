package transport

import (
	"net"
	"time"
)

// Defaults for finding a dead peer at the TCP level, used by
// [ListenConfig] and [Dialer] when their KeepAlive is nil and their
// UserTimeout is 0.
//
// Keep-alive probes find a peer that went away while the connection
// was idle: the first is sent after DefaultKeepAliveIdle without
// traffic, then one every DefaultKeepAliveInterval, and the connection
// is dropped when DefaultKeepAliveCount of them go unanswered: about 60
// seconds after the peer was last heard from. Probes are not sent while
// sent data awaits acknowledgement; for that case TCP_USER_TIMEOUT
// (Linux) drops the connection once data has stayed unacknowledged for
// DefaultUserTimeout, where Linux's own retransmissions would take about
// 15 minutes to give up. So a dead peer is found in about a minute
// either way: long enough for a live peer on a poor link (a whole
// minute without one acknowledgement), short enough that a vanished
// peer does not hold its session and its share of the limits for long.
// Go's own defaults (15 s, 15 s, 9 probes) take two and a half minutes.
const (
	DefaultKeepAliveIdle     = 30 * time.Second
	DefaultKeepAliveInterval = 10 * time.Second
	DefaultKeepAliveCount    = 3
	DefaultUserTimeout       = 60 * time.Second
)

// keepAliveOptions turns a KeepAlive option into net's settings: a
// KeepAliveConfig to give net.Dialer or net.ListenConfig, or off when
// keep-alive is switched off (net's KeepAlive then must be negative).
func keepAliveOptions(c *net.KeepAliveConfig) (cfg net.KeepAliveConfig, off bool) {
	if c == nil {
		return net.KeepAliveConfig{
			Enable:   true,
			Idle:     DefaultKeepAliveIdle,
			Interval: DefaultKeepAliveInterval,
			Count:    DefaultKeepAliveCount,
		}, false
	}
	if !c.Enable {
		return net.KeepAliveConfig{}, true
	}
	cfg = *c
	if cfg.Idle == 0 {
		cfg.Idle = DefaultKeepAliveIdle
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultKeepAliveInterval
	}
	if cfg.Count == 0 {
		cfg.Count = DefaultKeepAliveCount
	}
	return cfg, false
}

// userTimeout resolves a UserTimeout option: 0 is the default,
// negative is off (returned as 0).
func userTimeout(d time.Duration) time.Duration {
	switch {
	case d == 0:
		return DefaultUserTimeout
	case d < 0:
		return 0
	}
	return d
}
