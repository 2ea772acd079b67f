package gorpcxprom

import (
	"sort"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gorpcx/gorpcx/pubsub"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// descs are the descriptors of the metrics read at scrape time.
type descs struct {
	sessionsOpen, unanswered, sessionCost, messages, bytes, peerErrors *prometheus.Desc

	connections, accepted, pauses, incomingBytes, suppressed, groups, groupCost *prometheus.Desc

	topics, subscriptions, published, sent, coalesced *prometheus.Desc
	costBounds                                        []float64
}

func newDescs(o *Options) descs {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(o.Namespace, "", name), help, labels, o.ConstLabels)
	}
	return descs{
		sessionsOpen: d("sessions_open", "Sessions alive now (opened and not yet closed)."),
		unanswered:   d("requests_unanswered", "Incoming requests read and not yet answered, over the sessions alive (those waiting for a worker included)."),
		sessionCost:  d("session_cost", "The resource cost of each session alive: its own (session.Stats.Cost), without what its peer group shares."),
		messages:     d("messages_total", "Messages received and sent, by direction (counted up to the last scrape for sessions alive, in full for those ended).", "direction"),
		bytes:        d("bytes_total", "Bytes of messages received and sent, framing excluded, by direction (counted up to the last scrape for sessions alive, in full for those ended).", "direction"),
		peerErrors:   d("peer_errors_total", "Protocol errors, framing errors, error replies and timeouts charged to peers (session.Stats.Errors)."),

		connections:   d("server_connections", "Connections a server holds, by state (handshake: PROXY header, TLS handshake or NewSession hook not done; session: running a session).", "state"),
		accepted:      d("server_connections_accepted_total", "Connections a server admitted."),
		pauses:        d("server_pauses_total", "Times a server stopped accepting at its session limit (AtLimit Pause)."),
		incomingBytes: d("server_incoming_bytes", "Bytes of incoming work a server's sessions hold (bounded by MaxIncomingBytes)."),
		suppressed:    d("server_log_lines_suppressed_total", "Log lines a server's cap dropped."),
		groups:        d("server_peer_groups", "Peer groups a server tracks (with connections, or retaining cost), by kind (ip or subnet).", "kind"),
		groupCost:     d("server_peer_group_cost", "The cost of each peer group a server tracks, by kind (ip or subnet).", "kind"),

		topics:        d("pubsub_topics", "Topics a hub has."),
		subscriptions: d("pubsub_subscriptions", "Subscriptions, by topic.", "topic"),
		published:     d("pubsub_published_total", "Values published, by topic (here or, through the broker, on other nodes).", "topic"),
		sent:          d("pubsub_notifications_sent_total", "Notifications written to subscribers, by topic.", "topic"),
		coalesced:     d("pubsub_notifications_coalesced_total", "Notifications replaced by a newer value before they were written (KeepLatest), by topic.", "topic"),
		costBounds:    o.CostBuckets,
	}
}

func (d *descs) describe(ch chan<- *prometheus.Desc) {
	for _, desc := range []*prometheus.Desc{
		d.sessionsOpen, d.unanswered, d.sessionCost, d.messages, d.bytes, d.peerErrors,
		d.connections, d.accepted, d.pauses, d.incomingBytes, d.suppressed, d.groups, d.groupCost,
		d.topics, d.subscriptions, d.published, d.sent, d.coalesced,
	} {
		ch <- desc
	}
}

// histogram is a histogram built at scrape time.
type histogram struct {
	bounds []float64
	counts []uint64 // counts[i]: values in (bounds[i-1], bounds[i]]
	n      uint64
	sum    float64
}

func newHistogram(bounds []float64) *histogram {
	return &histogram{bounds: bounds, counts: make([]uint64, len(bounds))}
}

func (h *histogram) add(v float64) {
	if i := sort.SearchFloat64s(h.bounds, v); i < len(h.bounds) {
		h.counts[i]++
	}
	h.n++
	h.sum += v
}

func (h *histogram) metric(desc *prometheus.Desc, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(h.bounds))
	var cum uint64
	for i, b := range h.bounds {
		cum += h.counts[i]
		buckets[b] = cum
	}
	return prometheus.MustNewConstHistogram(desc, h.n, h.sum, buckets, labels...)
}

// counted is what has been added to the totals of one session's
// counters.
type counted struct {
	recvCount, recvBytes, sendCount, sendBytes, errors uint64
}

// add adds to c what st counts beyond it, and sets c to st.
func (c *counted) add(total *counted, st *session.Stats) {
	total.recvCount += st.RecvCount - c.recvCount
	total.recvBytes += st.RecvBytes - c.recvBytes
	total.sendCount += st.SendCount - c.sendCount
	total.sendBytes += st.SendBytes - c.sendBytes
	total.errors += st.Errors - c.errors
	*c = counted{st.RecvCount, st.RecvBytes, st.SendCount, st.SendBytes, st.Errors}
}

// sessionTracker keeps the sessions alive, seen by the Observer, and
// the totals of their counters: each session's counters are added as
// they move, at each scrape and once more when it ends, so that the
// totals only grow and count every message once.
type sessionTracker struct {
	mu    sync.Mutex
	live  map[*session.Session]*counted
	total counted
}

// open tracks s; it reports false if s already is.
func (t *sessionTracker) open(s *session.Session) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.live[s]; ok {
		return false
	}
	t.live[s] = &counted{}
	return true
}

// close adds the rest of s's counters to the totals and forgets s; it
// reports false if s was not tracked.
func (t *sessionTracker) close(s *session.Session) bool {
	st := s.Stats()
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.live[s]
	if !ok {
		return false
	}
	c.add(&t.total, &st)
	delete(t.live, s)
	return true
}

// collectSessions brings the totals up to date with the sessions alive
// and sends them, with the gauges of those sessions.
func (m *Metrics) collectSessions(ch chan<- prometheus.Metric) {
	t := &m.sessions
	t.mu.Lock()
	list := make([]*session.Session, 0, len(t.live))
	for s := range t.live {
		list = append(list, s)
	}
	t.mu.Unlock()
	// Each session's Stats is read without t.mu: the Observer is called
	// with a session's locks held, and Stats takes them.
	open, unanswered := 0, 0
	cost := newHistogram(m.descs.costBounds)
	for _, s := range list {
		st := s.Stats()
		t.mu.Lock()
		if c, ok := t.live[s]; ok { // else it has ended since: close counted it
			c.add(&t.total, &st)
			open++
			unanswered += st.Unanswered
			cost.add(st.Cost)
		}
		t.mu.Unlock()
	}
	t.mu.Lock()
	total := t.total
	t.mu.Unlock()
	d := &m.descs
	ch <- prometheus.MustNewConstMetric(d.sessionsOpen, prometheus.GaugeValue, float64(open))
	ch <- prometheus.MustNewConstMetric(d.unanswered, prometheus.GaugeValue, float64(unanswered))
	ch <- cost.metric(d.sessionCost)
	ch <- prometheus.MustNewConstMetric(d.messages, prometheus.CounterValue, float64(total.recvCount), "received")
	ch <- prometheus.MustNewConstMetric(d.messages, prometheus.CounterValue, float64(total.sendCount), "sent")
	ch <- prometheus.MustNewConstMetric(d.bytes, prometheus.CounterValue, float64(total.recvBytes), "received")
	ch <- prometheus.MustNewConstMetric(d.bytes, prometheus.CounterValue, float64(total.sendBytes), "sent")
	ch <- prometheus.MustNewConstMetric(d.peerErrors, prometheus.CounterValue, float64(total.errors))
}

// collectServers sends the figures of the servers watched, added
// together; nothing when there is none.
func (m *Metrics) collectServers(ch chan<- prometheus.Metric, servers []*server.Server) {
	if len(servers) == 0 {
		return
	}
	var sum server.Stats
	var groups [2]int
	costs := [2]*histogram{newHistogram(m.descs.costBounds), newHistogram(m.descs.costBounds)}
	for _, srv := range servers {
		st := srv.Stats()
		sum.Connections += st.Connections
		sum.Sessions += st.Sessions
		sum.Accepted += st.Accepted
		sum.Pauses += st.Pauses
		sum.IncomingBytes += st.IncomingBytes
		sum.LogLinesSuppressed += st.LogLinesSuppressed
		for _, g := range srv.Groups() {
			k := 0
			if g.Subnet {
				k = 1
			}
			groups[k]++
			costs[k].add(g.Cost)
		}
	}
	d := &m.descs
	ch <- prometheus.MustNewConstMetric(d.connections, prometheus.GaugeValue, float64(max(sum.Connections-sum.Sessions, 0)), "handshake")
	ch <- prometheus.MustNewConstMetric(d.connections, prometheus.GaugeValue, float64(sum.Sessions), "session")
	ch <- prometheus.MustNewConstMetric(d.accepted, prometheus.CounterValue, float64(sum.Accepted))
	ch <- prometheus.MustNewConstMetric(d.pauses, prometheus.CounterValue, float64(sum.Pauses))
	ch <- prometheus.MustNewConstMetric(d.incomingBytes, prometheus.GaugeValue, float64(sum.IncomingBytes))
	ch <- prometheus.MustNewConstMetric(d.suppressed, prometheus.CounterValue, float64(sum.LogLinesSuppressed))
	for k, kind := range []string{"ip", "subnet"} {
		ch <- prometheus.MustNewConstMetric(d.groups, prometheus.GaugeValue, float64(groups[k]), kind)
		ch <- costs[k].metric(d.groupCost, kind)
	}
}

// The counters of a topic that a hub forgets with the topic, and that
// hubTracker keeps adding up.
const (
	published = iota
	sent
	coalesced
)

// hubTracker reads a hub's topics at each scrape. A topic made by
// Subscribe is forgotten, counters and all, when its last subscriber
// leaves, and a hub may hold any number of topics: the tracker adds up
// each topic's counters by label (its own, or "other") from one scrape
// to the next, so that the totals only grow.
type hubTracker struct {
	hub *pubsub.Hub

	mu   sync.Mutex
	prev map[string][3]uint64 // by topic: the counters at the last scrape
	acc  [][3]uint64          // by topic label index
	seen []bool               // by topic label index: a topic of it was seen
}

func newHubTracker(h *pubsub.Hub, labels int) *hubTracker {
	return &hubTracker{hub: h, prev: make(map[string][3]uint64), acc: make([][3]uint64, labels), seen: make([]bool, labels)}
}

// hubFigures are a hub's figures at one scrape, by topic label index.
type hubFigures struct {
	topics int
	subs   []int
	acc    [][3]uint64
	seen   []bool
}

// update reads the hub's topics now, adds what their counters moved
// since the last scrape, and returns the figures.
func (t *hubTracker) update(m *Metrics) hubFigures {
	topics := t.hub.Topics()
	f := hubFigures{topics: len(topics), subs: make([]int, len(m.topicName))}
	next := make(map[string][3]uint64, len(topics))
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, ts := range topics {
		i := m.topicIndex(ts.Topic)
		t.seen[i] = true
		f.subs[i] += ts.Subscribers
		cur := [3]uint64{published: ts.Published, sent: ts.Sent, coalesced: ts.Coalesced}
		prev := t.prev[ts.Topic]
		for j := range cur {
			if cur[j] >= prev[j] {
				t.acc[i][j] += cur[j] - prev[j]
			} else { // forgotten and made again since
				t.acc[i][j] += cur[j]
			}
		}
		next[ts.Topic] = cur
	}
	t.prev = next
	f.acc = append([][3]uint64(nil), t.acc...)
	f.seen = append([]bool(nil), t.seen...)
	return f
}

// collectHubs sends the figures of the hubs watched, added together;
// nothing when there is none. A topic label appears once a topic of it
// has been seen, and stays.
func (m *Metrics) collectHubs(ch chan<- prometheus.Metric, hubs []*hubTracker) {
	if len(hubs) == 0 {
		return
	}
	n := len(m.topicName)
	topics, subs, acc := 0, make([]int, n), make([][3]uint64, n)
	seen := make([]bool, n)
	for _, h := range hubs {
		f := h.update(m)
		topics += f.topics
		for i := range n {
			subs[i] += f.subs[i]
			seen[i] = seen[i] || f.seen[i]
			for j := range acc[i] {
				acc[i][j] += f.acc[i][j]
			}
		}
	}
	d := &m.descs
	ch <- prometheus.MustNewConstMetric(d.topics, prometheus.GaugeValue, float64(topics))
	for i, name := range m.topicName {
		if !seen[i] {
			continue
		}
		ch <- prometheus.MustNewConstMetric(d.subscriptions, prometheus.GaugeValue, float64(subs[i]), name)
		ch <- prometheus.MustNewConstMetric(d.published, prometheus.CounterValue, float64(acc[i][published]), name)
		ch <- prometheus.MustNewConstMetric(d.sent, prometheus.CounterValue, float64(acc[i][sent]), name)
		ch <- prometheus.MustNewConstMetric(d.coalesced, prometheus.CounterValue, float64(acc[i][coalesced]), name)
	}
}
