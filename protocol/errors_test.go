package protocol

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sourcegraph/jsonrpc2"
)

func TestErrorConstructors(t *testing.T) {
	tests := []struct {
		got  *jsonrpc2.Error
		want jsonrpc2.Error
	}{
		{NewError(7, "seven"), jsonrpc2.Error{Code: 7, Message: "seven"}},
		{ParseError(""), jsonrpc2.Error{Code: -32700, Message: "invalid JSON"}},
		{ParseError("bad"), jsonrpc2.Error{Code: -32700, Message: "bad"}},
		{InvalidRequest(""), jsonrpc2.Error{Code: -32600, Message: "invalid request"}},
		{InvalidRequest("no"), jsonrpc2.Error{Code: -32600, Message: "no"}},
		{MethodNotFound("a.b"), jsonrpc2.Error{Code: -32601, Message: `unknown method "a.b"`}},
		{MethodNotFound(strings.Repeat("x", 100)), jsonrpc2.Error{Code: -32601, Message: `unknown method "` + strings.Repeat("x", 100) + `"`}},
		{MethodNotFound(strings.Repeat("x", 101)), jsonrpc2.Error{Code: -32601, Message: `unknown method "` + strings.Repeat("x", 100) + `..."`}},
		{MethodNotFound("x" + strings.Repeat("é", 100)), jsonrpc2.Error{Code: -32601, Message: `unknown method "x` + strings.Repeat("é", 49) + `..."`}},
		{InvalidParams(""), jsonrpc2.Error{Code: -32602, Message: "invalid params"}},
		{InvalidParams("p"), jsonrpc2.Error{Code: -32602, Message: "p"}},
		{InternalError(""), jsonrpc2.Error{Code: -32603, Message: "internal server error"}},
		{InternalError("i"), jsonrpc2.Error{Code: -32603, Message: "i"}},
		{ExcessiveResourceUsage(""), jsonrpc2.Error{Code: -101, Message: "excessive resource usage"}},
		{ExcessiveResourceUsage("e"), jsonrpc2.Error{Code: -101, Message: "e"}},
		{ServerBusy(""), jsonrpc2.Error{Code: -102, Message: "server busy - request timed out"}},
		{ServerBusy("s"), jsonrpc2.Error{Code: -102, Message: "s"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(&tt.want, tt.got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	}
	codes := []int64{CodeParseError, CodeInvalidRequest, CodeMethodNotFound, CodeInvalidParams, CodeInternalError,
		CodeUnavailable, CodeExcessiveResourceUsage, CodeServerBusy}
	if diff := cmp.Diff([]int64{-32700, -32600, -32601, -32602, -32603, -100, -101, -102}, codes); diff != "" {
		t.Errorf("codes (-want +got):\n%s", diff)
	}
	if CodeParseError != jsonrpc2.CodeParseError || CodeInternalError != jsonrpc2.CodeInternalError {
		t.Error("codes differ from jsonrpc2's")
	}
}

func TestProtocolError(t *testing.T) {
	reply := newProtocolError(CodeInvalidRequest, "batch is empty", nil, false)
	withID := newProtocolError(CodeInvalidParams, "p", []byte(`"x"`), false)
	response := newProtocolError(CodeInvalidRequest, `response has no "id"`, []byte("5"), true)
	tests := []struct {
		err      *ProtocolError
		text     string
		code     int64
		reply    bool
		response bool
	}{
		{reply, `protocol: batch is empty (code -32600)`, CodeInvalidRequest, true, false},
		{withID, `protocol: p (code -32602, id "x")`, CodeInvalidParams, true, false},
		{response, `protocol: response has no "id" (code -32600, id 5)`, CodeInvalidRequest, false, true},
		{&ProtocolError{Reply: NewError(1, "r")}, `protocol: r (code 1)`, 1, true, false},
	}
	for _, tt := range tests {
		var err error = fmt.Errorf("wrapped: %w", tt.err)
		if got := tt.err.Error(); got != tt.text {
			t.Errorf("Error() = %q, want %q", got, tt.text)
		}
		var pe *ProtocolError
		if !errors.As(err, &pe) || pe != tt.err {
			t.Errorf("errors.As did not find the *ProtocolError in %v", err)
		}
		je := tt.err.Err
		if je == nil {
			je = tt.err.Reply
		}
		if je.Code != tt.code {
			t.Errorf("%v: code %d, want %d", err, je.Code, tt.code)
		}
		if (tt.err.Reply != nil) != tt.reply || tt.err.Response != tt.response {
			t.Errorf("%v: Reply %v Response %v", tt.err, tt.err.Reply, tt.err.Response)
		}
	}
	var zero ProtocolError
	if zero.Error() != "protocol: invalid message" {
		t.Errorf("zero ProtocolError: %q", zero.Error())
	}
	long := &ProtocolError{Err: NewError(1, "m"), RawID: []byte(`"` + strings.Repeat("a", 300) + `"`)}
	if n := len(long.Error()); n > 150 {
		t.Errorf("Error() repeats %d bytes of a long ID", n)
	}
}

// TestProtocolErrorIsNotPeerError checks that a violation of the
// protocol is not taken for an error object the peer sent: errors.As
// finds a *ProtocolError, never a *jsonrpc2.Error, in it, whether it
// came from Decode, from an invalid item (a malformed response), or was
// made by hand with only Reply set.
func TestProtocolErrorIsNotPeerError(t *testing.T) {
	c := New(V2, nil)
	_, parseErr := c.Decode([]byte(`{"jsonrpc":"2.0",`))
	m, err := c.Decode([]byte(`{"jsonrpc":"2.0","result":1,"error":{"code":1,"message":"x"},"id":7}`))
	if err != nil || len(m.Items) != 1 || m.Items[0].Kind != KindInvalid || !m.Items[0].Err.Response {
		t.Fatalf("malformed response decoded as %+v, %v", m, err)
	}
	malformed := error(m.Items[0].Err)
	for _, err := range []error{
		parseErr,
		malformed,
		fmt.Errorf("call: %w", malformed),
		&ProtocolError{Reply: InvalidRequest("missing"), RawID: []byte("3")},
	} {
		var pe *ProtocolError
		if !errors.As(err, &pe) {
			t.Errorf("errors.As found no *ProtocolError in %v", err)
		}
		var je *jsonrpc2.Error
		if errors.As(err, &je) {
			t.Errorf("errors.As found the *jsonrpc2.Error %v in the protocol violation %v", je, err)
		}
	}
	// The peer's own error response is a *jsonrpc2.Error, and no
	// *ProtocolError.
	m, err = c.Decode([]byte(`{"jsonrpc":"2.0","error":{"code":1,"message":"x"},"id":7}`))
	if err != nil || m.Items[0].Kind != KindResponse || m.Items[0].Response.Error == nil {
		t.Fatalf("error response decoded as %+v, %v", m, err)
	}
	var peerErr error = m.Items[0].Response.Error
	var pe *ProtocolError
	var je *jsonrpc2.Error
	if errors.As(peerErr, &pe) || !errors.As(peerErr, &je) || je.Code != 1 {
		t.Errorf("error response: ProtocolError %v, jsonrpc2.Error %v", pe, je)
	}
}
