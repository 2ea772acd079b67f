// Package handler builds the [session.Handler] that serves a peer's
// requests: a method table ([Methods]), ordinary Go functions adapted
// to handlers ([Func], [MustFunc]), and a splitter of positional params
// for handlers written by hand ([Positional]). It is to package session
// what a router is to an HTTP server: the session runs the
// conversation, this package decides which code answers a request and
// how its params reach that code.
//
// [Func] binds params to a function's parameters as aiorpcX's
// handler_invocation does: positional params in order, named params by
// the names given at registration or by a struct's JSON fields,
// optional parameters, a variadic tail. Params that do not fit get a
// -32602 error worded as aiorpcX words it, such as
// `2 arguments passed to method "add" but it requires 3`, so that a
// peer matching on those messages sees no difference.
//
// # Guarantees
//
// The function given to Func is analysed by reflection once, when Func
// is called: a bad signature is an error then, not at the first
// request, and a call only splits the params, decodes each into its
// parameter and calls the function (its fixed arguments share one
// allocation). The handlers that Func returns keep no state
// between calls and are safe for concurrent use, as the session needs
// when it serves several requests at once; so is a [Methods] table that
// is no longer modified. Positional does not allocate when its
// destination has room, and does not use reflection.
//
// # Limits
//
// Params are checked as strict JSON (RFC 8259, UTF-8) by the same
// scanner as package protocol's decoder, which has already checked the
// whole message, and its nesting, before a session hands it over. An error message never quotes more than
// about 100 bytes of any one piece of the peer's input, nor lists more
// than 10 unknown names. Each value is decoded with encoding/json (or
// an equivalent fast path for numbers, booleans, plain strings and
// json.RawMessage, which shares the request's bytes instead of copying
// them), so
// a parameter type decodes as it would with json.Unmarshal, except that
// a struct parameter taking named params must be given each member by
// its exact JSON name. A panic in the function is not recovered here:
// the session recovers it and answers an internal error.
package handler
