package jsonscan

import "math"

// SplitArray appends the elements of the JSON array data to dst, each
// as its raw JSON sharing memory with data, and returns the extended
// slice. It reports whether data is exactly one valid array, white
// space around it allowed; the check is a [Scanner]'s, strict and
// without a depth limit. On failure some elements may have been
// appended: the caller keeps len(dst) to undo them. It allocates
// nothing when dst has room for the elements.
func SplitArray[E ~[]byte](data []byte, dst []E) ([]E, bool) {
	s := Scanner{Buf: data, MaxDepth: math.MaxInt}
	i := s.SkipSpace(0)
	if i == len(data) || data[i] != '[' {
		return dst, false
	}
	if i = s.SkipSpace(i + 1); i < len(data) && data[i] == ']' {
		_, err := s.End(i + 1)
		return dst, err == OK
	}
	for {
		j, err := s.Value(i, 1)
		if err != OK {
			return dst, false
		}
		dst = append(dst, E(data[i:j]))
		if i = s.SkipSpace(j); i == len(data) {
			return dst, false
		}
		switch data[i] {
		case ',':
			i = s.SkipSpace(i + 1)
		case ']':
			_, err := s.End(i + 1)
			return dst, err == OK
		default:
			return dst, false
		}
	}
}

// Member is one member of a JSON object, as [SplitObject] finds it.
type Member struct {
	Key     []byte // the name as written, without its quotes
	Escaped bool   // Key holds escape sequences
	Value   []byte // the raw JSON value
}

// Name returns the member's name, unescaped: Key itself if it holds no
// escape sequence, else a new slice.
func (m *Member) Name() []byte {
	if !m.Escaped {
		return m.Key
	}
	return AppendUnescaped(make([]byte, 0, len(m.Key)), m.Key)
}

// SplitObject appends the members of the JSON object data to dst, in
// their order (a repeated name is appended each time), and returns the
// extended slice. It reports whether data is exactly one valid object,
// under the same rules as [SplitArray], and like it allocates nothing
// when dst has room.
func SplitObject(data []byte, dst []Member) ([]Member, bool) {
	s := Scanner{Buf: data, MaxDepth: math.MaxInt}
	i := s.SkipSpace(0)
	if i == len(data) || data[i] != '{' {
		return dst, false
	}
	if i = s.SkipSpace(i + 1); i < len(data) && data[i] == '}' {
		_, err := s.End(i + 1)
		return dst, err == OK
	}
	for {
		if i == len(data) || data[i] != '"' {
			return dst, false
		}
		k, esc, err := s.Str(i)
		if err != OK {
			return dst, false
		}
		m := Member{Key: data[i+1 : k-1], Escaped: esc}
		if i = s.SkipSpace(k); i == len(data) || data[i] != ':' {
			return dst, false
		}
		i = s.SkipSpace(i + 1)
		j, err := s.Value(i, 1)
		if err != OK {
			return dst, false
		}
		m.Value = data[i:j]
		dst = append(dst, m)
		if i = s.SkipSpace(j); i == len(data) {
			return dst, false
		}
		switch data[i] {
		case ',':
			i = s.SkipSpace(i + 1)
		case '}':
			_, err := s.End(i + 1)
			return dst, err == OK
		default:
			return dst, false
		}
	}
}
