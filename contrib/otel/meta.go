package gorpcxotel

import (
	"math"
	"unicode/utf8"

	"github.com/gorpcx/gorpcx/internal/jsonscan"
)

// MetaMember is the name of the member of a params object that carries
// the trace context when Options.Propagate is set: an object whose
// members are the propagator's fields, such as
//
//	{"_meta":{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},"height":5}
//
// (the convention of the Language Server and Model Context protocols).
const MetaMember = "_meta"

// member is one member of a JSON object, by indexes into the object's
// text: its key starts at keyStart (the opening quote), its raw key
// (without the quotes, escapes as written) is key, and its value is
// text[valStart:valEnd].
type member struct {
	keyStart         int
	key              []byte
	valStart, valEnd int
}

// objectIter goes through the members of a JSON object at the top level
// of its text, without unescaping or allocating.
type objectIter struct {
	s     jsonscan.Scanner
	i     int // where the next member's key starts
	open  int // index of the object's opening brace
	empty bool
	done  bool
	bad   bool
}

// newObjectIter starts going through text, which must be one JSON
// object (white space around it allowed); it reports false when text
// does not start with an object.
func newObjectIter(text []byte) (objectIter, bool) {
	it := objectIter{s: jsonscan.Scanner{Buf: text, MaxDepth: math.MaxInt}}
	i := it.s.SkipSpace(0)
	if i == len(text) || text[i] != '{' {
		return it, false
	}
	it.open = i
	it.i = it.s.SkipSpace(i + 1)
	if it.i < len(text) && text[it.i] == '}' {
		it.empty, it.done = true, true
	}
	return it, true
}

// next returns the next member; ok is false at the end of the object
// or when the text is not valid JSON there (then it.bad is set).
func (it *objectIter) next() (m member, ok bool) {
	if it.done {
		return m, false
	}
	text := it.s.Buf
	i := it.i
	if i == len(text) || text[i] != '"' {
		return it.fail()
	}
	k, _, err := it.s.Str(i)
	if err != jsonscan.OK {
		return it.fail()
	}
	m.keyStart, m.key = i, text[i+1:k-1]
	if i = it.s.SkipSpace(k); i == len(text) || text[i] != ':' {
		return it.fail()
	}
	m.valStart = it.s.SkipSpace(i + 1)
	if m.valEnd, err = it.s.Value(m.valStart, 1); err != jsonscan.OK {
		return it.fail()
	}
	if i = it.s.SkipSpace(m.valEnd); i == len(text) {
		return it.fail()
	}
	switch text[i] {
	case ',':
		it.i = it.s.SkipSpace(i + 1)
	case '}':
		it.done = true
	default:
		return it.fail()
	}
	return m, true
}

func (it *objectIter) fail() (member, bool) {
	it.done, it.bad = true, true
	return member{}, false
}

// findMember returns the member of the JSON object text whose key is
// written exactly as name, and whether text is an object holding it.
func findMember(text []byte, name string) (member, bool) {
	it, ok := newObjectIter(text)
	if !ok {
		return member{}, false
	}
	for {
		m, ok := it.next()
		if !ok {
			return member{}, false
		}
		if string(m.key) == name {
			return m, true
		}
	}
}

// stringValue returns the contents of the JSON string raw (with its
// quotes), unescaped, or "" if raw is not a string.
func stringValue(raw []byte) string {
	if len(raw) < 2 || raw[0] != '"' {
		return ""
	}
	return string(jsonscan.AppendUnescaped(nil, raw[1:len(raw)-1]))
}

// appendString appends s to dst as a JSON string. Bytes that are not
// valid UTF-8 become U+FFFD, as with encoding/json.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return append(dst, '"')
}

// injectMeta returns new params: params with the fields kv (key,
// value, key, value...) added to its "_meta" member, which is made the
// object's first member if there is none. Fields that "_meta" already
// has are left as they are. It returns params itself and false when
// params is not a JSON object, when its "_meta" is not an object, or
// when nothing is to be added.
func injectMeta(params []byte, kv []string) ([]byte, bool) {
	it, ok := newObjectIter(params)
	if !ok || len(kv) == 0 {
		return params, false
	}
	var meta member
	found := false
	for !found {
		m, ok := it.next()
		if !ok {
			break
		}
		if string(m.key) == MetaMember {
			meta, found = m, true
		}
	}
	if it.bad {
		return params, false
	}
	if !found {
		out := make([]byte, 0, len(params)+len(MetaMember)+16+fieldsLen(kv))
		out = append(out, params[:it.open+1]...)
		out = append(out, `"`+MetaMember+`":{`...)
		out = appendFields(out, kv, nil)
		out = append(out, '}')
		if !it.empty {
			out = append(out, ',')
		}
		return append(out, params[it.open+1:]...), true
	}
	old := params[meta.valStart:meta.valEnd]
	mit, ok := newObjectIter(old)
	if !ok {
		return params, false
	}
	fields := appendFields(nil, kv, old)
	if len(fields) == 0 {
		return params, false
	}
	at := meta.valStart + mit.open + 1
	out := make([]byte, 0, len(params)+len(fields)+1)
	out = append(out, params[:at]...)
	out = append(out, fields...)
	if !mit.empty {
		out = append(out, ',')
	}
	return append(out, params[at:]...), true
}

// fieldsLen is about the length of kv written as JSON members.
func fieldsLen(kv []string) int {
	n := 0
	for _, s := range kv {
		n += len(s) + 4
	}
	return n
}

// appendFields appends kv (key, value, key, value...) as JSON members
// separated by commas, leaving out the keys the object except already
// has.
func appendFields(dst []byte, kv []string, except []byte) []byte {
	first := true
	for i := 0; i+1 < len(kv); i += 2 {
		if except != nil {
			if _, has := findMember(except, kv[i]); has {
				continue
			}
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendString(dst, kv[i])
		dst = append(dst, ':')
		dst = appendString(dst, kv[i+1])
	}
	return dst
}

// stripMeta returns new params: params without the members named in
// fields of its "_meta" member, and without "_meta" itself if nothing
// else is left in it. It returns params itself and false when there is
// nothing to remove (or params is not a JSON object).
func stripMeta(params []byte, fields []string) ([]byte, bool) {
	meta, ok := findMember(params, MetaMember)
	if !ok {
		return params, false
	}
	old := params[meta.valStart:meta.valEnd]
	keep, removed, ok := filterObject(old, fields)
	if !ok || !removed {
		return params, false
	}
	if keep != nil {
		out := make([]byte, 0, len(params))
		out = append(out, params[:meta.valStart]...)
		out = append(out, keep...)
		return append(out, params[meta.valEnd:]...), true
	}
	out, _, _ := filterObject(params, []string{MetaMember})
	if out == nil {
		out = []byte("{}")
	}
	return out, true
}

// filterObject returns the JSON object text without its members named
// in names, rewritten with no white space between members; removed
// tells whether any was. keep is nil when no member is left. ok is
// false if text is not an object.
func filterObject(text []byte, names []string) (keep []byte, removed, ok bool) {
	it, ok := newObjectIter(text)
	if !ok {
		return nil, false, false
	}
	for {
		m, more := it.next()
		if !more {
			break
		}
		if contains(names, m.key) {
			removed = true
			continue
		}
		if keep == nil {
			keep = make([]byte, 0, len(text))
			keep = append(keep, '{')
		} else {
			keep = append(keep, ',')
		}
		keep = append(keep, text[m.keyStart:m.valEnd]...)
	}
	if it.bad {
		return nil, false, false
	}
	if keep != nil {
		keep = append(keep, '}')
	}
	return keep, removed, true
}

// contains reports whether key is one of names.
func contains(names []string, key []byte) bool {
	for _, n := range names {
		if string(key) == n {
			return true
		}
	}
	return false
}

// metaCarrier is a propagation.TextMapCarrier that reads the fields of
// a "_meta" object.
type metaCarrier struct {
	meta []byte
}

// Get returns the string value of the member key of the "_meta"
// object, or "" if it has none.
func (c metaCarrier) Get(key string) string {
	m, ok := findMember(c.meta, key)
	if !ok {
		return ""
	}
	return stringValue(c.meta[m.valStart:m.valEnd])
}

// Set does nothing: the carrier is read only.
func (metaCarrier) Set(string, string) {}

// Keys returns the names of the members of the "_meta" object.
func (c metaCarrier) Keys() []string {
	var keys []string
	it, _ := newObjectIter(c.meta)
	for {
		m, ok := it.next()
		if !ok {
			return keys
		}
		keys = append(keys, string(m.key))
	}
}

// fieldCarrier is a propagation.TextMapCarrier that collects the fields
// a propagator injects, as key, value, key, value...
type fieldCarrier []string

// Get returns the value set for key, or "".
func (c *fieldCarrier) Get(key string) string {
	for i := 0; i+1 < len(*c); i += 2 {
		if (*c)[i] == key {
			return (*c)[i+1]
		}
	}
	return ""
}

// Set sets key to value.
func (c *fieldCarrier) Set(key, value string) {
	for i := 0; i+1 < len(*c); i += 2 {
		if (*c)[i] == key {
			(*c)[i+1] = value
			return
		}
	}
	*c = append(*c, key, value)
}

// Keys returns the keys set.
func (c *fieldCarrier) Keys() []string {
	keys := make([]string, 0, len(*c)/2)
	for i := 0; i < len(*c); i += 2 {
		keys = append(keys, (*c)[i])
	}
	return keys
}
