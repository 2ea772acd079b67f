package protocol

import "github.com/gorpcx/gorpcx/internal/jsonscan"

// The members of a JSON-RPC object that the codec interprets, as
// indexes into rpcNames and fields.
const (
	mJSONRPC = iota
	mMethod
	mParams
	mID
	mResult
	mError
)

var rpcNames = []string{mJSONRPC: "jsonrpc", mMethod: "method", mParams: "params", mID: "id", mResult: "result", mError: "error"}

// The members of an error object, as indexes into errNames and fields.
const (
	mCode = iota
	mMessage
	mData
)

var errNames = []string{mCode: "code", mMessage: "message", mData: "data"}

// The members an error object without a string "message" may tell its
// message in, in order of preference, as indexes into msgNames.
const (
	mErrorText = iota
	mDetails
)

var msgNames = []string{mErrorText: "error", mDetails: "details"}

// fields are the interpreted members of one object, as raw JSON. Other
// members are checked for syntax and otherwise ignored.
type fields struct {
	val  [6][]byte // each member's raw value
	esc  [6]bool   // the value is a string holding escape sequences
	seen uint8     // bit m: member m is present; bit otherBit: another member
	dup  int8      // the first member seen twice, or -1
}

// otherBit is the bit of fields.seen set when a member not among the
// names was seen.
const otherBit = 1 << 7

func (f *fields) has(m int) bool { return f.seen&(1<<m) != 0 }

// other reports whether a member not among the names was seen.
func (f *fields) other() bool { return f.seen&otherBit != 0 }

// isNull reports whether member m is present and null.
func (f *fields) isNull(m int) bool { return f.has(m) && f.val[m][0] == 'n' }

// is reports whether member m is the JSON string want.
func (f *fields) is(m int, want string) bool {
	return f.has(m) && stringIs(f.val[m], f.esc[m], want)
}

// stringIs reports whether the JSON string value v (with its quotes, as
// scanned; esc if it holds escape sequences) decodes to want.
func stringIs(v []byte, esc bool, want string) bool {
	if len(v) < 2 || v[0] != '"' {
		return false
	}
	raw := v[1 : len(v)-1]
	if !esc {
		return string(raw) == want
	}
	if len(raw) > 6*len(want) {
		return false
	}
	var buf [48]byte
	return string(jsonscan.AppendUnescaped(buf[:0], raw)) == want
}

// dialect is the dialect an object suggests, by aiorpcX's rules: its
// "jsonrpc" if that is "2.0" or "1.0"; else 1.0 for a response with
// both "result" and "error"; else Loose.
func (f *fields) dialect() Dialect {
	switch {
	case f.is(mJSONRPC, "2.0"):
		return V2
	case f.is(mJSONRPC, "1.0"), f.has(mResult) && f.has(mError):
		return V1
	}
	return Loose
}

// id returns the raw ID if it can be read (present once, and of a type
// the dialect d allows: see isID), else nil.
func (f *fields) id(d Dialect) []byte {
	if !f.has(mID) || f.dup == mID || !isID(f.val[mID], d) {
		return nil
	}
	return f.val[mID]
}

// isIDToken reports whether the valid JSON value v may be an ID in 2.0:
// a number, a string or null.
func isIDToken(v []byte) bool {
	c := v[0]
	return c == '"' || c == '-' || jsonscan.IsDigit(c) || c == 'n'
}

// isID reports whether the valid JSON value v may be an ID in dialect
// d: any value in 1.0 ("The request id. This can be of any type."), a
// number, a string or null in the others.
func isID(v []byte, d Dialect) bool { return d == V1 || isIDToken(v) }

// match returns the index in names of the member name raw (a string's
// contents, escaped if esc), or -1.
func match(raw []byte, esc bool, names []string) int {
	if esc {
		if len(raw) > 48 {
			return -1
		}
		var buf [48]byte
		raw = jsonscan.AppendUnescaped(buf[:0], raw)
	}
	if len(raw) == 0 {
		return -1
	}
	for k, name := range names {
		if len(name) == len(raw) && name[0] == raw[0] && string(raw[1:]) == name[1:] {
			return k
		}
	}
	return -1
}

// object scans the object at i (its '{'), itself at nesting depth
// depth, into f: the members named in names (at most 6) are recorded,
// the others only checked.
func (s *scanner) object(i, depth int, names []string, f *fields) (int, jsonscan.Err) {
	b := s.Buf
	if depth > s.MaxDepth {
		return i, jsonscan.TooDeep
	}
	*f = fields{dup: -1}
	if i = s.SkipSpace(i + 1); i >= len(b) {
		return i, jsonscan.EOF
	}
	if b[i] == '}' {
		return i + 1, jsonscan.OK
	}
	for {
		if b[i] != '"' {
			return i, jsonscan.Syntax
		}
		ke, kesc, err := s.Str(i)
		if err != jsonscan.OK {
			return ke, err
		}
		m := match(b[i+1:ke-1], kesc, names)
		if i = s.SkipSpace(ke); i >= len(b) {
			return i, jsonscan.EOF
		}
		if b[i] != ':' {
			return i, jsonscan.Syntax
		}
		if i = s.SkipSpace(i + 1); i >= len(b) {
			return i, jsonscan.EOF
		}
		vs, vesc := i, false
		if b[i] == '"' {
			i, vesc, err = s.Str(i)
		} else {
			i, err = s.Value(i, depth)
		}
		if err != jsonscan.OK {
			return i, err
		}
		switch {
		case m < 0:
			f.seen |= otherBit
		case f.has(m):
			if f.dup < 0 {
				f.dup = int8(m)
			}
		default:
			f.seen |= 1 << m
			f.val[m], f.esc[m] = b[vs:i], vesc
		}
		if i = s.SkipSpace(i); i >= len(b) {
			return i, jsonscan.EOF
		}
		switch b[i] {
		case ',':
			if i = s.SkipSpace(i + 1); i >= len(b) {
				return i, jsonscan.EOF
			}
		case '}':
			return i + 1, jsonscan.OK
		default:
			return i, jsonscan.Syntax
		}
	}
}
