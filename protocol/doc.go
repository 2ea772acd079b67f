// Package protocol turns one framed message into JSON-RPC items and
// items back into bytes, for JSON-RPC 2.0 ([V2]), JSON-RPC 1.0 ([V1]),
// aiorpcX's loose dialect ([Loose]) and auto-detection ([Auto]). It
// does no I/O and keeps no connection state beyond the dialect an
// [Auto] codec detects: the session layer allocates IDs and tracks
// pending requests. The in-memory model is that of
// github.com/sourcegraph/jsonrpc2 (Request, Response, Error, ID); the
// wire encoding is this package's own, a hand-written scanner that
// needs no reflection and about two allocations per request.
//
// # Dialects
//
// [V2] follows the JSON-RPC 2.0 specification: "jsonrpc" must be
// "2.0", params an array or an object, an ID a number, a string or
// null, a missing "id" makes a notification and "id": null a request.
// [V1] wants an "id" on every request (null makes a notification),
// of any type as JSON-RPC 1.0 allows (arrays, objects and booleans
// too), params as an array, and no batches. It reads responses as
// real 1.0 peers send them: a response lacking "result" or "error" is
// read with the missing member null (Open vSwitch's ovsdb-server
// answers {"id":0,"error":"unknown method"}); [Options].Strict wants
// both, as the 1.0 specification and aiorpcX do. What V1 writes is
// strict 1.0 either way: never a "jsonrpc" member, "params" and "id"
// on every request ([] and null when there are none), both "result"
// and "error" in every response. [Loose] reads both shapes with any
// "jsonrpc" (2.0's IDs only) and writes 2.0. [Auto] picks one of the
// three from the first message that is not a parse error and keeps
// it, by aiorpcX's rules. Where the specification is silent the
// package follows aiorpcX (jsonrpc.py); docs/aiorpcx.md lists where it
// deliberately does not.
//
// A message with "method" is a request, one with "result" or "error"
// and no "method" is a response, and anything else an invalid request.
// Invalid JSON, bytes that are not UTF-8, NaN or Infinity, two values
// in one message, or nesting deeper than [Options].MaxDepth are parse
// errors. A member that the codec interprets ("jsonrpc", "method",
// "params", "id", "result", "error", and "code", "message", "data" in
// an error object) given twice makes the item invalid; other members
// are ignored, and names inside params, results and error data are left
// to whoever decodes them.
//
// A batch holding both requests (or notifications) and responses is
// served as a batch of requests: each response in it becomes an
// invalid item owing its own -32600 reply with a null ID (a reply with
// its ID could fail the peer's own pending call with that ID), and it
// answers none of our calls.
//
// # IDs and aliasing
//
// Every decoded request and response keeps its ID exactly as it was on
// the wire in Item.RawID ("-5", "1.5e3", "18446744073709551617", "\"a\"",
// "null", and in 1.0 also "true" or "[1, {\"a\": 2}]"), and the encoder
// writes a raw ID back verbatim, so a reply carries the bytes the peer
// sent. (A 1.0 ID that holds a line break between its tokens, which
// can only come through a framing other than newlines, is written
// compact, so that no message ever holds a newline.) jsonrpc2.ID is
// filled in too where it can hold the ID (a string, or a non-negative
// integer within uint64); otherwise it is left zero, so always use
// RawID to reply.
//
// Decoded items alias the message: RawID, RawParams, RawResult and an
// error's Data point into it, and stay valid only while the message is
// not changed. Method names, string IDs and error messages are copied
// (into one allocation per message). Params and results stay raw JSON
// until a handler decodes them. [Codec.DecodeInto] decodes into the
// caller's array of items, which saves the allocation of the items for
// a reader that decodes message after message; [Item.CopyTo] copies out
// an item to keep, and [Item.Rebase] moves an item's raw parts from the
// message to a copy of it, so that a reader can decode a message where
// its framing left it and copy the bytes only for the items it keeps.
//
// # Encoding
//
// The Append methods of a [Codec] append compact JSON to a caller's
// buffer: reusing the buffer, encoding allocates nothing. Raw params,
// results and error data are checked (one valid JSON value of the
// right shape, strict UTF-8, within the depth limit) and copied,
// with whitespace between tokens dropped so that the output never holds
// a newline; NaN and Infinity cannot pass the check. Strings are
// escaped, and bytes that are not UTF-8 become \ufffd. [AppendBatch]
// joins items into a batch.
//
// # Concurrency
//
// The Append methods and Dialect of every codec are safe for
// concurrent use, also while a Decode runs. A codec for V2, V1 or
// Loose keeps no state: its Decode and DecodeInto are safe for
// concurrent use too, and one codec may serve many connections. An
// Auto codec holds state, the dialect detected from its first message
// that is not a parse error, kept in an atomic value that changes
// once, from Auto. Nothing else guards the detection: Decode and
// DecodeInto of an Auto codec must be called by one goroutine at a
// time (as a session's reader does), and each connection needs its own
// Auto codec. An Append that runs while the first message is decoded
// writes either 2.0 or the detected dialect.
//
// # Errors
//
// JSON-RPC error objects are *jsonrpc2.Error values, usable as Go
// errors; [NewError] and the constructors ([ParseError],
// [MethodNotFound], [ServerBusy]...) make them, with the codes of
// JSON-RPC 2.0 and aiorpcX ([CodeParseError]...).
//
// The error of a peer's response keeps everything the peer said, in
// every dialect. A standard error object (an integer "code", a string
// "message", and no other member but "data") gives its code, its
// message and, in Error.Data, its "data" member. Any other error value
// is kept whole and unchanged in Error.Data (the raw bytes, aliasing
// the message), and read as well as it can be: the code is its integer
// "code" (or the error itself, if an integer), else -100
// ([CodeUnavailable]); the message is the error itself if a string,
// else the object's "message", "error" or "details" string, in that
// order, else the value's JSON text cut to about 100 bytes. So
// ovsdb-server's {"error":"unknown database","details":"...",
// "syntax":"..."} comes back with code -100, message "unknown
// database" and the whole object in Data; an object with code,
// message, data and a "stack" member comes back with the whole object
// in Data. With [Options].Strict, a 2.0 error that is not an object
// with an integer code and a string message makes the response
// malformed instead. An error object with "code", "message" or "data"
// given twice is always malformed.
//
// A violation of the protocol by the peer is a [*ProtocolError]:
// Decode returns one for a message that cannot be read as a whole (a
// parse error, an empty or oversized batch, a batch in 1.0), and sets
// one in Item.Err for an invalid item. It carries the error reply to send, if one is
// owed, and the raw ID it concerns; a malformed response owes no reply
// but is reported against the pending request with its ID. A
// *ProtocolError does not unwrap to the *jsonrpc2.Error it holds:
// errors.As for a *jsonrpc2.Error never finds a violation of the
// protocol, so that a caller can tell the peer's error response from a
// malformed response. The Append methods return *jsonrpc2.Error values
// too: -32600 for a bad ID, -32602 for params of the wrong shape,
// -32603 for invalid JSON.
package protocol
