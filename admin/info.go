package admin

import (
	"os"
	"runtime"
	"time"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// Info is the result of getinfo: the state of the server as a whole.
type Info struct {
	// Started is when the program started (Options.Started); Uptime
	// the seconds since.
	Started time.Time `json:"started"`
	Uptime  float64   `json:"uptime"`
	// PID is the process's ID, Go the Go version it was built with,
	// Goroutines the number of goroutines now.
	PID        int    `json:"pid"`
	Go         string `json:"go"`
	Goroutines int    `json:"goroutines"`
	// Connections is the connections the server holds, counted from
	// accept (the number MaxSessions limits), Sessions how many of them
	// run a session (see server.Stats).
	Connections int `json:"connections"`
	Sessions    int `json:"sessions"`
	// Accepted, Evicted and Pauses are server.Stats' counters since the
	// server started; Refused the connections it refused, by reason.
	Accepted uint64  `json:"accepted"`
	Evicted  uint64  `json:"evicted"`
	Pauses   uint64  `json:"pauses"`
	Refused  Refused `json:"refused"`
	// Groups is the number of peer groups the server tracks (IP groups
	// and subnets, with connections or retained cost).
	Groups int `json:"groups"`
	// Topics and Subscriptions count the hub's topics and the
	// subscriptions to them (zero without Options.Hub).
	Topics        int `json:"topics"`
	Subscriptions int `json:"subscriptions"`
	// IncomingBytes is the bytes of incoming work the sessions hold,
	// LogLinesSuppressed the log lines the server's cap has dropped.
	IncomingBytes      int64 `json:"incoming_bytes"`
	LogLinesSuppressed int64 `json:"log_lines_suppressed"`
	// LogLevel is the level of Options.Level ("" without one).
	LogLevel string `json:"log_level,omitempty"`
	// Requests is what the Interceptor counted, by method (see
	// Admin.Requests).
	Requests map[string]MethodCount `json:"requests"`
	// Limits are the limits in force.
	Limits Limits `json:"limits"`
}

// Refused counts the connections a server refused, by reason (see
// server.Stats).
type Refused struct {
	PerIP     uint64 `json:"per_ip"`
	PerSubnet uint64 `json:"per_subnet"`
	Full      uint64 `json:"full"`
	Hook      uint64 `json:"hook"`
	Handshake uint64 `json:"handshake"`
}

// Limits are the limits a server applies, with its defaults resolved:
// what the fields of server.Server and its Options template mean once
// zero is read as the default. Durations are in seconds. Throughout, 0
// means no limit, or off. A NewSession hook may give one session other
// limits; these are the template's.
type Limits struct {
	// MaxSessions limits the connections held at once; AtLimit is
	// "shed" or "pause".
	MaxSessions int    `json:"max_sessions"`
	AtLimit     string `json:"at_limit"`
	// PerIP and PerSubnet limit the connections of one peer group;
	// IPBits and SubnetBits are the prefix lengths of the groups
	// (IPv4, IPv6); Exempt the networks in no group; SharedCost whether
	// the sessions of a group share their cost.
	PerIP      int      `json:"per_ip"`
	PerSubnet  int      `json:"per_subnet"`
	IPBits     [2]int   `json:"ip_bits"`
	SubnetBits [2]int   `json:"subnet_bits"`
	Exempt     []string `json:"exempt"`
	SharedCost bool     `json:"shared_cost"`
	// MaxIncomingBytes bounds the bytes of incoming work all sessions
	// hold together.
	MaxIncomingBytes int64 `json:"max_incoming_bytes"`
	// HandshakeTimeout bounds a connection's PROXY header and TLS
	// handshake.
	HandshakeTimeout float64 `json:"handshake_timeout"`
	// MaxMessage is the largest message the server's Framer reads, when
	// it is framing.Newline or framing.LengthPrefixed (nil for another
	// framer, whose limit an Admin cannot read).
	MaxMessage *int `json:"max_message,omitempty"`
	// Session are the limits of each session.
	Session SessionLimits `json:"session"`
}

// SessionLimits are the limits of each session of a server (see
// session.Options and server's default timeouts), resolved. Durations
// are in seconds; 0 means off.
type SessionLimits struct {
	Concurrency         int     `json:"concurrency"`
	MaxQueued           int     `json:"max_queued"`
	MaxIncomingBytes    int     `json:"max_incoming_bytes"`
	MaxWriteBuffer      int     `json:"max_write_buffer"`
	MaxResponseSize     int     `json:"max_response_size"`
	ProcessingTimeout   float64 `json:"processing_timeout"`
	SendTimeout         float64 `json:"send_timeout"`
	IdleTimeout         float64 `json:"idle_timeout"`
	FirstMessageTimeout float64 `json:"first_message_timeout"`
	MessageTimeout      float64 `json:"message_timeout"`
	RequestTimeout      float64 `json:"request_timeout"`
	CloseTimeout        float64 `json:"close_timeout"`
	// CostSoftLimit and CostHardLimit are the cost's limits (both 0
	// when cost accounting is off).
	CostSoftLimit float64 `json:"cost_soft_limit"`
	CostHardLimit float64 `json:"cost_hard_limit"`
}

// Info returns the state of the server now: what getinfo answers.
func (a *Admin) Info() Info {
	st := a.srv.Stats()
	info := Info{
		Started:     a.started,
		Uptime:      time.Since(a.started).Seconds(),
		PID:         os.Getpid(),
		Go:          runtime.Version(),
		Goroutines:  runtime.NumGoroutine(),
		Connections: st.Connections,
		Sessions:    st.Sessions,
		Accepted:    st.Accepted,
		Evicted:     st.Evicted,
		Pauses:      st.Pauses,
		Refused: Refused{
			PerIP:     st.RefusedPerIP,
			PerSubnet: st.RefusedPerSubnet,
			Full:      st.RefusedFull,
			Hook:      st.RefusedByHook,
			Handshake: st.FailedHandshakes,
		},
		Groups:             len(a.srv.Groups()),
		IncomingBytes:      st.IncomingBytes,
		LogLinesSuppressed: st.LogLinesSuppressed,
		Requests:           a.Requests(),
		Limits:             limitsOf(a.srv),
	}
	if a.hub != nil {
		for _, t := range a.hub.Topics() {
			info.Topics++
			info.Subscriptions += t.Subscribers
		}
	}
	if a.level != nil {
		info.LogLevel = a.level.Level().String()
	}
	return info
}

// limitsOf resolves the limits of srv.
func limitsOf(srv *server.Server) Limits {
	p := srv.Peers
	l := Limits{
		MaxSessions:      resolve(srv.MaxSessions, server.DefaultMaxSessions),
		AtLimit:          srv.AtLimit.String(),
		PerIP:            resolve(p.PerIP, server.DefaultPerIP),
		PerSubnet:        resolve(p.PerSubnet, server.DefaultPerSubnet),
		IPBits:           [2]int{resolve(p.IPBitsV4, server.DefaultIPBitsV4), resolve(p.IPBitsV6, server.DefaultIPBitsV6)},
		SubnetBits:       [2]int{resolve(p.SubnetBitsV4, server.DefaultSubnetBitsV4), resolve(p.SubnetBitsV6, server.DefaultSubnetBitsV6)},
		SharedCost:       !p.NoSharedCost,
		MaxIncomingBytes: resolve(srv.MaxIncomingBytes, server.DefaultMaxIncomingBytes),
		HandshakeTimeout: handshakeTimeout(srv).Seconds(),
		MaxMessage:       maxMessage(srv.Framer),
		Session:          sessionLimits(&srv.Options),
	}
	exempt := p.Exempt
	if exempt == nil {
		exempt = server.DefaultExempt()
	}
	l.Exempt = make([]string, len(exempt))
	for i, e := range exempt {
		l.Exempt[i] = e.String()
	}
	return l
}

// sessionLimits resolves the limits of the sessions of a server with
// the template o.
func sessionLimits(o *session.Options) SessionLimits {
	concurrency := positive(o.Concurrency, session.DefaultConcurrency)
	l := SessionLimits{
		Concurrency:         concurrency,
		MaxQueued:           positive(o.MaxQueued, session.DefaultQueueFactor*concurrency),
		MaxIncomingBytes:    positive(o.MaxIncomingBytes, session.DefaultMaxIncomingBytes),
		MaxWriteBuffer:      positive(o.MaxWriteBuffer, session.DefaultMaxWriteBuffer),
		MaxResponseSize:     max(o.MaxResponseSize, 0),
		ProcessingTimeout:   seconds(o.ProcessingTimeout, session.DefaultProcessingTimeout),
		SendTimeout:         seconds(o.SendTimeout, session.DefaultSendTimeout),
		IdleTimeout:         seconds(o.IdleTimeout, server.DefaultIdleTimeout),
		FirstMessageTimeout: seconds(o.FirstMessageTimeout, server.DefaultFirstMessageTimeout),
		MessageTimeout:      seconds(o.MessageTimeout, server.DefaultMessageTimeout),
		RequestTimeout:      seconds(o.RequestTimeout, session.DefaultRequestTimeout),
		CloseTimeout:        seconds(o.CloseTimeout, session.DefaultCloseTimeout),
	}
	cost := session.DefaultCost()
	if o.Cost != nil {
		cost = *o.Cost
	}
	if cost.HardLimit > 0 {
		l.CostSoftLimit, l.CostHardLimit = cost.SoftLimit, cost.HardLimit
	}
	return l
}

// maxMessage returns the message size limit of f, if it is a framer
// whose limit is known: 0 for none.
func maxMessage(f framing.Framer) *int {
	var n int
	switch f := f.(type) {
	case nil:
	case framing.Newline:
		n = f.Max
	case *framing.Newline:
		n = f.Max
	case framing.LengthPrefixed:
		n = f.Max
	case *framing.LengthPrefixed:
		n = f.Max
	default:
		return nil
	}
	n = resolve(n, framing.DefaultMax)
	return &n
}

// handshakeTimeout is the bound of a connection's PROXY header and TLS
// handshake: HandshakeTimeout (its default when not positive), or the
// first-message timeout if that is shorter.
func handshakeTimeout(srv *server.Server) time.Duration {
	d := srv.HandshakeTimeout
	if d <= 0 {
		d = server.DefaultHandshakeTimeout
	}
	first := srv.Options.FirstMessageTimeout
	if first == 0 {
		first = server.DefaultFirstMessageTimeout
	}
	if first > 0 && first < d {
		d = first
	}
	return d
}

// resolve reads a setting where zero means def and a negative value no
// limit (returned as 0).
func resolve[T int | int64](v, def T) T {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// positive reads a setting where zero or a negative value means def.
func positive(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// seconds reads a duration where zero means def and a negative value
// off (returned as 0), in seconds.
func seconds(d, def time.Duration) float64 {
	switch {
	case d == 0:
		return def.Seconds()
	case d < 0:
		return 0
	}
	return d.Seconds()
}
