package protocol

import (
	"testing"
)

func TestDialect(t *testing.T) {
	tests := []struct {
		d       Dialect
		name    string
		batches bool
	}{
		{V2, "v2", true},
		{V1, "v1", false},
		{Loose, "loose", true},
		{Auto, "auto", true},
	}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.name {
			t.Errorf("String() = %q, want %q", got, tt.name)
		}
		if got := tt.d.Batches(); got != tt.batches {
			t.Errorf("%v.Batches() = %v", tt.d, got)
		}
		for _, s := range []string{tt.name, upper(tt.name)} {
			if got, err := ParseDialect(s); err != nil || got != tt.d {
				t.Errorf("ParseDialect(%q) = %v, %v", s, got, err)
			}
		}
	}
	var zero Dialect
	if zero != V2 {
		t.Error("zero Dialect is not V2")
	}
	if got := Dialect(9).String(); got != "Dialect(9)" {
		t.Errorf("Dialect(9).String() = %q", got)
	}
	for _, s := range []string{"", "2.0", "v3", "jsonrpc"} {
		if _, err := ParseDialect(s); err == nil {
			t.Errorf("ParseDialect(%q) succeeded", s)
		}
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func TestOptions(t *testing.T) {
	tests := []struct {
		o    *Options
		want limits
	}{
		{nil, limits{1000, 256, 256, false}},
		{&Options{}, limits{1000, 256, 256, false}},
		{&Options{MaxBatch: -1, MaxMethod: -5, MaxDepth: -9}, limits{1000, 256, 256, false}},
		{&Options{MaxBatch: 5, MaxMethod: 6, MaxDepth: 7}, limits{5, 6, 7, false}},
		{&Options{Strict: true}, limits{1000, 256, 256, true}},
	}
	for _, tt := range tests {
		if got := New(V2, tt.o).(*codec).limits; got != tt.want {
			t.Errorf("%+v: limits %+v, want %+v", tt.o, got, tt.want)
		}
	}
}

func TestNewPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New(Dialect(4)) did not panic")
		}
	}()
	New(Dialect(4), nil)
}

// TestDefaultBatchLimit checks the default of 1,000 items.
func TestDefaultBatchLimit(t *testing.T) {
	c := New(V2, nil)
	if m, err := c.Decode(benchBatch(1000)); err != nil || len(m.Items) != 1000 {
		t.Errorf("1000 items: %v", err)
	}
	if _, err := c.Decode(benchBatch(1001)); err == nil {
		t.Error("1001 items accepted")
	}
}
