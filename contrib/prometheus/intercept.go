package gorpcxprom

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/protocol"
	"github.com/gorpcx/gorpcx/session"
)

// The outcomes that are not an error code; outcome codeBase+i is the
// code Metrics.codes[i].
const (
	outcomeOK = iota
	outcomePanic
	outcomeCanceled
	outcomeTimeout
	outcomeFailed
	outcomeOther
	codeBase
)

var outcomeNames = [codeBase]string{
	outcomeOK:       "ok",
	outcomePanic:    "panic",
	outcomeCanceled: "canceled",
	outcomeTimeout:  "timeout",
	outcomeFailed:   "failed",
	outcomeOther:    Other,
}

// series are the counter and the histogram of one method and outcome.
type series struct {
	count prometheus.Counter
	dur   prometheus.Observer
}

// methodSeries are the series of one method label, each outcome's made
// on first use, so that the exposition lists only outcomes that
// happened.
type methodSeries struct {
	name     string
	inFlight prometheus.Gauge
	by       []atomic.Pointer[series] // by outcome
}

// direction is the metrics of the incoming or the outgoing side.
type direction struct {
	count    *prometheus.CounterVec
	dur      *prometheus.HistogramVec
	inFlight *prometheus.GaugeVec
	outcomes []string
	methods  []*methodSeries // by index in Metrics.methods, "other" last
}

// newDirection makes the metrics prefix+"requests_total",
// prefix+"request_duration_seconds" and prefix+"requests_in_flight".
func newDirection(o *Options, prefix, what string, methods, outcomes []string) direction {
	d := direction{
		count: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: o.Namespace, Name: prefix + "requests_total", ConstLabels: o.ConstLabels,
			Help: what + ", by method and outcome.",
		}, []string{"method", "outcome"}),
		dur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: o.Namespace, Name: prefix + "request_duration_seconds", ConstLabels: o.ConstLabels,
			Help:    what + ": seconds to the outcome, by method and outcome.",
			Buckets: o.Buckets,
		}, []string{"method", "outcome"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: o.Namespace, Name: prefix + "requests_in_flight", ConstLabels: o.ConstLabels,
			Help: what + " under way now, by method.",
		}, []string{"method"}),
		outcomes: outcomes,
	}
	for _, name := range slices.Concat(methods, []string{Other}) {
		d.methods = append(d.methods, &methodSeries{
			name:     name,
			inFlight: d.inFlight.WithLabelValues(name),
			by:       make([]atomic.Pointer[series], len(outcomes)),
		})
	}
	return d
}

func (d *direction) describe(ch chan<- *prometheus.Desc) {
	d.count.Describe(ch)
	d.dur.Describe(ch)
	d.inFlight.Describe(ch)
}

func (d *direction) collect(ch chan<- prometheus.Metric) {
	d.count.Collect(ch)
	d.dur.Collect(ch)
	d.inFlight.Collect(ch)
}

// method returns the series of the method named name, or those of
// "other".
func (d *direction) method(m *Metrics, name string) *methodSeries {
	if i, ok := m.methods[name]; ok {
		return d.methods[i]
	}
	return d.methods[len(d.methods)-1]
}

// observe counts one request of outcome o that took elapsed.
func (d *direction) observe(ms *methodSeries, o int, elapsed time.Duration) {
	s := ms.by[o].Load()
	if s == nil {
		s = &series{
			count: d.count.WithLabelValues(ms.name, d.outcomes[o]),
			dur:   d.dur.WithLabelValues(ms.name, d.outcomes[o]),
		}
		ms.by[o].Store(s)
	}
	s.count.Inc()
	s.dur.Observe(elapsed.Seconds())
}

// codeOutcome returns the outcome of an error response with code.
func (m *Metrics) codeOutcome(code int64) int {
	for i, c := range m.codes {
		if c == code {
			return codeBase + i
		}
	}
	return outcomeOther
}

// Interceptor returns the session.Interceptor that counts and times
// every incoming request and notification (requests_total,
// request_duration_seconds, requests_in_flight), for
// session.Options.Interceptors (a server's srv.Options.Interceptors).
// Put it first, so that it also sees what later interceptors answer or
// reject. It passes every request on unchanged and never fails one.
//
// The duration runs from when the session read the request
// (session.Request.Received: the time it waited for a worker included)
// to its outcome. The outcome is what the peer was sent: "ok", the
// error's code (a handler's error that is not a *jsonrpc2.Error is
// -32603, as the session sends it; a request answered by the processing
// timeout is -102, whatever its handler returns later), "other" for a
// code that is not in DefaultCodes or Options.Codes, "panic" for a
// handler that panicked (the peer gets -32603), "canceled" for a
// handler that failed after the session closed under it. A
// notification gets the outcome the same rules give, though nothing is
// sent.
//
// Some requests are answered by the session before any interceptor
// sees them, and are counted elsewhere: one the processing timeout
// answers before its handler started
// (limit_reached_total{limit="processing_timeout"}), one refused -102
// at the incoming byte bound (limit_reached_total{limit="incoming_bytes"}),
// one refused -101 at the cost's hard limit
// (cost_limit_disconnections_total), and a message that is not a valid
// request (peer_errors_total).
func (m *Metrics) Interceptor() session.Interceptor { return m.intercept }

func (m *Metrics) intercept(ctx context.Context, req *session.Request, next session.Handle) (result any, err error) {
	ms := m.in.method(m, req.Method)
	start := req.Received
	if start.IsZero() {
		start = time.Now()
	}
	ms.inFlight.Inc()
	returned := false
	defer func() {
		ms.inFlight.Dec()
		o := outcomePanic
		if returned {
			o = m.incomingOutcome(ctx, err)
		}
		m.in.observe(ms, o, time.Since(start))
	}()
	result, err = next(ctx, req)
	returned = true
	return result, err
}

// incomingOutcome returns the outcome of a request whose handler
// returned err, in the order the session turns err into a reply.
func (m *Metrics) incomingOutcome(ctx context.Context, err error) int {
	switch ctx.Err() {
	case nil:
	case context.DeadlineExceeded:
		return m.codeOutcome(protocol.CodeServerBusy)
	default:
		if err != nil {
			return outcomeCanceled
		}
	}
	if err == nil {
		return outcomeOK
	}
	var d *session.ReplyAndDisconnect
	if errors.As(err, &d) {
		if je, ok := d.Result.(*jsonrpc2.Error); ok && je != nil {
			return m.codeOutcome(je.Code)
		}
		return outcomeOK
	}
	var je *jsonrpc2.Error
	if errors.As(err, &je) && je != nil {
		return m.codeOutcome(je.Code)
	}
	return m.codeOutcome(protocol.CodeInternalError)
}

// OutgoingInterceptor returns the session.OutgoingInterceptor that
// counts and times every Call and Notify of a session
// (outgoing_requests_total, outgoing_request_duration_seconds,
// outgoing_requests_in_flight), for
// session.Options.OutgoingInterceptors. It passes every call on
// unchanged and never fails one.
//
// The duration runs from the call to its outcome: "ok"; the code of an
// error response ("other" past the known codes); "timeout" when the
// request timeout or ctx's deadline passed first; "canceled" when ctx
// was cancelled; "failed" for any other error (the connection lost, a
// result that does not decode, a refusal by a later interceptor);
// "panic" when a later interceptor panicked.
func (m *Metrics) OutgoingInterceptor() session.OutgoingInterceptor { return m.send }

func (m *Metrics) send(ctx context.Context, call *session.OutgoingCall, next session.SendFunc) (err error) {
	ms := m.out.method(m, call.Method)
	start := time.Now()
	ms.inFlight.Inc()
	returned := false
	defer func() {
		ms.inFlight.Dec()
		o := outcomePanic
		if returned {
			o = m.outgoingOutcome(err)
		}
		m.out.observe(ms, o, time.Since(start))
	}()
	err = next(ctx, call)
	returned = true
	return err
}

func (m *Metrics) outgoingOutcome(err error) int {
	if err == nil {
		return outcomeOK
	}
	var je *jsonrpc2.Error
	switch {
	case errors.As(err, &je) && je != nil:
		return m.codeOutcome(je.Code)
	case errors.Is(err, context.DeadlineExceeded):
		return outcomeTimeout
	case errors.Is(err, context.Canceled):
		return outcomeCanceled
	}
	return outcomeFailed
}
