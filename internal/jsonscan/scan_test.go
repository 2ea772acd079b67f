package jsonscan

import (
	"encoding/binary"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// valid reports whether b is one JSON value, by the package's scanner.
func valid(b []byte, maxDepth int) bool {
	s := Scanner{Buf: b, MaxDepth: maxDepth}
	end, err := s.Value(s.SkipSpace(0), 0)
	if err == OK {
		_, err = s.End(end)
	}
	return err == OK
}

// TestScannerAgreesWithEncodingJSON compares the scanner with
// json.Valid on inputs that are UTF-8 (json.Valid does not check that).
func TestScannerAgreesWithEncodingJSON(t *testing.T) {
	inputs := []string{
		``, ` `, `0`, `-0`, `-`, `01`, `1.0`, `1.`, `.1`, `1e5`, `1E+5`, `1e-5`, `1e`, `-1.5e-3`, `2.`, `1e+`,
		`"a"`, `"`, `"\"`, `"\u00e9"`, `"\u00g9"`, `"\ud800"`, `"\/"`, `"\a"`, "\"\t\"", `"é😀"`,
		`true`, `false`, `null`, `tru`, `nulll`, `True`, `NaN`, `Infinity`, `-Infinity`,
		`[]`, `[ ]`, `[1,]`, `[,1]`, `[1 2]`, `[[]]`, `[[]`, `[]]`, `[1,[2,[3,{"a":[]}]]]`,
		`{}`, `{ }`, `{"a":1}`, `{"a":1,}`, `{"a"}`, `{"a":}`, `{a:1}`, `{"a":1 "b":2}`, `{"a":1}}`, `{"a":{"b":{"c":[]}}}`,
		`{"a":[1,{"b":null}],"c":"d"}`, `{"a" : 1 , "b" : [ true , false ] }`, `[1] [2]`, `1 2`, `{} x`, `{"a":1]`, `[1}`,
		"\ufeff1", "\v1", "1\x00", `[` + strings.Repeat(`"x",`, 20) + `1]`, `"` + strings.Repeat("abcdefg", 10) + `"`,
		`"` + strings.Repeat("é", 20) + "\x01" + `"`, `"` + strings.Repeat("a", 17) + `\n` + strings.Repeat("b", 9) + `"`,
		strings.Repeat("[", 300) + strings.Repeat("]", 300), strings.Repeat(`{"a":`, 300) + "1" + strings.Repeat("}", 300),
		strings.Repeat("[", 300) + strings.Repeat("]", 299),
	}
	for _, in := range inputs {
		if got, want := valid([]byte(in), 10000), json.Valid([]byte(in)); got != want {
			t.Errorf("%.40q: scanner says %v, encoding/json %v", in, got, want)
		}
	}
}

// TestSpecial checks the 8-byte test against the byte-by-byte one.
func TestSpecial(t *testing.T) {
	check := func(b []byte) {
		t.Helper()
		want := false
		for _, c := range b {
			want = want || !plain[c]
		}
		if got := special(binary.LittleEndian.Uint64(b)) != 0; got != want {
			t.Fatalf("special(%q) = %v, want %v", b, got, want)
		}
	}
	for c := range 256 {
		for pos := range 8 {
			b := []byte("abcdefgh")
			b[pos] = byte(c)
			check(b)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		var b [8]byte
		for i := range b {
			b[i] = byte(0x20 + r.IntN(0x60))
			if r.IntN(16) == 0 {
				b[i] = byte(r.IntN(256))
			}
		}
		check(b[:])
	}
}

// TestUnescape compares AppendUnescaped with encoding/json.
func TestUnescape(t *testing.T) {
	for _, s := range []string{``, `abc`, `\"\\\/\b\f\n\r\t`, `\u0041\u00e9\u20ac`, `\ud83d\ude00`, `\ud83d`, `\ude00`,
		`\ud83dx`, `\ud83d\u0041`, `\ud83d\ud83d\ude00`, `a\u0000b`, `é😀`, `\uDBFF\uDFFF`} {
		var want string
		if err := json.Unmarshal([]byte(`"`+s+`"`), &want); err != nil {
			t.Fatal(err)
		}
		if got := string(AppendUnescaped(nil, []byte(s))); got != want {
			t.Errorf("%s: got %q, want %q", s, got, want)
		}
		if !utf8.ValidString(string(AppendUnescaped(nil, []byte(s)))) {
			t.Errorf("%s: not UTF-8", s)
		}
	}
}
