package jsonscan

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValue(t *testing.T) {
	tests := []struct {
		in   string
		want int // end index, or -1
	}{
		{`"abc" rest`, 5},
		{`"a\"b",`, 6},
		{`"a\\",`, 5},
		{`"unterminated`, -1},
		{`123,`, 3},
		{`-1.5e3}`, 6},
		{`true]`, 4},
		{`null`, 4},
		{`{"a":[1,"]"]} x`, 13},
		{`[[],{}]`, 7},
		{`[1,2`, -1},
		{`{"a":"}"`, -1},
		{`,`, -1},
		{``, -1},
	}
	for _, tt := range tests {
		if got := Value([]byte(tt.in), 0); got != tt.want {
			t.Errorf("Value(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestObject(t *testing.T) {
	tests := []struct {
		in      string
		members [][2]string
		end     int
	}{
		{`{}`, nil, 2},
		{`{ }`, nil, 3},
		{`{"id":1,"result":"x"}`, [][2]string{{`"id"`, `1`}, {`"result"`, `"x"`}}, 21},
		{`{ "id" : 1 , "r" : [1, 2] }`, [][2]string{{`"id"`, `1`}, {`"r"`, `[1, 2]`}}, 27},
		{`{"a":1`, [][2]string{{`"a"`, `1`}}, -1},
		{`{"a" 1}`, nil, -1},
		{`{a:1}`, nil, -1},
		{`{"a":1;}`, [][2]string{{`"a"`, `1`}}, -1},
		{`[1]`, nil, -1},
	}
	for _, tt := range tests {
		var got [][2]string
		end := Object([]byte(tt.in), 0, func(m Member) bool {
			got = append(got, [2]string{string(m.Key), string(m.Value)})
			return true
		})
		if end != tt.end {
			t.Errorf("Object(%q) ends at %d, want %d", tt.in, end, tt.end)
		}
		if diff := cmp.Diff(tt.members, got); diff != "" {
			t.Errorf("Object(%q) members (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestObjectStops(t *testing.T) {
	n := 0
	end := Object([]byte(`{"a":1,"b":2}`), 0, func(Member) bool { n++; return false })
	if end != -1 || n != 1 {
		t.Errorf("stopped walk: end %d after %d members, want -1 after 1", end, n)
	}
}

func TestElements(t *testing.T) {
	tests := []struct {
		in    string
		elems []string
		end   int
	}{
		{`[]`, nil, 2},
		{`[1]`, []string{`1`}, 3},
		{`[ {"a":1} , "x" ]`, []string{`{"a":1}`, `"x"`}, 17},
		{`[1,`, []string{`1`}, -1},
		{`[1 2]`, []string{`1`}, -1},
		{`{}`, nil, -1},
	}
	for _, tt := range tests {
		var got []string
		end := Elements([]byte(tt.in), 0, func(e []byte) bool {
			got = append(got, string(e))
			return true
		})
		if end != tt.end {
			t.Errorf("Elements(%q) ends at %d, want %d", tt.in, end, tt.end)
		}
		if diff := cmp.Diff(tt.elems, got); diff != "" {
			t.Errorf("Elements(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestSkipSpace(t *testing.T) {
	if got := SkipSpace([]byte(" \t\r\nx"), 0); got != 4 {
		t.Errorf("SkipSpace = %d, want 4", got)
	}
	if got := SkipSpace([]byte("  "), 0); got != 2 {
		t.Errorf("SkipSpace of spaces only = %d, want 2", got)
	}
}

func BenchmarkObject(b *testing.B) {
	line := []byte(`{"jsonrpc":"2.0","result":"abcdefghijklmnop","id":123456}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		var id []byte
		if Object(line, 0, func(m Member) bool {
			if string(m.Key) == `"id"` {
				id = m.Value
			}
			return true
		}) < 0 || id == nil {
			b.Fatal("no id")
		}
	}
}
