package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/gorpcx/gorpcx/admin"
	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/protocol"
	"github.com/gorpcx/gorpcx/pubsub"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// wait bounds every wait of these tests for something to happen.
const wait = 10 * time.Second

// fixture is a server on 127.0.0.1 with an Admin serving on a Unix
// socket, and a client of that socket.
type fixture struct {
	srv   *server.Server
	hub   *pubsub.Hub
	level zap.AtomicLevel
	adm   *admin.Admin
	sock  string
	admin *session.Session // a client of the admin socket
}

// newFixture starts a server with the methods echo, fail, subscribe
// (to the hub's topic "tip") and block (which waits for its context),
// counted by an Admin, adjusted by configure (may be nil) before it
// listens; everything is shut down in t.Cleanup.
func newFixture(t *testing.T, configure func(*server.Server, *admin.Options)) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{level: zap.NewAtomicLevelAt(zap.InfoLevel)}
	hub, err := pubsub.NewHub(&pubsub.Options{Group: server.GroupOf})
	if err != nil {
		t.Fatal(err)
	}
	f.hub = hub
	if err := hub.Declare("tip", pubsub.TopicOptions{Method: "tip"}); err != nil {
		t.Fatal(err)
	}
	f.srv = &server.Server{
		Options: session.Options{Handler: handler.Methods{
			"echo": handler.MustFunc(func(v any) any { return v }),
			"fail": handler.MustFunc(func() error { return errors.New("failed") }),
			"subscribe": handler.MustFunc(func(ctx context.Context) (json.RawMessage, error) {
				return hub.Subscribe(ctx, session.FromContext(ctx), "tip", nil)
			}),
			"block": handler.MustFunc(func(ctx context.Context) error {
				<-ctx.Done()
				return ctx.Err()
			}),
		}},
		Logger: zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)),
	}
	opts := &admin.Options{Server: f.srv, Hub: hub, Level: &f.level, Logger: zaptest.NewLogger(t)}
	if configure != nil {
		configure(f.srv, opts)
	}
	f.adm, err = admin.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Options.Interceptors = append(f.srv.Options.Interceptors, f.adm.Interceptor())
	if err := f.srv.Listen(ctx); err != nil {
		t.Fatal(err)
	}
	f.sock = filepath.Join(t.TempDir(), "admin.sock")
	adminSrv, err := f.adm.Listen(ctx, f.sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := adminSrv.Shutdown(ctx); err != nil {
			t.Errorf("admin server shutdown: %v", err)
		}
		if err := f.srv.Shutdown(ctx); err != nil {
			t.Errorf("server shutdown: %v", err)
		}
		hub.Close()
	})
	f.admin = dial(t, "unix", f.sock)
	return f
}

// dial returns a client session of the server at address, closed in
// t.Cleanup.
func dial(t *testing.T, network, address string) *session.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := server.Dial(ctx, network, address, &session.Options{
		Handler: session.HandlerFunc(func(context.Context, *jsonrpc2.Request) (any, error) { return nil, nil }),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Abort)
	return c
}

// client returns a client session of the fixture's server.
func (f *fixture) client(t *testing.T) *session.Session {
	t.Helper()
	return dial(t, "tcp", f.srv.Addr().String())
}

// call calls method on c and decodes the result into result.
func call(t *testing.T, c *session.Session, method string, params, result any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := c.Call(ctx, method, params, result); err != nil {
		t.Fatalf("%s %v: %v", method, params, err)
	}
}

// callErr calls method on c and returns its JSON-RPC error, failing the
// test if the call succeeded or failed otherwise.
func callErr(t *testing.T, c *session.Session, method string, params any) *jsonrpc2.Error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var result json.RawMessage
	err := c.Call(ctx, method, params, &result)
	var je *jsonrpc2.Error
	if !errors.As(err, &je) {
		t.Fatalf("%s %v: got result %s, error %v; want a JSON-RPC error", method, params, result, err)
	}
	return je
}

func TestNewNeedsServer(t *testing.T) {
	for _, o := range []*admin.Options{nil, {}} {
		if a, err := admin.New(o); !errors.Is(err, admin.ErrNoServer) || a != nil {
			t.Errorf("New(%+v) = %v, %v; want nil, ErrNoServer", o, a, err)
		}
	}
}

func TestGetinfo(t *testing.T) {
	started := time.Now().Add(-time.Hour)
	f := newFixture(t, func(srv *server.Server, o *admin.Options) {
		o.Started = started
		srv.MaxSessions = 50
		srv.Peers = server.PeerGroups{PerIP: -1, PerSubnet: 7, Exempt: []netip.Prefix{}}
		srv.Framer = framing.Newline{Max: 5000}
		srv.Options.IdleTimeout = -1
		srv.Options.ProcessingTimeout = 3 * time.Second
	})
	a, b := f.client(t), f.client(t)
	for i := range 3 {
		var got int
		call(t, a, "echo", []any{i}, &got)
	}
	callErr(t, a, "fail", nil)
	callErr(t, b, "no such method", nil)
	call(t, b, "subscribe", nil, new(json.RawMessage))

	var info admin.Info
	call(t, f.admin, "getinfo", nil, &info)
	checks := []struct {
		name      string
		got, want any
	}{
		{"connections", info.Connections, 2},
		{"sessions", info.Sessions, 2},
		{"accepted", info.Accepted, uint64(2)},
		{"groups", info.Groups, 2}, // 127.0.0.1/32 and 127.0.0.0/24
		{"topics", info.Topics, 1},
		{"subscriptions", info.Subscriptions, 1},
		{"log level", info.LogLevel, "info"},
		{"pid", info.PID, os.Getpid()},
		{"echo", info.Requests["echo"], admin.MethodCount{Count: 3}},
		{"fail", info.Requests["fail"], admin.MethodCount{Count: 1, Errors: 1}},
		{"other", info.Requests[admin.OtherMethod], admin.MethodCount{Count: 1, Errors: 1}},
		{"subscribe", info.Requests["subscribe"], admin.MethodCount{Count: 1}},
		{"request entries", len(info.Requests), 4},
		{"max sessions", info.Limits.MaxSessions, 50},
		{"at limit", info.Limits.AtLimit, "shed"},
		{"per ip", info.Limits.PerIP, 0},
		{"per subnet", info.Limits.PerSubnet, 7},
		{"exempt", len(info.Limits.Exempt), 0},
		{"max message", *info.Limits.MaxMessage, 5000},
		{"idle timeout", info.Limits.Session.IdleTimeout, 0.0},
		{"processing timeout", info.Limits.Session.ProcessingTimeout, 3.0},
		{"first message timeout", info.Limits.Session.FirstMessageTimeout, server.DefaultFirstMessageTimeout.Seconds()},
		{"max incoming bytes", info.Limits.MaxIncomingBytes, int64(server.DefaultMaxIncomingBytes)},
		{"cost hard limit", info.Limits.Session.CostHardLimit, session.DefaultCost().HardLimit},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("getinfo %s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if !info.Started.Equal(started) || info.Uptime < 3600 {
		t.Errorf("getinfo started %v, uptime %v; want %v and at least 3600", info.Started, info.Uptime, started)
	}
	if info.Go == "" || info.Goroutines <= 0 {
		t.Errorf("getinfo go %q, goroutines %d", info.Go, info.Goroutines)
	}
}

// TestLimits checks the limits getinfo reports, resolved from the
// server's settings.
func TestLimits(t *testing.T) {
	custom := session.DefaultCost()
	custom.SoftLimit, custom.HardLimit = 10, 20
	off := session.DefaultCost()
	off.HardLimit = 0
	tests := []struct {
		name  string
		srv   *server.Server
		check func(admin.Limits) string
	}{
		{"defaults", &server.Server{}, func(l admin.Limits) string {
			want := admin.Limits{
				MaxSessions: server.DefaultMaxSessions, AtLimit: "shed",
				PerIP: server.DefaultPerIP, PerSubnet: server.DefaultPerSubnet,
				IPBits: [2]int{32, 128}, SubnetBits: [2]int{24, 48},
				Exempt: []string{"127.0.0.0/8", "::1/128"}, SharedCost: true,
				MaxIncomingBytes: server.DefaultMaxIncomingBytes,
				HandshakeTimeout: server.DefaultFirstMessageTimeout.Seconds(),
				Session: admin.SessionLimits{
					Concurrency: session.DefaultConcurrency, MaxQueued: session.DefaultQueueFactor * session.DefaultConcurrency,
					MaxIncomingBytes: session.DefaultMaxIncomingBytes, MaxWriteBuffer: session.DefaultMaxWriteBuffer,
					ProcessingTimeout: 30, SendTimeout: 20, IdleTimeout: 600, FirstMessageTimeout: 10, MessageTimeout: 60,
					RequestTimeout: 30, CloseTimeout: 30, CostSoftLimit: 2000, CostHardLimit: 10000,
				},
			}
			if l.MaxMessage == nil || *l.MaxMessage != framing.DefaultMax {
				return fmt.Sprintf("max message %v, want %d", l.MaxMessage, framing.DefaultMax)
			}
			l.MaxMessage = nil
			if g, w := fmt.Sprintf("%+v", l), fmt.Sprintf("%+v", want); g != w {
				return "got  " + g + "\nwant " + w
			}
			return ""
		}},
		{"no limits", &server.Server{
			MaxSessions: -1, AtLimit: server.Pause, MaxIncomingBytes: -1, Framer: &framing.LengthPrefixed{Max: framing.NoLimit},
			Peers: server.PeerGroups{PerIP: -1, PerSubnet: -1, NoSharedCost: true, IPBitsV6: 64},
			Options: session.Options{
				ProcessingTimeout: -1, SendTimeout: -1, IdleTimeout: -1, FirstMessageTimeout: -1, MessageTimeout: -1,
				RequestTimeout: -1, MaxResponseSize: -1, Cost: &off,
			},
			HandshakeTimeout: 3 * time.Second,
		}, func(l admin.Limits) string {
			s := l.Session
			if l.MaxSessions != 0 || l.AtLimit != "pause" || l.MaxIncomingBytes != 0 || *l.MaxMessage != 0 ||
				l.PerIP != 0 || l.PerSubnet != 0 || l.SharedCost || l.IPBits != [2]int{32, 64} || l.HandshakeTimeout != 3 {
				return fmt.Sprintf("%+v", l)
			}
			if s.ProcessingTimeout != 0 || s.SendTimeout != 0 || s.IdleTimeout != 0 || s.FirstMessageTimeout != 0 ||
				s.MessageTimeout != 0 || s.RequestTimeout != 0 || s.MaxResponseSize != 0 || s.CostHardLimit != 0 || s.CostSoftLimit != 0 {
				return fmt.Sprintf("%+v", s)
			}
			return ""
		}},
		{"custom", &server.Server{
			Framer:  framing.LengthPrefixed{Max: 77},
			Options: session.Options{Concurrency: 3, MaxResponseSize: 1000, Cost: &custom, FirstMessageTimeout: 2 * time.Second},
		}, func(l admin.Limits) string {
			s := l.Session
			if *l.MaxMessage != 77 || s.Concurrency != 3 || s.MaxQueued != 12 || s.MaxResponseSize != 1000 ||
				s.CostSoftLimit != 10 || s.CostHardLimit != 20 || l.HandshakeTimeout != 2 {
				return fmt.Sprintf("%+v", l)
			}
			return ""
		}},
		{"framer of its own", &server.Server{Framer: ownFramer{}}, func(l admin.Limits) string {
			if l.MaxMessage != nil {
				return fmt.Sprintf("max message %d, want none", *l.MaxMessage)
			}
			return ""
		}},
		{"pointer to a newline framer", &server.Server{Framer: &framing.Newline{Max: 9}}, func(l admin.Limits) string {
			if *l.MaxMessage != 9 {
				return fmt.Sprintf("max message %d, want 9", *l.MaxMessage)
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := admin.New(&admin.Options{Server: tt.srv})
			if err != nil {
				t.Fatal(err)
			}
			if msg := tt.check(a.Info().Limits); msg != "" {
				t.Error(msg)
			}
		})
	}
}

// ownFramer is a framer whose limit an Admin cannot read.
type ownFramer struct{ framing.Newline }

func TestSessions(t *testing.T) {
	f := newFixture(t, nil)
	a, b := f.client(t), f.client(t)
	for range 2 {
		call(t, a, "echo", []any{"x"}, new(string))
	}
	call(t, b, "subscribe", nil, new(json.RawMessage))
	// A reply is counted sent once its write has returned, which may be
	// a moment after the client read it.
	waitFor(t, "every reply to be counted", func() bool {
		for _, s := range f.srv.Sessions() {
			if st := s.Stats(); st.SendCount != st.RecvCount {
				return false
			}
		}
		return true
	})

	var list []admin.SessionInfo
	call(t, f.admin, "sessions", nil, &list)
	if len(list) != 2 {
		t.Fatalf("sessions: %d entries, want 2: %+v", len(list), list)
	}
	byRequests := map[uint64]admin.SessionInfo{}
	for _, s := range list {
		byRequests[s.Requests] = s
	}
	sa, sb := byRequests[2], byRequests[1]
	if sa.Name == "" || sb.Name == "" {
		t.Fatalf("sessions: want one with 2 requests and one with 1: %+v", list)
	}
	for _, s := range []admin.SessionInfo{sa, sb} {
		if !strings.HasPrefix(s.Peer, "127.0.0.1:") || s.Dialect != "v2" || s.Age < 0 || s.Idle < 0 || s.Idle > s.Age+1 ||
			s.RecvCount != s.Requests || s.SendCount != s.Requests || s.RecvBytes == 0 || s.SendBytes == 0 || s.Concurrency <= 0 {
			t.Errorf("session %+v", s)
		}
		if s.Group != "" {
			t.Errorf("session %s: group %q, want none (loopback is exempt)", s.Name, s.Group)
		}
	}
	if sa.Subscriptions != 0 || sb.Subscriptions != 1 {
		t.Errorf("subscriptions %d and %d, want 0 and 1", sa.Subscriptions, sb.Subscriptions)
	}
	if list[0].Started.After(list[1].Started) {
		t.Errorf("sessions not the oldest first: %v then %v", list[0].Started, list[1].Started)
	}

	filters := []struct {
		name    string
		params  any
		want    []string
		inError bool
	}{
		{"by name", []string{sa.Name}, []string{sa.Name}, false},
		{"named params", map[string]any{"targets": []string{sb.Name}}, []string{sb.Name}, false},
		{"by address", []string{"127.0.0.1"}, []string{list[0].Name, list[1].Name}, false},
		{"by prefix", []string{"127.0.0.0/8"}, []string{list[0].Name, list[1].Name}, false},
		{"mapped address", []string{"::ffff:127.0.0.1"}, []string{list[0].Name, list[1].Name}, false},
		{"elsewhere", []string{"10.0.0.0/8", "session-none"}, nil, false},
	}
	for _, tt := range filters {
		var got []admin.SessionInfo
		call(t, f.admin, "sessions", tt.params, &got)
		var names []string
		for _, s := range got {
			names = append(names, s.Name)
		}
		if fmt.Sprint(names) != fmt.Sprint(tt.want) {
			t.Errorf("sessions %s %v: %v, want %v", tt.name, tt.params, names, tt.want)
		}
	}
	many := make([]string, admin.MaxTargets+1)
	for i := range many {
		many[i] = fmt.Sprint("s", i)
	}
	if je := callErr(t, f.admin, "sessions", many); je.Code != protocol.CodeInvalidParams {
		t.Errorf("sessions with %d targets: %v, want -32602", len(many), je)
	}
}

func TestGroups(t *testing.T) {
	f := newFixture(t, func(srv *server.Server, _ *admin.Options) {
		srv.Peers = server.PeerGroups{Exempt: []netip.Prefix{}}
	})
	f.client(t)
	c := f.client(t)
	call(t, c, "echo", []any{1}, new(int))

	var groups []admin.GroupInfo
	call(t, f.admin, "groups", nil, &groups)
	if len(groups) != 2 {
		t.Fatalf("groups: %+v, want the IP group and the subnet of 127.0.0.1", groups)
	}
	want := []struct{ prefix, kind string }{{"127.0.0.1/32", "ip"}, {"127.0.0.0/24", "subnet"}}
	for i, g := range groups {
		if g.Prefix != want[i].prefix || g.Kind != want[i].kind || g.Connections != 2 || g.Cost < 0 || g.Retained < 0 {
			t.Errorf("group %d: %+v, want %s (%s) with 2 connections", i, g, want[i].prefix, want[i].kind)
		}
	}
	var list []admin.SessionInfo
	call(t, f.admin, "sessions", nil, &list)
	for _, s := range list {
		if s.Group != "127.0.0.1/32" {
			t.Errorf("session %s: group %q, want 127.0.0.1/32", s.Name, s.Group)
		}
	}
}

// ended waits until c has ended and returns true, or returns false
// after wait.
func ended(c *session.Session) bool {
	select {
	case <-c.Done():
		return true
	case <-time.After(wait):
		return false
	}
}

func TestDisconnectSession(t *testing.T) {
	f := newFixture(t, nil)
	a, b := f.client(t), f.client(t)
	call(t, a, "echo", []any{"a"}, new(string))
	call(t, b, "echo", []any{"b"}, new(string))
	call(t, b, "echo", []any{"b"}, new(string))
	target := sessionWith(t, f, 1)

	// A request of a's in flight is cancelled by the disconnect.
	blocked := make(chan error, 1)
	go func() {
		blocked <- a.Call(context.Background(), "block", nil, nil)
	}()
	waitFor(t, "the block request to run", func() bool { return target.Stats().Running == 1 })

	var res admin.Disconnected
	call(t, f.admin, "disconnect", []string{target.Name(), "session-999999"}, &res)
	if len(res.Closed) != 1 || res.Closed[0].Name != target.Name() || res.Closed[0].Peer != target.Peer() {
		t.Errorf("disconnect closed %+v, want %s", res.Closed, target.Name())
	}
	if fmt.Sprint(res.NotFound) != "[session-999999]" {
		t.Errorf("disconnect not found %v, want [session-999999]", res.NotFound)
	}
	if !ended(a) {
		t.Fatal("the client of the disconnected session is still connected")
	}
	if err := <-blocked; err == nil {
		t.Error("the request in flight on the disconnected session succeeded")
	}
	if !ended(target) || !errors.Is(target.Err(), admin.ErrDisconnected) {
		t.Errorf("the disconnected session ended with %v, want ErrDisconnected", target.Err())
	}
	// The other session goes on.
	var got string
	call(t, b, "echo", []any{"still here"}, &got)
	if got != "still here" {
		t.Errorf("echo on the other session = %q", got)
	}
	var list []admin.SessionInfo
	call(t, f.admin, "sessions", nil, &list)
	if len(list) != 1 || list[0].Requests != 3 {
		t.Errorf("sessions after the disconnect: %+v, want only the other one", list)
	}
}

func TestDisconnectGroup(t *testing.T) {
	f := newFixture(t, nil)
	clients := []*session.Session{f.client(t), f.client(t), f.client(t)}
	for _, c := range clients {
		call(t, c, "echo", []any{1}, new(int))
	}
	var res admin.Disconnected
	call(t, f.admin, "disconnect", map[string]any{"targets": "127.0.0.0/24"}, &res)
	if len(res.Closed) != 3 || len(res.NotFound) != 0 {
		t.Errorf("disconnect 127.0.0.0/24: %+v, want the 3 sessions", res)
	}
	for i, c := range clients {
		if !ended(c) {
			t.Errorf("client %d still connected after its group was disconnected", i)
		}
	}
	waitFor(t, "the server to hold no session", func() bool { return f.srv.SessionCount() == 0 })

	call(t, f.admin, "disconnect", []string{"203.0.113.0/24"}, &res)
	if len(res.Closed) != 0 || fmt.Sprint(res.NotFound) != "[203.0.113.0/24]" {
		t.Errorf("disconnect of an idle network: %+v", res)
	}
}

func TestDisconnectBadParams(t *testing.T) {
	f := newFixture(t, nil)
	many := make([]string, admin.MaxTargets+1)
	for i := range many {
		many[i] = "10.0.0.1"
	}
	tests := []struct {
		name   string
		params any
	}{
		{"no targets", nil},
		{"empty list", []string{}},
		{"too many", many},
		{"not strings", []int{1}},
	}
	for _, tt := range tests {
		if je := callErr(t, f.admin, "disconnect", tt.params); je.Code != protocol.CodeInvalidParams {
			t.Errorf("disconnect %s: %v, want -32602", tt.name, je)
		}
	}
}

func TestLogLevel(t *testing.T) {
	f := newFixture(t, nil)
	var got admin.LogLevel
	call(t, f.admin, "log_level", nil, &got)
	if got != (admin.LogLevel{Level: "info"}) {
		t.Errorf("log_level = %+v, want info", got)
	}
	call(t, f.admin, "log_level", []string{"debug"}, &got)
	if got != (admin.LogLevel{Level: "debug", Previous: "info"}) || f.level.Level() != zap.DebugLevel {
		t.Errorf("log_level debug = %+v, level %v; want debug from info", got, f.level.Level())
	}
	call(t, f.admin, "log_level", map[string]string{"level": "WARN"}, &got)
	if got.Level != "warn" || f.level.Level() != zap.WarnLevel {
		t.Errorf("log_level WARN = %+v, level %v", got, f.level.Level())
	}
	je := callErr(t, f.admin, "log_level", []string{"loud"})
	if je.Code != protocol.CodeInvalidParams || !strings.Contains(je.Message, "loud") {
		t.Errorf("log_level loud: %v, want -32602 naming it", je)
	}
	if f.level.Level() != zap.WarnLevel {
		t.Errorf("a bad level changed the level to %v", f.level.Level())
	}
	var info admin.Info
	call(t, f.admin, "getinfo", nil, &info)
	if info.LogLevel != "warn" {
		t.Errorf("getinfo log level %q, want warn", info.LogLevel)
	}
}

// TestNoLogLevel: without Options.Level there is no log_level method.
func TestNoLogLevel(t *testing.T) {
	f := newFixture(t, func(_ *server.Server, o *admin.Options) { o.Level = nil })
	if je := callErr(t, f.admin, "log_level", nil); je.Code != protocol.CodeMethodNotFound {
		t.Errorf("log_level without a Level: %v, want -32601", je)
	}
	var info admin.Info
	call(t, f.admin, "getinfo", nil, &info)
	if info.LogLevel != "" {
		t.Errorf("getinfo log level %q without a Level", info.LogLevel)
	}
}

// TestInterceptorBounded: 10,000 made-up method names are counted as
// one entry.
func TestInterceptorBounded(t *testing.T) {
	f := newFixture(t, func(srv *server.Server, _ *admin.Options) {
		// Each unknown method is an error charged to the peer's cost;
		// at the default hard limit the session would be closed.
		cost := session.DefaultCost()
		cost.HardLimit = 0
		srv.Options.Cost = &cost
	})
	c := f.client(t)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	const n = 10_000
	for i := range n {
		if err := c.Notify(ctx, fmt.Sprintf("made-up-%d", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	call(t, c, "echo", []any{1}, new(int))
	// A notification's error is counted once its handler has returned,
	// after the notification itself.
	waitFor(t, "every notification to be counted", func() bool { return f.adm.Requests()[admin.OtherMethod].Errors == n })
	got := f.adm.Requests()
	if len(got) != 2 || got["echo"] != (admin.MethodCount{Count: 1}) || got[admin.OtherMethod].Count != n {
		t.Errorf("requests after %d made-up methods: %v, want echo and %s only", n, got, admin.OtherMethod)
	}
}

// TestMethodsOption: Options.Methods are counted apart, as is a method
// of the table named "other", which shares the entry of the rest.
func TestMethodsOption(t *testing.T) {
	srv := &server.Server{Options: session.Options{Handler: handler.Methods{"other": nil, "known": nil}}}
	a, err := admin.New(&admin.Options{Server: srv, Methods: []string{"extra", "known"}})
	if err != nil {
		t.Fatal(err)
	}
	ic := a.Interceptor()
	l := server.NewLocal(&session.Options{Handler: srv.Options.Handler, Interceptors: []session.Interceptor{ic}}, nil)
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for _, m := range []string{"extra", "known", "known", "other", "unknown"} {
		_ = l.Client.Call(ctx, m, nil, nil)
	}
	got := fmt.Sprint(a.Requests())
	want := "map[extra:{1 1} known:{2 2} other:{2 2}]"
	if got != want {
		t.Errorf("requests %s, want %s", got, want)
	}
}

func TestListen(t *testing.T) {
	a, err := admin.New(&admin.Options{Server: &server.Server{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a.sock")
	srv, err := a.Listen(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != admin.SocketMode {
		t.Errorf("socket file %v (%v), want a socket of mode %v", fi, err, admin.SocketMode)
	}
	if err := srv.Close(); err != nil {
		t.Error(err)
	}
	srv.Wait()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("socket file after Close: %v, want it removed", err)
	}
	if _, err := a.Listen(ctx, filepath.Join(t.TempDir(), "no", "such", "dir", "a.sock")); err == nil {
		t.Error("Listen in a directory that does not exist succeeded")
	}
	if _, err := a.Listen(ctx, ""); err == nil {
		t.Error("Listen on an empty path succeeded")
	}
}

// sessionWith returns the server session that has received n requests,
// failing unless there is exactly one.
func sessionWith(t *testing.T, f *fixture, n uint64) *session.Session {
	t.Helper()
	var found *session.Session
	for _, s := range f.srv.Sessions() {
		if s.Stats().RecvCount == n {
			if found != nil {
				t.Fatalf("two sessions received %d messages", n)
			}
			found = s
		}
	}
	if found == nil {
		t.Fatalf("no session received %d messages", n)
	}
	return found
}

// waitFor polls cond until it holds, failing the test after wait.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", wait, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// BenchmarkInterceptor measures what counting adds to a request: the
// interceptor alone, around a handler that does nothing.
func BenchmarkInterceptor(b *testing.B) {
	srv := &server.Server{Options: session.Options{Handler: handler.Methods{"echo": nil}}}
	a, err := admin.New(&admin.Options{Server: srv})
	if err != nil {
		b.Fatal(err)
	}
	l := server.NewLocal(nil, nil)
	defer l.Close()
	ic := a.Interceptor()
	next := func(context.Context, *session.Request) (any, error) { return nil, nil }
	for _, method := range []string{"echo", "made-up"} {
		b.Run(method, func(b *testing.B) {
			req := &session.Request{Request: &jsonrpc2.Request{Method: method}, Session: l.Server}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				_, _ = ic(ctx, req, next)
			}
		})
	}
}
