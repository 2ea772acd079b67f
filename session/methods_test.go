package session

import (
	"context"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/protocol"
)

// Methods is the method table of this package's tests: a Handler that
// dispatches by method name, answering -32601 for a name it lacks, as
// handler.Methods does (which the tests of package session cannot
// import, since package handler imports session).
type Methods map[string]Handler

func (m Methods) Handle(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	h, ok := m[req.Method]
	if !ok || h == nil {
		return nil, protocol.MethodNotFound(req.Method)
	}
	return h.Handle(ctx, req)
}
