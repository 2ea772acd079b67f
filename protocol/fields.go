package protocol

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

// fields are the interpreted members of one object, as raw JSON. Other
// members are checked for syntax and otherwise ignored.
type fields struct {
	val  [6][]byte // each member's raw value
	esc  [6]bool   // the value is a string holding escape sequences
	seen uint8     // bit m: member m is present
	dup  int8      // the first member seen twice, or -1
}

func (f *fields) has(m int) bool { return f.seen&(1<<m) != 0 }

// isNull reports whether member m is present and null.
func (f *fields) isNull(m int) bool { return f.has(m) && f.val[m][0] == 'n' }

// is reports whether member m is the JSON string want.
func (f *fields) is(m int, want string) bool {
	return f.has(m) && stringIs(f.val[m], f.esc[m], want)
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

// id returns the raw ID if it can be read (present once, and a number,
// a string or null), else nil.
func (f *fields) id() []byte {
	if !f.has(mID) || f.dup == mID || !isIDToken(f.val[mID]) {
		return nil
	}
	return f.val[mID]
}

// isIDToken reports whether the valid JSON value v may be an ID: a
// number, a string or null.
func isIDToken(v []byte) bool {
	c := v[0]
	return c == '"' || c == '-' || isDigit(c) || c == 'n'
}

// match returns the index in names of the member name raw (a string's
// contents, escaped if esc), or -1.
func match(raw []byte, esc bool, names []string) int {
	if esc {
		if len(raw) > 48 {
			return -1
		}
		var buf [48]byte
		raw = appendUnescaped(buf[:0], raw)
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
func (s *scanner) object(i, depth int, names []string, f *fields) (int, scanErr) {
	b := s.buf
	if depth > s.maxDepth {
		return i, errDepth
	}
	*f = fields{dup: -1}
	if i = s.ws(i + 1); i >= len(b) {
		return i, errEOF
	}
	if b[i] == '}' {
		return i + 1, scanOK
	}
	for {
		if b[i] != '"' {
			return i, errSyntax
		}
		ke, kesc, err := s.str(i)
		if err != scanOK {
			return ke, err
		}
		m := match(b[i+1:ke-1], kesc, names)
		if i = s.ws(ke); i >= len(b) {
			return i, errEOF
		}
		if b[i] != ':' {
			return i, errSyntax
		}
		if i = s.ws(i + 1); i >= len(b) {
			return i, errEOF
		}
		vs, vesc := i, false
		if b[i] == '"' {
			i, vesc, err = s.str(i)
		} else {
			i, err = s.value(i, depth)
		}
		if err != scanOK {
			return i, err
		}
		switch {
		case m < 0:
		case f.has(m):
			if f.dup < 0 {
				f.dup = int8(m)
			}
		default:
			f.seen |= 1 << m
			f.val[m], f.esc[m] = b[vs:i], vesc
		}
		if i = s.ws(i); i >= len(b) {
			return i, errEOF
		}
		switch b[i] {
		case ',':
			if i = s.ws(i + 1); i >= len(b) {
				return i, errEOF
			}
		case '}':
			return i + 1, scanOK
		default:
			return i, errSyntax
		}
	}
}
