package server

import (
	"fmt"
	"math"
	"net/netip"
	"sort"
	"sync"
	"time"
)

// Defaults of [PeerGroups].
const (
	// DefaultIPBitsV4 and DefaultIPBitsV6 are the prefix lengths that
	// make one "IP" group: one address.
	DefaultIPBitsV4 = 32
	DefaultIPBitsV6 = 128
	// DefaultSubnetBitsV4 and DefaultSubnetBitsV6 are the prefix
	// lengths of a subnet group (ElectrumX's /24 and /48).
	DefaultSubnetBitsV4 = 24
	DefaultSubnetBitsV6 = 48
	// DefaultPerIP is the number of connections one IP group may hold
	// at once (Fulcrum's 12 clients per IP).
	DefaultPerIP = 12
	// DefaultPerSubnet is the number of connections one subnet group
	// may hold at once.
	DefaultPerSubnet = 64
	// DefaultSubnetCostWeight is the weight of the cost of the other
	// addresses of a peer's subnet in its own cost.
	DefaultSubnetCostWeight = 0.5
)

// DefaultExempt returns the networks exempt from per-peer limits by
// default: loopback (127.0.0.0/8 and ::1/128), where Tor's hidden
// services and local proxies connect from, so that all their clients
// share one address.
func DefaultExempt() []netip.Prefix {
	return []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}

// PeerGroups groups a server's connections by the peer's IP address and
// by its subnet, for limits and cost that apply to a peer rather than
// to one connection: the number of connections a group may hold, and a
// resource cost the group's sessions share and that outlives them for a
// while (so that reconnecting does not reset the bill).
//
// The peer's address is the real client's: behind a balancer that
// sends a PROXY protocol header (see transport.ProxyProtocol), the
// address the header carries. Connections from an exempt network, and
// over a Unix socket (which has no peer address), belong to no group:
// only the server-wide limits apply to them.
//
// The zero PeerGroups is the defaults: groups of one address (/32,
// /128) limited to [DefaultPerIP] connections, subnets of /24 and /48
// limited to [DefaultPerSubnet], loopback exempt, cost shared. A field
// is taken as given when it is not zero.
type PeerGroups struct {
	// IPBitsV4 and IPBitsV6 are the prefix lengths of an IP group (32
	// and 128 when zero); a shorter prefix makes an "IP" of a block,
	// such as an IPv6 /64.
	IPBitsV4, IPBitsV6 int
	// SubnetBitsV4 and SubnetBitsV6 are the prefix lengths of a subnet
	// group (24 and 48 when zero).
	SubnetBitsV4, SubnetBitsV6 int
	// PerIP and PerSubnet limit the connections one group holds at once,
	// counted from accept ([DefaultPerIP] and [DefaultPerSubnet] when
	// zero; no limit when negative). A connection past either limit is
	// closed at once, and counted in Stats.RefusedPerIP or
	// Stats.RefusedPerSubnet.
	PerIP, PerSubnet int
	// Exempt lists networks whose peers belong to no group: nil means
	// [DefaultExempt]; an empty, non-nil slice exempts nobody.
	Exempt []netip.Prefix
	// NoSharedCost switches the shared cost off: each session is then
	// throttled on its own cost alone. By default the cost that weighs
	// on a session (session.Cost) is its own, plus that of the other
	// sessions of its IP group and what its IP group retains from
	// sessions that ended, plus SubnetCostWeight times the same for the
	// rest of its subnet. The cost a session leaves when it ends decays
	// at its own session.Cost.DecayPerSecond.
	NoSharedCost bool
	// SubnetCostWeight is the weight of the rest of the subnet's cost
	// ([DefaultSubnetCostWeight] when zero; negative: not counted).
	SubnetCostWeight float64
	// MaxRetained bounds the groups kept only for the cost they retain,
	// with no connection (10 × the server's MaxSessions when zero):
	// past it, those decayed to nothing are forgotten, then those with
	// the least cost, down to three quarters of it.
	MaxRetained int
}

// groupKind tells an IP group from a subnet group.
type groupKind uint8

const (
	ipGroup groupKind = iota
	subnetGroup
)

// GroupStats describes one peer group at one moment.
type GroupStats struct {
	// Prefix is the group's network: one address (by default) for an
	// IP group, its /24 or /48 for a subnet group.
	Prefix netip.Prefix
	// Subnet is true for a subnet group, false for an IP group.
	Subnet bool
	// Connections is how many connections the group holds now.
	Connections int
	// Cost is the group's cost now: that of its live sessions plus
	// Retained.
	Cost float64
	// Retained is what the group's ended sessions left, decayed to now.
	Retained float64
}

// group is one IP or subnet group. Its fields are guarded by the
// groups' mutex.
type group struct {
	prefix netip.Prefix
	kind   groupKind
	conns  []*connection // live connections of the group
	// retained is the cost left by ended sessions at the instant at,
	// decaying by decay per second.
	retained float64
	at       time.Time
	decay    float64
}

// retainedAt returns what the group retains at now.
func (g *group) retainedAt(now time.Time) float64 {
	if g.retained <= 0 {
		return 0
	}
	el := now.Sub(g.at).Seconds()
	if el <= 0 {
		return g.retained
	}
	return math.Max(0, g.retained-el*g.decay)
}

// groups is the table of a server's peer groups. One mutex guards it;
// it is taken with Server.mu held or alone, never the other way round,
// and a session's own locks (through connection.cost) may be taken
// while it is held.
type groups struct {
	cfg      PeerGroups
	maxKept  int
	mu       sync.Mutex
	byPrefix map[groupKey]*group
	retained int // groups held for their cost alone
	members  int // connections in groups
	// ticking is true while the recalculation loop runs: from the
	// first connection that joins a group to a tick that finds none.
	ticking bool
}

// recalcEvery is how often the sessions of a server that share a cost
// have their throttling recalculated, so that what their groups retain
// is felt, and its decay too, even by a session whose own cost barely
// moves.
const recalcEvery = 5 * time.Second

type groupKey struct {
	prefix netip.Prefix
	kind   groupKind
}

func newGroups(cfg PeerGroups, maxSessions int) *groups {
	if cfg.IPBitsV4 == 0 {
		cfg.IPBitsV4 = DefaultIPBitsV4
	}
	if cfg.IPBitsV6 == 0 {
		cfg.IPBitsV6 = DefaultIPBitsV6
	}
	if cfg.SubnetBitsV4 == 0 {
		cfg.SubnetBitsV4 = DefaultSubnetBitsV4
	}
	if cfg.SubnetBitsV6 == 0 {
		cfg.SubnetBitsV6 = DefaultSubnetBitsV6
	}
	if cfg.PerIP == 0 {
		cfg.PerIP = DefaultPerIP
	}
	if cfg.PerSubnet == 0 {
		cfg.PerSubnet = DefaultPerSubnet
	}
	if cfg.Exempt == nil {
		cfg.Exempt = DefaultExempt()
	}
	if cfg.SubnetCostWeight == 0 {
		cfg.SubnetCostWeight = DefaultSubnetCostWeight
	}
	kept := cfg.MaxRetained
	if kept <= 0 {
		kept = 10 * maxSessions
		if kept <= 0 || kept > 1<<20 {
			kept = 1 << 20
		}
	}
	return &groups{cfg: cfg, maxKept: kept, byPrefix: make(map[groupKey]*group)}
}

// validate reports a PeerGroups that cannot work.
func (cfg *PeerGroups) validate() error {
	check := func(name string, v, max int) error {
		if v < 0 || v > max {
			return fmt.Errorf("server: PeerGroups.%s is %d, not between 0 and %d", name, v, max)
		}
		return nil
	}
	for _, c := range []struct {
		name   string
		v, max int
	}{
		{"IPBitsV4", cfg.IPBitsV4, 32}, {"IPBitsV6", cfg.IPBitsV6, 128},
		{"SubnetBitsV4", cfg.SubnetBitsV4, 32}, {"SubnetBitsV6", cfg.SubnetBitsV6, 128},
	} {
		if err := check(c.name, c.v, c.max); err != nil {
			return err
		}
	}
	return nil
}

// exempt reports whether addr is in an exempt network.
func (gs *groups) exempt(addr netip.Addr) bool {
	for _, p := range gs.cfg.Exempt {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// prefixes returns the IP and subnet prefixes of addr.
func (gs *groups) prefixes(addr netip.Addr) (ip, subnet netip.Prefix) {
	ipBits, subBits := gs.cfg.IPBitsV4, gs.cfg.SubnetBitsV4
	if !addr.Is4() {
		ipBits, subBits = gs.cfg.IPBitsV6, gs.cfg.SubnetBitsV6
	}
	ip, _ = addr.Prefix(ipBits)
	subnet, _ = addr.Prefix(subBits)
	return ip, subnet
}

// refusal is why a connection was refused admission.
type refusal uint8

const (
	admitted refusal = iota
	overIP
	overSubnet
)

// join adds c to the groups of its address, unless a group is at its
// limit. An address that is invalid or exempt joins nothing.
func (gs *groups) join(c *connection, addr netip.Addr) refusal {
	addr = addr.Unmap()
	if !addr.IsValid() || gs.exempt(addr) {
		return admitted
	}
	ipP, subP := gs.prefixes(addr)
	gs.mu.Lock()
	defer gs.mu.Unlock()
	ip := gs.byPrefix[groupKey{ipP, ipGroup}]
	sub := gs.byPrefix[groupKey{subP, subnetGroup}]
	if ip != nil && gs.cfg.PerIP > 0 && len(ip.conns) >= gs.cfg.PerIP {
		return overIP
	}
	if sub != nil && gs.cfg.PerSubnet > 0 && len(sub.conns) >= gs.cfg.PerSubnet {
		return overSubnet
	}
	c.ip = gs.attachLocked(ip, ipP, ipGroup, c)
	c.subnet = gs.attachLocked(sub, subP, subnetGroup, c)
	gs.members++
	return admitted
}

// needsTicker reports, once per run of the loop, that the
// recalculation loop must be started: the caller starts it.
func (gs *groups) needsTicker() bool {
	if gs.cfg.NoSharedCost {
		return false
	}
	gs.mu.Lock()
	defer gs.mu.Unlock()
	if gs.ticking || gs.members == 0 {
		return false
	}
	gs.ticking = true
	return true
}

// recalcLoop recalculates the throttling of every session in a group
// every recalcEvery, until a tick finds no connection in any group or
// quit is closed.
func (gs *groups) recalcLoop(quit <-chan struct{}) {
	t := time.NewTicker(recalcEvery)
	defer t.Stop()
	var batch []*connection
	for {
		select {
		case <-t.C:
		case <-quit:
			gs.mu.Lock()
			gs.ticking = false
			gs.mu.Unlock()
			return
		}
		batch = batch[:0]
		gs.mu.Lock()
		if gs.members == 0 {
			gs.ticking = false
			gs.mu.Unlock()
			return
		}
		for _, g := range gs.byPrefix {
			if g.kind == ipGroup {
				batch = append(batch, g.conns...)
			}
		}
		gs.mu.Unlock()
		for _, c := range batch {
			if sess := c.sess.Load(); sess != nil {
				sess.Recalculate()
			}
		}
		clear(batch)
	}
}

func (gs *groups) attachLocked(g *group, p netip.Prefix, kind groupKind, c *connection) *group {
	if g == nil {
		g = &group{prefix: p, kind: kind}
		gs.byPrefix[groupKey{p, kind}] = g
	} else if len(g.conns) == 0 {
		gs.retained-- // held for its cost alone until now
	}
	g.conns = append(g.conns, c)
	return g
}

// leave takes c out of its groups; cost is what its session leaves
// behind, decaying by decay per second.
func (gs *groups) leave(c *connection, cost, decay float64, now time.Time) {
	if c.ip == nil {
		return
	}
	gs.mu.Lock()
	defer gs.mu.Unlock()
	gs.members--
	for _, g := range [...]*group{c.ip, c.subnet} {
		for i, x := range g.conns {
			if x == c {
				last := len(g.conns) - 1
				g.conns[i] = g.conns[last]
				g.conns[last] = nil
				g.conns = g.conns[:last]
				break
			}
		}
		if !gs.cfg.NoSharedCost && cost > 0 {
			g.retained = g.retainedAt(now) + cost
			g.at = now
			g.decay = math.Max(g.decay, decay)
		}
		if len(g.conns) == 0 {
			if g.retainedAt(now) <= 0 {
				delete(gs.byPrefix, groupKey{g.prefix, g.kind})
			} else {
				gs.retained++
			}
		}
	}
	if gs.retained > gs.maxKept {
		gs.pruneLocked(now)
	}
}

// pruneLocked forgets the groups held for their cost alone that have
// decayed to nothing, then, while more than three quarters of maxKept
// are left, those with the least cost: the next prune is then at least
// maxKept/4 groups away, so that its O(n log n) is spread over as many
// disconnections.
func (gs *groups) pruneLocked(now time.Time) {
	var kept []*group
	for k, g := range gs.byPrefix {
		if len(g.conns) > 0 {
			continue
		}
		if g.retainedAt(now) <= 0 {
			delete(gs.byPrefix, k)
			gs.retained--
			continue
		}
		kept = append(kept, g)
	}
	target := gs.maxKept - gs.maxKept/4
	if len(kept) <= target {
		return
	}
	sort.Slice(kept, func(i, j int) bool { return kept[i].retainedAt(now) < kept[j].retainedAt(now) })
	for _, g := range kept[:len(kept)-target] {
		delete(gs.byPrefix, groupKey{g.prefix, g.kind})
		gs.retained--
	}
}

// costLocked returns the cost of g at now: what it retains plus the
// cost of its live sessions.
func costLocked(g *group, now time.Time) float64 {
	total := g.retainedAt(now)
	for _, c := range g.conns {
		total += c.cost()
	}
	return total
}

// extra returns the shared cost that weighs on the session of c, on
// top of its own (session.Cost.Extra).
func (gs *groups) extra(c *connection) float64 {
	if c.ip == nil || gs.cfg.NoSharedCost {
		return 0
	}
	now := time.Now()
	gs.mu.Lock()
	defer gs.mu.Unlock()
	own := c.cost()
	ipCost := costLocked(c.ip, now)
	total := ipCost - own
	if w := gs.cfg.SubnetCostWeight; w > 0 {
		total += w * (costLocked(c.subnet, now) - ipCost)
	}
	return math.Max(0, total)
}

// snapshot returns every group, IP groups first, each kind by prefix.
func (gs *groups) snapshot() []GroupStats {
	now := time.Now()
	gs.mu.Lock()
	out := make([]GroupStats, 0, len(gs.byPrefix))
	for _, g := range gs.byPrefix {
		r := g.retainedAt(now)
		if len(g.conns) == 0 && r <= 0 {
			continue // decayed to nothing; forgotten at the next prune
		}
		out = append(out, GroupStats{
			Prefix:      g.prefix,
			Subnet:      g.kind == subnetGroup,
			Connections: len(g.conns),
			Cost:        costLocked(g, now),
			Retained:    r,
		})
	}
	gs.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Subnet != b.Subnet {
			return !a.Subnet
		}
		if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
			return c < 0
		}
		return a.Prefix.Bits() < b.Prefix.Bits()
	})
	return out
}
