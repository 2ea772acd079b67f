package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"

	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/protocol"
	"github.com/gorpcx/gorpcx/pubsub"
	"github.com/gorpcx/gorpcx/session"
)

// Electrum protocol constants.
const (
	// protocolVersion is the one version of the Electrum protocol this
	// server speaks.
	protocolVersion = "1.4"
	// serverSoftware is what server.version and server.features name.
	serverSoftware = "gorpcx-electrum-example 1.0"
	// maxChunk is the most headers one blockchain.block.headers returns
	// (one retarget period, as ElectrumX).
	maxChunk = 2016
	// codeBadRequest is the error code ElectrumX answers bad arguments
	// with (its BAD_REQUEST).
	codeBadRequest = 1
	// relayFee is the minimum fee rate of a transaction the synthetic
	// node relays, in BTC per 1000 vbytes (1 sat/vB).
	relayFee = 0.00001
	// banner is server.banner's answer.
	banner = "gorpcx Electrum server example: a synthetic regtest chain, no real coins."
)

// Hub topics.
const (
	// headersTopic carries the chain tip, the params of a
	// blockchain.headers.subscribe notification: [{"height", "hex"}].
	headersTopic = "headers"
	// scripthashTopic prefixes the topic of one script hash, whose
	// notifications' params are [scripthash, status].
	scripthashTopic = "scripthash:"
)

// headersSubscription and scripthashSubscription are the topic options
// of the two kinds of subscription. A subscriber whose queue is full
// keeps only the newest value: a wallet needs the tip and the latest
// status, not every one in between.
var (
	headersSubscription    = pubsub.TopicOptions{Method: "blockchain.headers.subscribe", Policy: pubsub.KeepLatest}
	scripthashSubscription = pubsub.TopicOptions{Method: "blockchain.scripthash.subscribe", Policy: pubsub.KeepLatest}
)

// badRequest returns an error object of ElectrumX's BAD_REQUEST code.
func badRequest(format string, a ...any) error {
	return &jsonrpc2.Error{Code: codeBadRequest, Message: fmt.Sprintf(format, a...)}
}

// tipResult is a header as blockchain.headers.subscribe returns it.
type tipResult struct {
	Height int    `json:"height"`
	Hex    string `json:"hex"`
}

// newTip returns the tipResult of h at height.
func newTip(height int, h *header) tipResult {
	return tipResult{Height: height, Hex: hex.EncodeToString(h[:])}
}

// hostPorts is one entry of server.features' hosts.
type hostPorts struct {
	TCPPort *int `json:"tcp_port"`
	SSLPort *int `json:"ssl_port"`
}

// features is the result of server.features.
type features struct {
	GenesisHash   string               `json:"genesis_hash"`
	Hosts         map[string]hostPorts `json:"hosts"`
	ProtocolMax   string               `json:"protocol_max"`
	ProtocolMin   string               `json:"protocol_min"`
	Pruning       *int                 `json:"pruning"`
	ServerVersion string               `json:"server_version"`
	HashFunction  string               `json:"hash_function"`
}

// client is what the server keeps of one connection, in its sessions'
// context.
type client struct {
	endpoint  string // "tcp" or "tls"
	versioned atomic.Bool
	requests  atomic.Uint64
	sess      atomic.Pointer[session.Session]
}

// clientKey finds the client in a handler's context.
type clientKey struct{}

// clientOf returns the client of a handler's context, or nil.
func clientOf(ctx context.Context) *client {
	c, _ := ctx.Value(clientKey{}).(*client)
	return c
}

// electrum serves the Electrum protocol from a chain and a hub.
type electrum struct {
	chain    *chain
	hub      *pubsub.Hub
	features atomic.Pointer[features] // set once the server listens
	log      *zap.Logger
}

// handler returns the session handler: the method table, with each
// request counted and, at debug level, logged (the peer, the method,
// the id and the params as the peer sent them, or "absent" when the
// request has no params).
func (e *electrum) handler() session.Handler {
	methods := handler.Methods{
		"server.version":                    handler.MustFunc(e.serverVersion, "client_name?", "protocol_version?"),
		"server.features":                   handler.MustFunc(e.serverFeatures),
		"server.banner":                     handler.MustFunc(func() string { return banner }),
		"server.donation_address":           handler.MustFunc(func() string { return "" }),
		"server.peers.subscribe":            handler.MustFunc(func() []string { return []string{} }),
		"server.ping":                       handler.MustFunc(func() {}),
		"blockchain.headers.subscribe":      handler.MustFunc(e.headersSubscribe),
		"blockchain.block.header":           handler.MustFunc(e.blockHeader, "height", "cp_height?"),
		"blockchain.block.headers":          handler.MustFunc(e.blockHeaders, "start_height", "count", "cp_height?"),
		"blockchain.estimatefee":            handler.MustFunc(estimateFee, "number", "mode?"),
		"blockchain.relayfee":               handler.MustFunc(func() float64 { return relayFee }),
		"mempool.get_fee_histogram":         handler.MustFunc(func() [][2]float64 { return [][2]float64{} }),
		"blockchain.scripthash.subscribe":   handler.MustFunc(e.scripthashSubscribe, "scripthash"),
		"blockchain.scripthash.unsubscribe": handler.MustFunc(e.scripthashUnsubscribe, "scripthash"),
		"blockchain.scripthash.get_history": handler.MustFunc(emptyList, "scripthash"),
		"blockchain.scripthash.get_balance": handler.MustFunc(emptyBalance, "scripthash"),
		"blockchain.scripthash.listunspent": handler.MustFunc(emptyList, "scripthash"),
	}
	return session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		if c := clientOf(ctx); c != nil {
			c.requests.Add(1)
			if c.sess.Load() == nil {
				c.sess.CompareAndSwap(nil, session.FromContext(ctx))
			}
		}
		if ce := e.log.Check(zap.DebugLevel, "request"); ce != nil {
			params := "absent"
			if req.Params != nil {
				params = clip(string(*req.Params))
			}
			ce.Write(zap.String("peer", session.FromContext(ctx).Peer()), zap.String("method", req.Method),
				zap.ByteString("id", session.RawID(ctx)), zap.String("params", params))
		}
		return methods.Handle(ctx, req)
	})
}

// clip shortens s for a log line.
func clip(s string) string {
	const most = 200
	if len(s) <= most {
		return s
	}
	return s[:most] + "..."
}

// versionOf parses a protocol version such as "1.4" or "1.4.2" into its
// numbers.
func versionOf(s string) ([3]int, bool) {
	var v [3]int
	parts := strings.Split(s, ".")
	if len(parts) < 1 || len(parts) > 3 {
		return v, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, false
		}
		v[i] = n
	}
	return v, true
}

// compareVersions returns -1, 0 or 1 as a is below, equal to or above b.
func compareVersions(a, b [3]int) int {
	for i := range a {
		switch {
		case a[i] < b[i]:
			return -1
		case a[i] > b[i]:
			return 1
		}
	}
	return 0
}

// negotiate returns the version both sides speak, given the client's
// protocol_version: absent (1.4), a version, or [min, max].
func negotiate(raw json.RawMessage) (string, error) {
	lo, hi := protocolVersion, protocolVersion
	if len(raw) > 0 && string(raw) != "null" {
		var one string
		var pair []string
		switch {
		case json.Unmarshal(raw, &one) == nil:
			lo, hi = one, one
		case json.Unmarshal(raw, &pair) == nil && len(pair) == 2:
			lo, hi = pair[0], pair[1]
		default:
			return "", badRequest("invalid protocol version: %s", clip(string(raw)))
		}
	}
	least, ok1 := versionOf(lo)
	most, ok2 := versionOf(hi)
	if !ok1 || !ok2 {
		return "", badRequest("invalid protocol version: %s", clip(string(raw)))
	}
	ours, _ := versionOf(protocolVersion)
	if compareVersions(least, ours) > 0 || compareVersions(most, ours) < 0 {
		return "", badRequest("unsupported protocol version: %s", clip(string(raw)))
	}
	return protocolVersion, nil
}

// serverVersion answers server.version: [server software, protocol
// version]. It may be sent once per session; an unsupported protocol
// version is answered with an error and the connection closed, as
// ElectrumX does.
func (e *electrum) serverVersion(ctx context.Context, clientName string, version json.RawMessage) ([2]string, error) {
	if c := clientOf(ctx); c != nil && !c.versioned.CompareAndSwap(false, true) {
		return [2]string{}, badRequest("server.version already sent")
	}
	v, err := negotiate(version)
	if err != nil {
		return [2]string{}, &session.ReplyAndDisconnect{Result: err}
	}
	e.log.Debug("client version", zap.String("client", clip(clientName)), zap.String("protocol", v))
	return [2]string{serverSoftware, v}, nil
}

// serverFeatures answers server.features.
func (e *electrum) serverFeatures() (*features, error) {
	f := e.features.Load()
	if f == nil {
		return nil, protocol.NewError(protocol.CodeInternalError, "the server is starting")
	}
	return f, nil
}

// headersSubscribe subscribes the session to the chain tip and returns
// the tip. The subscription comes first, so that no block is missed
// between reading the tip and subscribing.
func (e *electrum) headersSubscribe(ctx context.Context) (tipResult, error) {
	if _, err := e.hub.Subscribe(session.FromContext(ctx), headersTopic, nil); err != nil {
		return tipResult{}, err
	}
	height, h := e.chain.tip()
	return newTip(height, &h), nil
}

// merkleProof is what a cp_height adds to a header's answer.
type merkleProof struct {
	Branch []string `json:"branch"`
	Root   string   `json:"root"`
}

// proofAt returns the checkpoint proof of the header at height.
func (e *electrum) proofAt(height, cpHeight int) (merkleProof, error) {
	branch, root, err := e.chain.proof(height, cpHeight)
	if err != nil {
		return merkleProof{}, badRequest("%v", err)
	}
	p := merkleProof{Branch: make([]string, len(branch)), Root: root.String()}
	for i, h := range branch {
		p.Branch[i] = h.String()
	}
	return p, nil
}

// blockHeader answers blockchain.block.header: the header's hex, or
// with a cp_height an object of the header, the merkle branch and root.
func (e *electrum) blockHeader(height, cpHeight int) (any, error) {
	h, ok := e.chain.header(height)
	if !ok {
		return nil, badRequest("height %d out of range", height)
	}
	if cpHeight == 0 {
		return hex.EncodeToString(h[:]), nil
	}
	p, err := e.proofAt(height, cpHeight)
	if err != nil {
		return nil, err
	}
	return struct {
		Branch []string `json:"branch"`
		Header string   `json:"header"`
		Root   string   `json:"root"`
	}{p.Branch, hex.EncodeToString(h[:]), p.Root}, nil
}

// headersResult is the result of blockchain.block.headers.
type headersResult struct {
	Count  int      `json:"count"`
	Hex    string   `json:"hex"`
	Max    int      `json:"max"`
	Branch []string `json:"branch,omitempty"`
	Root   string   `json:"root,omitempty"`
}

// blockHeaders answers blockchain.block.headers: up to count (at most
// 2016) headers from startHeight, fewer past the tip; with a cp_height,
// the proof of the last one.
func (e *electrum) blockHeaders(startHeight, count, cpHeight int) (headersResult, error) {
	if startHeight < 0 || count < 0 {
		return headersResult{}, badRequest("start_height %d and count %d must not be negative", startHeight, count)
	}
	count = min(count, maxChunk)
	buf, n := e.chain.appendHeaders(make([]byte, 0, 2*headerSize*min(count, 64)), startHeight, count)
	res := headersResult{Count: n, Hex: string(buf), Max: maxChunk}
	if n > 0 && cpHeight != 0 {
		p, err := e.proofAt(startHeight+n-1, cpHeight)
		if err != nil {
			return headersResult{}, err
		}
		res.Branch, res.Root = p.Branch, p.Root
	}
	return res, nil
}

// estimateFee answers blockchain.estimatefee with a synthetic fee rate
// in BTC per 1000 vbytes for confirmation within number blocks: 1 sat/vB
// for 25 blocks or more, rising as the target nears.
func estimateFee(number int, mode string) (float64, error) {
	switch mode {
	case "", "ECONOMICAL", "CONSERVATIVE":
	default:
		return 0, badRequest("invalid estimate mode %q", clip(mode))
	}
	if number < 1 {
		return 0, badRequest("number %d must be at least 1", number)
	}
	satPerVB := max(1, 25/number)
	return float64(satPerVB*1000) / 1e8, nil
}

// checkScripthash returns a BAD_REQUEST error unless s is a script
// hash: 64 hex digits.
func checkScripthash(s string) error {
	if len(s) != 64 {
		return badRequest("%s is not a valid script hash", strconv.Quote(clip(s)))
	}
	for i := range len(s) {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return badRequest("%s is not a valid script hash", strconv.Quote(s))
		}
	}
	return nil
}

// scripthashSubscribe subscribes the session to a script hash and
// returns its status: null, since no script of this synthetic chain has
// a history.
func (e *electrum) scripthashSubscribe(ctx context.Context, scripthash string) (json.RawMessage, error) {
	if err := checkScripthash(scripthash); err != nil {
		return nil, err
	}
	opts := scripthashSubscription
	status, err := e.hub.Subscribe(session.FromContext(ctx), scripthashTopic+strings.ToLower(scripthash), &opts)
	if err != nil {
		return nil, err
	}
	if status == nil {
		return json.RawMessage("null"), nil
	}
	// A published value is the notification's params, [scripthash, status].
	var params [2]json.RawMessage
	if err := json.Unmarshal(status, &params); err != nil {
		return nil, protocol.NewError(protocol.CodeInternalError, "bad status of "+scripthash)
	}
	return params[1], nil
}

// scripthashUnsubscribe ends a script hash subscription and returns
// whether there was one.
func (e *electrum) scripthashUnsubscribe(ctx context.Context, scripthash string) (bool, error) {
	if err := checkScripthash(scripthash); err != nil {
		return false, err
	}
	return e.hub.Unsubscribe(session.FromContext(ctx), scripthashTopic+strings.ToLower(scripthash)), nil
}

// emptyList answers get_history and listunspent: no transactions (no
// script of the synthetic chain has any).
func emptyList(scripthash string) ([]json.RawMessage, error) {
	if err := checkScripthash(scripthash); err != nil {
		return nil, err
	}
	return []json.RawMessage{}, nil
}

// balance is the result of get_balance, in satoshis.
type balance struct {
	Confirmed   int64 `json:"confirmed"`
	Unconfirmed int64 `json:"unconfirmed"`
}

// emptyBalance answers get_balance: nothing.
func emptyBalance(scripthash string) (balance, error) {
	if err := checkScripthash(scripthash); err != nil {
		return balance{}, err
	}
	return balance{}, nil
}
