package protocol

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/internal/jsonscan"
)

// Decode implements Codec. See the package documentation for the rules
// of each dialect.
func (c *codec) Decode(msg []byte) (Message, error) {
	return c.DecodeInto(msg, nil)
}

// DecodeInto implements Codec.
func (c *codec) DecodeInto(msg []byte, items []Item) (Message, error) {
	dialect := c.Dialect()
	if dialect == Auto {
		detected, err := c.detect(msg)
		if err != nil {
			return Message{}, err
		}
		c.dialect.Store(uint32(detected))
		dialect = detected
	}
	d := decoder{limits: c.limits, dialect: dialect, items: items[:0], methods: &c.methods}
	d.Buf, d.MaxDepth = msg, c.maxDepth // in place: a scanner value would be copied in
	m, pe := d.decode()
	if pe != nil {
		return Message{}, pe
	}
	return m, nil
}

// Kinds of string to fill in once a message is decoded.
const (
	refMethod = iota
	refRequestID
	refResponseID
	refErrorMessage
)

// strRef is a string of an item, held as raw JSON until the message is
// decoded: then all of a message's strings are copied into one
// allocation.
type strRef struct {
	raw   []byte // the contents, without quotes
	esc   bool   // raw holds escape sequences
	what  uint8  // refMethod...
	item  int    // index in decoder.items
	start int    // offset of the decoded string in the shared block
	end   int
}

// decoder decodes one message. It lives on the stack: the strings of
// a single item (at most two: a method or an error message, and a
// string ID) fit in ref; a batch's go on in more.
type decoder struct {
	scanner
	limits
	dialect Dialect
	items   []Item
	ref     [2]strRef
	nref    int
	more    []strRef
	methods *methodCache // nil: none
}

// addRef records a string to fill in.
func (d *decoder) addRef(raw []byte, esc bool, what uint8, k int) {
	r := strRef{raw: raw, esc: esc, what: what, item: k}
	if d.nref < len(d.ref) {
		d.ref[d.nref] = r
		d.nref++
		return
	}
	d.more = append(d.more, r)
}

func (d *decoder) decode() (Message, *ProtocolError) {
	b := d.Buf
	i := d.SkipSpace(0)
	if i >= len(b) {
		return Message{}, d.parseError(i, jsonscan.EOF)
	}
	switch b[i] {
	case '{':
		var f fields
		end, err := d.object(i, 1, rpcNames, &f)
		if err == jsonscan.OK {
			end, err = d.End(end)
		}
		if err != jsonscan.OK {
			return Message{}, d.parseError(end, err)
		}
		if cap(d.items) > 0 {
			d.items = d.items[:1]
			d.items[0] = Item{}
		} else {
			d.items = make([]Item, 1)
		}
		d.item(&f, 0)
		d.fill()
		return Message{Items: d.items}, nil
	case '[':
		return d.batch(i)
	}
	end, err := d.Value(i, 0)
	if err == jsonscan.OK {
		end, err = d.End(end)
	}
	if err != jsonscan.OK {
		return Message{}, d.parseError(end, err)
	}
	return Message{}, newProtocolError(CodeInvalidRequest, "message is not a JSON object or array", nil, false)
}

// batch decodes the array at i.
func (d *decoder) batch(i int) (Message, *ProtocolError) {
	b := d.Buf
	if !d.dialect.Batches() {
		end, err := d.Value(i, 0)
		if err == jsonscan.OK {
			end, err = d.End(end)
		}
		if err != jsonscan.OK {
			return Message{}, d.parseError(end, err)
		}
		return Message{}, newProtocolError(CodeInvalidRequest, "JSON-RPC 1.0 does not allow batches", nil, false)
	}
	j := d.SkipSpace(i + 1)
	if j >= len(b) {
		return Message{}, d.parseError(j, jsonscan.EOF)
	}
	if b[j] == ']' {
		if end, err := d.End(j + 1); err != jsonscan.OK {
			return Message{}, d.parseError(end, err)
		}
		return Message{}, newProtocolError(CodeInvalidRequest, "batch is empty", nil, false)
	}
	// Most items are objects of 20 bytes or more: guess their number
	// from the braces, without letting a small message reserve much.
	n := min(bytes.Count(b[j:], []byte{'{'}), len(b)/20, d.maxBatch) + 1
	if cap(d.items) < n {
		d.items = make([]Item, 0, n)
	}
	d.more = make([]strRef, 0, 2*n)
	var requests, responses bool
	for {
		if len(d.items) == d.maxBatch {
			return Message{}, newProtocolError(CodeInvalidRequest,
				"batch too large: over "+strconv.Itoa(d.maxBatch)+" items", nil, false)
		}
		if len(d.items) == cap(d.items) {
			// The guess was short (items that are not objects): grow
			// once, to room for every item that may follow.
			more := min(bytes.Count(b[j:], []byte{','})+1, d.maxBatch-len(d.items))
			d.items = slices.Grow(d.items, more)
		}
		d.items = append(d.items, Item{})
		k := len(d.items) - 1
		var err jsonscan.Err
		if b[j] == '{' {
			var f fields
			if j, err = d.object(j, 2, rpcNames, &f); err != jsonscan.OK {
				return Message{}, d.parseError(j, err)
			}
			d.item(&f, k)
			if f.has(mMethod) {
				requests = true
			} else if f.has(mResult) || f.has(mError) {
				responses = true
			}
		} else {
			if j, err = d.Value(j, 1); err != jsonscan.OK {
				return Message{}, d.parseError(j, err)
			}
			d.invalid(k, nil, CodeInvalidRequest, "batch item is not a JSON object")
		}
		if j = d.SkipSpace(j); j >= len(b) {
			return Message{}, d.parseError(j, jsonscan.EOF)
		}
		if b[j] == ']' {
			break
		}
		if b[j] != ',' {
			return Message{}, d.parseError(j, jsonscan.Syntax)
		}
		if j = d.SkipSpace(j + 1); j >= len(b) {
			return Message{}, d.parseError(j, jsonscan.EOF)
		}
	}
	if end, err := d.End(j + 1); err != jsonscan.OK {
		return Message{}, d.parseError(end, err)
	}
	if requests && responses {
		d.refuseResponses()
	}
	d.fill()
	return Message{Batch: true, Items: d.items}, nil
}

// refuseResponses makes each response-shaped item of a batch that also
// holds requests (or notifications) an invalid request, answered with
// a null ID: the requests are served, and the peer learns that the
// responses were not taken. A reply with the response's ID could fail
// the peer's own pending call with that ID, so none is used, and the
// response reaches no call of ours (it came in the wrong place).
//
//go:noinline
func (d *decoder) refuseResponses() {
	for k := range d.items {
		if it := &d.items[k]; it.Kind == KindResponse || it.Kind == KindInvalid && it.Err.Response {
			d.invalid(k, nil, CodeInvalidRequest, "response in a batch of requests")
		}
	}
}

// invalid makes item k an invalid request: an error reply is owed.
// (Not inlined: each inlined copy would put its own Item on the stack
// of the caller, which is on the path of every message.)
//
//go:noinline
func (d *decoder) invalid(k int, id []byte, code int64, msg string) {
	d.items[k] = Item{Kind: KindInvalid, RawID: id, Err: newProtocolError(code, msg, id, false)}
}

// malformed makes item k a malformed response: no reply is owed, and
// the error goes to the pending request with ID id.
//
//go:noinline
func (d *decoder) malformed(k int, id []byte, msg string) {
	d.items[k] = Item{Kind: KindInvalid, RawID: id, Err: newProtocolError(CodeInvalidRequest, msg, id, true)}
}

// excerpt returns the start of a raw value, for an error message.
func excerpt(v []byte) string { return cut(string(v)) }

// item decodes the object f into item k.
func (d *decoder) item(f *fields, k int) {
	switch {
	case f.has(mMethod):
		d.request(f, k)
	case f.has(mResult) || f.has(mError):
		d.response(f, k)
	default:
		d.invalid(k, f.id(d.dialect), CodeInvalidRequest, `message has no "method", "result" or "error"`)
	}
}

// request decodes a request or a notification.
func (d *decoder) request(f *fields, k int) {
	rawID := f.val[mID]
	switch {
	case f.dup == mID:
		d.invalid(k, nil, CodeInvalidRequest, `duplicate "id"`)
		return
	case f.has(mID) && !isID(rawID, d.dialect):
		d.invalid(k, nil, CodeInvalidRequest, `invalid "id": `+excerpt(rawID))
		return
	case f.dup >= 0:
		d.invalid(k, rawID, CodeInvalidRequest, `duplicate "`+rpcNames[f.dup]+`"`)
		return
	}
	notif := !f.has(mID)
	switch d.dialect {
	case V2:
		if !f.is(mJSONRPC, "2.0") {
			d.invalid(k, rawID, CodeInvalidRequest, `"jsonrpc" is not "2.0"`)
			return
		}
	case V1:
		if notif {
			d.invalid(k, nil, CodeInvalidRequest, `request has no "id"`)
			return
		}
		notif = f.isNull(mID)
	default: // Loose: a null ID is a 1.0 notification, unless the object says 2.0.
		notif = notif || f.isNull(mID) && !f.is(mJSONRPC, "2.0")
	}
	if notif {
		rawID = nil
	}
	method := f.val[mMethod]
	if method[0] != '"' {
		d.invalid(k, rawID, CodeInvalidRequest, "method must be a string")
		return
	}
	method = method[1 : len(method)-1]
	if d.tooLong(method, f.esc[mMethod]) {
		d.invalid(k, rawID, CodeInvalidRequest, "method name longer than "+strconv.Itoa(d.maxMethod)+" bytes")
		return
	}
	params := f.val[mParams]
	if d.dialect == V1 {
		switch {
		case !f.has(mParams):
			d.invalid(k, rawID, CodeInvalidParams, `request has no "params"`)
			return
		case params[0] == '{':
			d.invalid(k, rawID, CodeInvalidParams, "JSON-RPC 1.0 does not allow named params")
			return
		case params[0] != '[':
			d.invalid(k, rawID, CodeInvalidParams, "params must be an array: "+excerpt(params))
			return
		}
	} else if f.has(mParams) && params[0] != '[' && params[0] != '{' {
		d.invalid(k, rawID, CodeInvalidRequest, "params must be an array or an object: "+excerpt(params))
		return
	}

	it := &d.items[k]
	it.RawParams = params
	it.Request.Notif = notif
	d.addRef(method, f.esc[mMethod], refMethod, k)
	if notif {
		it.Kind = KindNotification
		return
	}
	it.Kind = KindRequest
	it.RawID = rawID
	d.setID(&it.Request.ID, rawID, f.esc[mID], k, refRequestID)
}

// tooLong reports whether the method name raw (a string's contents)
// is over the limit once unescaped.
func (d *decoder) tooLong(raw []byte, esc bool) bool {
	if len(raw) <= d.maxMethod {
		return false
	}
	if !esc || len(raw) > 6*d.maxMethod {
		return true
	}
	return len(jsonscan.AppendUnescaped(make([]byte, 0, len(raw)), raw)) > d.maxMethod
}

// setID fills id from the raw ID where jsonrpc2.ID can hold it: a
// string, or a non-negative integer within uint64.
func (d *decoder) setID(id *jsonrpc2.ID, raw []byte, esc bool, k int, what uint8) {
	switch c := raw[0]; {
	case c == '"':
		id.IsString = true
		d.addRef(raw[1:len(raw)-1], esc, what, k)
	case jsonscan.IsDigit(c):
		var n uint64
		for _, c := range raw {
			if !jsonscan.IsDigit(c) {
				return
			}
			digit := uint64(c - '0')
			if n > (math.MaxUint64-digit)/10 {
				return
			}
			n = n*10 + digit
		}
		id.Num = n
	}
}

// response decodes a response.
func (d *decoder) response(f *fields, k int) {
	rawID := f.val[mID]
	switch {
	case f.dup == mID:
		d.malformed(k, nil, `duplicate "id"`)
		return
	case !f.has(mID):
		d.malformed(k, nil, `response has no "id"`)
		return
	case !isID(rawID, d.dialect):
		d.malformed(k, nil, `invalid "id": `+excerpt(rawID))
		return
	case f.dup >= 0:
		d.malformed(k, rawID, `duplicate "`+rpcNames[f.dup]+`"`)
		return
	}
	var e []byte             // the error value, if the response is an error
	result := f.val[mResult] // the result, if it is not
	switch d.dialect {
	case V2:
		switch {
		case !f.is(mJSONRPC, "2.0"):
			d.malformed(k, rawID, `"jsonrpc" is not "2.0"`)
			return
		case f.has(mResult) && f.has(mError):
			d.malformed(k, rawID, `response has both "result" and "error"`)
			return
		case f.isNull(mError):
			d.malformed(k, rawID, `"error" is null`)
			return
		}
		e = f.val[mError]
	case V1:
		// Lenient (the default): a missing member is null.
		hasResult, hasError := f.has(mResult), f.has(mError)
		switch {
		case d.strict && (!hasResult || !hasError):
			d.malformed(k, rawID, `response must have both "result" and "error"`)
			return
		case hasResult && !f.isNull(mResult) && hasError && !f.isNull(mError):
			d.malformed(k, rawID, `response has a non-null "result" and "error"`)
			return
		case hasError && !f.isNull(mError):
			e = f.val[mError]
		case !hasResult:
			result = f.val[mError] // "error": null alone: a null result
		}
	default: // Loose
		switch {
		case f.has(mError) && !f.isNull(mError):
			if f.has(mResult) && !f.isNull(mResult) {
				d.malformed(k, rawID, `response has a non-null "result" and "error"`)
				return
			}
			e = f.val[mError]
		case !f.has(mResult):
			d.malformed(k, rawID, `response has neither "result" nor "error"`)
			return
		}
	}
	it := &d.items[k]
	if e != nil {
		je, ok := d.errorValue(e, d.dialect == V2 && d.strict, k)
		if !ok {
			d.malformed(k, rawID, "ill-formed error object: "+excerpt(e))
			return
		}
		it.Response.Error = je
	} else {
		it.RawResult = result
	}
	it.Kind = KindResponse
	it.RawID = rawID
	d.setID(&it.Response.ID, rawID, f.esc[mID], k, refResponseID)
}

// responseError holds a decoded error object and its data in one
// allocation.
type responseError struct {
	je   jsonrpc2.Error
	data json.RawMessage
}

// errorValue decodes the error value v of response k, keeping all of
// it. An object with an integer "code", a string "message" and no
// other member but "data" is a standard error object: its data is the
// "data" member. Any other value is read as well as it can be (as
// aiorpcX's _best_effort_error, and more): an integer "code" (or an
// integer error) is the code, else the code is -100; the message is the
// string error, or the object's "message", "error" or "details" string,
// else the value's JSON text (cut short); the data is the whole value,
// exactly as sent. strict (2.0 with Options.Strict) wants an object
// with an integer code and a string message. Duplicate members "code",
// "message" or "data" make an error object ill-formed.
func (d *decoder) errorValue(v []byte, strict bool, k int) (*jsonrpc2.Error, bool) {
	e := &responseError{je: jsonrpc2.Error{Code: CodeUnavailable}, data: v}
	switch c := v[0]; {
	case c == '{':
		var f fields
		sub := newScanner(v, math.MaxInt)
		sub.object(0, 0, errNames, &f) // v has been scanned already
		code, codeOK := parseInt(f.val[mCode])
		msg := f.val[mMessage]
		msgOK := len(msg) > 0 && msg[0] == '"'
		if f.dup >= 0 || strict && (!codeOK || !msgOK) {
			return nil, false
		}
		if codeOK {
			e.je.Code = code
		}
		switch {
		case !msgOK:
			d.messageOf(v, k, &e.je)
		case codeOK && !f.other():
			e.data = f.val[mData] // a standard error object
			fallthrough
		default:
			d.addRef(msg[1:len(msg)-1], f.esc[mMessage], refErrorMessage, k)
		}
	case strict:
		return nil, false
	case c == '"':
		raw := v[1 : len(v)-1]
		d.addRef(raw, bytes.IndexByte(raw, '\\') >= 0, refErrorMessage, k)
	default:
		if code, ok := parseInt(v); ok {
			e.je.Code = code
		}
		e.je.Message = jsonText(v)
	}
	if e.data != nil {
		e.je.Data = &e.data
	}
	return &e.je, true
}

// messageOf sets the message of the error object v (of item k), which
// has no string "message": its "error" string, else its "details"
// string, else its JSON text.
//
//go:noinline
func (d *decoder) messageOf(v []byte, k int, je *jsonrpc2.Error) {
	var f fields
	sub := newScanner(v, math.MaxInt)
	sub.object(0, 0, msgNames, &f)
	for m := range msgNames {
		if s := f.val[m]; len(s) > 0 && s[0] == '"' {
			d.addRef(s[1:len(s)-1], f.esc[m], refErrorMessage, k)
			return
		}
	}
	je.Message = jsonText(v)
}

// jsonText returns the valid JSON v as an error message: compact, and
// cut to about 100 bytes.
func jsonText(v []byte) string {
	const most = 4 * maxQuoted // raw bytes enough for maxQuoted compact ones, but for much space
	if len(v) <= most {
		return cut(string(appendCompact(nil, v)))
	}
	c := appendCompact(nil, v[:most])
	if len(c) > maxQuoted {
		return cut(string(c))
	}
	for !utf8.Valid(c) { // v[:most] may end inside a character
		c = c[:len(c)-1]
	}
	return string(c) + "..."
}

// parseInt returns the value of a JSON number that is an integer
// within int64 (no fraction, no exponent).
func parseInt(v []byte) (int64, bool) {
	neg := len(v) > 0 && v[0] == '-'
	if neg {
		v = v[1:]
	}
	if len(v) == 0 {
		return 0, false
	}
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	var n uint64
	for _, c := range v {
		if !jsonscan.IsDigit(c) {
			return 0, false
		}
		digit := uint64(c - '0')
		if n > (limit-digit)/10 {
			return 0, false
		}
		n = n*10 + digit
	}
	if neg {
		return int64(-n), true
	}
	return int64(n), true
}

// fill completes the decoded items: it points Params and Result at the
// raw values (the items no longer move) and copies every string of the
// message into one block.
func (d *decoder) fill() {
	for k := range d.items {
		it := &d.items[k]
		if it.RawParams != nil {
			it.Request.Params = &it.RawParams
		}
		if it.RawResult != nil {
			it.Response.Result = &it.RawResult
		}
	}
	if d.nref == 0 {
		return
	}
	if r := &d.ref[0]; d.nref == 1 && !r.esc {
		r.end = len(r.raw)
		if r.what == refMethod && d.methods != nil {
			// The one string of a request with a number ID.
			d.assign(d.methods.name(r.raw), d.ref[:1])
			return
		}
		d.assign(string(r.raw), d.ref[:1])
		return
	}
	total := 0
	for _, r := range d.ref[:d.nref] {
		total += len(r.raw)
	}
	for _, r := range d.more {
		total += len(r.raw)
	}
	var sb strings.Builder
	sb.Grow(total)
	d.write(&sb, d.ref[:d.nref])
	d.write(&sb, d.more)
	all := sb.String()
	d.assign(all, d.ref[:d.nref])
	d.assign(all, d.more)
}

// write copies the strings refs into sb, unescaped.
func (d *decoder) write(sb *strings.Builder, refs []strRef) {
	for k := range refs {
		r := &refs[k]
		r.start = sb.Len()
		if r.esc {
			var buf [64]byte
			sb.Write(jsonscan.AppendUnescaped(buf[:0], r.raw))
		} else {
			sb.Write(r.raw)
		}
		r.end = sb.Len()
	}
}

// assign sets the strings refs, held in all.
func (d *decoder) assign(all string, refs []strRef) {
	for _, r := range refs {
		s, it := all[r.start:r.end], &d.items[r.item]
		switch r.what {
		case refMethod:
			it.Request.Method = s
		case refRequestID:
			it.Request.ID.Str = s
		case refResponseID, refErrorMessage:
			if it.Kind != KindResponse {
				continue // refused: a response in a batch of requests
			}
			if r.what == refResponseID {
				it.Response.ID.Str = s
			} else {
				it.Response.Error.Message = s
			}
		}
	}
}
