package handler

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/session"
)

func TestMethods(t *testing.T) {
	long := strings.Repeat("é", 80) // 160 bytes
	m := Methods{
		"echo": session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
			return "echo " + req.Method, nil
		}),
		"add":  MustFunc(func(a, b int) int { return a + b }),
		"none": nil,
	}
	tests := []struct {
		method, params string
		want           any
		err            error
	}{
		{"echo", funcNoParams, "echo echo", nil},
		{"add", "[1,2]", 3, nil},
		{"add", "[1]", nil, &jsonrpc2.Error{Code: -32602, Message: `1 argument passed to method "add" but it requires 2`}},
		{"sub", "[1,2]", nil, &jsonrpc2.Error{Code: -32601, Message: `unknown method "sub"`}},
		{"none", "[]", nil, &jsonrpc2.Error{Code: -32601, Message: `unknown method "none"`}},
		{"", "[]", nil, &jsonrpc2.Error{Code: -32601, Message: `unknown method ""`}},
		{long, "[]", nil, &jsonrpc2.Error{Code: -32601, Message: `unknown method "` + long[:100] + `..."`}},
	}
	for _, tt := range tests {
		got, err := m.Handle(context.Background(), funcRequest(tt.method, tt.params))
		if diff := cmp.Diff(tt.err, err); diff != "" {
			t.Errorf("%.20s(%s) error (-want +got):\n%s", tt.method, tt.params, diff)
		}
		if got != tt.want {
			t.Errorf("%.20s(%s) = %v, want %v", tt.method, tt.params, got, tt.want)
		}
	}
}
