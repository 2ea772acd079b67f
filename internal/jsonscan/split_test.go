package jsonscan

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestSplitArray(t *testing.T) {
	tests := []struct {
		in   string
		want []string // nil: refused
	}{
		{`[]`, []string{}},
		{" \t[ \n] \r\n", []string{}},
		{`[1]`, []string{`1`}},
		{` [ 1 , "two" ,{"three": [3]}, 4.5e1, null, true, false, [] ] `,
			[]string{`1`, `"two"`, `{"three": [3]}`, `4.5e1`, `null`, `true`, `false`, `[]`}},
		{`["a\"]b", "\\", "é"]`, []string{`"a\"]b"`, `"\\"`, `"é"`}},
		{``, nil},
		{`  `, nil},
		{`{}`, nil},
		{`1`, nil},
		{`[`, nil},
		{`[ `, nil},
		{`[1`, nil},
		{`[1 `, nil},
		{`[1,`, nil},
		{`[1,]`, nil},
		{`[,1]`, nil},
		{`[1,,2]`, nil},
		{`[1 2]`, nil},
		{`[1}`, nil},
		{`[] x`, nil},
		{`[1] 2`, nil},
		{`[tru]`, nil},
		{`[01]`, nil},
		{`["\q"]`, nil},
		{"[\"\xff\"]", nil},
		{`[[1]`, nil},
	}
	for _, tt := range tests {
		// dst holds an element already: it must be kept.
		got, ok := SplitArray([]byte(tt.in), [][]byte{[]byte("kept")})
		if tt.want == nil {
			if ok {
				t.Errorf("SplitArray(%q) accepted, want refused", tt.in)
			}
			continue
		}
		if !ok {
			t.Errorf("SplitArray(%q) refused", tt.in)
			continue
		}
		var texts []string
		for _, e := range got[1:] {
			texts = append(texts, string(e))
		}
		if string(got[0]) != "kept" || !cmp.Equal(tt.want, texts, cmpopts.EquateEmpty()) {
			t.Errorf("SplitArray(%q) = %q, want \"kept\" then %q", tt.in, got, tt.want)
		}
	}
}

func TestSplitObject(t *testing.T) {
	type member struct{ Key, Name, Value string }
	tests := []struct {
		in   string
		want []member // nil: refused
	}{
		{`{}`, []member{}},
		{" { \n} ", []member{}},
		{`{"a":1}`, []member{{"a", "a", "1"}}},
		{` { "a" : [1,{"b":2}] , "c":"}" , "a": null} `,
			[]member{{"a", "a", `[1,{"b":2}]`}, {"c", "c", `"}"`}, {"a", "a", "null"}}},
		{`{"\u0061\n":true}`, []member{{`\u0061\n`, "a\n", "true"}}},
		{`{"é":{}}`, []member{{"é", "é", "{}"}}},
		{``, nil},
		{`[]`, nil},
		{`{`, nil},
		{`{ `, nil},
		{`{"a"`, nil},
		{`{"a" 1}`, nil},
		{`{"a":}`, nil},
		{`{"a":`, nil},
		{`{"a":1`, nil},
		{`{"a":1 `, nil},
		{`{"a":1,}`, nil},
		{`{"a":1 "b":2}`, nil},
		{`{1:2}`, nil},
		{`{a:1}`, nil},
		{`{"a":1]`, nil},
		{`{"a":1}}`, nil},
		{`{"\q":1}`, nil},
		{`{"a`, nil},
		{`{"a":1} x`, nil},
	}
	for _, tt := range tests {
		got, ok := SplitObject([]byte(tt.in), nil)
		if tt.want == nil {
			if ok {
				t.Errorf("SplitObject(%q) accepted, want refused", tt.in)
			}
			continue
		}
		if !ok {
			t.Errorf("SplitObject(%q) refused", tt.in)
			continue
		}
		members := []member{}
		for _, m := range got {
			members = append(members, member{string(m.Key), string(m.Name()), string(m.Value)})
		}
		if diff := cmp.Diff(tt.want, members); diff != "" {
			t.Errorf("SplitObject(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestSplitAllocatesNothingWithRoom(t *testing.T) {
	array := []byte(`["0123456789abcdef", 2, {"a": [1]}]`)
	object := []byte(`{"a": "0123456789abcdef", "b": [2, {"c": 3}]}`)
	allocs := testing.AllocsPerRun(100, func() {
		var elems [4][]byte
		if _, ok := SplitArray(array, elems[:0]); !ok {
			t.Fatal("SplitArray failed")
		}
		var members [4]Member
		if _, ok := SplitObject(object, members[:0]); !ok {
			t.Fatal("SplitObject failed")
		}
	})
	if allocs != 0 {
		t.Errorf("splitting allocated %v times per call, want 0", allocs)
	}
}

var splitSeeds = []string{
	"[]", "[1]", " [ 1 , 2 ] ", `["a,]",{"b":[1,2]},null]`, "[1,,2]", "[1 2]", "[1,2", "[[1]", "[{]]", `["\"]"]`, "[1]x",
	"{}", `{"a":1}`, ` { "a" : [1,{"b":2}] , "c":"}" } `, `{"a":1,}`, `{"a" 1}`, `{1:2}`, `{"a":}`, `{"\u0061":1}`, `{"a":1}}`,
	"[\"\xff\"]", `{"\ud800":1}`, "[1e5, -0.5, tru]",
}

// FuzzSplit checks the splitters against encoding/json: they accept
// exactly the arrays and objects that json.Valid accepts and that are
// UTF-8 (which json.Valid does not check, and the Scanner does), and
// split them into the elements and members that json.Unmarshal finds.
func FuzzSplit(f *testing.F) {
	for _, s := range splitSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		isValid := json.Valid(data) && valid(data, 10000)
		var first byte // the value's first byte
		if trimmed := bytes.TrimLeft(data, " \t\r\n"); len(trimmed) > 0 {
			first = trimmed[0]
		}
		elems, ok := SplitArray[json.RawMessage](data, nil)
		if isArray := first == '['; ok != (isValid && isArray) {
			t.Fatalf("SplitArray(%q) reports %v; valid array: %v", data, ok, isValid && isArray)
		}
		if ok {
			var wantElems []json.RawMessage
			if err := json.Unmarshal(data, &wantElems); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantElems, elems, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("SplitArray(%q) (-json +ours):\n%s", data, diff)
			}
		}
		members, ok := SplitObject(data, nil)
		if isObject := first == '{'; ok != (isValid && isObject) {
			t.Fatalf("SplitObject(%q) reports %v; valid object: %v", data, ok, isValid && isObject)
		}
		if ok {
			var wantMembers map[string]json.RawMessage
			if err := json.Unmarshal(data, &wantMembers); err != nil {
				t.Fatal(err)
			}
			got := map[string]json.RawMessage{}
			for _, m := range members {
				got[string(m.Name())] = m.Value
			}
			if diff := cmp.Diff(wantMembers, got); diff != "" {
				t.Fatalf("SplitObject(%q) (-json +ours):\n%s", data, diff)
			}
		}
	})
}

// BenchmarkSplitArray compares SplitArray with json.Unmarshal into
// []json.RawMessage.
func BenchmarkSplitArray(b *testing.B) {
	for _, params := range []string{"[1,2]", `[1,"two",{"three":[3]},4.5,null,true]`} {
		data := []byte(params)
		b.Run("jsonscan/"+params, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var buf [8][]byte
				if _, ok := SplitArray(data, buf[:0]); !ok {
					b.Fatal("split failed")
				}
			}
		})
		b.Run("encoding-json/"+params, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var elems []json.RawMessage
				if err := json.Unmarshal(data, &elems); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
