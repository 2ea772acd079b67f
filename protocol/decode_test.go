package protocol

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sourcegraph/jsonrpc2"
)

func num(n uint64) jsonrpc2.ID { return jsonrpc2.ID{Num: n} }
func str(s string) jsonrpc2.ID { return jsonrpc2.ID{Str: s, IsString: true} }
func noID() (id jsonrpc2.ID)   { return id }
func notif(method, params string) view {
	return view{Kind: KindNotification, Method: method, Params: params, Notif: true}
}

func req(method, params, rawID string, id jsonrpc2.ID) view {
	return view{Kind: KindRequest, Method: method, Params: params, RawID: rawID, ID: id}
}

func result(res, rawID string, id jsonrpc2.ID) view {
	return view{Kind: KindResponse, Result: res, RawID: rawID, ID: id}
}

func rpcErr(code int64, msg, data string) *jsonrpc2.Error {
	e := &jsonrpc2.Error{Code: code, Message: msg}
	if data != "" {
		raw := json.RawMessage(data)
		e.Data = &raw
	}
	return e
}

func errResp(e *jsonrpc2.Error, rawID string, id jsonrpc2.ID) view {
	return view{Kind: KindResponse, Error: e, RawID: rawID, ID: id}
}

func invalid(code int64, rawID string) view {
	return view{Kind: KindInvalid, Code: code, Reply: true, RawID: rawID}
}

func malformed(rawID string) view {
	return view{Kind: KindInvalid, Code: CodeInvalidRequest, Response: true, RawID: rawID}
}

type decodeTest struct {
	name  string
	in    string
	want  []view   // the items of a message that decodes
	batch bool     // the message is a batch
	err   *errView // the error of a message that does not
}

func runDecode(t *testing.T, d Dialect, o *Options, tests []decodeTest) {
	t.Helper()
	for _, tt := range tests {
		t.Run(d.String()+"/"+tt.name, func(t *testing.T) {
			m, err := New(d, o).Decode([]byte(tt.in))
			if diff := cmp.Diff(tt.err, decodeErr(t, err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s\n%v", diff, err)
			}
			if err != nil {
				if m.Items != nil || m.Batch {
					t.Errorf("message %+v along with error", m)
				}
				return
			}
			if m.Batch != tt.batch {
				t.Errorf("Batch = %v, want %v", m.Batch, tt.batch)
			}
			if diff := cmp.Diff(tt.want, views(t, m)); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
		})
	}
}

var (
	parseErr   = &errView{Code: CodeParseError}
	invalidErr = &errView{Code: CodeInvalidRequest}
)

// parseTests hold for every dialect.
var parseTests = []decodeTest{
	{name: "empty", in: ``, err: parseErr},
	{name: "only whitespace", in: " \t\r\n", err: parseErr},
	{name: "unclosed object", in: `{`, err: parseErr},
	{name: "unclosed member", in: `{"method":"a","id":1`, err: parseErr},
	{name: "missing colon", in: `{"method" "a"}`, err: parseErr},
	{name: "missing value", in: `{"method":}`, err: parseErr},
	{name: "unquoted name", in: `{method:"a"}`, err: parseErr},
	{name: "single quotes", in: `{'method':'a'}`, err: parseErr},
	{name: "trailing comma in object", in: `{"method":"a","id":1,}`, err: parseErr},
	{name: "trailing comma in params", in: `{"method":"a","params":[1,],"id":1}`, err: parseErr},
	{name: "missing comma in params", in: `{"method":"a","params":[1 2],"id":1}`, err: parseErr},
	{name: "colon in array", in: `{"method":"a","params":[1:2],"id":1}`, err: parseErr},
	{name: "mismatched brackets", in: `{"method":"a","params":[1},"id":1}`, err: parseErr},
	{name: "second value", in: `{"method":"a","id":1} {"method":"b","id":2}`, err: parseErr},
	{name: "trailing garbage", in: `{"method":"a","id":1}x`, err: parseErr},
	{name: "NaN", in: `{"method":"a","params":[NaN],"id":1}`, err: parseErr},
	{name: "Infinity", in: `{"method":"a","params":[Infinity],"id":1}`, err: parseErr},
	{name: "-Infinity", in: `{"method":"a","params":[-Infinity],"id":1}`, err: parseErr},
	{name: "NaN ID", in: `{"method":"a","id":NaN}`, err: parseErr},
	{name: "leading zero", in: `{"method":"a","id":01}`, err: parseErr},
	{name: "leading plus", in: `{"method":"a","id":+1}`, err: parseErr},
	{name: "bare fraction", in: `{"method":"a","id":.5}`, err: parseErr},
	{name: "empty fraction", in: `{"method":"a","id":1.}`, err: parseErr},
	{name: "empty exponent", in: `{"method":"a","id":1e}`, err: parseErr},
	{name: "signed empty exponent", in: `{"method":"a","id":1e+}`, err: parseErr},
	{name: "lone minus", in: `{"method":"a","id":-}`, err: parseErr},
	{name: "hex number", in: `{"method":"a","id":0x10}`, err: parseErr},
	{name: "truncated literal", in: `{"method":"a","params":[tru],"id":1}`, err: parseErr},
	{name: "capital literal", in: `{"method":"a","params":[True],"id":1}`, err: parseErr},
	{name: "literal at end", in: `{"method":"a","params":[nul`, err: parseErr},
	{name: "byte order mark", in: "\ufeff{\"method\":\"a\",\"id\":1}", err: parseErr},
	{name: "invalid UTF-8 in method", in: "{\"method\":\"a\xff\",\"id\":1}", err: parseErr},
	{name: "invalid UTF-8 in params", in: "{\"method\":\"a\",\"params\":[\"\xc3\"],\"id\":1}", err: parseErr},
	{name: "invalid UTF-8 in a name", in: "{\"method\":\"a\",\"\xe2\x82\":1,\"id\":1}", err: parseErr},
	{name: "overlong UTF-8", in: "{\"method\":\"\xc0\xaf\",\"id\":1}", err: parseErr},
	{name: "UTF-8 surrogate", in: "{\"method\":\"\xed\xa0\x80\",\"id\":1}", err: parseErr},
	{name: "UTF-8 beyond U+10FFFF", in: "{\"method\":\"\xf4\x90\x80\x80\",\"id\":1}", err: parseErr},
	{name: "invalid UTF-8 outside strings", in: "{\"method\":\"a\",\"id\":1\xff}", err: parseErr},
	{name: "raw control character", in: "{\"method\":\"a\x01\",\"id\":1}", err: parseErr},
	{name: "raw newline in string", in: "{\"method\":\"a\nb\",\"id\":1}", err: parseErr},
	{name: "bad escape", in: `{"method":"a\x","id":1}`, err: parseErr},
	{name: "short unicode escape", in: `{"method":"\u12","id":1}`, err: parseErr},
	{name: "non-hex unicode escape", in: `{"method":"\u12g4","id":1}`, err: parseErr},
	{name: "escape at end", in: `{"method":"a\`, err: parseErr},
	{name: "unicode escape at end", in: `{"method":"\u00`, err: parseErr},
	{name: "unterminated string", in: `{"method":"abc`, err: parseErr},
	{name: "unterminated long string", in: `{"method":"` + strings.Repeat("a", 40), err: parseErr},
	{name: "comment", in: `{"method":"a" /* c */,"id":1}`, err: parseErr},
	{name: "unclosed batch", in: `[{"method":"a","id":1}`, err: parseErr},
	{name: "unclosed batch after comma", in: `[{"method":"a","id":1},`, err: parseErr},
	{name: "trailing comma in batch", in: `[{"method":"a","id":1},]`, err: parseErr},
	{name: "missing comma in batch", in: `[{"method":"a","id":1} 1]`, err: parseErr},
	{name: "batch then garbage", in: `[1] 2`, err: parseErr},
	{name: "empty batch then garbage", in: `[] 2`, err: parseErr},
	{name: "invalid member in batch", in: `[1, tru]`, err: parseErr},
	{name: "only open bracket", in: `[`, err: parseErr},
	{name: "scalar then garbage", in: `5 5`, err: parseErr},
	{name: "deeper than 256", in: `{"method":"a","params":` + strings.Repeat("[", 256) + strings.Repeat("]", 256) + `,"id":1}`, err: parseErr},
	{name: "very deep", in: strings.Repeat("[", 100000), err: parseErr},
	{name: "deep objects", in: `{"method":"a","params":` + strings.Repeat(`{"a":`, 300) + "1" + strings.Repeat("}", 300) + `}`, err: parseErr},
	{name: "number", in: `5`, err: invalidErr},
	{name: "string", in: `"method"`, err: invalidErr},
	{name: "null", in: ` null `, err: invalidErr},
	{name: "true", in: `true`, err: invalidErr},
}

func TestDecodeParseErrors(t *testing.T) {
	for _, d := range []Dialect{V2, V1, Loose, Auto} {
		runDecode(t, d, nil, parseTests)
	}
}

// commonTests hold for V2 and Loose, in the 2.0 shape.
var commonTests = []decodeTest{
	{name: "positional params", in: `{"jsonrpc":"2.0","method":"sum","params":[1,2],"id":1}`,
		want: []view{req("sum", `[1,2]`, `1`, num(1))}},
	{name: "named params", in: `{"jsonrpc":"2.0","method":"sum","params":{"a":1},"id":1}`,
		want: []view{req("sum", `{"a":1}`, `1`, num(1))}},
	{name: "no params", in: `{"jsonrpc":"2.0","method":"ping","id":7}`,
		want: []view{req("ping", ``, `7`, num(7))}},
	{name: "empty params", in: `{"jsonrpc":"2.0","method":"ping","params":[],"id":7}`,
		want: []view{req("ping", `[]`, `7`, num(7))}},
	{name: "notification", in: `{"jsonrpc":"2.0","method":"tick","params":[1]}`,
		want: []view{notif("tick", `[1]`)}},
	{name: "null ID is a request", in: `{"jsonrpc":"2.0","method":"a","id":null}`,
		want: []view{req("a", ``, `null`, noID())}},
	{name: "members in any order", in: `{"id":3,"params":[true],"method":"a","jsonrpc":"2.0"}`,
		want: []view{req("a", `[true]`, `3`, num(3))}},
	{name: "whitespace", in: " \r\n{ \"jsonrpc\" : \"2.0\" ,\t\"method\" : \"a\" , \"params\" : [ 1 , 2 ] , \"id\" : 1 } \n",
		want: []view{req("a", `[ 1 , 2 ]`, `1`, num(1))}},
	{name: "unknown members ignored", in: `{"jsonrpc":"2.0","x":{"method":[1]},"method":"a","x":2,"id":1}`,
		want: []view{req("a", ``, `1`, num(1))}},
	{name: "names are case-sensitive", in: `{"jsonrpc":"2.0","Method":"a","id":1}`,
		want: []view{invalid(CodeInvalidRequest, `1`)}},
	{name: "empty method", in: `{"jsonrpc":"2.0","method":"","id":1}`,
		want: []view{req("", ``, `1`, num(1))}},
	{name: "escaped method", in: `{"jsonrpc":"2.0","method":"su\u0062tr\"act\\\/\b\f\n\r\t","id":1}`,
		want: []view{req("subtr\"act\\/\b\f\n\r\t", ``, `1`, num(1))}},
	{name: "surrogate pair", in: `{"jsonrpc":"2.0","method":"\ud83d\ude00 é","id":1}`,
		want: []view{req("😀 é", ``, `1`, num(1))}},
	{name: "lone surrogates", in: `{"jsonrpc":"2.0","method":"\ud800x\udc00\ud800\u0041","id":1}`,
		want: []view{req("\ufffdx\ufffd\ufffdA", ``, `1`, num(1))}},
	{name: "escaped member names", in: `{"\u006aso\u006erpc":"2.0","m\u0065thod":"a","\u0069d":1}`,
		want: []view{req("a", ``, `1`, num(1))}},
	{name: "escaped jsonrpc value", in: `{"jsonrpc":"2\u002e0","method":"a","id":1}`,
		want: []view{req("a", ``, `1`, num(1))}},
	{name: "method of 256 bytes", in: `{"jsonrpc":"2.0","method":"` + strings.Repeat("m", 256) + `","id":1}`,
		want: []view{req(strings.Repeat("m", 256), ``, `1`, num(1))}},
	{name: "escaped method of 256 bytes", in: `{"jsonrpc":"2.0","method":"` + strings.Repeat(`\u006d`, 256) + `","id":1}`,
		want: []view{req(strings.Repeat("m", 256), ``, `1`, num(1))}},
	{name: "method of 257 bytes", in: `{"jsonrpc":"2.0","method":"` + strings.Repeat("m", 257) + `","id":1}`,
		want: []view{invalid(CodeInvalidRequest, `1`)}},
	{name: "escaped method of 257 bytes", in: `{"jsonrpc":"2.0","method":"` + strings.Repeat(`\u006d`, 257) + `","id":1}`,
		want: []view{invalid(CodeInvalidRequest, `1`)}},
	{name: "huge escaped method", in: `{"jsonrpc":"2.0","method":"` + strings.Repeat(`\u006d`, 2000) + `","id":1}`,
		want: []view{invalid(CodeInvalidRequest, `1`)}},

	// IDs, kept byte for byte.
	{name: "ID zero", in: `{"jsonrpc":"2.0","method":"a","id":0}`, want: []view{req("a", ``, `0`, num(0))}},
	{name: "ID minus zero", in: `{"jsonrpc":"2.0","method":"a","id":-0}`, want: []view{req("a", ``, `-0`, noID())}},
	{name: "negative ID", in: `{"jsonrpc":"2.0","method":"a","id":-5}`, want: []view{req("a", ``, `-5`, noID())}},
	{name: "fractional ID", in: `{"jsonrpc":"2.0","method":"a","id":1.5}`, want: []view{req("a", ``, `1.5`, noID())}},
	{name: "exponent ID", in: `{"jsonrpc":"2.0","method":"a","id":1e3}`, want: []view{req("a", ``, `1e3`, noID())}},
	{name: "ID 1.5E-3", in: `{"jsonrpc":"2.0","method":"a","id":1.5E-3}`, want: []view{req("a", ``, `1.5E-3`, noID())}},
	{name: "ID 2^53+1", in: `{"jsonrpc":"2.0","method":"a","id":9007199254740993}`,
		want: []view{req("a", ``, `9007199254740993`, num(9007199254740993))}},
	{name: "ID -(2^53+1)", in: `{"jsonrpc":"2.0","method":"a","id":-9007199254740993}`,
		want: []view{req("a", ``, `-9007199254740993`, noID())}},
	{name: "ID 2^64-1", in: `{"jsonrpc":"2.0","method":"a","id":18446744073709551615}`,
		want: []view{req("a", ``, `18446744073709551615`, num(18446744073709551615))}},
	{name: "ID 2^64", in: `{"jsonrpc":"2.0","method":"a","id":18446744073709551616}`,
		want: []view{req("a", ``, `18446744073709551616`, noID())}},
	{name: "ID 2^64+1", in: `{"jsonrpc":"2.0","method":"a","id":18446744073709551617}`,
		want: []view{req("a", ``, `18446744073709551617`, noID())}},
	{name: "ID of 40 digits", in: `{"jsonrpc":"2.0","method":"a","id":1234567890123456789012345678901234567890}`,
		want: []view{req("a", ``, `1234567890123456789012345678901234567890`, noID())}},
	{name: "string ID", in: `{"jsonrpc":"2.0","method":"a","id":"abc"}`, want: []view{req("a", ``, `"abc"`, str("abc"))}},
	{name: "empty string ID", in: `{"jsonrpc":"2.0","method":"a","id":""}`, want: []view{req("a", ``, `""`, str(""))}},
	{name: "string ID 1", in: `{"jsonrpc":"2.0","method":"a","id":"1"}`, want: []view{req("a", ``, `"1"`, str("1"))}},
	{name: "escaped string ID", in: `{"jsonrpc":"2.0","method":"a","id":"a\"\u00e9"}`,
		want: []view{req("a", ``, `"a\"\u00e9"`, str(`a"é`))}},
	{name: "object ID", in: `{"jsonrpc":"2.0","method":"a","id":{"x":1}}`, want: []view{invalid(CodeInvalidRequest, ``)}},
	{name: "array ID", in: `{"jsonrpc":"2.0","method":"a","id":[1]}`, want: []view{invalid(CodeInvalidRequest, ``)}},
	{name: "true ID", in: `{"jsonrpc":"2.0","method":"a","id":true}`, want: []view{invalid(CodeInvalidRequest, ``)}},
	{name: "false ID", in: `{"jsonrpc":"2.0","method":"a","id":false}`, want: []view{invalid(CodeInvalidRequest, ``)}},
	{name: "object ID of a notification-like", in: `{"jsonrpc":"2.0","method":1,"id":{}}`, want: []view{invalid(CodeInvalidRequest, ``)}},

	// Invalid requests get a reply, with their ID where it can be read.
	{name: "method not a string", in: `{"jsonrpc":"2.0","method":1,"id":1}`, want: []view{invalid(CodeInvalidRequest, `1`)}},
	{name: "method null", in: `{"jsonrpc":"2.0","method":null,"id":"x"}`, want: []view{invalid(CodeInvalidRequest, `"x"`)}},
	{name: "method array", in: `{"jsonrpc":"2.0","method":["a"]}`, want: []view{invalid(CodeInvalidRequest, ``)}},
	{name: "invalid notification gets a reply", in: `{"jsonrpc":"2.0","method":5}`, want: []view{invalid(CodeInvalidRequest, ``)}},
	{name: "params a string", in: `{"jsonrpc":"2.0","method":"a","params":"bar","id":1}`, want: []view{invalid(CodeInvalidRequest, `1`)}},
	{name: "params a number", in: `{"jsonrpc":"2.0","method":"a","params":5,"id":1}`, want: []view{invalid(CodeInvalidRequest, `1`)}},
	{name: "params null", in: `{"jsonrpc":"2.0","method":"a","params":null,"id":1}`, want: []view{invalid(CodeInvalidRequest, `1`)}},
	{name: "params true", in: `{"jsonrpc":"2.0","method":"a","params":true}`, want: []view{invalid(CodeInvalidRequest, ``)}},
	{name: "neither request nor response", in: `{"jsonrpc":"2.0","id":4}`, want: []view{invalid(CodeInvalidRequest, `4`)}},
	{name: "empty object", in: `{}`, want: []view{invalid(CodeInvalidRequest, ``)}},
	{name: "neither, with a bad ID", in: `{"id":[]}`, want: []view{invalid(CodeInvalidRequest, ``)}},
	{name: "duplicate method", in: `{"jsonrpc":"2.0","method":"a","method":"b","id":1}`, want: []view{invalid(CodeInvalidRequest, `1`)}},
	{name: "duplicate params", in: `{"jsonrpc":"2.0","method":"a","params":[],"params":{},"id":1}`, want: []view{invalid(CodeInvalidRequest, `1`)}},
	{name: "duplicate jsonrpc", in: `{"jsonrpc":"2.0","jsonrpc":"2.0","method":"a","id":1}`, want: []view{invalid(CodeInvalidRequest, `1`)}},
	{name: "duplicate id", in: `{"jsonrpc":"2.0","method":"a","id":1,"id":2}`, want: []view{invalid(CodeInvalidRequest, ``)}},
	{name: "duplicate id, escaped", in: `{"jsonrpc":"2.0","method":"a","id":1,"\u0069d":2}`, want: []view{invalid(CodeInvalidRequest, ``)}},
	{name: "duplicate member in params is left to the handler", in: `{"jsonrpc":"2.0","method":"a","params":{"x":1,"x":2},"id":1}`,
		want: []view{req("a", `{"x":1,"x":2}`, `1`, num(1))}},

	// Responses.
	{name: "result", in: `{"jsonrpc":"2.0","result":19,"id":1}`, want: []view{result(`19`, `1`, num(1))}},
	{name: "null result", in: `{"jsonrpc":"2.0","result":null,"id":"a"}`, want: []view{result(`null`, `"a"`, str("a"))}},
	{name: "object result", in: `{"jsonrpc":"2.0","id":-1,"result":{"a":[1, 2]}}`, want: []view{result(`{"a":[1, 2]}`, `-1`, noID())}},
	{name: "result, null ID", in: `{"jsonrpc":"2.0","result":1,"id":null}`, want: []view{result(`1`, `null`, noID())}},
	{name: "error", in: `{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":"1"}`,
		want: []view{errResp(rpcErr(-32601, "Method not found", ""), `"1"`, str("1"))}},
	{name: "error with data", in: `{"jsonrpc":"2.0","error":{"data":{"a": [1]},"message":"m","code":5},"id":1}`,
		want: []view{errResp(rpcErr(5, "m", `{"a": [1]}`), `1`, num(1))}},
	{name: "error with null data", in: `{"jsonrpc":"2.0","error":{"code":5,"message":"m","data":null},"id":1}`,
		want: []view{errResp(rpcErr(5, "m", `null`), `1`, num(1))}},
	{name: "error with escaped message and extra members", in: `{"jsonrpc":"2.0","error":{"code":-1,"x":[],"message":"a\nb\u00e9"},"id":1}`,
		want: []view{errResp(rpcErr(-1, "a\nb\u00e9", `{"code":-1,"x":[],"message":"a\nb\u00e9"}`), `1`, num(1))}},
	{name: "error with data and extra members", in: `{"jsonrpc":"2.0","error":{"code":5,"message":"m","data":[1],"stack":"at x"},"id":1}`,
		want: []view{errResp(rpcErr(5, "m", `{"code":5,"message":"m","data":[1],"stack":"at x"}`), `1`, num(1))}},
	{name: "error code at int64 bounds", in: `{"jsonrpc":"2.0","error":{"code":-9223372036854775808,"message":""},"id":1}`,
		want: []view{errResp(rpcErr(-9223372036854775808, "", ""), `1`, num(1))}},
	{name: "response without ID", in: `{"jsonrpc":"2.0","result":1}`, want: []view{malformed(``)}},
	{name: "response with object ID", in: `{"jsonrpc":"2.0","result":1,"id":{}}`, want: []view{malformed(``)}},
	{name: "response with duplicate ID", in: `{"jsonrpc":"2.0","result":1,"id":1,"id":1}`, want: []view{malformed(``)}},
	{name: "response with duplicate result", in: `{"jsonrpc":"2.0","result":1,"result":2,"id":1}`, want: []view{malformed(`1`)}},
	{name: "error duplicate code", in: `{"jsonrpc":"2.0","error":{"code":1,"code":2,"message":"m"},"id":1}`, want: []view{malformed(`1`)}},
}

func TestDecodeV2(t *testing.T) {
	runDecode(t, V2, nil, commonTests)
	runDecode(t, V2, nil, []decodeTest{
		{name: "no jsonrpc", in: `{"method":"a","id":1}`, want: []view{invalid(CodeInvalidRequest, `1`)}},
		{name: "jsonrpc 1.0", in: `{"jsonrpc":"1.0","method":"a","id":1}`, want: []view{invalid(CodeInvalidRequest, `1`)}},
		{name: "jsonrpc a number", in: `{"jsonrpc":2.0,"method":"a","id":1}`, want: []view{invalid(CodeInvalidRequest, `1`)}},
		{name: "jsonrpc 2.00", in: `{"jsonrpc":"2.00","method":"a"}`, want: []view{invalid(CodeInvalidRequest, ``)}},
		{name: "jsonrpc with a long escape", in: `{"jsonrpc":"\u0032\u002e\u0030\u0020","method":"a"}`, want: []view{invalid(CodeInvalidRequest, ``)}},
		{name: "1.0 notification", in: `{"method":"a","params":[],"id":null}`, want: []view{invalid(CodeInvalidRequest, `null`)}},
		{name: "response without jsonrpc", in: `{"result":1,"id":1}`, want: []view{malformed(`1`)}},
		{name: "result and error", in: `{"jsonrpc":"2.0","result":1,"error":null,"id":1}`, want: []view{malformed(`1`)}},
		{name: "error null", in: `{"jsonrpc":"2.0","error":null,"id":1}`, want: []view{malformed(`1`)}},
	})
	// Error values that are not standard error objects: read whole by
	// default, malformed with Options.Strict.
	var lenient, strict []decodeTest
	for _, tt := range []struct {
		name, in string
		want     *jsonrpc2.Error
	}{
		{"error a string", `"boom"`, rpcErr(CodeUnavailable, "boom", `"boom"`)},
		{"error a number", `7`, rpcErr(7, "7", `7`)},
		{"error an array", `[1, "x"]`, rpcErr(CodeUnavailable, `[1,"x"]`, `[1, "x"]`)},
		{"error without message", `{"code":1}`, rpcErr(1, `{"code":1}`, `{"code":1}`)},
		{"error without code", `{"message":"m"}`, rpcErr(CodeUnavailable, "m", `{"message":"m"}`)},
		{"error code beyond int64", `{"code":9223372036854775808,"message":""}`,
			rpcErr(CodeUnavailable, "", `{"code":9223372036854775808,"message":""}`)},
		{"error code a string", `{"code":"1","message":"m"}`, rpcErr(CodeUnavailable, "m", `{"code":"1","message":"m"}`)},
		{"error code a fraction", `{"code":1.5,"message":"m"}`, rpcErr(CodeUnavailable, "m", `{"code":1.5,"message":"m"}`)},
		{"error code with exponent", `{"code":1e3,"message":"m"}`, rpcErr(CodeUnavailable, "m", `{"code":1e3,"message":"m"}`)},
		{"error message a number", `{"code":1,"message":5}`, rpcErr(1, `{"code":1,"message":5}`, `{"code":1,"message":5}`)},
		{"ovsdb error object", `{"error":"unknown database","details":"d","syntax":"[\"Foo\"]"}`,
			rpcErr(CodeUnavailable, "unknown database", `{"error":"unknown database","details":"d","syntax":"[\"Foo\"]"}`)},
	} {
		in := `{"jsonrpc":"2.0","error":` + tt.in + `,"id":1}`
		lenient = append(lenient, decodeTest{name: tt.name, in: in, want: []view{errResp(tt.want, `1`, num(1))}})
		strict = append(strict, decodeTest{name: "strict " + tt.name, in: in, want: []view{malformed(`1`)}})
	}
	runDecode(t, V2, nil, lenient)
	runDecode(t, V2, &Options{Strict: true}, strict)
	// Strict refuses no standard error object, extra members or not.
	runDecode(t, V2, &Options{Strict: true}, []decodeTest{
		{name: "strict, extra members", in: `{"jsonrpc":"2.0","error":{"code":-1,"x":[],"message":"m"},"id":1}`,
			want: []view{errResp(rpcErr(-1, "m", `{"code":-1,"x":[],"message":"m"}`), `1`, num(1))}},
		{name: "strict, data", in: `{"jsonrpc":"2.0","error":{"code":-1,"message":"m","data":{}},"id":1}`,
			want: []view{errResp(rpcErr(-1, "m", `{}`), `1`, num(1))}},
	})
}

func TestDecodeLoose(t *testing.T) {
	runDecode(t, Loose, nil, commonTests)
	runDecode(t, Loose, nil, []decodeTest{
		{name: "no jsonrpc", in: `{"method":"a","id":1}`, want: []view{req("a", ``, `1`, num(1))}},
		{name: "any jsonrpc", in: `{"jsonrpc":[3],"method":"a","id":1}`, want: []view{req("a", ``, `1`, num(1))}},
		{name: "1.0 request", in: `{"method":"a","params":[1],"id":1}`, want: []view{req("a", `[1]`, `1`, num(1))}},
		{name: "1.0 notification", in: `{"method":"a","params":[],"id":null}`, want: []view{notif("a", `[]`)}},
		{name: "1.0 notification, jsonrpc 1.0", in: `{"jsonrpc":"1.0","method":"a","id":null}`, want: []view{notif("a", ``)}},
		{name: "2.0 null ID", in: `{"jsonrpc":"2.0","method":"a","id":null}`, want: []view{req("a", ``, `null`, noID())}},
		{name: "2.0 notification", in: `{"method":"a"}`, want: []view{notif("a", ``)}},
		{name: "1.0 result", in: `{"result":1,"error":null,"id":1}`, want: []view{result(`1`, `1`, num(1))}},
		{name: "result without jsonrpc", in: `{"result":1,"id":1}`, want: []view{result(`1`, `1`, num(1))}},
		{name: "null result and null error", in: `{"result":null,"error":null,"id":1}`, want: []view{result(`null`, `1`, num(1))}},
		{name: "string error", in: `{"result":null,"error":"boom","id":1}`,
			want: []view{errResp(rpcErr(CodeUnavailable, "boom", `"boom"`), `1`, num(1))}},
		{name: "error only", in: `{"error":{"code":3,"message":"m"},"id":1}`,
			want: []view{errResp(rpcErr(3, "m", ""), `1`, num(1))}},
		{name: "error and result", in: `{"result":1,"error":"boom","id":1}`, want: []view{malformed(`1`)}},
		{name: "null error only", in: `{"error":null,"id":1}`, want: []view{malformed(`1`)}},
		{name: "response without ID", in: `{"result":1}`, want: []view{malformed(``)}},
		{name: "error code beyond int64", in: `{"error":{"code":9223372036854775808,"message":"m"},"id":1}`,
			want: []view{errResp(rpcErr(CodeUnavailable, "m", `{"code":9223372036854775808,"message":"m"}`), `1`, num(1))}},
		{name: "error code a fraction", in: `{"error":{"code":1.5,"message":"m"},"id":1}`,
			want: []view{errResp(rpcErr(CodeUnavailable, "m", `{"code":1.5,"message":"m"}`), `1`, num(1))}},
		{name: "array ID", in: `{"jsonrpc":"1.0","method":"a","params":[],"id":[1]}`, want: []view{invalid(CodeInvalidRequest, ``)}},
		{name: "ovsdb error", in: `{"id":0,"error":"unknown method"}`,
			want: []view{errResp(rpcErr(CodeUnavailable, "unknown method", `"unknown method"`), `0`, num(0))}},
		{name: "error object with duplicate message", in: `{"error":{"message":"a","message":"b"},"id":1}`, want: []view{malformed(`1`)}},
	})
}

func TestDecodeV1(t *testing.T) {
	runDecode(t, V1, nil, []decodeTest{
		{name: "request", in: `{"method":"echo","params":["hi"],"id":1}`, want: []view{req("echo", `["hi"]`, `1`, num(1))}},
		{name: "request with any ID", in: `{"method":"echo","params":[],"id":-1.5}`, want: []view{req("echo", `[]`, `-1.5`, noID())}},
		{name: "string ID", in: `{"method":"echo","params":[],"id":"x"}`, want: []view{req("echo", `[]`, `"x"`, str("x"))}},
		{name: "notification", in: `{"method":"tick","params":[1],"id":null}`, want: []view{notif("tick", `[1]`)}},
		{name: "jsonrpc member ignored", in: `{"jsonrpc":"2.0","method":"tick","params":[],"id":null}`, want: []view{notif("tick", `[]`)}},
		{name: "no ID", in: `{"method":"tick","params":[]}`, want: []view{invalid(CodeInvalidRequest, ``)}},
		{name: "object ID", in: `{"method":"tick","params":[],"id":{"a": [1, true]}}`,
			want: []view{req("tick", `[]`, `{"a": [1, true]}`, noID())}},
		{name: "array ID", in: `{"method":"tick","params":[],"id":[]}`, want: []view{req("tick", `[]`, `[]`, noID())}},
		{name: "true ID", in: `{"method":"tick","params":[],"id":true}`, want: []view{req("tick", `[]`, `true`, noID())}},
		{name: "false ID", in: `{"method":"tick","params":[],"id":false}`, want: []view{req("tick", `[]`, `false`, noID())}},
		{name: "invalid request with an object ID", in: `{"method":1,"params":[],"id":{"x":1}}`, want: []view{invalid(CodeInvalidRequest, `{"x":1}`)}},
		{name: "neither, with a boolean ID", in: `{"id":true}`, want: []view{invalid(CodeInvalidRequest, `true`)}},
		{name: "duplicate array ID", in: `{"method":"a","params":[],"id":[1],"id":[1]}`, want: []view{invalid(CodeInvalidRequest, ``)}},
		{name: "named params", in: `{"method":"a","params":{"x":1},"id":1}`, want: []view{invalid(CodeInvalidParams, `1`)}},
		{name: "no params", in: `{"method":"a","id":1}`, want: []view{invalid(CodeInvalidParams, `1`)}},
		{name: "null params", in: `{"method":"a","params":null,"id":1}`, want: []view{invalid(CodeInvalidParams, `1`)}},
		{name: "string params", in: `{"method":"a","params":"x","id":1}`, want: []view{invalid(CodeInvalidParams, `1`)}},
		{name: "method not a string", in: `{"method":1,"params":[],"id":1}`, want: []view{invalid(CodeInvalidRequest, `1`)}},
		{name: "invalid notification gets a reply", in: `{"method":"a","params":{},"id":null}`, want: []view{invalid(CodeInvalidParams, ``)}},
		{name: "result", in: `{"result":1,"error":null,"id":1}`, want: []view{result(`1`, `1`, num(1))}},
		{name: "null result", in: `{"result":null,"error":null,"id":1}`, want: []view{result(`null`, `1`, num(1))}},
		{name: "string error", in: `{"result":null,"error":"boom","id":1}`,
			want: []view{errResp(rpcErr(CodeUnavailable, "boom", `"boom"`), `1`, num(1))}},
		{name: "escaped string error", in: `{"result":null,"error":"a\"b","id":1}`,
			want: []view{errResp(rpcErr(CodeUnavailable, `a"b`, `"a\"b"`), `1`, num(1))}},
		{name: "number error", in: `{"result":null,"error":42,"id":1}`,
			want: []view{errResp(rpcErr(42, "42", `42`), `1`, num(1))}},
		{name: "fractional error", in: `{"result":null,"error":4.5,"id":1}`,
			want: []view{errResp(rpcErr(CodeUnavailable, "4.5", `4.5`), `1`, num(1))}},
		{name: "array error", in: `{"result":null,"error":[1,"x"],"id":1}`,
			want: []view{errResp(rpcErr(CodeUnavailable, `[1,"x"]`, `[1,"x"]`), `1`, num(1))}},
		{name: "boolean error", in: `{"result":null,"error":true,"id":1}`,
			want: []view{errResp(rpcErr(CodeUnavailable, "true", `true`), `1`, num(1))}},
		{name: "error object", in: `{"result":null,"error":{"code":7,"message":"m"},"id":1}`,
			want: []view{errResp(rpcErr(7, "m", ""), `1`, num(1))}},
		{name: "error object with data", in: `{"result":null,"error":{"code":7,"message":"m","data":"d"},"id":1}`,
			want: []view{errResp(rpcErr(7, "m", `"d"`), `1`, num(1))}},
		{name: "error object without code", in: `{"result":null,"error":{"message":"m","data":[1]},"id":1}`,
			want: []view{errResp(rpcErr(CodeUnavailable, "m", `{"message":"m","data":[1]}`), `1`, num(1))}},
		{name: "error object with odd members", in: `{"result":null,"error":{"code":"7","message":7},"id":1}`,
			want: []view{errResp(rpcErr(CodeUnavailable, `{"code":"7","message":7}`, `{"code":"7","message":7}`), `1`, num(1))}},
		{name: "empty error object", in: `{"result":null,"error":{},"id":1}`,
			want: []view{errResp(rpcErr(CodeUnavailable, `{}`, `{}`), `1`, num(1))}},
		{name: "error object with a details string", in: `{"result":null,"error":{"error":5,"details":"d\u00e9"},"id":1}`,
			want: []view{errResp(rpcErr(CodeUnavailable, "dé", `{"error":5,"details":"d\u00e9"}`), `1`, num(1))}},
		{name: "error object, error before details", in: `{"result":null,"error":{"details":"d","error":"e"},"id":1}`,
			want: []view{errResp(rpcErr(CodeUnavailable, "e", `{"details":"d","error":"e"}`), `1`, num(1))}},
		{name: "error object, message before error", in: `{"result":null,"error":{"error":"e","message":"m"},"id":1}`,
			want: []view{errResp(rpcErr(CodeUnavailable, "m", `{"error":"e","message":"m"}`), `1`, num(1))}},
		{name: "error object with code, no message", in: `{"result":null,"error":{"code":3, "data":[ ]},"id":1}`,
			want: []view{errResp(rpcErr(3, `{"code":3,"data":[]}`, `{"code":3, "data":[ ]}`), `1`, num(1))}},
		{name: "error object with duplicate code", in: `{"result":null,"error":{"code":3,"code":4},"id":1}`, want: []view{malformed(`1`)}},
		{name: "result and error", in: `{"result":1,"error":"x","id":1}`, want: []view{malformed(`1`)}},
		{name: "response without ID", in: `{"result":1,"error":null}`, want: []view{malformed(``)}},
		{name: "response with array ID", in: `{"result":1,"error":null,"id":[]}`, want: []view{result(`1`, `[]`, noID())}},
		{name: "response with object ID", in: `{"result":1,"error":null,"id":{"n":1}}`, want: []view{result(`1`, `{"n":1}`, noID())}},

		// Responses as real 1.0 peers send them (Options.Strict off): a
		// missing "result" or "error" is null.
		{name: "result only", in: `{"result":1,"id":1}`, want: []view{result(`1`, `1`, num(1))}},
		{name: "null result only", in: `{"result":null,"id":1}`, want: []view{result(`null`, `1`, num(1))}},
		{name: "error only", in: `{"error":"e","id":1}`, want: []view{errResp(rpcErr(CodeUnavailable, "e", `"e"`), `1`, num(1))}},
		{name: "null error only", in: `{"error":null,"id":1}`, want: []view{result(`null`, `1`, num(1))}},
		{name: "ovsdb result", in: `{"id":0,"result":["Open_vSwitch","_Server"],"error":null}`,
			want: []view{result(`["Open_vSwitch","_Server"]`, `0`, num(0))}},
		{name: "ovsdb result without error", in: `{"id":0,"result":["Open_vSwitch","_Server"]}`,
			want: []view{result(`["Open_vSwitch","_Server"]`, `0`, num(0))}},
		{name: "ovsdb error", in: `{"id":0,"error":"unknown method"}`,
			want: []view{errResp(rpcErr(CodeUnavailable, "unknown method", `"unknown method"`), `0`, num(0))}},
		{name: "ovsdb error object", in: `{"id":1,"error":{"error":"unknown database","details":"get_schema request specifies unknown database Foo","syntax":"[\"Foo\"]"}}`,
			want: []view{errResp(rpcErr(CodeUnavailable, "unknown database",
				`{"error":"unknown database","details":"get_schema request specifies unknown database Foo","syntax":"[\"Foo\"]"}`), `1`, num(1))}},
		{name: "2.0 response", in: `{"jsonrpc":"2.0","result":5,"id":"a"}`, want: []view{result(`5`, `"a"`, str("a"))}},
		{name: "batch", in: `[{"method":"a","params":[],"id":1}]`, err: invalidErr},
		{name: "empty batch", in: `[]`, err: invalidErr},
		{name: "invalid batch", in: `[1,}`, err: parseErr},
	})
	// Options.Strict: responses need both members, as in aiorpcX.
	runDecode(t, V1, &Options{Strict: true}, []decodeTest{
		{name: "strict, result and null error", in: `{"result":1,"error":null,"id":1}`, want: []view{result(`1`, `1`, num(1))}},
		{name: "strict, string error", in: `{"result":null,"error":"e","id":1}`,
			want: []view{errResp(rpcErr(CodeUnavailable, "e", `"e"`), `1`, num(1))}},
		{name: "strict, result only", in: `{"result":1,"id":1}`, want: []view{malformed(`1`)}},
		{name: "strict, error only", in: `{"error":"e","id":1}`, want: []view{malformed(`1`)}},
		{name: "strict, null error only", in: `{"error":null,"id":1}`, want: []view{malformed(`1`)}},
		{name: "strict, object ID", in: `{"method":"a","params":[],"id":{}}`, want: []view{req("a", `[]`, `{}`, noID())}},
	})
}

func TestDecodeBatch(t *testing.T) {
	tests := []decodeTest{
		{name: "requests and notifications", in: `[{"jsonrpc":"2.0","method":"a","id":1},{"jsonrpc":"2.0","method":"b"}]`, batch: true,
			want: []view{req("a", ``, `1`, num(1)), notif("b", ``)}},
		{name: "one item", in: `[{"jsonrpc":"2.0","method":"a","id":1}]`, batch: true, want: []view{req("a", ``, `1`, num(1))}},
		{name: "whitespace", in: " [ {\"jsonrpc\":\"2.0\",\"method\":\"a\",\"id\":1} ,\n{\"jsonrpc\":\"2.0\",\"method\":\"b\",\"id\":\"2\"} ] ", batch: true,
			want: []view{req("a", ``, `1`, num(1)), req("b", ``, `"2"`, str("2"))}},
		{name: "responses", in: `[{"jsonrpc":"2.0","result":1,"id":2},{"jsonrpc":"2.0","error":{"code":1,"message":"m"},"id":1}]`, batch: true,
			want: []view{result(`1`, `2`, num(2)), errResp(rpcErr(1, "m", ""), `1`, num(1))}},
		{name: "malformed response", in: `[{"jsonrpc":"2.0","result":1,"id":2},{"jsonrpc":"2.0","result":1}]`, batch: true,
			want: []view{result(`1`, `2`, num(2)), malformed(``)}},
		{name: "invalid members", in: `[1,"x",null,[],{},{"jsonrpc":"2.0","method":"a","params":"p","id":9}]`, batch: true,
			want: []view{invalid(CodeInvalidRequest, ``), invalid(CodeInvalidRequest, ``), invalid(CodeInvalidRequest, ``),
				invalid(CodeInvalidRequest, ``), invalid(CodeInvalidRequest, ``), invalid(CodeInvalidRequest, `9`)}},
		{name: "strings of many items", in: `[{"jsonrpc":"2.0","method":"a\u00e9","id":"x"},{"jsonrpc":"2.0","method":7,"id":"y"},` +
			`{"jsonrpc":"2.0","method":"` + strings.Repeat("b", 100) + `","id":"` + strings.Repeat(`\"`, 40) + `"},{"jsonrpc":"2.0","method":"c"},` +
			`{"jsonrpc":"2.0","method":"d","id":"z"}]`, batch: true,
			want: []view{req("aé", ``, `"x"`, str("x")), invalid(CodeInvalidRequest, `"y"`),
				req(strings.Repeat("b", 100), ``, `"`+strings.Repeat(`\"`, 40)+`"`, str(strings.Repeat(`"`, 40))),
				notif("c", ``), req("d", ``, `"z"`, str("z"))}},
		{name: "strings of many responses", in: `[{"jsonrpc":"2.0","error":{"code":1,"message":"e1"},"id":"a"},` +
			`{"jsonrpc":"2.0","error":{"code":2,"message":"e\u00e9"},"id":"b"},{"jsonrpc":"2.0","result":"r","id":"c"}]`, batch: true,
			want: []view{errResp(rpcErr(1, "e1", ""), `"a"`, str("a")), errResp(rpcErr(2, "eé", ""), `"b"`, str("b")),
				result(`"r"`, `"c"`, str("c"))}},
		{name: "empty", in: `[]`, err: invalidErr},
		{name: "empty with whitespace", in: "[ \n ]", err: invalidErr},
		// A batch mixing requests and responses: the requests are
		// served, each response refused with a null ID.
		{name: "mixed", in: `[{"jsonrpc":"2.0","method":"a","id":1},{"jsonrpc":"2.0","result":1,"id":2}]`, batch: true,
			want: []view{req("a", ``, `1`, num(1)), invalid(CodeInvalidRequest, ``)}},
		{name: "mixed, response first", in: `[{"jsonrpc":"2.0","error":{"code":1,"message":"e\u00e9"},"id":"x"},{"jsonrpc":"2.0","method":"a\u00e9","id":"y"}]`,
			batch: true, want: []view{invalid(CodeInvalidRequest, ``), req("aé", ``, `"y"`, str("y"))}},
		{name: "mixed with a notification", in: `[{"jsonrpc":"2.0","result":1,"id":2},{"jsonrpc":"2.0","method":"n"},{"jsonrpc":"2.0","error":"e","id":3}]`,
			batch: true, want: []view{invalid(CodeInvalidRequest, ``), notif("n", ``), invalid(CodeInvalidRequest, ``)}},
		{name: "mixed with a malformed response", in: `[{"jsonrpc":"2.0","method":"a","id":1},{"jsonrpc":"2.0","result":1},{"jsonrpc":"2.0","result":1,"error":null,"id":5}]`,
			batch: true, want: []view{req("a", ``, `1`, num(1)), invalid(CodeInvalidRequest, ``), invalid(CodeInvalidRequest, ``)}},
		{name: "mixed with invalid requests", in: `[{"jsonrpc":"2.0","method":5},{"jsonrpc":"2.0","result":1,"id":2}]`, batch: true,
			want: []view{invalid(CodeInvalidRequest, ``), invalid(CodeInvalidRequest, ``)}},
		{name: "responses and a stranger", in: `[{"jsonrpc":"2.0","result":1,"id":2},{}]`, batch: true,
			want: []view{result(`1`, `2`, num(2)), invalid(CodeInvalidRequest, ``)}},
		{name: "nested batch", in: `[[{"jsonrpc":"2.0","method":"a","id":1}]]`, batch: true, want: []view{invalid(CodeInvalidRequest, ``)}},
	}
	runDecode(t, V2, nil, tests)
	runDecode(t, Loose, nil, tests)
	sizes := []decodeTest{
		{name: "3 items", in: `[1,2,3]`, batch: true,
			want: []view{invalid(CodeInvalidRequest, ``), invalid(CodeInvalidRequest, ``), invalid(CodeInvalidRequest, ``)}},
		{name: "4 items", in: `[1,2,3,4]`, err: invalidErr},
		{name: "4 items with a parse error", in: `[1,2,3,4,}`, err: invalidErr},
	}
	runDecode(t, V2, &Options{MaxBatch: 3}, sizes)
	runDecode(t, Loose, &Options{MaxBatch: 3}, sizes)
}

func TestDecodeLimits(t *testing.T) {
	runDecode(t, V2, &Options{MaxDepth: 2, MaxMethod: 3}, []decodeTest{
		{name: "depth 2", in: `{"jsonrpc":"2.0","method":"a","params":[],"id":1}`, want: []view{req("a", `[]`, `1`, num(1))}},
		{name: "depth 3", in: `{"jsonrpc":"2.0","method":"a","params":[[]],"id":1}`, err: parseErr},
		{name: "depth 3 in an unknown member", in: `{"jsonrpc":"2.0","method":"a","x":{"y":{}},"id":1}`, err: parseErr},
		{name: "batch of depth 2", in: `[{"jsonrpc":"2.0","method":"a","id":1},[]]`, batch: true,
			want: []view{req("a", ``, `1`, num(1)), invalid(CodeInvalidRequest, ``)}},
		{name: "batch of depth 3", in: `[{"jsonrpc":"2.0","method":"a","params":[],"id":1}]`, err: parseErr},
		{name: "method of 3 bytes", in: `{"jsonrpc":"2.0","method":"abc","id":1}`, want: []view{req("abc", ``, `1`, num(1))}},
		{name: "method of 4 bytes", in: `{"jsonrpc":"2.0","method":"abcd","id":1}`, want: []view{invalid(CodeInvalidRequest, `1`)}},
		{name: "method of 3 bytes, 4 escaped", in: `{"jsonrpc":"2.0","method":"\u00e9a","id":1}`, want: []view{req("éa", ``, `1`, num(1))}},
	})
	runDecode(t, V2, &Options{MaxDepth: 1}, []decodeTest{
		{name: "depth 1", in: `{"jsonrpc":"2.0","method":"a","id":1}`, want: []view{req("a", ``, `1`, num(1))}},
		{name: "batch", in: `[{"jsonrpc":"2.0","method":"a","id":1}]`, err: parseErr},
		{name: "batch of scalars", in: `[1]`, batch: true, want: []view{invalid(CodeInvalidRequest, ``)}},
		{name: "batch of arrays", in: `[[]]`, err: parseErr},
	})
	deep := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	runDecode(t, V2, &Options{MaxDepth: 10000}, []decodeTest{
		{name: "depth 5001", in: `{"jsonrpc":"2.0","method":"a","params":` + deep + `,"id":1}`,
			want: []view{req("a", deep, `1`, num(1))}},
	})
}

// TestDecodeMessages checks the wording of some errors, and that none
// repeats much of the peer's input.
func TestDecodeMessages(t *testing.T) {
	long := strings.Repeat("é", 200)
	tests := []struct {
		d        Dialect
		o        *Options
		in, want string
		k        int // the item
	}{
		{V2, nil, `{"jsonrpc":"2.0","method":"a","id":["` + long + `"]}`, `invalid "id": ["` + long[:98] + `...`, 0},
		{V2, nil, `{"jsonrpc":"2.0","method":"a","params":"` + long + `","id":1}`, `params must be an array or an object: "` + long[:98] + `...`, 0},
		{V2, nil, `{"jsonrpc":"2.0","method":"a","id":1,"id":2}`, `duplicate "id"`, 0},
		{V2, nil, `{"jsonrpc":"2.0","method":"a","params":[],"params":[],"id":2}`, `duplicate "params"`, 0},
		{V2, nil, `{"method":"a","id":1}`, `"jsonrpc" is not "2.0"`, 0},
		{V2, nil, `{"jsonrpc":"2.0","method":1,"id":1}`, `method must be a string`, 0},
		{V2, nil, `{"jsonrpc":"2.0","method":"` + strings.Repeat("m", 300) + `","id":1}`, `method name longer than 256 bytes`, 0},
		{V2, nil, `{"jsonrpc":"2.0","id":1}`, `message has no "method", "result" or "error"`, 0},
		{V2, nil, `[1]`, `batch item is not a JSON object`, 0},
		{V2, nil, `{"jsonrpc":"2.0","result":1}`, `response has no "id"`, 0},
		{V2, nil, `{"jsonrpc":"2.0","result":1,"error":null,"id":1}`, `response has both "result" and "error"`, 0},
		{V2, &Options{Strict: true}, `{"jsonrpc":"2.0","error":"` + long + `","id":1}`, `ill-formed error object: "` + long[:98] + `...`, 0},
		{V2, nil, `{"jsonrpc":"2.0","error":null,"id":1}`, `"error" is null`, 0},
		{V1, nil, `{"method":"a","params":[]}`, `request has no "id"`, 0},
		{V1, nil, `{"method":"a","id":1}`, `request has no "params"`, 0},
		{V1, nil, `{"method":"a","params":{},"id":1}`, `JSON-RPC 1.0 does not allow named params`, 0},
		{V1, nil, `{"method":"a","params":5,"id":1}`, `params must be an array: 5`, 0},
		{V1, &Options{Strict: true}, `{"result":1,"id":1}`, `response must have both "result" and "error"`, 0},
		{V2, nil, `[{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0","result":1,"id":1}]`, `response in a batch of requests`, 1},
		{V1, nil, `{"result":1,"error":2,"id":1}`, `response has a non-null "result" and "error"`, 0},
		{Loose, nil, `{"error":null,"id":1}`, `response has neither "result" nor "error"`, 0},
	}
	for _, tt := range tests {
		m, err := New(tt.d, tt.o).Decode([]byte(tt.in))
		if err != nil {
			t.Errorf("%s %.40s: %v", tt.d, tt.in, err)
			continue
		}
		if got := m.Items[tt.k].Err.Err.Message; got != tt.want {
			t.Errorf("%s %.40s:\n got %s\nwant %s", tt.d, tt.in, got, tt.want)
		}
	}

	msgs := []struct {
		d        Dialect
		o        *Options
		in, want string
	}{
		{V2, nil, `{"method":"a",}`, `invalid JSON at byte 14`},
		{V2, nil, `{"method":"a"`, `invalid JSON: unexpected end of input`},
		{V2, nil, `{} []`, `invalid JSON: data after the value at byte 3`},
		{V2, nil, "\"\xff\"", `messages must be encoded in UTF-8`},
		{V2, &Options{MaxDepth: 3}, `[[[[]]]]`, `invalid JSON: nested deeper than 3 levels`},
		{V2, nil, `[]`, `batch is empty`},
		{V2, &Options{MaxBatch: 1}, `[1,2]`, `batch too large: over 1 items`},
		{V2, nil, `7`, `message is not a JSON object or array`},
		{V1, nil, `[1]`, `JSON-RPC 1.0 does not allow batches`},
	}
	for _, tt := range msgs {
		_, err := New(tt.d, tt.o).Decode([]byte(tt.in))
		var pe *ProtocolError
		if !errors.As(err, &pe) {
			t.Errorf("%s %q: error %v", tt.d, tt.in, err)
			continue
		}
		if pe.Err.Message != tt.want {
			t.Errorf("%s %q:\n got %s\nwant %s", tt.d, tt.in, pe.Err.Message, tt.want)
		}
	}
}

// TestDecodeAliasing checks that raw values alias the message and that
// strings do not.
func TestDecodeAliasing(t *testing.T) {
	msg := []byte(`{"jsonrpc":"2.0","method":"abc","params":[1],"id":"xyz"}`)
	m, err := New(V2, nil).Decode(msg)
	if err != nil {
		t.Fatal(err)
	}
	it := m.Items[0]
	for i := range msg {
		msg[i] = 'Z'
	}
	if it.Request.Method != "abc" || it.Request.ID.Str != "xyz" {
		t.Errorf("strings changed with the message: %q %q", it.Request.Method, it.Request.ID.Str)
	}
	if string(it.RawParams) != "ZZZ" || string(it.RawID) != "ZZZZZ" {
		t.Errorf("raw values do not alias the message: %q %q", it.RawParams, it.RawID)
	}
}

// TestJSONText checks the message made of an error value that has no
// string to take one from: compact JSON, cut to about 100 bytes at a
// character boundary, whatever the spacing.
func TestJSONText(t *testing.T) {
	spaces := strings.Repeat(" ", 390)
	tests := []struct{ in, want string }{
		{`4.5`, `4.5`},
		{`{ "a" : [ 1 , true ] }`, `{"a":[1,true]}`},
		{`"\n"`, `"\n"`},
		{`[` + strings.Repeat(`1,`, 60) + `1]`, `[` + strings.Repeat(`1,`, 49) + `1...`},
		{`[` + spaces + `"é` + strings.Repeat("x", 20) + `"]`, `["é` + strings.Repeat("x", 6) + `...`},
		{`[` + spaces + `"xxxxxxxé"]`, `["xxxxxxx...`}, // cut inside the é
		{`[` + spaces + `1]`, `[1]`},
		{`["` + strings.Repeat("é", 100) + `"]`, `["` + strings.Repeat("é", 49) + `...`},
	}
	for _, tt := range tests {
		if got := jsonText([]byte(tt.in)); got != tt.want {
			t.Errorf("jsonText(%.30q...):\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}
