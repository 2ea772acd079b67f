package framing

import (
	"errors"
	"fmt"
	"io"
	"math"
	"testing"
)

func TestErrors(t *testing.T) {
	tests := []struct {
		err       Error
		wantFatal bool
		wantCost  float64
		wantText  string
	}{
		{
			err:      &TooLargeError{Limit: 1000, Size: -1},
			wantCost: 500,
			wantText: "framing: message over the limit of 1000 bytes",
		},
		{
			err:       &TooLargeError{Limit: 1000, Size: 1001, fatal: true},
			wantFatal: true,
			wantCost:  500,
			wantText:  "framing: message of 1001 bytes over the limit of 1000 bytes; the stream cannot continue",
		},
		{
			err:       &TooLargeError{Limit: 10, Size: 11, Command: "block", fatal: true},
			wantFatal: true,
			wantCost:  500,
			wantText:  `framing: message "block" of 11 bytes over the limit of 10 bytes; the stream cannot continue`,
		},
		{
			err:       &BadMagicError{Got: [4]byte{1, 2, 3, 4}, Want: DefaultMagic},
			wantFatal: true,
			wantCost:  1000,
			wantText:  "framing: bad network magic 01020304, want e3e1f3e8; the stream cannot continue",
		},
		{
			err:      &BadChecksumError{Command: "tx", Got: [4]byte{1, 2, 3, 4}, Want: [4]byte{5, 6, 7, 8}},
			wantCost: 100,
			wantText: `framing: bad checksum 01020304 (header says 05060708) in "tx" message; message skipped`,
		},
		{
			err:       &FormatError{Format: "Content-Length", Reason: "no Content-Length in the header", fatal: true},
			wantFatal: true,
			wantCost:  1000,
			wantText:  "framing: bad Content-Length framing: no Content-Length in the header; the stream cannot continue",
		},
		{
			err:      &FormatError{Format: "JSON", Reason: "nesting deeper than 256 levels"},
			wantCost: 1000,
			wantText: "framing: bad JSON framing: nesting deeper than 256 levels; message skipped",
		},
		{
			err:      NewError("bad frame", false, 300),
			wantCost: 300,
			wantText: "bad frame",
		},
		{
			err:       NewError("stream broken", true, 0),
			wantFatal: true,
			wantText:  "stream broken",
		},
		{
			err:      NewError("negative cost", false, -5),
			wantText: "negative cost",
		},
		{
			err:      NewError("NaN cost", false, math.NaN()),
			wantText: "NaN cost",
		},
		{
			err:       WrapError(io.ErrShortBuffer, true, 50),
			wantFatal: true,
			wantCost:  50,
			wantText:  io.ErrShortBuffer.Error(),
		},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%T %s", tt.err, tt.wantText), func(t *testing.T) {
			if got := tt.err.Error(); got != tt.wantText {
				t.Errorf("Error() = %q, want %q", got, tt.wantText)
			}
			if got := tt.err.Fatal(); got != tt.wantFatal {
				t.Errorf("Fatal() = %v, want %v", got, tt.wantFatal)
			}
			if got := tt.err.CostHint(); got != tt.wantCost {
				t.Errorf("CostHint() = %v, want %v", got, tt.wantCost)
			}
			// A session wraps errors; errors.As still finds them.
			wrapped := fmt.Errorf("session: %w", tt.err)
			var fe Error
			if !errors.As(wrapped, &fe) || fe != tt.err {
				t.Errorf("errors.As(%v, *Error) failed", wrapped)
			}
		})
	}
}

// TestWrapError checks that the error wrapped is found through the
// result, and that nil stays nil.
func TestWrapError(t *testing.T) {
	cause := &TooLargeError{Limit: 1, Size: 2}
	err := fmt.Errorf("reading: %w", WrapError(fmt.Errorf("my framer: %w", cause), false, 10))
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl != cause {
		t.Errorf("errors.As did not find the wrapped error in %v", err)
	}
	// The outermost Error found is the wrapper, with its own verdict.
	var fe Error
	if !errors.As(err, &fe) || fe.Fatal() || fe.CostHint() != 10 {
		t.Errorf("errors.As found %v, want the wrapper (not fatal, cost 10)", fe)
	}
	if err := WrapError(nil, true, 1); err != nil {
		t.Errorf("WrapError(nil) = %v, want nil", err)
	}
	var e error = WrapError(nil, true, 1)
	if e != nil {
		t.Errorf("WrapError(nil) as an error = %v, want nil", e)
	}
}
