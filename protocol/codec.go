package protocol

import (
	"encoding/json"

	"github.com/sourcegraph/jsonrpc2"
)

// Kind says what a decoded [Item] is.
type Kind uint8

// The kinds of item.
const (
	// KindRequest is a request: it has an ID and wants a response.
	KindRequest Kind = iota + 1
	// KindNotification is a request without an ID; it gets no response.
	KindNotification
	// KindResponse is a response (result or error) to a request we sent.
	KindResponse
	// KindInvalid is an item that breaks the protocol; Item.Err says
	// how, and whether a reply is owed.
	KindInvalid
)

// Item is one decoded JSON-RPC item: a request, a notification, a
// response or an invalid item. Its slices alias the message it was
// decoded from ([Item.Rebase] moves them to a copy of it).
type Item struct {
	Kind Kind
	// Request holds Method, Params and, where it fits, ID for
	// KindRequest and KindNotification (Notif is set for the latter).
	// Request.Params, when present, points at RawParams.
	Request jsonrpc2.Request
	// Response holds the ID (where it fits), Result (pointing at
	// RawResult) or Error of a KindResponse.
	Response jsonrpc2.Response
	// RawID is the ID exactly as it was on the wire (for example
	// `-5`, `1.5e3`, `"abc"` or `null`); nil for a notification and
	// for an invalid item whose ID could not be read.
	RawID []byte
	// RawParams and RawResult are the raw JSON of params and result.
	RawParams json.RawMessage
	RawResult json.RawMessage
	// Err is set for KindInvalid.
	Err *ProtocolError
}

// CopyTo copies the item to dst, with dst's Request.Params and
// Response.Result pointing at dst's own RawParams and RawResult, as they
// point at the item's own. The raw fields alias the same message.
func (it *Item) CopyTo(dst *Item) {
	*dst = *it
	if it.Request.Params == &it.RawParams {
		dst.Request.Params = &dst.RawParams
	}
	if it.Response.Result == &it.RawResult {
		dst.Response.Result = &dst.RawResult
	}
}

// Rebase re-points every part of the item that lies in from, the
// message it was decoded from, to the same bytes of to, a copy of from
// at least as long: after it, nothing of the item refers to from, which
// may then be reused. (A reader decodes a message in its framing's
// buffer, and copies it only for the items it keeps.)
//
// The parts are RawID, RawParams and RawResult; the raw JSON that
// Request.Params, Request.Meta, Response.Result, Response.Meta and
// Response.Error.Data point at; and Err.RawID and the Data of Err.Err
// and Err.Reply. The values behind those pointers are changed in place:
// those of a decoded item are its own, but an item copied with
// [Item.CopyTo] shares its error objects with the original, whose
// error data then refers to to as well. A part lies in from when it
// was sliced from it, as Decode slices the message it is given; parts
// that do not (nil, or held elsewhere) are left as they are, and so
// are Request.ExtraFields, which Decode never sets. Strings (method
// names, string IDs, error messages) never alias the message.
//
// Rebase panics if to is shorter than a part's end in from.
func (it *Item) Rebase(from, to []byte) {
	it.RawID = rebased(it.RawID, from, to)
	it.RawParams = rebased(it.RawParams, from, to)
	it.RawResult = rebased(it.RawResult, from, to)
	rebaseRaw(it.Request.Params, from, to)
	rebaseRaw(it.Request.Meta, from, to)
	rebaseRaw(it.Response.Result, from, to)
	rebaseRaw(it.Response.Meta, from, to)
	if e := it.Response.Error; e != nil {
		rebaseRaw(e.Data, from, to)
	}
	if pe := it.Err; pe != nil {
		pe.RawID = rebased(pe.RawID, from, to)
		if pe.Err != nil {
			rebaseRaw(pe.Err.Data, from, to)
		}
		if pe.Reply != nil {
			rebaseRaw(pe.Reply.Data, from, to)
		}
	}
}

// rebaseRaw rebases the raw JSON p points at, if any.
func rebaseRaw(p *json.RawMessage, from, to []byte) {
	if p != nil {
		*p = rebased(*p, from, to)
	}
}

// rebased returns the bytes of to at the place of b in from, or b if it
// is not a slice of from. A slice b of from (both made by slicing the
// same array with two indexes, as Decode does) starts as many bytes
// into from as its capacity is short of from's; the addresses confirm.
func rebased(b, from, to []byte) []byte {
	if len(b) == 0 || len(from) == 0 {
		return b
	}
	i := cap(from) - cap(b)
	if i < 0 || i >= len(from) || len(b) > len(from)-i || &from[i] != &b[0] {
		return b
	}
	return to[i : i+len(b)]
}

// Message is one decoded framed message: a single item or a batch.
type Message struct {
	// Batch reports whether the message was a JSON array.
	Batch bool
	// Items holds the items in wire order (one when Batch is false).
	Items []Item
}

// Codec decodes framed messages into items and encodes items for one
// JSON-RPC dialect. Encoding methods append to dst and return the
// extended buffer; on error they return dst unchanged. All methods are
// safe for concurrent use, except Decode and DecodeInto of an
// auto-detecting codec, which detect the dialect unguarded and must be
// called by one goroutine at a time (a session's reader); see the
// package documentation.
type Codec interface {
	// Decode parses one message. The items alias msg, which must not be
	// changed while they are in use. It returns a *ProtocolError for a
	// message that cannot be read as a whole (a parse error, a value
	// that is neither an object nor an array, an empty or oversized
	// batch, a batch in a dialect without batches); invalid items
	// inside a valid message come back as KindInvalid items (the
	// responses in a batch of requests among them).
	Decode(msg []byte) (Message, error)
	// DecodeInto is Decode with the items stored in the array of items
	// (from index 0, whatever its length) when it has room for them,
	// else in a new one: a caller that decodes message after message
	// may pass the same array each time and so save an allocation per
	// message. The items it returns are then overwritten by the next
	// call; a caller that keeps an item copies it with [Item.CopyTo].
	DecodeInto(msg []byte, items []Item) (Message, error)
	// AppendRequest encodes a request with the raw ID id (written
	// verbatim) and params (raw JSON array or object, or nil to omit).
	AppendRequest(dst, id []byte, method string, params json.RawMessage) ([]byte, error)
	// AppendNotification encodes a notification.
	AppendNotification(dst []byte, method string, params json.RawMessage) ([]byte, error)
	// AppendResult encodes a successful response to the request whose
	// raw ID is id (nil means null).
	AppendResult(dst, id []byte, result json.RawMessage) ([]byte, error)
	// AppendError encodes an error response to the request whose raw ID
	// is id (nil means null).
	AppendError(dst, id []byte, e *jsonrpc2.Error) ([]byte, error)
	// Dialect is the dialect in use: for an auto-detecting codec, the
	// detected one, or Auto until a message other than a parse error
	// has been decoded.
	Dialect() Dialect
}
