package protocol

import (
	"strconv"
	"unicode/utf8"

	"github.com/sourcegraph/jsonrpc2"
)

// The error codes. The first five are JSON-RPC 2.0's; the last three
// are aiorpcX's own.
const (
	CodeParseError     = -32700 // invalid JSON, or not UTF-8
	CodeInvalidRequest = -32600 // not a valid request (also: empty or oversized batch)
	CodeMethodNotFound = -32601 // no handler for the method
	CodeInvalidParams  = -32602 // the params do not suit the method
	CodeInternalError  = -32603 // a handler failed, or a reply could not be encoded

	CodeUnavailable            = -100 // a JSON-RPC 1.0 peer sent an error without a code
	CodeExcessiveResourceUsage = -101 // the peer's cost went over the hard limit
	CodeServerBusy             = -102 // a request ran past the processing timeout
)

// maxQuoted is about the most bytes of a peer's input that an error
// message repeats.
const maxQuoted = 100

// NewError returns a JSON-RPC error object with the given code and
// message and no data.
func NewError(code int64, message string) *jsonrpc2.Error {
	return &jsonrpc2.Error{Code: code, Message: message}
}

// orDefault returns msg, or def when msg is empty.
func orDefault(msg, def string) string {
	if msg == "" {
		return def
	}
	return msg
}

// ParseError returns a -32700 error; an empty msg reads "invalid JSON".
func ParseError(msg string) *jsonrpc2.Error {
	return NewError(CodeParseError, orDefault(msg, "invalid JSON"))
}

// InvalidRequest returns a -32600 error; an empty msg reads "invalid
// request".
func InvalidRequest(msg string) *jsonrpc2.Error {
	return NewError(CodeInvalidRequest, orDefault(msg, "invalid request"))
}

// MethodNotFound returns a -32601 error with the message
// `unknown method "name"` (aiorpcX's wording), the name cut to 100
// bytes at a character boundary so that a peer cannot make the reply
// repeat a long input.
func MethodNotFound(method string) *jsonrpc2.Error {
	return NewError(CodeMethodNotFound, `unknown method "`+cut(method)+`"`)
}

// InvalidParams returns a -32602 error; an empty msg reads "invalid
// params".
func InvalidParams(msg string) *jsonrpc2.Error {
	return NewError(CodeInvalidParams, orDefault(msg, "invalid params"))
}

// InternalError returns a -32603 error; an empty msg reads "internal
// server error" (aiorpcX's wording for a failed handler).
func InternalError(msg string) *jsonrpc2.Error {
	return NewError(CodeInternalError, orDefault(msg, "internal server error"))
}

// ExcessiveResourceUsage returns a -101 error; an empty msg reads
// "excessive resource usage" (aiorpcX's wording).
func ExcessiveResourceUsage(msg string) *jsonrpc2.Error {
	return NewError(CodeExcessiveResourceUsage, orDefault(msg, "excessive resource usage"))
}

// ServerBusy returns a -102 error; an empty msg reads "server busy -
// request timed out" (aiorpcX's wording).
func ServerBusy(msg string) *jsonrpc2.Error {
	return NewError(CodeServerBusy, orDefault(msg, "server busy - request timed out"))
}

// cut returns s, or its first 100 bytes or so (ending at a character
// boundary) followed by "...".
func cut(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	n := maxQuoted
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// ProtocolError is a violation of the JSON-RPC protocol by the peer:
// a message that cannot be read, or an item in it that breaks the
// rules of the dialect. Decode returns it for a whole message and sets
// it in Item.Err for a single item.
//
// A ProtocolError holds its violation as a *jsonrpc2.Error (Err) but
// does not wrap it: errors.As(err, &rpcErr) with rpcErr a
// *jsonrpc2.Error is false for it. So a caller tells the peer's own
// error response (a *jsonrpc2.Error) from a response that broke the
// protocol (a *ProtocolError) with errors.As: each finds only its own
// kind. The violation's code and message are in Err (or in Reply, for
// an error made elsewhere with only Reply set); Error prints them.
type ProtocolError struct {
	// Err is the violation as a JSON-RPC error object (code and
	// message); it is never nil in errors made by this package.
	Err *jsonrpc2.Error
	// Reply is the error object to send back to the peer, or nil when
	// no reply is owed (for a malformed response). In errors made by
	// this package, when it is not nil it is Err.
	Reply *jsonrpc2.Error
	// RawID is the ID of the item concerned, exactly as on the wire,
	// or nil when it is unknown or could not be read (a reply then
	// carries a null ID).
	RawID []byte
	// Response reports that the item looked like a response (it had a
	// "result" or an "error" and no "method"): the session fails the
	// pending request whose ID is RawID with this error, so that its
	// caller is not left waiting, and sends nothing back.
	Response bool
}

// Error returns the violation as text, for example
// `protocol: batch is empty (code -32600)`.
func (e *ProtocolError) Error() string {
	je := e.Err
	if je == nil {
		je = e.Reply
	}
	if je == nil {
		return "protocol: invalid message"
	}
	s := "protocol: " + je.Message + " (code " + strconv.FormatInt(je.Code, 10)
	if e.RawID != nil {
		s += ", id " + cut(string(e.RawID))
	}
	return s + ")"
}

// errorBox holds a ProtocolError and its error object in one
// allocation.
type errorBox struct {
	pe ProtocolError
	je jsonrpc2.Error
}

// newProtocolError returns a ProtocolError about the item with raw ID
// id; a reply is owed unless response is true.
func newProtocolError(code int64, msg string, id []byte, response bool) *ProtocolError {
	b := &errorBox{je: jsonrpc2.Error{Code: code, Message: msg}}
	b.pe = ProtocolError{Err: &b.je, RawID: id, Response: response}
	if !response {
		b.pe.Reply = &b.je
	}
	return &b.pe
}
