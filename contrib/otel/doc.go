// Package gorpcxotel traces the requests of gorpcx sessions with
// OpenTelemetry: [Interceptor] makes a span of kind server for each
// incoming request and notification, [OutgoingInterceptor] a span of
// kind client for each outgoing call and notification (Call and Notify;
// not batches, nor a pubsub hub's prepared notifications), and with
// Options.Propagate the trace context goes to the peer with each
// message, so that a call and the serving of it on the other side are
// parts of one trace.
//
// It is a module of its own (github.com/gorpcx/gorpcx/contrib/otel),
// so that the SDK's module does not depend on OpenTelemetry. The
// package is named gorpcxotel so that it does not clash with
// go.opentelemetry.io/otel.
//
// # Use
//
// The interceptors go in the session options, the server's for every
// connection it accepts; the spans go to the tracer provider given, or
// the global one:
//
//	opts := &gorpcxotel.Options{TracerProvider: tp, Methods: slices.Collect(maps.Keys(methods))}
//	srv := &server.Server{Address: ":50001", Options: session.Options{
//		Handler:      methods,
//		Interceptors: []session.Interceptor{gorpcxotel.Interceptor(opts)},
//	}}
//
// and on the side that calls:
//
//	cli, err := server.Dial(ctx, "tcp", addr, &session.Options{
//		OutgoingInterceptors: []session.OutgoingInterceptor{gorpcxotel.OutgoingInterceptor(opts)},
//	})
//
// # Spans
//
// A span is named by the JSON-RPC method, as OpenTelemetry's semantic
// conventions name JSON-RPC spans, and has their attributes as of
// v1.38.0 (go.opentelemetry.io/otel/semconv/v1.38.0, the last version
// before rpc.system and the rpc.jsonrpc.* attributes were renamed):
// rpc.system "jsonrpc", rpc.method, network.peer.address and network.peer.port, rpc.jsonrpc.request_id
// (incoming, when Options.RequestID is set), and for an error response
// rpc.jsonrpc.error_code and rpc.jsonrpc.error_message with the status
// Error. The span of an incoming request starts when the session read
// the message, so that it includes the time the request waited for a
// worker, and ends when the handler returns; the handler's context
// carries it.
//
// # Guarantees
//
//   - Bounded names: with Options.Methods, a method the server does not
//     serve is named [OtherMethod], so a peer cannot make more span
//     names than there are methods; without it, a name is the method as
//     sent. No string the peer chose (a method, a request ID, an error
//     message received) is kept longer than [MaxAttribute] bytes.
//   - Outcome as the peer sees it: the error code recorded is the one
//     the session sends (see [Interceptor]).
//   - Params untouched unless asked: without Propagate, the params of
//     outgoing calls are sent, and those of incoming requests handed to
//     the handler, exactly as they are.
//   - No goroutine, lock or buffer of its own. The span of an incoming
//     request ends before its reply is sent (unless the processing
//     timeout answered it first); exporting it is the tracer
//     provider's business (use a batching span processor in
//     production).
//
// # Propagation convention
//
// JSON-RPC 2.0 allows no member in a request besides jsonrpc, method,
// params and id, so the trace context travels inside the params, as
// the Language Server and Model Context protocols carry their own
// metadata: in a member "_meta" ([MetaMember]) of the params object,
// holding the propagator's fields as strings (with the default W3C
// Trace Context propagator, "traceparent" and, when there is one,
// "tracestate"):
//
//	{"jsonrpc":"2.0","id":7,"method":"blockchain.transaction.get",
//	 "params":{"_meta":{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},"tx_hash":"a1..."}}
//
// With Options.Propagate set:
//
//   - An OutgoingInterceptor adds the context of each call's span to its
//     params when they are a JSON object: a "_meta" object is added as
//     the first member, or, if the params have a "_meta" object, the
//     fields are added to it; a field it already has is kept as the
//     caller wrote it. Positional params (an array) and calls without
//     params are sent unchanged, with no context: a method whose params
//     are positional cannot carry one.
//   - An Interceptor reads the fields from the "_meta" member of the
//     params object (names written without escapes; values that are
//     not strings are ignored), makes the server span a child of the
//     span context they give, and removes them before the handler sees
//     the params: it removes "_meta" too when nothing else is left in
//     it, so that the handler gets the params the caller gave. Params
//     without a valid context are served as they are, in a new trace.
//
// Only turn it on towards peers that follow the convention: a server
// without it sees "_meta" as one more named parameter (a handler made
// by handler.Func rejects it with -32602). And only let a server take
// the trace context from peers it trusts: they choose which trace its
// spans join and, with a parent-based sampler (the SDK's default),
// whether those spans are sampled.
package gorpcxotel
