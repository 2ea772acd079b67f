package framing

import (
	"errors"
	"fmt"
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
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%T", tt.err), func(t *testing.T) {
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
