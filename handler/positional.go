package handler

import (
	"encoding/json"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/internal/jsonscan"
	"github.com/gorpcx/gorpcx/protocol"
)

// Positional appends the params of req, which must be a JSON array, to
// dst as raw JSON, one element each, and returns the extended slice.
// The elements are not decoded: each is the JSON text of one param,
// which the handler decodes as it likes (or passes on as it is). They
// share memory with req.Params, which the session never reuses, so they
// may be kept.
//
// Positional is the cheap way for a [session.Handler] to read
// positional params: no reflection, and no allocation when dst has room
// for them (pass a slice of a local array). A request without params,
// or with null params, has no elements: Positional returns dst
// unchanged.
//
// Positional checks that the params are one valid JSON array, with the
// same strict scanner as package protocol's decoder, which has already
// checked the whole message before a session hands it over.
//
// If the params are an object, or not a well-formed JSON array, it
// returns dst unchanged and a *jsonrpc2.Error with code -32602 (invalid
// params) that names the method, ready to be returned by the handler.
func Positional(req *jsonrpc2.Request, dst []json.RawMessage) ([]json.RawMessage, error) {
	params := rawParams(req)
	switch {
	case len(params) == 0 || string(params) == "null":
		return dst, nil
	case params[0] == '{':
		return dst, protocol.InvalidParams("invalid request arguments: method " + quoteEcho(req.Method) + " takes positional params, not named ones")
	case params[0] != '[':
		return dst, protocol.InvalidParams("invalid request arguments: params to method " + quoteEcho(req.Method) + " must be an array")
	}
	n := len(dst)
	dst, ok := jsonscan.SplitArray(params, dst)
	if !ok {
		return dst[:n], malformedParams(req.Method)
	}
	return dst, nil
}
