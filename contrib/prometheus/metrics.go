package gorpcxprom

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"

	"github.com/gorpcx/gorpcx/protocol"
	"github.com/gorpcx/gorpcx/pubsub"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// Other is the label value that stands for every method, topic, code,
// cause or reason not known in advance.
const Other = "other"

// DefaultNamespace is the prefix of every metric's name when
// Options.Namespace is empty.
const DefaultNamespace = "gorpcx"

// DefaultBuckets are the upper bounds, in seconds, of the request
// duration histograms when Options.Buckets is nil: 100 µs to 10 s.
var DefaultBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// DefaultCostBuckets are the upper bounds of the cost histograms (of
// sessions and of peer groups) when Options.CostBuckets is nil, around
// session.Cost's default soft limit (2000) and hard limit (10000).
var DefaultCostBuckets = []float64{1, 10, 100, 500, 1000, 2000, 4000, 6000, 8000, 10000, 20000}

// DefaultCodes are the JSON-RPC error codes that are an outcome label
// of their own: JSON-RPC 2.0's and aiorpcX's.
var DefaultCodes = []int64{
	protocol.CodeParseError, protocol.CodeInvalidRequest, protocol.CodeMethodNotFound,
	protocol.CodeInvalidParams, protocol.CodeInternalError,
	protocol.CodeUnavailable, protocol.CodeExcessiveResourceUsage, protocol.CodeServerBusy,
}

// Options configures [New]. The zero Options is usable: every method is
// then labelled "other".
type Options struct {
	// Namespace prefixes every metric's name (DefaultNamespace when
	// empty): gorpcx_requests_total and so on.
	Namespace string
	// Methods are the names of the methods the program serves and
	// calls: each is a method label of its own. Any other method, which
	// a peer can make up by the million, is counted under "other", so
	// that a peer can never add a series.
	Methods []string
	// Codes are JSON-RPC error codes, besides DefaultCodes, that are an
	// outcome label of their own (an application's codes, such as
	// Electrum's 1 and 2). Other codes are counted under "other".
	Codes []int64
	// Topics are the pubsub topics that are a topic label of their own;
	// every other topic, of which a hub may hold any number, is counted
	// under "other".
	Topics []string
	// Buckets are the upper bounds, in seconds, of the request duration
	// histograms (DefaultBuckets when nil). They must be increasing.
	Buckets []float64
	// CostBuckets are the upper bounds of the cost histograms
	// (DefaultCostBuckets when nil). They must be increasing.
	CostBuckets []float64
	// ConstLabels are added to every metric, such as {"node": "a"} for
	// one of several servers in a process.
	ConstLabels prometheus.Labels
}

// Metrics collects a gorpcx program's metrics. It is a
// prometheus.Collector: register it (Register), install its
// interceptors and its observer where the program makes its server,
// sessions and hub (or call Instrument), name the servers and hubs
// whose state it reads at each scrape (Server, Hub), and serve it
// (Handler, or promhttp on the program's own registry). Its methods
// are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	methods   map[string]int // method name → index in in.methods, out.methods
	topics    map[string]int // topic → index; len(topics) is "other"
	topicName []string       // by index, "other" last
	codes     []int64        // outcome codeBase+i is codes[i]
	outcomes  []string       // outcome label values by index

	in, out direction

	obs       observer
	sessions  sessionTracker
	watchedMu sync.Mutex
	servers   []*server.Server
	hubs      []*hubTracker

	descs descs
}

// New returns a Metrics with options o (nil for the defaults). It
// returns an error for a Namespace that is not a metric name, or a
// ConstLabels name that is not a label name, of Prometheus' classic
// character set (letters, digits and underscores, not leading with a
// digit; colons too in a metric name), for buckets not increasing, and
// for a method or topic that is not valid UTF-8 or is "other".
func New(o *Options) (*Metrics, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	if opts.Buckets == nil {
		opts.Buckets = DefaultBuckets
	}
	if opts.CostBuckets == nil {
		opts.CostBuckets = DefaultCostBuckets
	}
	// Names every scraper and every exposition format takes as they are.
	if !model.LegacyValidation.IsValidMetricName(opts.Namespace) {
		return nil, fmt.Errorf("gorpcxprom: Namespace %q is not a valid metric name", opts.Namespace)
	}
	for name := range opts.ConstLabels {
		if !model.LegacyValidation.IsValidLabelName(name) || strings.HasPrefix(name, "__") {
			return nil, fmt.Errorf("gorpcxprom: ConstLabels: %q is not a valid label name", name)
		}
	}
	if err := increasing("Buckets", opts.Buckets); err != nil {
		return nil, err
	}
	if err := increasing("CostBuckets", opts.CostBuckets); err != nil {
		return nil, err
	}
	methods, err := names("method", opts.Methods)
	if err != nil {
		return nil, err
	}
	topics, err := names("topic", opts.Topics)
	if err != nil {
		return nil, err
	}
	m := &Metrics{
		methods:   make(map[string]int, len(methods)),
		topics:    make(map[string]int, len(topics)),
		topicName: append(topics, Other),
	}
	for i, name := range methods {
		m.methods[name] = i
	}
	for i, name := range topics {
		m.topics[name] = i
	}
	m.codes = slices.Clone(DefaultCodes)
	for _, c := range opts.Codes {
		if !slices.Contains(m.codes, c) {
			m.codes = append(m.codes, c)
		}
	}
	m.outcomes = append([]string(nil), outcomeNames[:]...)
	for _, c := range m.codes {
		m.outcomes = append(m.outcomes, strconv.FormatInt(c, 10))
	}
	m.in = newDirection(&opts, "", "Incoming requests and notifications served", methods, m.outcomes)
	m.out = newDirection(&opts, "outgoing_", "Outgoing calls and notifications (Call and Notify)", methods, m.outcomes)
	m.descs = newDescs(&opts)
	m.obs.init(m, &opts)
	m.sessions.live = make(map[*session.Session]*counted)

	m.reg = prometheus.NewRegistry()
	if err := m.reg.Register(m); err != nil {
		return nil, fmt.Errorf("gorpcxprom: %w", err)
	}
	if err := m.reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, fmt.Errorf("gorpcxprom: %w", err)
	}
	if err := m.reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, fmt.Errorf("gorpcxprom: %w", err)
	}
	return m, nil
}

// increasing checks that bounds are strictly increasing.
func increasing(field string, bounds []float64) error {
	for i := 1; i < len(bounds); i++ {
		if !(bounds[i] > bounds[i-1]) {
			return fmt.Errorf("gorpcxprom: Options.%s not increasing at %v", field, bounds[i])
		}
	}
	return nil
}

// names returns list without duplicates, or an error for a name that
// cannot be a label value of its own.
func names(what string, list []string) ([]string, error) {
	out := make([]string, 0, len(list))
	for _, name := range list {
		switch {
		case !utf8.ValidString(name):
			return nil, fmt.Errorf("gorpcxprom: %s %q is not valid UTF-8", what, name)
		case name == Other:
			return nil, fmt.Errorf("gorpcxprom: a %s may not be named %q, the label of all others", what, Other)
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out, nil
}

// Register registers m with reg (prometheus.DefaultRegisterer, say),
// and returns reg's error: a prometheus.AlreadyRegisteredError if m
// already is, an error if another collector there has metrics of the
// same names.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	return reg.Register(m)
}

// Handler returns an http.Handler that serves, in Prometheus' formats,
// m's metrics and the Go runtime's and process's
// (collectors.NewGoCollector, collectors.NewProcessCollector) from a
// registry of m's own. A program that has a registry of its own
// registers m there instead (Register) and serves it with
// promhttp.HandlerFor.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Gatherer returns the registry Handler serves, for a program that
// gathers it with others (prometheus.Gatherers) or pushes it.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// Server makes m read srv's counters, connections and peer groups at
// each scrape (Server.Stats, Server.Groups). Refusals and evictions are
// counted by m's Observer, which srv.Observer must include (see
// Instrument). Several servers' figures are added together; give each
// its own Metrics, with ConstLabels, to tell them apart.
func (m *Metrics) Server(srv *server.Server) {
	if srv == nil {
		return
	}
	m.watchedMu.Lock()
	defer m.watchedMu.Unlock()
	if !slices.Contains(m.servers, srv) {
		m.servers = append(m.servers, srv)
	}
}

// Hub makes m read h's topics at each scrape (Hub.Topics): topics,
// subscriptions, and the values published, sent and coalesced per
// topic. Dropped notifications are counted by m's Observer, which the
// hub's pubsub.Options.Observer must include. Several hubs' figures
// are added together.
func (m *Metrics) Hub(h *pubsub.Hub) {
	if h == nil {
		return
	}
	m.watchedMu.Lock()
	defer m.watchedMu.Unlock()
	for _, t := range m.hubs {
		if t.hub == h {
			return
		}
	}
	m.hubs = append(m.hubs, newHubTracker(h, len(m.topicName)))
}

// Instrument installs m on srv, which must not be serving yet: m's
// Interceptor and OutgoingInterceptor first in srv.Options' chains (so
// that they see what the other interceptors answer or reject), m's
// Observer beside srv.Observer, and Server(srv). Install m on a server
// once, by Instrument or by hand, not both: each installation counts
// every request again.
func (m *Metrics) Instrument(srv *server.Server) {
	srv.Options.Interceptors = slices.Insert(slices.Clip(srv.Options.Interceptors), 0, m.Interceptor())
	srv.Options.OutgoingInterceptors = slices.Insert(slices.Clip(srv.Options.OutgoingInterceptors), 0, m.OutgoingInterceptor())
	srv.Observer = session.Observers(m.Observer(), srv.Observer)
	m.Server(srv)
}

// Describe sends the descriptors of every metric m may collect.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.in.describe(ch)
	m.out.describe(ch)
	m.obs.describe(ch)
	m.descs.describe(ch)
}

// Collect sends m's metrics: the counters and histograms kept as things
// happen, then what it reads now from the sessions it tracks and the
// servers and hubs it watches.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.in.collect(ch)
	m.out.collect(ch)
	m.obs.collect(ch)
	m.collectSessions(ch)
	m.watchedMu.Lock()
	servers := slices.Clone(m.servers)
	hubs := slices.Clone(m.hubs)
	m.watchedMu.Unlock()
	m.collectServers(ch, servers)
	m.collectHubs(ch, hubs)
}
