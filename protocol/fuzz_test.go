package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/sourcegraph/jsonrpc2"
)

// fuzzSeeds are messages to start from, with a method, an ID and
// params for the encoder.
var fuzzSeeds = []string{
	`{"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":1}`,
	`{"jsonrpc":"2.0","method":"subtract","params":{"subtrahend":23,"minuend":42},"id":"3"}`,
	`{"jsonrpc":"2.0","method":"update","params":[1,2,3,4,5]}`,
	`{"jsonrpc":"2.0","method":"foobar","id":null}`,
	`{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]`,
	`{"jsonrpc": "2.0", "method": 1, "params": "bar"}`,
	`[{"jsonrpc":"2.0","method":"sum","params":[1,2,4],"id":"1"},{"jsonrpc":"2.0","method":"notify_hello","params":[7]},{"foo":"boo"},1]`,
	`[]`, `[1,2,3]`, `5`,
	`{"jsonrpc":"2.0","result":19,"id":-1.5e3}`,
	`{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found","data":[1]},"id":"1"}`,
	`[{"jsonrpc":"2.0","result":1,"id":1},{"jsonrpc":"2.0","error":{"code":1,"message":"m"},"id":2}]`,
	`{"method":"echo","params":["hi"],"id":18446744073709551617}`,
	`{"method":"tick","params":[],"id":null}`,
	`{"result":null,"error":"boom","id":1}`,
	`{"result":null,"error":{"code":3,"message":"m\u00e9"},"id":"x"}`,
	`{"jsonrpc":"2.0","method":"\ud83d\ude00\u0041","id":"\"q\""}`,
	`{"jsonrpc":"2.0","method":"a","params":[[[[{"a":[{"b":null}]}]]]],"id":0}`,
	`{"jsonrpc":"2.0","method":"a","method":"b","id":1}`,
	`{"id":0,"error":"unknown method"}`,
	`{"id":1,"error":{"error":"unknown database","details":"get_schema request specifies unknown database Foo","syntax":"[\"Foo\"]"}}`,
	`{"id":0,"result":["Open_vSwitch","_Server"]}`,
	`{"id":"echo","method":"echo","params":[]}`,
	`{"method":"echo","params":[1],"id":[1, {"a": true}]}`,
	`{"method":"echo","params":[],"id":true}`,
	"{\"result\":1,\"error\":null,\"id\":{\"k\":\r\n[false]}}",
	`{"jsonrpc":"2.0","error":{"code":5,"message":"m","data":[1],"stack":"x"},"id":1}`,
	`{"jsonrpc":"2.0","error":{"code":1.5,"details":"d"},"id":1}`,
	`[{"jsonrpc":"2.0","method":"sum","params":[1],"id":1},{"jsonrpc":"2.0","result":5,"id":9},{"jsonrpc":"2.0","error":{"code":1,"message":"\u00e9"},"id":"x"}]`,
}

// fuzzDecode is the body of the fuzz targets of dialect d: decoding
// never panics nor uses much memory, every decoded request can be
// answered with its ID kept byte for byte, and generated items survive
// encoding and decoding.
func fuzzDecode(f *testing.F, d Dialect) {
	for i, s := range fuzzSeeds {
		f.Add([]byte(s), "method.name", []byte(`"id"`), []byte(`[1,{"a":"b"}]`), i%3 == 0)
	}
	f.Add([]byte(`{}`), "\xff\x00\"", []byte(`-0.5e-7`), []byte(` { "a" : [ ] } `), false)
	f.Fuzz(func(t *testing.T, msg []byte, method string, id, params []byte, notify bool) {
		checkDecode(t, d, nil, msg)
		checkDecode(t, d, &Options{Strict: true}, msg)
		checkEncode(t, d, method, id, params, notify)
	})
}

func FuzzV2(f *testing.F)    { fuzzDecode(f, V2) }
func FuzzV1(f *testing.F)    { fuzzDecode(f, V1) }
func FuzzLoose(f *testing.F) { fuzzDecode(f, Loose) }
func FuzzAuto(f *testing.F)  { fuzzDecode(f, Auto) }

// sentID is the raw ID id as the encoder writes it back: verbatim,
// except a 1.0 ID holding a line break, which is written compact.
func sentID(id []byte) []byte {
	if bytes.ContainsAny(id, "\r\n") {
		return appendCompact(nil, id)
	}
	return id
}

func checkDecode(t *testing.T, d Dialect, o *Options, msg []byte) {
	c := New(d, o)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	m, err := c.Decode(msg)
	runtime.ReadMemStats(&after)
	// Memory is bounded by the input's size plus a fixed amount per item
	// (an Item is 240 bytes, its error 80), and a batch by MaxBatch items, even
	// when decoding fails half way.
	items := uint64(min(len(msg)/2+1, DefaultMaxBatch))
	if used, limit := after.TotalAlloc-before.TotalAlloc, 64<<10+32*uint64(len(msg))+512*items; used > limit {
		t.Fatalf("decoding %d bytes into %d items allocated %d bytes", len(msg), len(m.Items), used)
	}
	if len(m.Items) > DefaultMaxBatch || len(m.Items) > len(msg)/2+1 {
		t.Fatalf("%d items from %d bytes", len(m.Items), len(msg))
	}

	// Whatever the verdict, it agrees with a plain validation.
	var pe *ProtocolError
	if err != nil {
		if !errors.As(err, &pe) || pe.Reply == nil || pe.RawID != nil {
			t.Fatalf("Decode error %v", err)
		}
		// An oversized batch is refused before the rest of it is read.
		tooLarge := strings.HasPrefix(pe.Err.Message, "batch too large")
		if ok := valid(msg, DefaultMaxDepth); (pe.Err.Code == CodeParseError) == ok && !(tooLarge && !ok) {
			t.Fatalf("Decode says %v; valid says %v", err, ok)
		}
		return
	}
	if !valid(msg, DefaultMaxDepth) {
		t.Fatal("Decode accepted what valid refuses")
	}
	if !json.Valid(msg) {
		t.Fatal("Decode accepted what encoding/json refuses")
	}

	// Every decoded request gets an answer that decodes to a response
	// with the same ID bytes; so does every invalid item owed a reply.
	reader := New(c.Dialect(), nil)
	var buf []byte
	for k := range m.Items {
		it := &m.Items[k]
		checkItem(t, it)
		if it.Kind == KindResponse && it.Response.Error != nil {
			checkPeerError(t, msg, it.Response.Error)
		}
		var wantID []byte
		switch {
		case it.Kind == KindRequest:
			if buf, err = c.AppendResult(buf[:0], it.RawID, json.RawMessage(`{"ok":true}`)); err != nil {
				t.Fatal(err)
			}
			wantID = it.RawID
		case it.Kind == KindInvalid && it.Err.Reply != nil:
			if buf, err = c.AppendError(buf[:0], it.RawID, it.Err.Reply); err != nil {
				t.Fatal(err)
			}
			wantID = it.RawID
			if wantID == nil {
				wantID = []byte("null")
			}
		default:
			continue
		}
		back, err := reader.Decode(buf)
		if err != nil || len(back.Items) != 1 || back.Items[0].Kind != KindResponse {
			t.Fatalf("reply %s decodes as %+v, %v", buf, back, err)
		}
		if !bytes.Equal(back.Items[0].RawID, sentID(wantID)) {
			t.Fatalf("reply to ID %s decodes with ID %s", wantID, back.Items[0].RawID)
		}
	}
}

// checkPeerError checks an error response decoded from the message
// msg: its message is empty only if the peer sent an empty string, and
// its data, when present, is one JSON value.
func checkPeerError(t *testing.T, msg []byte, e *jsonrpc2.Error) {
	t.Helper()
	if e.Message == "" && !bytes.Contains(msg, []byte(`""`)) {
		t.Fatalf("error %+v without a message, from %s", e, msg)
	}
	if e.Data != nil && !valid(*e.Data, math.MaxInt) {
		t.Fatalf("error data %q is not JSON", *e.Data)
	}
}

// sanitized is s as it comes back from the encoder: each byte that is
// not part of valid UTF-8 replaced by U+FFFD.
func sanitized(s string) string { return string([]rune(s)) }

func checkEncode(t *testing.T, d Dialect, method string, id, params []byte, notify bool) {
	c := New(d, nil)
	if notify {
		id = nil
	}
	var out []byte
	var err error
	if notify {
		out, err = c.AppendNotification(nil, method, params)
	} else {
		out, err = c.AppendRequest(nil, id, method, params)
	}
	if err != nil {
		var je *jsonrpc2.Error
		if !errors.As(err, &je) || out != nil {
			t.Fatalf("encode error %v with %q", err, out)
		}
		return
	}
	if !json.Valid(out) || bytes.ContainsAny(out, "\n\r") {
		t.Fatalf("encoded %q", out)
	}
	m, err := New(d, nil).Decode(out)
	if err != nil {
		t.Fatalf("%s decodes with %v", out, err)
	}
	it := &m.Items[0]
	if len(sanitized(method)) > DefaultMaxMethod {
		if it.Kind != KindInvalid {
			t.Fatalf("long method decoded as %+v", it)
		}
		return
	}
	// In 1.0 a request with a null ID is a notification.
	wantNotif := notify || d == V1 && string(id) == "null"
	wantParams := compact(t, params)
	if wantParams == nil && d == V1 {
		wantParams = []byte("[]")
	}
	switch {
	case it.Kind == KindInvalid:
		t.Fatalf("%s decodes as invalid: %v", out, it.Err)
	case it.Request.Method != sanitized(method):
		t.Fatalf("method %q comes back as %q", method, it.Request.Method)
	case !bytes.Equal(it.RawParams, wantParams):
		t.Fatalf("params %q come back as %q", params, it.RawParams)
	case wantNotif != (it.Kind == KindNotification):
		t.Fatalf("notification %v comes back as kind %d", wantNotif, it.Kind)
	case !wantNotif && !bytes.Equal(it.RawID, sentID(id)):
		t.Fatalf("ID %q comes back as %q", id, it.RawID)
	}

	// The same values as a result and as an error.
	if out, err = c.AppendResult(nil, id, params); err != nil {
		return
	}
	if m, err = New(d, nil).Decode(out); err != nil || m.Items[0].Kind != KindResponse {
		t.Fatalf("%s decodes as %+v, %v", out, m, err)
	}
	if want := compact(t, params); want != nil && !bytes.Equal(m.Items[0].RawResult, want) {
		t.Fatalf("result %q comes back as %q", params, m.Items[0].RawResult)
	}
	e := &jsonrpc2.Error{Code: int64(len(method)) - 5, Message: method}
	if out, err = c.AppendError(nil, id, e); err != nil {
		t.Fatal(err)
	}
	if m, err = New(d, nil).Decode(out); err != nil || m.Items[0].Kind != KindResponse {
		t.Fatalf("%s decodes as %+v, %v", out, m, err)
	}
	if got := m.Items[0].Response.Error; got.Code != e.Code || got.Message != sanitized(method) {
		t.Fatalf("error %v comes back as %v", e, got)
	}
}

// compact returns the compact form of the JSON params (nil for none),
// by encoding/json.
func compact(t *testing.T, params []byte) []byte {
	if len(params) == 0 {
		return nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, params); err != nil {
		t.Fatalf("encoder accepted %q, which encoding/json refuses: %v", params, err)
	}
	return b.Bytes()
}

// TestDecodeMemory checks the memory bound on the worst inputs: many
// tiny invalid items, failing at the end or not, and many braces.
func TestDecodeMemory(t *testing.T) {
	ones := "[" + strings.Repeat("1,", 999) + "1"
	for _, msg := range []string{ones + "]", ones + ",}", ones + ",1]",
		"[" + strings.Repeat(`{"a":`, 200) + "1" + strings.Repeat("}", 200) + "]",
		`[{"jsonrpc":"2.0","method":"` + strings.Repeat(`\u00e9`, 5000) + `","id":1}]`} {
		checkDecode(t, V2, nil, []byte(msg))
	}
}
