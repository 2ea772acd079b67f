package gorpcxprom

import (
	"errors"
	"io"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// The label values of sessions_closed_total's cause, by what Wait
// returns: io.EOF, session.ErrClosed, server.ErrEvicted, the session's
// timeouts and limits, a framing error, and any other error (a network
// error, say).
var causeNames = []string{"eof", "closed", "evicted", "idle", "first_message_timeout", "message_timeout", "ping_timeout", "excessive_cost", "send_stalled", "framing", "error"}

var causeErrors = []error{io.EOF, session.ErrClosed, server.ErrEvicted, session.ErrIdle, session.ErrFirstMessageTimeout,
	session.ErrMessageTimeout, session.ErrPingTimeout, session.ErrExcessiveCost, session.ErrSendStalled}

// cause returns the index in causeNames of a session's end.
func cause(err error) int {
	for i, e := range causeErrors {
		if errors.Is(err, e) {
			return i
		}
	}
	if err == nil {
		return 1 // closed: no cause recorded
	}
	var fe framing.Error
	if errors.As(err, &fe) {
		return len(causeNames) - 2
	}
	return len(causeNames) - 1
}

// limitNames are the label values of limit_reached_total's limit, by
// session.Event.Reason ("incoming bytes" and so on), and "other".
var limitNames = []string{"framing", "incoming_bytes", "response_size", "processing_timeout", Other}

func limitIndex(reason string) int {
	switch reason {
	case "framing":
		return 0
	case "incoming bytes":
		return 1
	case "response size":
		return 2
	case "processing timeout":
		return 3
	}
	return 4
}

// refusalNames are the label values of connections_refused_total's
// reason, by session.Event.Reason ("per-ip" and so on), and "other".
var refusalNames = []string{"per_ip", "per_subnet", "full", "hook", "handshake", Other}

func refusalIndex(reason string) int {
	switch reason {
	case "per-ip":
		return 0
	case "per-subnet":
		return 1
	case "full":
		return 2
	case "hook":
		return 3
	case "handshake":
		return 4
	}
	return 5
}

// dropNames are the label values of pubsub_notifications_dropped_total's
// reason.
var dropNames = []string{"dropped", "disconnected"}

// observer holds the counters of events, each series made in advance
// so that an event costs no lookup.
type observer struct {
	opened, throttled, costLimit, evicted prometheus.Counter
	closed, limit, refused, dropped       *prometheus.CounterVec

	closedBy, limitBy, refusedBy []prometheus.Counter
	droppedBy                    [][2]prometheus.Counter // by topic index, then reason
}

func (o *observer) init(m *Metrics, opts *Options) {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: opts.Namespace, Name: name, Help: help, ConstLabels: opts.ConstLabels})
	}
	vec := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: opts.Namespace, Name: name, Help: help, ConstLabels: opts.ConstLabels}, labels)
	}
	each := func(v *prometheus.CounterVec, values []string) []prometheus.Counter {
		out := make([]prometheus.Counter, len(values))
		for i, value := range values {
			out[i] = v.WithLabelValues(value)
		}
		return out
	}
	o.opened = counter("sessions_opened_total", "Sessions opened.")
	o.throttled = counter("throttling_changes_total", "Changes of a session's concurrency target by the cost throttling.")
	o.costLimit = counter("cost_limit_disconnections_total", "Sessions closed for passing their cost's hard limit.")
	o.evicted = counter("connections_evicted_total", "Connections closed to make room at the server's session limit.")
	o.closed = vec("sessions_closed_total", "Sessions ended, by cause.", "cause")
	o.limit = vec("limit_reached_total", "Messages rejected by a limit, by limit.", "limit")
	o.refused = vec("connections_refused_total", "Connections a server refused, by reason.", "reason")
	o.dropped = vec("pubsub_notifications_dropped_total", "Notifications a hub dropped for a slow subscriber, by topic and reason (dropped: a full queue's policy dropped it; disconnected: the subscriber was closed).", "topic", "reason")
	o.closedBy = each(o.closed, causeNames)
	o.limitBy = each(o.limit, limitNames)
	o.refusedBy = each(o.refused, refusalNames)
	o.droppedBy = make([][2]prometheus.Counter, len(m.topicName))
	for i, t := range m.topicName {
		for j, r := range dropNames {
			o.droppedBy[i][j] = o.dropped.WithLabelValues(t, r)
		}
	}
}

func (o *observer) describe(ch chan<- *prometheus.Desc) {
	for _, c := range []prometheus.Collector{o.opened, o.throttled, o.costLimit, o.evicted, o.closed, o.limit, o.refused, o.dropped} {
		c.Describe(ch)
	}
}

func (o *observer) collect(ch chan<- prometheus.Metric) {
	for _, c := range []prometheus.Collector{o.opened, o.throttled, o.costLimit, o.evicted, o.closed, o.limit, o.refused, o.dropped} {
		c.Collect(ch)
	}
}

// Observer returns the session.Observer that counts events: sessions
// opened and closed (by cause), throttling changes, cost-limit
// disconnections, messages rejected by a limit, connections refused
// (by reason) and evicted, notifications dropped (by topic and
// reason). It also keeps track of the sessions alive, whose bytes and
// messages it adds up at each scrape and when they end.
//
// Give it to a server (server.Server.Observer: the server's events and
// all its sessions'), to sessions a program makes itself
// (session.Options.Observer, a client's say), and to a hub
// (pubsub.Options.Observer). Give it once per source: it ignores a
// session's opening or closing seen a second time, but counts other
// events as often as it is told of them.
func (m *Metrics) Observer() session.Observer { return (*metricsObserver)(m) }

// metricsObserver is Metrics as a session.Observer, so that Metrics
// itself has no Observe method beside Collect.
type metricsObserver Metrics

// Observe counts e. It never calls into e.Session but for Stats when a
// session has closed.
func (mo *metricsObserver) Observe(e session.Event) {
	m := (*Metrics)(mo)
	o := &m.obs
	switch e.Kind {
	case session.SessionOpened:
		if e.Session != nil && m.sessions.open(e.Session) {
			o.opened.Inc()
		}
	case session.SessionClosed:
		if e.Session != nil && m.sessions.close(e.Session) {
			o.closedBy[cause(e.Cause)].Inc()
		}
	case session.Throttled:
		o.throttled.Inc()
	case session.CostLimit:
		o.costLimit.Inc()
	case session.LimitReached:
		o.limitBy[limitIndex(e.Reason)].Inc()
	case session.ConnectionRefused:
		o.refusedBy[refusalIndex(e.Reason)].Inc()
	case session.ConnectionEvicted:
		o.evicted.Inc()
	case session.NotificationDropped:
		r := 0
		if e.Reason == "disconnected" {
			r = 1
		}
		o.droppedBy[m.topicIndex(e.Topic)][r].Inc()
	}
}

// topicIndex returns the index of topic's label: its own, or "other"'s.
func (m *Metrics) topicIndex(topic string) int {
	if i, ok := m.topics[topic]; ok {
		return i
	}
	return len(m.topicName) - 1
}
