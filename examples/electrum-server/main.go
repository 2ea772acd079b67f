// Electrum-server is a small Electrum server (protocol 1.4) on gorpcx
// and its pubsub hub, serving a synthetic regtest chain, so that a real
// Electrum wallet can be pointed at a gorpcx server and follow its tip.
//
// Run it with
//
//	cd examples/electrum-server && go run . [flags]
//
// (it is a Go module of its own, because -nats needs contrib/nats)
//
// and point a wallet at it (see README.md):
//
//	electrum --regtest --oneserver --server 127.0.0.1:PORT:t
//
// The chain starts with the regtest genesis block and -height blocks on
// it, each header referencing the previous block's hash (bits
// 0x207fffff; Electrum does not check proof of work on regtest), and
// grows by one block every -mine-every, or on command. Every wallet
// subscribed to headers is pushed each new tip. No script has a
// history: script hash statuses are null, histories and unspent lists
// empty, balances zero.
//
// The first line it prints on standard output is exactly
// "listening on HOST:PORT", the TCP address with the port it got; with
// -tls-addr, the second is "listening on HOST:PORT" for TLS. Then it
// prints "block HEIGHT HASH" for every block added to the chain. It
// serves until SIGINT or SIGTERM, then stops listening, lets requests
// in flight finish (for up to 5 seconds), closes every session and
// exits 0. Logs go to standard error; at -log debug every request is
// logged with its method, id and params.
//
// Commands, one per line on standard input:
//
//	mine [N]   add N blocks (1 when N is absent; at most 2016)
//
// The end of standard input only ends the commands; the server goes on.
//
// Flags (every one has a default):
//
//	-addr        TCP listen address (127.0.0.1:0; port 0 picks a free port)
//	-tls-addr    TLS listen address (off when empty)
//	-tls-cert, -tls-key
//	             PEM files of the TLS certificate and key; without them
//	             a self-signed certificate for 127.0.0.1 and localhost
//	             is made at start (Electrum pins it on first use)
//	-height      blocks above genesis the chain starts with (10; at most
//	             1,000,000, the largest height the chain grows to)
//	-mine-every  add a block at this interval (0: never; else at least 10ms)
//	-nats        join a fleet through the NATS server at this URL (off when
//	             empty): a block mined on any node is published on NATS
//	             (subject gorpcx.electrum), and every other node appends it
//	             to its own chain and pushes it to its own subscribers, so
//	             that a wallet on any node follows the same tip. Start every
//	             node with the same -height and mine on one of them: a block
//	             that does not build on a node's tip (two nodes mined at
//	             once, or the node missed one while NATS was down) is logged
//	             and dropped, as the example does not reorganise its chain.
//	-log         debug, info, warn or error (info)
//
// Methods: server.version, server.features, server.banner,
// server.donation_address, server.peers.subscribe, server.ping,
// blockchain.headers.subscribe, blockchain.block.header,
// blockchain.block.headers, blockchain.estimatefee,
// blockchain.relayfee, mempool.get_fee_histogram, and
// blockchain.scripthash.subscribe, unsubscribe, get_history,
// get_balance and listunspent. Bad arguments get error code 1, as
// ElectrumX answers them.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	natsbroker "github.com/gorpcx/gorpcx/contrib/nats"
	"github.com/gorpcx/gorpcx/pubsub"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
	"github.com/gorpcx/gorpcx/transport"
)

// shutdownGrace is how long requests in flight may run after a signal.
const shutdownGrace = 5 * time.Second

// minMineEvery is the shortest -mine-every.
const minMineEvery = 10 * time.Millisecond

// maxMineCommand is the most blocks one "mine N" command adds.
const maxMineCommand = maxChunk

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// config is the parsed command line.
type config struct {
	addr, tlsAddr   string
	tlsCert, tlsKey string
	height          int
	mineEvery       time.Duration
	natsURL         string
	level           zapcore.Level
}

// parseFlags parses the command line; errors are printed to stderr.
func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("electrum-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := &config{}
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:0", "TCP listen `address`; port 0 picks a free port")
	fs.StringVar(&cfg.tlsAddr, "tls-addr", "", "TLS listen `address` (off when empty)")
	fs.StringVar(&cfg.tlsCert, "tls-cert", "", "PEM certificate `file` for -tls-addr (default: a self-signed one made at start)")
	fs.StringVar(&cfg.tlsKey, "tls-key", "", "PEM private key `file` for -tls-cert")
	fs.IntVar(&cfg.height, "height", 10, fmt.Sprintf("blocks above genesis the chain starts with (at most %d)", maxHeight))
	fs.DurationVar(&cfg.mineEvery, "mine-every", 0, "add a block at this `interval` (0: never)")
	fs.StringVar(&cfg.natsURL, "nats", "", "join a fleet through the NATS server at `URL`: a block mined on any node reaches every node's chain and subscribers")
	level := fs.String("log", "info", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	fail := func(format string, a ...any) (*config, error) {
		err := fmt.Errorf(format, a...)
		fmt.Fprintln(stderr, "electrum-server:", err)
		fs.Usage()
		return nil, err
	}
	if fs.NArg() > 0 {
		return fail("unexpected arguments: %q", fs.Args())
	}
	if cfg.addr == "" {
		return fail("-addr must not be empty")
	}
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return fail("-tls-cert and -tls-key go together")
	}
	if cfg.tlsCert != "" && cfg.tlsAddr == "" {
		return fail("-tls-cert and -tls-key need -tls-addr")
	}
	if cfg.height < 0 || cfg.height > maxHeight {
		return fail("-height must be between 0 and %d, not %d", maxHeight, cfg.height)
	}
	if cfg.mineEvery < 0 || (cfg.mineEvery > 0 && cfg.mineEvery < minMineEvery) {
		return fail("-mine-every must be 0 or at least %v, not %v", minMineEvery, cfg.mineEvery)
	}
	switch *level {
	case "debug", "info", "warn", "error":
		cfg.level, _ = zapcore.ParseLevel(*level)
	default:
		return fail("-log must be debug, info, warn or error, not %q", *level)
	}
	return cfg, nil
}

// newLogger returns a human-readable logger writing to w at level.
func newLogger(level zapcore.Level, w io.Writer) *zap.Logger {
	enc := zap.NewDevelopmentEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.Lock(zapcore.AddSync(w)), level)
	return zap.New(core)
}

// node is the chain, the hub its tips are published on, and the output
// that lists the blocks. Its methods are safe for concurrent use.
type node struct {
	chain *chain
	hub   *pubsub.Hub
	log   *zap.Logger

	// mu makes adding a block and publishing it one step, so that tips
	// are published in the order of their heights.
	mu  sync.Mutex
	out io.Writer
}

// mine adds a block on the tip and pushes it to the subscribers. It
// returns errChainFull at the chain's largest height.
func (n *node) mine(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	height, h, err := n.chain.mine(time.Now())
	if err != nil {
		return err
	}
	n.announceLocked(ctx, height, &h, true)
	return nil
}

// appendBlock adds h, a block received from elsewhere (another node of
// a fleet), on the tip and pushes it to the subscribers. It returns the
// chain's errors (errNotOnTip, errChainFull).
func (n *node) appendBlock(ctx context.Context, h header) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	height, err := n.chain.append(h)
	if err != nil {
		return err
	}
	n.announceLocked(ctx, height, &h, false)
	return nil
}

// announceLocked publishes the new tip and prints it: to the fleet too
// for a block mined here, to this node's subscribers only for one
// received from the fleet. n.mu must be held.
func (n *node) announceLocked(ctx context.Context, height int, h *header, fleet bool) {
	params := [1]tipResult{newTip(height, h)}
	var err error
	if fleet {
		err = n.hub.Publish(ctx, headersTopic, params)
	} else {
		err = n.hub.PublishLocal(headersTopic, params)
	}
	if err != nil {
		n.log.Warn("publishing the tip", zap.Int("height", height), zap.Error(err))
	}
	fmt.Fprintf(n.out, "block %d %s\n", height, h.hash())
	n.log.Debug("new tip", zap.Int("height", height))
}

// fromFleet takes a block another node of the fleet mined (a
// publication on the headers topic): it appends it to the chain and
// pushes it to this node's subscribers, and reports false, so that the
// hub does not deliver it a second time. A block that does not build
// on this node's tip (two nodes mined at once, or this node missed
// one) is logged and dropped: the example does not reorganise.
func (n *node) fromFleet(m pubsub.Message) bool {
	if m.Topic != headersTopic {
		return true
	}
	var params [1]tipResult
	if err := json.Unmarshal(m.Params, &params); err != nil {
		n.log.Warn("a malformed block from the fleet", zap.Error(err))
		return false
	}
	var h header
	if len(params[0].Hex) != 2*headerSize {
		n.log.Warn("a malformed block from the fleet", zap.Int("height", params[0].Height))
		return false
	}
	if _, err := hex.Decode(h[:], []byte(params[0].Hex)); err != nil {
		n.log.Warn("a malformed block from the fleet", zap.Error(err))
		return false
	}
	if err := n.appendBlock(context.Background(), h); err != nil {
		n.log.Warn("dropping a block from the fleet", zap.Int("height", params[0].Height), zap.Error(err))
	}
	return false
}

// command carries out one line of standard input.
func (n *node) command(ctx context.Context, line string) error {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return nil
	}
	if fields[0] != "mine" || len(fields) > 2 {
		return fmt.Errorf("unknown command %q (try \"mine\" or \"mine N\")", clip(line))
	}
	count := 1
	if len(fields) == 2 {
		c, err := strconv.Atoi(fields[1])
		if err != nil || c < 1 || c > maxMineCommand {
			return fmt.Errorf("mine: %q is not a number of blocks from 1 to %d", clip(fields[1]), maxMineCommand)
		}
		count = c
	}
	for range count {
		if err := n.mine(ctx); err != nil {
			return err
		}
	}
	return nil
}

// readCommands sends the lines of r to lines until r ends or done is
// closed. It closes lines when it returns.
func readCommands(r io.Reader, lines chan<- string, done <-chan struct{}) {
	defer close(lines)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		select {
		case lines <- sc.Text():
		case <-done:
			return
		}
	}
}

// newClient is the server's NewSession hook: it gives each connection
// a client in its sessions' context, and logs the session's end at
// debug level with its counts of requests and messages (equal unless
// the peer sent batches).
func newClient(log *zap.Logger) func(conn *transport.Conn, opts *session.Options) error {
	return func(conn *transport.Conn, opts *session.Options) error {
		c := &client{endpoint: "tcp"}
		if _, ok := conn.TLSState(); ok {
			c.endpoint = "tls"
		}
		parent := opts.Context
		if parent == nil {
			parent = context.Background()
		}
		opts.Context = context.WithValue(parent, clientKey{}, c)
		peer := conn.RemoteAddr().String()
		opts.OnClose = func(err error) {
			var messages uint64
			if s := c.sess.Load(); s != nil {
				messages = s.Stats().RecvCount
			}
			log.Debug("session ended", zap.String("peer", peer), zap.String("endpoint", c.endpoint),
				zap.Uint64("requests", c.requests.Load()), zap.Uint64("messages", messages), zap.Error(err))
		}
		return nil
	}
}

// run serves until ctx is done and returns the exit status: 0 after a
// shutdown, 1 if it could not listen, 2 for a bad command line. It
// reads commands from stdin (nil: none) on a goroutine of its own that
// ends when stdin does, or at the first line after run has returned.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	log := newLogger(cfg.level, stderr)
	defer func() { _ = log.Sync() }()

	ch, err := newChain(cfg.height)
	if err != nil {
		log.Error("cannot make the chain", zap.Error(err))
		return 1
	}
	n := &node{chain: ch, log: log, out: stdout}
	hubOpts := &pubsub.Options{Group: server.GroupOf, Logger: log}
	if cfg.natsURL != "" {
		broker, err := natsbroker.Dial(cfg.natsURL, &natsbroker.Options{Subject: "gorpcx.electrum", Name: "electrum-server"})
		if err != nil {
			log.Error("cannot join the fleet", zap.String("nats", cfg.natsURL), zap.Error(err))
			return 1
		}
		hubOpts.Broker = broker
		hubOpts.Remote = n.fromFleet
	}
	hub, err := pubsub.NewHub(hubOpts)
	if err != nil {
		log.Error("cannot make the hub", zap.Error(err))
		return 1
	}
	defer hub.Close()
	n.hub = hub
	if err := hub.Declare(headersTopic, headersSubscription); err != nil {
		log.Error("cannot declare the headers topic", zap.Error(err))
		return 1
	}
	height, tip := ch.tip()
	if err := hub.PublishLocal(headersTopic, [1]tipResult{newTip(height, &tip)}); err != nil {
		log.Error("cannot publish the tip", zap.Error(err))
		return 1
	}
	e := &electrum{chain: ch, hub: hub, log: log}

	endpoints := []server.Endpoint{{Address: cfg.addr}}
	if cfg.tlsAddr != "" {
		cert, err := loadCertificate(cfg)
		if err != nil {
			log.Error("cannot set up TLS", zap.Error(err))
			return 1
		}
		endpoints = append(endpoints, server.Endpoint{
			Address: cfg.tlsAddr,
			TLS:     &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		})
	}
	srv := &server.Server{
		Endpoints:  endpoints,
		NewSession: newClient(log),
		Options:    session.Options{Handler: e.handler()},
		Logger:     log,
	}
	if err := srv.Listen(ctx); err != nil {
		log.Error("cannot listen", zap.String("address", cfg.addr), zap.String("tls-address", cfg.tlsAddr), zap.Error(err))
		return 1
	}
	addrs := srv.Addrs()
	e.features.Store(newFeatures(addrs, cfg.tlsAddr != ""))
	n.mu.Lock()
	for _, a := range addrs {
		fmt.Fprintf(stdout, "listening on %s\n", a)
	}
	n.mu.Unlock()
	log.Info("serving", zap.Int("height", height), zap.Stringer("tip", tip.hash()), zap.Duration("mine-every", cfg.mineEvery))

	var tick <-chan time.Time
	if cfg.mineEvery > 0 {
		t := time.NewTicker(cfg.mineEvery)
		defer t.Stop()
		tick = t.C
	}
	var lines chan string
	if stdin != nil {
		lines = make(chan string)
		done := make(chan struct{})
		defer close(done)
		go readCommands(stdin, lines, done)
	}
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-tick:
			if err := n.mine(ctx); err != nil {
				log.Warn("cannot mine", zap.Error(err))
			}
		case line, ok := <-lines:
			if !ok {
				lines = nil // standard input has ended; serve on
				continue
			}
			if err := n.command(ctx, line); err != nil {
				log.Warn("command", zap.Error(err))
			}
		}
	}

	log.Info("shutting down", zap.Int("sessions", srv.SessionCount()))
	if err := srv.Close(); err != nil {
		log.Warn("closing the listeners", zap.Error(err))
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("requests still running were aborted", zap.Duration("after", shutdownGrace))
	}
	if st, ok := hub.Stats(headersTopic); ok {
		log.Info("headers notifications", zap.Uint64("published", st.Published), zap.Uint64("sent", st.Sent),
			zap.Uint64("coalesced", st.Coalesced), zap.Uint64("dropped", st.Dropped))
	}
	log.Info("stopped")
	return 0
}

// loadCertificate returns the certificate of -tls-cert and -tls-key,
// or a self-signed one for 127.0.0.1 and localhost.
func loadCertificate(cfg *config) (tls.Certificate, error) {
	if cfg.tlsCert != "" {
		return tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
	}
	return transport.SelfSigned(0, "127.0.0.1", "localhost")
}

// newFeatures returns server.features' answer for the listeners'
// addresses: the TCP one first, then, if withTLS, the TLS one.
func newFeatures(addrs []net.Addr, withTLS bool) *features {
	g := regtestGenesis()
	f := &features{
		GenesisHash:   g.hash().String(),
		Hosts:         map[string]hostPorts{},
		ProtocolMax:   protocolVersion,
		ProtocolMin:   protocolVersion,
		ServerVersion: serverSoftware,
		HashFunction:  "sha256",
	}
	for i, a := range addrs {
		host, portText, err := net.SplitHostPort(a.String())
		if err != nil {
			continue
		}
		port, err := strconv.Atoi(portText)
		if err != nil {
			continue
		}
		hp := f.Hosts[host]
		if i == 1 && withTLS {
			hp.SSLPort = &port
		} else {
			hp.TCPPort = &port
		}
		f.Hosts[host] = hp
	}
	return f
}
