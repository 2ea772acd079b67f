// Interop-server is a JSON-RPC server with a fixed set of methods, so that
// any peer (the Python aiorpcX library, nc, a load generator, another
// implementation) can be tested against gorpcx over a real socket.
//
// Run it with
//
//	cd examples/interop-server && go run . [flags]
//
// It is a Go module of its own (examples/interop-server/go.mod, using
// the SDK of this repository), because -metrics imports
// contrib/prometheus, which the SDK's module must not depend on.
//
// The first line it prints on standard output is exactly
// "listening on HOST:PORT", with the port it got. It serves until SIGINT
// or SIGTERM, then stops listening, lets the requests in flight finish
// (for up to 5 seconds), closes every session and exits 0. Logs go to
// standard error.
//
// Flags (every one has a default):
//
//	-addr                listen address (127.0.0.1:0; port 0 picks a free port)
//	-protocol            v2, v1, loose or auto (v2)
//	-framing             newline or length, a 4-byte big-endian length prefix (newline)
//	-max-message         largest incoming message in bytes (1000000); over it the
//	                     message is dropped (newline framing re-synchronises at the
//	                     next newline; length-prefix framing closes the connection).
//	                     Outgoing messages have no limit.
//	-concurrency         requests one session processes at once (20)
//	-processing-timeout  a request still running after this gets -102 "server
//	                     busy" (30s; 0 switches it off)
//	-log                 debug, info, warn or error (info)
//
// Flags for serving the open internet (each default is the SDK's):
//
//	-tls                 serve TLS, with a self-signed certificate for 127.0.0.1
//	                     and localhost made at start
//	-tls-cert, -tls-key  PEM files of the certificate and key for -tls instead
//	-max-sessions        connections held at once, counted from accept (1000);
//	                     at the limit the least useful is closed to make room;
//	                     negative: no limit
//	-proxy-protocol      off, v1, v2 or any (off): read a PROXY protocol header
//	                     first on every connection
//	-trusted             comma-separated networks allowed to send a PROXY header
//	                     (127.0.0.1/32,::1/128); a header from anywhere else
//	                     closes the connection
//	-per-ip, -per-subnet sessions per peer address (12) and per /24 or /48 (64);
//	                     0: the default; negative: no limit
//	-exempt              comma-separated networks exempt from the per-peer
//	                     limits (loopback); "none": nobody
//	-first-message-timeout
//	                     a connection that has not sent a whole message this
//	                     long after accept (PROXY header and TLS handshake
//	                     included) is closed (10s); 0: the default; negative: off
//	-idle-timeout        a session that receives nothing this long is closed
//	                     (600s); 0: the default; negative: off
//
// Flags for watching it run (off by default):
//
//	-metrics ADDR        serve Prometheus metrics (contrib/prometheus, every
//	                     method a label of its own) over HTTP at
//	                     http://ADDR/metrics; port 0 picks a free port. The
//	                     second line on standard output is then
//	                     "metrics on http://HOST:PORT/metrics".
//	-admin PATH          serve the admin methods (package admin: getinfo,
//	                     sessions, groups, disconnect, log_level) on a Unix
//	                     socket at PATH, of mode 0600, removed at exit; talk
//	                     to it with examples/rpccall unix:PATH getinfo
//
// Methods (params positional, or named where names are given):
//
//	echo          [value] or {"value": v}   value, unchanged
//	add           [a, b] or {"a": a, "b": b} a + b (exact for integers that fit 64 bits)
//	sleep         [seconds]                  true, after sleeping 0 to 60 seconds
//	fail          [code, message]            an error with that code and message
//	notify_back   [method, params]           notifies the caller, then true
//	request_back  [method, params]           calls the caller, returns its answer
//	bye           []                         "bye", then closes the connection
//	stats         []                         {"recv_count", "send_count", "errors"}
//	whoami        []                         {"peer", "local", "via"}: the peer's
//	                                         address (the client's, behind a
//	                                         trusted PROXY header), the server's,
//	                                         and the balancer's (null without one)
//
// Params of the wrong number, names or types get -32602 with a message
// naming the method, an unknown method -32601. Requests of one session
// are handled concurrently, up to -concurrency at once.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/gorpcx/gorpcx/admin"
	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/protocol"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
	"github.com/gorpcx/gorpcx/transport"
)

// shutdownGrace is how long requests in flight may run after a signal.
const shutdownGrace = 5 * time.Second

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is the parsed command line.
type config struct {
	addr              string
	dialect           protocol.Dialect
	framer            framing.Framer
	concurrency       int
	processingTimeout time.Duration
	level             zapcore.Level

	tls                 bool
	tlsCert, tlsKey     string
	maxSessions         int
	proxy               transport.ProxyMode
	trusted             []netip.Prefix
	perIP, perSubnet    int
	exempt              []netip.Prefix // nil: the SDK's default
	firstMessageTimeout time.Duration
	idleTimeout         time.Duration

	metricsAddr string // "": no metrics
	adminPath   string // "": no admin interface
}

// parseFlags parses the command line; errors are printed to stderr.
func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("interop-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen `address`; port 0 picks a free port")
	proto := fs.String("protocol", "v2", "JSON-RPC dialect: v2, v1, loose or auto")
	frame := fs.String("framing", "newline", "message framing: newline or length")
	maxMessage := fs.Int("max-message", framing.DefaultMax, "largest incoming message in `bytes`")
	concurrency := fs.Int("concurrency", session.DefaultConcurrency, "requests one session processes at once")
	timeout := fs.Duration("processing-timeout", session.DefaultProcessingTimeout, "`duration` after which a running request gets -102 (0: never)")
	level := fs.String("log", "info", "log level: debug, info, warn or error")
	useTLS := fs.Bool("tls", false, "serve TLS, with a self-signed certificate for 127.0.0.1 and localhost made at start unless -tls-cert and -tls-key are given")
	tlsCert := fs.String("tls-cert", "", "PEM certificate `file` for -tls")
	tlsKey := fs.String("tls-key", "", "PEM private key `file` for -tls")
	maxSessions := fs.Int("max-sessions", server.DefaultMaxSessions, "sessions (connections, counted from accept) held at once; at the limit the least useful is closed to make room (negative: no limit)")
	proxyMode := fs.String("proxy-protocol", "off", "read a PROXY protocol header first on every connection: off, v1, v2 or any")
	trusted := fs.String("trusted", "127.0.0.1/32,::1/128", "comma-separated `networks` allowed to send a PROXY header; a header from anywhere else closes the connection")
	perIP := fs.Int("per-ip", 0, fmt.Sprintf("sessions allowed per peer address (0: the SDK default, %d; negative: no limit)", server.DefaultPerIP))
	perSubnet := fs.Int("per-subnet", 0, fmt.Sprintf("sessions allowed per peer subnet, /%d or /%d (0: the SDK default, %d; negative: no limit)", server.DefaultSubnetBitsV4, server.DefaultSubnetBitsV6, server.DefaultPerSubnet))
	exempt := fs.String("exempt", "", "comma-separated `networks` exempt from per-peer limits (default: the SDK's, 127.0.0.0/8 and ::1/128; \"none\": nobody)")
	firstMessage := fs.Duration("first-message-timeout", 0, fmt.Sprintf("a connection that has not sent a whole message this long after accept (PROXY header and TLS handshake included) is closed (0: the SDK default, %v; negative: off)", server.DefaultFirstMessageTimeout))
	idle := fs.Duration("idle-timeout", 0, fmt.Sprintf("a session that receives nothing this long is closed (0: the SDK default, %v; negative: off)", server.DefaultIdleTimeout))
	metricsAddr := fs.String("metrics", "", "serve Prometheus metrics over HTTP at http://`ADDR`/metrics, a host:port (port 0 picks a free one; default: none)")
	adminPath := fs.String("admin", "", "serve the admin methods (getinfo, sessions, groups, disconnect, log_level) on a Unix socket at `PATH`, of mode 0600 (default: none)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	fail := func(format string, a ...any) (*config, error) {
		err := fmt.Errorf(format, a...)
		fmt.Fprintln(stderr, "interop-server:", err)
		fs.Usage()
		return nil, err
	}
	if fs.NArg() > 0 {
		return fail("unexpected arguments: %q", fs.Args())
	}
	cfg := &config{addr: *addr, concurrency: *concurrency, processingTimeout: *timeout}
	var err error
	if cfg.dialect, err = protocol.ParseDialect(*proto); err != nil {
		return fail("-protocol: %v", err)
	}
	if *maxMessage < 1 {
		return fail("-max-message must be at least 1, not %d", *maxMessage)
	}
	switch *frame {
	case "newline":
		cfg.framer = framing.Newline{Max: *maxMessage}
	case "length":
		cfg.framer = framing.LengthPrefixed{Max: *maxMessage}
	default:
		return fail("-framing must be newline or length, not %q", *frame)
	}
	if cfg.concurrency < 1 {
		return fail("-concurrency must be at least 1, not %d", cfg.concurrency)
	}
	if cfg.processingTimeout <= 0 {
		cfg.processingTimeout = -1 // off
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return fail("-tls-cert and -tls-key go together")
	}
	if *tlsCert != "" && !*useTLS {
		return fail("-tls-cert and -tls-key need -tls")
	}
	cfg.tls, cfg.tlsCert, cfg.tlsKey = *useTLS, *tlsCert, *tlsKey
	if *maxSessions == 0 {
		return fail("-max-sessions must not be 0 (negative: no limit)")
	}
	cfg.maxSessions = *maxSessions
	if cfg.proxy, err = transport.ParseProxyMode(*proxyMode); err != nil {
		return fail("-proxy-protocol: %v", err)
	}
	if cfg.trusted, err = transport.ParsePrefixes(*trusted); err != nil {
		return fail("-trusted: %v", err)
	}
	cfg.perIP, cfg.perSubnet = *perIP, *perSubnet
	switch *exempt {
	case "":
	case "none":
		cfg.exempt = []netip.Prefix{}
	default:
		if cfg.exempt, err = transport.ParsePrefixes(*exempt); err != nil {
			return fail("-exempt: %v", err)
		}
	}
	cfg.firstMessageTimeout, cfg.idleTimeout = *firstMessage, *idle
	cfg.metricsAddr, cfg.adminPath = *metricsAddr, *adminPath
	switch *level {
	case "debug", "info", "warn", "error":
		cfg.level, _ = zapcore.ParseLevel(*level)
	default:
		return fail("-log must be debug, info, warn or error, not %q", *level)
	}
	return cfg, nil
}

// loadCertificate returns the certificate of -tls-cert and -tls-key,
// or a self-signed one for 127.0.0.1 and localhost.
func loadCertificate(cfg *config) (tls.Certificate, error) {
	if cfg.tlsCert != "" {
		return tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
	}
	return transport.SelfSigned(0, "127.0.0.1", "localhost")
}

// newLogger returns a human-readable logger writing to w at level.
func newLogger(level zapcore.LevelEnabler, w io.Writer) *zap.Logger {
	enc := zap.NewDevelopmentEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.Lock(zapcore.AddSync(w)), level)
	return zap.New(core)
}

// run serves until SIGINT or SIGTERM and returns the exit status: 0
// after a shutdown, 1 if it could not listen, 2 for a bad command line.
func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	level := zap.NewAtomicLevelAt(cfg.level)
	log := newLogger(level, stderr)
	defer func() { _ = log.Sync() }()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	srv := &server.Server{
		Address:     cfg.addr,
		Framer:      cfg.framer,
		MaxSessions: cfg.maxSessions,
		Peers:       server.PeerGroups{PerIP: cfg.perIP, PerSubnet: cfg.perSubnet, Exempt: cfg.exempt},
		NewSession:  rememberConn,
		Options: session.Options{
			Handler:           methods,
			Dialect:           cfg.dialect,
			Concurrency:       cfg.concurrency,
			ProcessingTimeout: cfg.processingTimeout,
			IdleTimeout:       cfg.idleTimeout,
		},
		Logger: log,
	}
	if cfg.proxy != transport.ProxyOff {
		srv.Proxy = &transport.ProxyProtocol{Mode: cfg.proxy, Trusted: cfg.trusted}
	}
	if cfg.tls {
		cert, err := loadCertificate(cfg)
		if err != nil {
			log.Error("cannot set up TLS", zap.Error(err))
			return 1
		}
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	var adm *admin.Admin
	if cfg.adminPath != "" {
		adm, err = admin.New(&admin.Options{Server: srv, Level: &level, Logger: log.Named("admin")})
		if err != nil {
			log.Error("cannot set up the admin interface", zap.Error(err))
			return 1
		}
		srv.Options.Interceptors = append(srv.Options.Interceptors, adm.Interceptor())
	}
	var metrics *metricsServer
	if cfg.metricsAddr != "" {
		if metrics, err = startMetrics(cfg.metricsAddr, srv, log.Named("metrics")); err != nil {
			log.Error("cannot serve the metrics", zap.String("address", cfg.metricsAddr), zap.Error(err))
			return 1
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
			defer cancel()
			if err := metrics.shutdown(ctx); err != nil {
				log.Warn("scrapes still running were aborted", zap.Error(err))
			}
		}()
	}
	if err := srv.Listen(ctx); err != nil {
		log.Error("cannot listen", zap.String("address", cfg.addr), zap.Error(err))
		return 1
	}
	var adminSrv *server.Server
	if adm != nil {
		if adminSrv, err = adm.Listen(ctx, cfg.adminPath); err != nil {
			log.Error("cannot listen for the admin interface", zap.String("path", cfg.adminPath), zap.Error(err))
			_ = srv.Close()
			return 1
		}
	}
	fmt.Fprintf(stdout, "listening on %s\n", srv.Addr())
	if metrics != nil {
		fmt.Fprintf(stdout, "metrics on %s\n", metrics.URL())
	}

	<-ctx.Done()
	stop()
	log.Info("signal received; shutting down", zap.Int("sessions", srv.SessionCount()))
	if err := srv.Close(); err != nil {
		log.Warn("closing the listener", zap.Error(err))
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("requests still running were aborted", zap.Duration("after", shutdownGrace))
	}
	if adminSrv != nil {
		// The admin interface stays up while the server drains, and
		// goes last.
		if err := adminSrv.Shutdown(sctx); err != nil {
			log.Warn("admin requests still running were aborted", zap.Error(err))
		}
	}
	log.Info("stopped")
	return 0
}
