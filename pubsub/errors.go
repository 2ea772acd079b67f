package pubsub

import (
	"strconv"

	"github.com/sourcegraph/jsonrpc2"
)

// CodeTooManySubscriptions is the JSON-RPC error code of a subscription
// refused by a limit (in the range JSON-RPC 2.0 leaves to servers).
const CodeTooManySubscriptions = -32000

// LimitError is the error of a subscription past a limit. A handler
// may return it as it is: errors.As finds a *jsonrpc2.Error in it, so
// the peer gets an error object with code CodeTooManySubscriptions and
// the message of Error.
type LimitError struct {
	// Scope is the limit reached: "session", "group" or "hub".
	Scope string
	// Max is the limit.
	Max int
}

// Error returns a message naming the limit.
func (e *LimitError) Error() string {
	return "too many subscriptions: at most " + strconv.Itoa(e.Max) + " per " + e.Scope
}

// As makes errors.As find a *jsonrpc2.Error in e.
func (e *LimitError) As(target any) bool {
	if p, ok := target.(**jsonrpc2.Error); ok {
		*p = &jsonrpc2.Error{Code: CodeTooManySubscriptions, Message: e.Error()}
		return true
	}
	return false
}
