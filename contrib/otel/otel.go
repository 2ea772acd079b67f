package gorpcxotel

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sourcegraph/jsonrpc2"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.38.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/gorpcx/gorpcx/protocol"
	"github.com/gorpcx/gorpcx/session"
)

// ScopeName is the instrumentation scope (the tracer's name) of the
// spans the interceptors make.
const ScopeName = "github.com/gorpcx/gorpcx/contrib/otel"

// OtherMethod is the span name and rpc.method of an incoming request
// for a method that is not in Options.Methods, when that list is
// given (the name OpenTelemetry's conventions use for such values).
const OtherMethod = "_OTHER"

// MaxAttribute is the most bytes of a string the peer chose (a method
// name, a request ID, an error message received) that a span holds;
// longer strings are cut there, at a character boundary.
const MaxAttribute = 256

// Options configure [Interceptor] and [OutgoingInterceptor]. A nil
// *Options is the zero Options: the global tracer provider, no
// propagation, every method name as it is sent, no request IDs.
type Options struct {
	// TracerProvider makes the tracer of the spans; nil means the
	// global one (otel.GetTracerProvider, resolved when the
	// interceptor is made; the global provider forwards to one set
	// later with otel.SetTracerProvider).
	TracerProvider trace.TracerProvider

	// Propagate carries the trace context to and from the peer in the
	// "_meta" member of params objects (see [MetaMember] and the
	// package documentation). For an OutgoingInterceptor, it adds the
	// context of each outgoing call's span to the params; for an
	// Interceptor, it takes the context from the params, makes the
	// server span its child and removes what it took before the
	// handler sees the params. Off by default: a server that turns it
	// on lets its peers choose the trace its spans join, and, with a
	// parent-based sampler (the SDK's default), whether they are
	// sampled.
	Propagate bool

	// Propagator writes and reads the trace context when Propagate is
	// set; nil means propagation.TraceContext{} (W3C Trace Context:
	// "traceparent" and "tracestate").
	Propagator propagation.TextMapPropagator

	// Methods, when not nil, are the methods the server serves: an
	// incoming request for any other method is named [OtherMethod],
	// so that a peer cannot make the span names (and what a tracing
	// back-end indexes by them) as many as it likes. When nil, every
	// span is named by the method as sent, which package protocol
	// bounds in length (256 bytes by default) but not in variety.
	// Outgoing calls are always named by their method, which the
	// program chooses.
	Methods []string

	// RequestID records the ID of each incoming request as
	// rpc.jsonrpc.request_id (its text for a number or null, the
	// unescaped string for a string, cut at MaxAttribute bytes).
	RequestID bool
}

// The options of the spans, made once (each would be an allocation).
var (
	serverKind    = trace.WithSpanKind(trace.SpanKindServer)
	newRoot       = trace.WithNewRoot()
	clientOptions = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)}
)

// config is what the interceptors use of Options, resolved once.
type config struct {
	tracer     trace.Tracer
	propagate  bool
	propagator propagation.TextMapPropagator
	fields     []string // the propagator's fields
	methods    []string // sorted; nil for any
	requestID  bool
}

func newConfig(o *Options) *config {
	if o == nil {
		o = &Options{}
	}
	tp := o.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	c := &config{
		tracer:     tp.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL)),
		propagate:  o.Propagate,
		propagator: o.Propagator,
		requestID:  o.RequestID,
	}
	if c.propagator == nil {
		c.propagator = propagation.TraceContext{}
	}
	c.fields = c.propagator.Fields()
	if o.Methods != nil {
		c.methods = slices.Clone(o.Methods)
		slices.Sort(c.methods)
	}
	return c
}

// spanName returns the name of the span of an incoming request for
// method.
func (c *config) spanName(method string) string {
	if c.methods == nil {
		return clip(method)
	}
	if i, ok := slices.BinarySearch(c.methods, method); ok {
		return c.methods[i]
	}
	return OtherMethod
}

// Interceptor returns a session.Interceptor that makes a span of kind
// server for each incoming request and notification, named by its
// method (see Options.Methods), from when the session read the message
// until the handler (and the interceptors after this one) returned.
// The handler's context carries the span, so that spans the handler
// makes, and outgoing calls it makes through an [OutgoingInterceptor],
// are its children.
//
// Its attributes: rpc.system "jsonrpc", rpc.method (the span's name),
// network.peer.address and network.peer.port (from Session.Peer: the
// IP address and port of a TCP peer, the whole description otherwise,
// such as a Unix socket's path), and rpc.jsonrpc.request_id when
// Options.RequestID is set. When the outcome is an error response, the
// span also has rpc.jsonrpc.error_code and rpc.jsonrpc.error_message as
// the peer receives them (-32603 "internal server error" for an error
// that is not a *jsonrpc2.Error; -102 when the processing timeout
// passed first; the error of a *session.ReplyAndDisconnect that carries
// one) and the status Error, described by the error's text. A panic in
// the handler ends the span with -32603 and the status Error, and goes
// on up to the session.
//
// Put it first in Options.Interceptors, so that its span covers the
// other interceptors and records the requests they reject.
func Interceptor(opts *Options) session.Interceptor {
	c := newConfig(opts)
	return func(ctx context.Context, req *session.Request, next session.Handle) (any, error) {
		if c.propagate && req.Params != nil {
			ctx, req = c.extract(ctx, req)
		}
		var sctx context.Context
		var span trace.Span
		name := c.spanName(req.Method)
		// A request starts a trace, unless the peer gave the one it
		// belongs to; never a span the session's context may hold.
		if trace.SpanContextFromContext(ctx).IsRemote() {
			sctx, span = c.tracer.Start(ctx, name, serverKind, trace.WithTimestamp(req.Received))
		} else {
			sctx, span = c.tracer.Start(ctx, name, serverKind, trace.WithTimestamp(req.Received), newRoot)
		}
		if span.IsRecording() {
			c.setRequestAttributes(span, name, req)
		}
		ended := false
		defer func() {
			if !ended { // the handler panicked
				span.SetStatus(codes.Error, "panic")
				span.SetAttributes(semconv.RPCJSONRPCErrorCode(protocol.CodeInternalError))
				span.End()
			}
		}()
		res, err := next(sctx, req)
		ended = true
		if err != nil || ctx.Err() == context.DeadlineExceeded {
			setIncomingError(span, ctx, err)
		}
		span.End()
		return res, err
	}
}

// setRequestAttributes sets the attributes of the span of req.
func (c *config) setRequestAttributes(span trace.Span, name string, req *session.Request) {
	var buf [5]attribute.KeyValue
	attrs := append(buf[:0], semconv.RPCSystemJSONRPC, semconv.RPCMethod(name))
	attrs = appendPeer(attrs, req.Session.Peer())
	if c.requestID && req.RawID != nil {
		attrs = append(attrs, semconv.RPCJSONRPCRequestID(requestID(req.RawID)))
	}
	span.SetAttributes(attrs...)
}

// setIncomingError records on span the error response that err (or the
// processing timeout) makes the session send.
func setIncomingError(span trace.Span, ctx context.Context, err error) {
	var rpcErr *jsonrpc2.Error
	var disconnect *session.ReplyAndDisconnect
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		// The session has answered -102 itself (or will not answer a
		// notification); whatever the handler returned is discarded.
		rpcErr = protocol.ServerBusy("")
		if err == nil {
			err = rpcErr
		}
	case errors.As(err, &disconnect):
		e, ok := disconnect.Result.(*jsonrpc2.Error)
		if !ok {
			return // a result, then the session closes
		}
		rpcErr, err = e, e
	case errors.As(err, &rpcErr):
	default:
		rpcErr = protocol.InternalError("")
	}
	span.SetAttributes(
		semconv.RPCJSONRPCErrorCode(int(rpcErr.Code)),
		semconv.RPCJSONRPCErrorMessage(clip(rpcErr.Message)),
	)
	span.SetStatus(codes.Error, clip(err.Error()))
}

// extract takes the trace context from the "_meta" member of req's
// params: it returns ctx with the remote span context, if the params
// hold one, and req without the propagator's fields in its params, if
// they had any.
func (c *config) extract(ctx context.Context, req *session.Request) (context.Context, *session.Request) {
	params := []byte(*req.Params)
	meta, ok := findMember(params, MetaMember)
	if !ok {
		return ctx, req
	}
	ctx = c.propagator.Extract(ctx, metaCarrier{meta: params[meta.valStart:meta.valEnd]})
	stripped, changed := stripMeta(params, c.fields)
	if !changed {
		return ctx, req
	}
	jr := *req.Request
	p := json.RawMessage(stripped)
	jr.Params = &p
	r := *req
	r.Request = &jr
	return ctx, &r
}

// OutgoingInterceptor returns a session.OutgoingInterceptor that makes
// a span of kind client for each outgoing call and notification, named
// by its method, a child of the span in the caller's context if there
// is one. The span lasts until the response arrives (for a call) or
// the message is written or queued (for a notification).
//
// Its attributes: rpc.system "jsonrpc", rpc.method, network.peer.address
// and network.peer.port (as for [Interceptor]). When the call fails,
// the status Error, described by the error's text (cut at MaxAttribute
// bytes), and for an error response from the peer its
// rpc.jsonrpc.error_code and rpc.jsonrpc.error_message.
//
// With Options.Propagate, the span's context is added to the params
// (see [MetaMember]) when they are an object; calls with positional
// params or none are sent as they are.
//
// Only Call and Notify pass through outgoing interceptors: a batch
// (SendBatch) and a prepared notification (NotifyPrepared, which a
// pubsub hub sends) have no span and carry no context.
func OutgoingInterceptor(opts *Options) session.OutgoingInterceptor {
	c := newConfig(opts)
	return func(ctx context.Context, call *session.OutgoingCall, next session.SendFunc) error {
		ctx, span := c.tracer.Start(ctx, call.Method, clientOptions...)
		if span.IsRecording() {
			var buf [4]attribute.KeyValue
			attrs := append(buf[:0], semconv.RPCSystemJSONRPC, semconv.RPCMethod(call.Method))
			if call.Session != nil {
				attrs = appendPeer(attrs, call.Session.Peer())
			}
			span.SetAttributes(attrs...)
		}
		if c.propagate && len(call.Params) > 0 {
			call = c.inject(ctx, call)
		}
		err := next(ctx, call)
		if err != nil {
			var rpcErr *jsonrpc2.Error
			if errors.As(err, &rpcErr) {
				span.SetAttributes(
					semconv.RPCJSONRPCErrorCode(int(rpcErr.Code)),
					semconv.RPCJSONRPCErrorMessage(clip(rpcErr.Message)),
				)
			}
			span.SetStatus(codes.Error, clip(err.Error()))
		}
		span.End()
		return err
	}
}

// inject returns call with the trace context of ctx in its params, or
// call itself if its params are not an object or ctx has none.
func (c *config) inject(ctx context.Context, call *session.OutgoingCall) *session.OutgoingCall {
	var kv fieldCarrier
	c.propagator.Inject(ctx, &kv)
	if len(kv) == 0 {
		return call
	}
	params, changed := injectMeta(call.Params, kv)
	if !changed {
		return call
	}
	out := *call
	out.Params = params
	return &out
}

// appendPeer appends the attributes of the peer described by peer
// ("host:port", "[v6]:port", or anything else, such as a Unix socket's
// path or "local").
func appendPeer(attrs []attribute.KeyValue, peer string) []attribute.KeyValue {
	if peer == "" {
		return attrs
	}
	host, port, ok := splitHostPort(peer)
	if !ok {
		return append(attrs, semconv.NetworkPeerAddress(peer))
	}
	return append(attrs, semconv.NetworkPeerAddress(host), semconv.NetworkPeerPort(port))
}

// splitHostPort splits "host:port" or "[host]:port" (a port being 0 to
// 65535 in decimal) without allocating; ok is false for anything else.
func splitHostPort(s string) (host string, port int, ok bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 || i == len(s)-1 || len(s)-i-1 > 5 {
		return "", 0, false
	}
	for _, c := range []byte(s[i+1:]) {
		if c < '0' || c > '9' {
			return "", 0, false
		}
		port = port*10 + int(c-'0')
	}
	if port > 65535 {
		return "", 0, false
	}
	host = s[:i]
	if len(host) >= 2 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	} else if strings.IndexByte(host, ':') >= 0 || host == "" {
		return "", 0, false // a bare IPv6 address, no port
	}
	return host, port, true
}

// requestID returns the text of a request ID: a string's contents, or
// the number (or null) as written; cut at MaxAttribute bytes.
func requestID(raw []byte) string {
	if len(raw) >= 2 && raw[0] == '"' {
		return clip(stringValue(raw))
	}
	if len(raw) > MaxAttribute {
		raw = raw[:MaxAttribute]
	}
	return string(raw)
}

// clip cuts s to MaxAttribute bytes at most, at a character boundary.
func clip(s string) string {
	if len(s) <= MaxAttribute {
		return s
	}
	i := MaxAttribute
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}
