package admin

import (
	"context"
	"errors"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/pubsub"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// SocketMode is the permission of the Unix socket [Admin.NewServer]
// and [Admin.Listen] make: read and write for the owner only, so that
// only the program's own user (and root) can connect.
const SocketMode os.FileMode = 0o600

// MaxTargets is the largest number of session names and network
// prefixes one call of disconnect or sessions may give.
const MaxTargets = 1000

// OtherMethod is the name under which [Admin.Interceptor] counts the
// requests for methods outside its table. A method of the table that
// is itself called "other" shares the entry.
const OtherMethod = "other"

// ErrNoServer is returned by [New] when Options.Server is nil.
var ErrNoServer = errors.New("admin: Options.Server is nil")

// ErrDisconnected is the cause with which the disconnect method (and
// [Admin.Disconnect]) ends a session: what the session's Wait and Err
// return, and what its SessionClosed event and log line carry.
var ErrDisconnected = errors.New("admin: disconnected by the operator")

// Options configures an [Admin].
type Options struct {
	// Server is the server the admin methods report on and act on
	// (required).
	Server *server.Server
	// Hub, if set, is the server's pubsub hub: getinfo then counts its
	// topics and subscriptions, and sessions the subscriptions of each
	// session.
	Hub *pubsub.Hub
	// Level, if set, is the atomic level of the program's logger: the
	// method log_level reads and changes it, and getinfo reports it.
	// Without it there is no log_level method.
	Level *zap.AtomicLevel
	// Started is when the program started, for getinfo's uptime (when
	// New is called if zero).
	Started time.Time
	// Methods are the method names the Interceptor counts one by one,
	// besides those of Server.Options.Handler when it is a
	// handler.Methods. Every other method is counted as OtherMethod, so
	// that a peer sending made-up names adds one entry, not one per
	// name.
	Methods []string
	// Logger receives a line at Info level for each session the admin
	// methods disconnect and each change of the log level, and is the
	// Logger of the servers NewServer makes (no-op when nil).
	Logger *zap.Logger
}

// Admin serves the admin methods of one server: getinfo, sessions,
// groups, disconnect and log_level (see the package documentation), and
// counts the server's requests per method through its Interceptor. Its
// methods are safe for concurrent use.
type Admin struct {
	srv     *server.Server
	hub     *pubsub.Hub
	level   *zap.AtomicLevel
	started time.Time
	log     *zap.Logger

	// known is the table of counted methods, built by New and only read
	// afterwards; other counts the rest.
	known map[string]*counter
	other counter

	// attach serialises giving a session its request counter.
	attach sync.Mutex
}

// New returns the Admin of o.Server. It returns ErrNoServer when o or
// o.Server is nil.
func New(o *Options) (*Admin, error) {
	if o == nil || o.Server == nil {
		return nil, ErrNoServer
	}
	a := &Admin{
		srv:     o.Server,
		hub:     o.Hub,
		level:   o.Level,
		started: o.Started,
		log:     o.Logger,
		known:   make(map[string]*counter),
	}
	if a.started.IsZero() {
		a.started = time.Now()
	}
	if a.log == nil {
		a.log = zap.NewNop()
	}
	if m, ok := o.Server.Options.Handler.(handler.Methods); ok {
		for name := range m {
			a.known[name] = &counter{}
		}
	}
	for _, name := range o.Methods {
		if a.known[name] == nil {
			a.known[name] = &counter{}
		}
	}
	if c := a.known[OtherMethod]; c != nil {
		a.known[OtherMethod] = &a.other
	}
	return a, nil
}

// Methods returns a new method table of the admin methods: getinfo,
// sessions, groups, disconnect, and log_level when Options.Level is
// set. The program may add methods of its own to it.
func (a *Admin) Methods() handler.Methods {
	m := handler.Methods{
		"getinfo": handler.MustFunc(func() Info { return a.Info() }),
		"sessions": handler.MustFunc(func(targets ...string) ([]SessionInfo, error) {
			if len(targets) > MaxTargets {
				return nil, tooManyTargets("sessions", len(targets))
			}
			return a.Sessions(targets...), nil
		}, "targets"),
		"groups": handler.MustFunc(func() []GroupInfo { return a.Groups() }),
		"disconnect": handler.MustFunc(func(targets ...string) (Disconnected, error) {
			switch {
			case len(targets) == 0:
				return Disconnected{}, invalidParams(`method "disconnect" needs session names or network prefixes`)
			case len(targets) > MaxTargets:
				return Disconnected{}, tooManyTargets("disconnect", len(targets))
			}
			return a.Disconnect(targets...), nil
		}, "targets"),
	}
	if a.level != nil {
		m["log_level"] = handler.MustFunc(a.logLevel, "level?")
	}
	return m
}

// NewServer returns a server, not yet listening, that serves the admin
// methods on the Unix socket at path, made with mode SocketMode (and
// removed when the server closes), logging to Options.Logger. The
// program may adjust its fields before calling Listen: add methods to
// its handler, serve TCP instead (on a loopback address: the methods
// need no credentials).
func (a *Admin) NewServer(path string) *server.Server {
	return &server.Server{
		Network:  "unix",
		Address:  path,
		UnixMode: SocketMode,
		Options:  session.Options{Handler: a.Methods()},
		Logger:   a.log,
	}
}

// Listen serves the admin methods on the Unix socket at path (see
// NewServer) and returns the listening server; shut it down with its
// Shutdown or Close. It returns the error of server.Server.Listen: an
// empty path, a path in use by a live socket, a directory that does
// not exist or is not writable.
func (a *Admin) Listen(ctx context.Context, path string) (*server.Server, error) {
	srv := a.NewServer(path)
	if err := srv.Listen(ctx); err != nil {
		return nil, err
	}
	return srv, nil
}
