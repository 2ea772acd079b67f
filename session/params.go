package session

import (
	"encoding/json"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/protocol"
)

// Positional appends the params of req, which must be a JSON array, to
// dst as raw JSON, one element each, and returns the extended slice.
// The elements are not decoded: each is the JSON text of one param,
// which the handler decodes as it likes (or passes on as it is). They
// share memory with req.Params, which the session never reuses, so they
// may be kept.
//
// Positional is the cheap way for a [Handler] to read positional params:
// no reflection, and no allocation when dst has room for them (pass a
// slice of a local array). A request without params, or with null
// params, has no elements: Positional returns dst unchanged.
//
// Positional checks the array's structure (brackets, strings, commas),
// not the literals inside it: the session has already checked the whole
// message as strict JSON before the handler sees it. A request built by
// other means should hold valid JSON.
//
// If the params are an object, or not a well-formed JSON array, it
// returns dst unchanged and a *jsonrpc2.Error with code -32602 (invalid
// params) that names the method, ready to be returned by the handler.
func Positional(req *jsonrpc2.Request, dst []json.RawMessage) ([]json.RawMessage, error) {
	if req.Params == nil {
		return dst, nil
	}
	params := trimJSONSpaceRight(*req.Params)
	params = params[skipJSONSpace(params, 0):]
	switch {
	case len(params) == 0 || string(params) == "null":
		return dst, nil
	case params[0] == '{':
		return dst, protocol.InvalidParams("invalid request arguments: method " + quoteEcho(req.Method) + " takes positional params, not named ones")
	case params[0] != '[':
		return dst, protocol.InvalidParams("invalid request arguments: params to method " + quoteEcho(req.Method) + " must be an array")
	}
	n := len(dst)
	dst, ok := splitJSONArray(params, dst)
	if !ok {
		return dst[:n], malformedParams(req.Method)
	}
	return dst, nil
}
