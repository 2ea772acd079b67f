package admin

import (
	"fmt"
	"net/netip"
	"sort"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/gorpcx/gorpcx/protocol"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// SessionInfo describes one session of the server: an entry of the
// result of sessions.
type SessionInfo struct {
	// Name is the session's name (session.Session.Name), by which
	// disconnect finds it; Peer its peer's address (the client's,
	// behind a trusted PROXY header); Group its IP group
	// (server.GroupOf: "" for a peer in none); Dialect its JSON-RPC
	// dialect ("v2", "v1", "loose", or "auto" until it is detected).
	Name    string `json:"name"`
	Peer    string `json:"peer"`
	Group   string `json:"group,omitempty"`
	Dialect string `json:"dialect"`
	// Started is when the session was made; Age the seconds since,
	// Idle the seconds since it last received a message (its age if
	// none yet).
	Started time.Time `json:"started"`
	Age     float64   `json:"age"`
	Idle    float64   `json:"idle"`
	// Cost is the peer's cost now (the shared cost of its groups
	// included), Concurrency the requests it may run at once after
	// throttling.
	Cost        float64 `json:"cost"`
	Concurrency int     `json:"concurrency"`
	// Requests counts the requests and notifications the Interceptor
	// saw on this session; Unanswered those read and not yet
	// answered, Running those of them whose handler runs; Pending the
	// session's own calls to the peer waiting for an answer.
	Requests   uint64 `json:"requests"`
	Unanswered int    `json:"unanswered"`
	Running    int    `json:"running"`
	Pending    int    `json:"pending"`
	// RecvCount and RecvBytes count the messages and bytes received,
	// SendCount and SendBytes those sent; Errors the errors charged to
	// the peer (see session.Stats).
	RecvCount uint64 `json:"recv_count"`
	RecvBytes uint64 `json:"recv_bytes"`
	SendCount uint64 `json:"send_count"`
	SendBytes uint64 `json:"send_bytes"`
	Errors    uint64 `json:"errors"`
	// Subscriptions is the number of topics of Options.Hub the session
	// is subscribed to.
	Subscriptions int `json:"subscriptions"`
}

// GroupInfo describes one peer group: an entry of the result of
// groups (see server.GroupStats).
type GroupInfo struct {
	// Prefix is the group's network, such as "203.0.113.7/32" for an IP
	// group or "203.0.113.0/24" for a subnet; Kind is "ip" or
	// "subnet".
	Prefix string `json:"prefix"`
	Kind   string `json:"kind"`
	// Connections is how many connections the group holds; Cost the
	// group's cost (its live sessions' plus Retained, what its ended
	// sessions left, decayed to now).
	Connections int     `json:"connections"`
	Cost        float64 `json:"cost"`
	Retained    float64 `json:"retained"`
}

// Disconnected is the result of disconnect.
type Disconnected struct {
	// Closed lists the sessions closed, by name.
	Closed []ClosedSession `json:"closed"`
	// NotFound lists the targets that matched no session.
	NotFound []string `json:"not_found,omitempty"`
}

// ClosedSession names a session disconnect closed.
type ClosedSession struct {
	Name string `json:"name"`
	Peer string `json:"peer"`
}

// LogLevel is the result of log_level.
type LogLevel struct {
	// Level is the level in force after the call; Previous the one
	// before, when the call changed it.
	Level    string `json:"level"`
	Previous string `json:"previous,omitempty"`
}

// targets is a parsed list of session names and network prefixes.
type targets struct {
	given    []string
	names    map[string]int // name → index in given
	prefixes []netip.Prefix
	prefixAt []int // index in given of each prefix
	matched  []bool
}

// parseTargets reads each of given as a network prefix
// ("203.0.113.0/24"), an IP address (one address's prefix) or else a
// session name.
func parseTargets(given []string) *targets {
	t := &targets{given: given, names: make(map[string]int), matched: make([]bool, len(given))}
	for i, g := range given {
		if p, err := netip.ParsePrefix(g); err == nil {
			t.prefixes = append(t.prefixes, p.Masked())
			t.prefixAt = append(t.prefixAt, i)
			continue
		}
		if addr, err := netip.ParseAddr(g); err == nil {
			addr = addr.Unmap()
			t.prefixes = append(t.prefixes, netip.PrefixFrom(addr, addr.BitLen()))
			t.prefixAt = append(t.prefixAt, i)
			continue
		}
		if _, dup := t.names[g]; !dup {
			t.names[g] = i
		}
	}
	return t
}

// match reports whether s is one of the targets, by name or by its
// peer's address, and marks the targets it matches.
func (t *targets) match(s *session.Session) bool {
	found := false
	if i, ok := t.names[s.Name()]; ok {
		t.matched[i] = true
		found = true
	}
	if len(t.prefixes) == 0 {
		return found
	}
	ap, err := netip.ParseAddrPort(s.Peer())
	if err != nil {
		return found // a Unix socket's peer has no address
	}
	addr := ap.Addr().Unmap()
	for j, p := range t.prefixes {
		if p.Contains(addr) {
			t.matched[t.prefixAt[j]] = true
			found = true
		}
	}
	return found
}

// notFound returns the targets that matched nothing.
func (t *targets) notFound() []string {
	var out []string
	for i, m := range t.matched {
		if !m {
			out = append(out, t.given[i])
		}
	}
	return out
}

// Sessions returns the sessions of the server, the oldest first, or,
// given targets, those among them named by a target or whose peer's
// address is in a target's network. A target is a session name, an IP
// address or a network prefix ("203.0.113.0/24").
func (a *Admin) Sessions(given ...string) []SessionInfo {
	ss := a.srv.Sessions()
	var t *targets
	if len(given) > 0 {
		t = parseTargets(given)
	}
	now := time.Now()
	out := make([]SessionInfo, 0, len(ss))
	for _, s := range ss {
		if t != nil && !t.match(s) {
			continue
		}
		out = append(out, a.sessionInfo(s, now))
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Started.Equal(out[j].Started) {
			return out[i].Started.Before(out[j].Started)
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// sessionInfo describes s at now.
func (a *Admin) sessionInfo(s *session.Session, now time.Time) SessionInfo {
	st := s.Stats()
	last := st.LastRecv
	if last.IsZero() {
		last = st.Start
	}
	info := SessionInfo{
		Name:        s.Name(),
		Peer:        s.Peer(),
		Group:       server.GroupOf(s),
		Dialect:     s.Dialect().String(),
		Started:     st.Start,
		Age:         now.Sub(st.Start).Seconds(),
		Idle:        max(now.Sub(last).Seconds(), 0),
		Cost:        st.Cost,
		Concurrency: st.Concurrency,
		Requests:    a.sessionRequests(s),
		Unanswered:  st.Unanswered,
		Running:     st.Running,
		Pending:     st.Pending,
		RecvCount:   st.RecvCount,
		RecvBytes:   st.RecvBytes,
		SendCount:   st.SendCount,
		SendBytes:   st.SendBytes,
		Errors:      st.Errors,
	}
	if a.hub != nil {
		info.Subscriptions = a.hub.Subscriptions(s)
	}
	return info
}

// Groups returns the server's peer groups now (see
// server.Server.Groups): IP groups first, then subnets, each in
// address order.
func (a *Admin) Groups() []GroupInfo {
	gs := a.srv.Groups()
	out := make([]GroupInfo, len(gs))
	for i, g := range gs {
		kind := "ip"
		if g.Subnet {
			kind = "subnet"
		}
		out[i] = GroupInfo{Prefix: g.Prefix.String(), Kind: kind, Connections: g.Connections, Cost: g.Cost, Retained: g.Retained}
	}
	return out
}

// Disconnect closes, at once, every session of the server named by a
// target or whose peer's address is in a target's network (a target is
// a session name, an IP address or a network prefix such as
// "203.0.113.0/24", which closes a whole peer group), and returns the
// sessions it closed, by name, and the targets that matched none. Each
// session ends with ErrDisconnected: its connection is closed, its
// running handlers are cancelled and no reply is written after. A
// connection still in its handshake has no session yet and is not
// closed. Each session closed is logged at Info level to
// Options.Logger.
func (a *Admin) Disconnect(targets ...string) Disconnected {
	t := parseTargets(targets)
	res := Disconnected{Closed: []ClosedSession{}}
	for _, s := range a.srv.Sessions() {
		if !t.match(s) {
			continue
		}
		s.AbortWith(ErrDisconnected)
		a.log.Info("session disconnected by the operator", zap.String("session", s.Name()), zap.String("peer", s.Peer()))
		res.Closed = append(res.Closed, ClosedSession{Name: s.Name(), Peer: s.Peer()})
	}
	sort.Slice(res.Closed, func(i, j int) bool { return res.Closed[i].Name < res.Closed[j].Name })
	res.NotFound = t.notFound()
	return res
}

// logLevel serves log_level: with no level it returns the level in
// force, else it sets it. A level zapcore does not know gets -32602.
func (a *Admin) logLevel(level string) (LogLevel, error) {
	before := a.level.Level()
	if level == "" {
		return LogLevel{Level: before.String()}, nil
	}
	l, err := zapcore.ParseLevel(level)
	if err != nil {
		return LogLevel{}, invalidParams(fmt.Sprintf("log_level: unknown level %.40q (debug, info, warn, error, dpanic, panic or fatal)", level))
	}
	a.level.SetLevel(l)
	a.log.Info("log level changed by the operator", zap.Stringer("from", before), zap.Stringer("to", l))
	return LogLevel{Level: l.String(), Previous: before.String()}, nil
}

// invalidParams returns a -32602 error with msg.
func invalidParams(msg string) *jsonrpc2.Error {
	return protocol.InvalidParams(msg)
}

// tooManyTargets is the error of a call of method with n targets, over
// MaxTargets.
func tooManyTargets(method string, n int) *jsonrpc2.Error {
	return invalidParams(fmt.Sprintf("method %q takes at most %d targets, not %d", method, MaxTargets, n))
}
