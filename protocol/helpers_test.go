package protocol

import (
	"errors"
	"testing"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/internal/jsonscan"
)

// valid reports whether b is one JSON value by the scanner that the
// codec uses, nested at most maxDepth levels.
func valid(b []byte, maxDepth int) bool {
	s := jsonscan.Scanner{Buf: b, MaxDepth: maxDepth}
	end, err := s.Value(s.SkipSpace(0), 0)
	if err == jsonscan.OK {
		_, err = s.End(end)
	}
	return err == jsonscan.OK
}

// view is what a test compares of an Item.
type view struct {
	Kind   Kind
	Method string
	Params string // RawParams
	Notif  bool
	RawID  string
	ID     jsonrpc2.ID // Request.ID or Response.ID
	Result string      // RawResult
	Error  *jsonrpc2.Error
	// For KindInvalid: the error's code, whether a reply is owed, and
	// whether it is a malformed response.
	Code     int64
	Reply    bool
	Response bool
}

// views returns the views of m's items, after checking that each item
// is consistent with itself.
func views(t *testing.T, m Message) []view {
	t.Helper()
	if !m.Batch && len(m.Items) != 1 {
		t.Fatalf("single message with %d items", len(m.Items))
	}
	var vs []view
	for k := range m.Items {
		it := &m.Items[k]
		checkItem(t, it)
		v := view{Kind: it.Kind, RawID: string(it.RawID)}
		switch it.Kind {
		case KindRequest, KindNotification:
			v.Method, v.Params, v.Notif, v.ID = it.Request.Method, string(it.RawParams), it.Request.Notif, it.Request.ID
		case KindResponse:
			v.Result, v.Error, v.ID = string(it.RawResult), it.Response.Error, it.Response.ID
		case KindInvalid:
			v.Code, v.Reply, v.Response = it.Err.Err.Code, it.Err.Reply != nil, it.Err.Response
		}
		vs = append(vs, v)
	}
	return vs
}

// checkItem checks the invariants of a decoded item.
func checkItem(t *testing.T, it *Item) {
	t.Helper()
	if it.Kind != KindInvalid && it.Err != nil {
		t.Errorf("kind %d item with Err %v", it.Kind, it.Err)
	}
	switch it.Kind {
	case KindRequest, KindNotification:
		if (it.Kind == KindNotification) != it.Request.Notif {
			t.Errorf("kind %d with Notif %v", it.Kind, it.Request.Notif)
		}
		if (it.Kind == KindRequest) != (it.RawID != nil) {
			t.Errorf("kind %d with RawID %q", it.Kind, it.RawID)
		}
		if it.RawParams == nil && it.Request.Params != nil || it.RawParams != nil && it.Request.Params != &it.RawParams {
			t.Error("Request.Params does not point at RawParams")
		}
	case KindResponse:
		if it.RawID == nil {
			t.Error("response without RawID")
		}
		if (it.Response.Result == nil) == (it.Response.Error == nil) {
			t.Error("response needs exactly one of Result and Error")
		}
		if it.Response.Result != nil && it.Response.Result != &it.RawResult {
			t.Error("Response.Result does not point at RawResult")
		}
	case KindInvalid:
		pe := it.Err
		if pe == nil || pe.Err == nil {
			t.Fatal("invalid item without error")
		}
		if string(pe.RawID) != string(it.RawID) {
			t.Errorf("Err.RawID %q, RawID %q", pe.RawID, it.RawID)
		}
		if (pe.Reply == nil) != pe.Response || pe.Reply != nil && pe.Reply != pe.Err {
			t.Errorf("Reply %v with Response %v", pe.Reply, pe.Response)
		}
		if len(pe.Err.Message) > 2*maxQuoted+60 {
			t.Errorf("error message of %d bytes", len(pe.Err.Message))
		}
	default:
		t.Errorf("kind %d", it.Kind)
	}
}

// errView is what a test compares of an error from Decode.
type errView struct {
	Code  int64
	RawID string
}

// decodeErr returns the view of err, which must be a *ProtocolError
// owing a reply.
func decodeErr(t *testing.T, err error) *errView {
	t.Helper()
	if err == nil {
		return nil
	}
	var pe *ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("error %T %v is not a *ProtocolError", err, err)
	}
	if pe.Reply == nil || pe.Reply != pe.Err || pe.Response {
		t.Errorf("message error %v owes no reply", err)
	}
	return &errView{Code: pe.Err.Code, RawID: string(pe.RawID)}
}
