package framing

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var mainnet = [4]byte{0xf9, 0xbe, 0xb4, 0xd9}

// frame builds a Bitcoin message by hand: magic, raw 12-byte command
// field, declared size, payload, and the right checksum unless sum is
// given.
func frame(magic [4]byte, cmd string, size int, payload string, sum ...[4]byte) string {
	var b []byte
	b = append(b, magic[:]...)
	field := make([]byte, 12)
	copy(field, cmd)
	b = append(b, field...)
	b = binary.LittleEndian.AppendUint32(b, uint32(size))
	if len(sum) > 0 {
		b = append(b, sum[0][:]...)
	} else {
		first := sha256.Sum256([]byte(payload))
		second := sha256.Sum256(first[:])
		b = append(b, second[:4]...)
	}
	return string(b) + payload
}

func msgFrame(cmd, payload string) string {
	return frame(DefaultMagic, cmd, len(payload), payload)
}

func TestBitcoinGolden(t *testing.T) {
	// The verack message of Bitcoin's main network, as documented by
	// the Bitcoin developer reference.
	const verack = "f9beb4d9" + "76657261636b000000000000" + "00000000" + "5df6e0e2"
	got, err := Bitcoin{Magic: mainnet}.AppendMessage(nil, "verack", nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(verack, hex.EncodeToString(got)); diff != "" {
		t.Errorf("verack (-want +got):\n%s", diff)
	}
	raw, _ := hex.DecodeString(verack)
	m, err := Bitcoin{Magic: mainnet}.NewReader(bytes.NewReader(raw)).ReadMessage()
	if err != nil || m.Command != "verack" || len(m.Payload) != 0 {
		t.Errorf("reading verack: got %+v, %v", m, err)
	}
}

func TestBitcoinRead(t *testing.T) {
	small := Bitcoin{MaxPayload: 10, MaxBlockPayload: 20}
	big := strings.Repeat("p", DefaultMaxPayload)
	tests := []struct {
		name  string
		b     Bitcoin
		input string
		want  []result
		big   bool
	}{
		{name: "empty", input: "", want: []result{{Err: "EOF"}}},
		{name: "one", input: msgFrame("tx", "abc"), want: []result{{Cmd: "tx", Msg: "abc"}, {Err: "EOF"}}},
		{name: "several", input: msgFrame("version", "v") + msgFrame("verack", "") + msgFrame("ping", "12345678"),
			want: []result{{Cmd: "version", Msg: "v"}, {Cmd: "verack"}, {Cmd: "ping", Msg: "12345678"}, {Err: "EOF"}}},
		{name: "12-byte command", input: msgFrame("abcdefghijkl", "x"), want: []result{{Cmd: "abcdefghijkl", Msg: "x"}, {Err: "EOF"}}},
		{name: "empty command", input: msgFrame("", "x"), want: []result{{Msg: "x"}, {Err: "EOF"}}},
		{name: "command ends at first NUL", input: msgFrame("ver\x00sion", "x"), want: []result{{Cmd: "ver", Msg: "x"}, {Err: "EOF"}}},
		{name: "other magic", b: Bitcoin{Magic: mainnet}, input: frame(mainnet, "tx", 1, "a"), want: []result{{Cmd: "tx", Msg: "a"}, {Err: "EOF"}}},
		{name: "bad magic", input: frame(mainnet, "tx", 1, "a"), want: []result{{Err: "BadMagic"}}},
		{name: "bad magic later", input: msgFrame("tx", "a") + frame(mainnet, "tx", 1, "a"), want: []result{{Cmd: "tx", Msg: "a"}, {Err: "BadMagic"}}},
		{name: "bad checksum skipped", input: frame(DefaultMagic, "tx", 3, "abc", [4]byte{1, 2, 3, 4}) + msgFrame("tx", "ok"),
			want: []result{{Err: "BadChecksum"}, {Cmd: "tx", Msg: "ok"}, {Err: "EOF"}}},
		{name: "cut header", input: msgFrame("tx", "a") + string(DefaultMagic[:]) + "tx", want: []result{{Cmd: "tx", Msg: "a"}, {Err: "UnexpectedEOF"}}},
		{name: "cut payload", input: frame(DefaultMagic, "tx", 5, "abc"), want: []result{{Err: "UnexpectedEOF"}}},
		{name: "payload exactly max", b: small, input: msgFrame("tx", "0123456789"), want: []result{{Cmd: "tx", Msg: "0123456789"}, {Err: "EOF"}}},
		{name: "payload over max", b: small, input: msgFrame("tx", "0123456789x") + msgFrame("tx", ""), want: []result{{Err: "TooLarge(fatal)"}}},
		{name: "block exactly max", b: small, input: msgFrame("block", strings.Repeat("b", 20)), want: []result{{Cmd: "block", Msg: strings.Repeat("b", 20)}, {Err: "EOF"}}},
		{name: "block over max", b: small, input: msgFrame("block", strings.Repeat("b", 21)), want: []result{{Err: "TooLarge(fatal)"}}},
		{name: "huge length", input: frame(DefaultMagic, "tx", 0xffffffff, "abc"), want: []result{{Err: "TooLarge(fatal)"}}},
		{name: "default limit exact", input: msgFrame("tx", big) + msgFrame("a", ""), want: []result{{Cmd: "tx", Msg: big}, {Cmd: "a"}, {Err: "EOF"}}, big: true},
		{name: "default limit plus one", input: msgFrame("tx", big+"x"), want: []result{{Err: "TooLarge(fatal)"}}, big: true},
		{name: "default block limit", input: frame(DefaultMagic, "block", DefaultMaxBlockPayload, "abc"), want: []result{{Err: "UnexpectedEOF"}}},
		{name: "default block limit plus one", input: frame(DefaultMagic, "block", DefaultMaxBlockPayload+1, "abc"), want: []result{{Err: "TooLarge(fatal)"}}},
		{name: "no limit", b: Bitcoin{MaxPayload: NoLimit}, input: msgFrame("tx", big+big), want: []result{{Cmd: "tx", Msg: big + big}, {Err: "EOF"}}, big: true},
	}
	for _, tt := range tests {
		for cname, sizes := range chunkings {
			if tt.big && len(sizes) > 0 && sizes[0] < 4096 {
				continue
			}
			for _, eofWithData := range []bool{false, true} {
				t.Run(tt.name+"/"+cname, func(t *testing.T) {
					r := tt.b.NewReader(&chunkReader{data: []byte(tt.input), sizes: sizes, eofWithData: eofWithData})
					got := readAllBitcoin(r, len(tt.want)+2)
					if diff := cmp.Diff(tt.want, got); diff != "" {
						t.Errorf("reads (-want +got):\n%s", diff)
					}
				})
			}
		}
	}
}

func TestBitcoinReadErrors(t *testing.T) {
	t.Run("bad magic", func(t *testing.T) {
		r := Bitcoin{}.NewReader(bytes.NewReader([]byte(frame(mainnet, "tx", 0, ""))))
		_, err := r.ReadMessage()
		want := &BadMagicError{Got: mainnet, Want: DefaultMagic}
		var got *BadMagicError
		if !errors.As(err, &got) {
			t.Fatalf("got %v, want a BadMagicError", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("error (-want +got):\n%s", diff)
		}
		if _, again := r.ReadMessage(); again != err {
			t.Errorf("next read: got %v, want the same error", again)
		}
	})
	t.Run("oversized", func(t *testing.T) {
		r := Bitcoin{MaxPayload: 2}.NewReader(bytes.NewReader([]byte(msgFrame("inv", "abc"))))
		_, err := r.ReadMessage()
		var got *TooLargeError
		if !errors.As(err, &got) {
			t.Fatalf("got %v, want a TooLargeError", err)
		}
		if got.Command != "inv" || got.Limit != 2 || got.Size != 3 || !got.Fatal() {
			t.Errorf("got %+v", got)
		}
		if want := `framing: message "inv" of 3 bytes over the limit of 2 bytes; the stream cannot continue`; err.Error() != want {
			t.Errorf("message %q, want %q", err.Error(), want)
		}
		if _, again := r.ReadMessage(); again != err {
			t.Errorf("next read: got %v, want the same error", again)
		}
	})
	t.Run("bad checksum", func(t *testing.T) {
		r := Bitcoin{}.NewReader(bytes.NewReader([]byte(frame(DefaultMagic, "tx", 0, "", [4]byte{1, 2, 3, 4}))))
		_, err := r.ReadMessage()
		var got *BadChecksumError
		if !errors.As(err, &got) {
			t.Fatalf("got %v, want a BadChecksumError", err)
		}
		want := &BadChecksumError{Command: "tx", Got: [4]byte{0x5d, 0xf6, 0xe0, 0xe2}, Want: [4]byte{1, 2, 3, 4}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("error (-want +got):\n%s", diff)
		}
		if _, err := r.ReadMessage(); kind(err) != "EOF" {
			t.Errorf("after a bad checksum: got %v, want io.EOF", err)
		}
	})
}

// TestBitcoinNoUpfrontAllocation checks that a legal block length does
// not size the buffer before the bytes arrive.
func TestBitcoinNoUpfrontAllocation(t *testing.T) {
	var err error
	var r *BitcoinReader
	n := allocated(func() {
		r = Bitcoin{}.NewReader(bytes.NewReader([]byte(frame(DefaultMagic, "block", DefaultMaxBlockPayload, "a few bytes"))))
		_, err = r.ReadMessage()
	})
	if kind(err) != "UnexpectedEOF" {
		t.Fatalf("got %v, want io.ErrUnexpectedEOF", err)
	}
	t.Logf("%d bytes allocated for a header announcing %d", n, DefaultMaxBlockPayload)
	if n > 64<<10 {
		t.Errorf("%d bytes allocated for a header announcing %d", n, DefaultMaxBlockPayload)
	}
}

func TestBitcoinAppendMessage(t *testing.T) {
	small := Bitcoin{MaxPayload: 3, MaxBlockPayload: 5}
	tests := []struct {
		name    string
		b       Bitcoin
		cmd     string
		payload string
		want    string
		wantErr string
	}{
		{name: "plain", cmd: "tx", payload: "abc", want: msgFrame("tx", "abc")},
		{name: "12 bytes", cmd: "abcdefghijkl", payload: "", want: msgFrame("abcdefghijkl", "")},
		{name: "magic", b: Bitcoin{Magic: mainnet}, cmd: "ping", payload: "x", want: frame(mainnet, "ping", 1, "x")},
		{name: "13 bytes", cmd: "abcdefghijklm", wantErr: `framing: invalid Bitcoin command "abcdefghijklm": want at most 12 bytes and no NUL`},
		{name: "NUL", cmd: "a\x00b", wantErr: `framing: invalid Bitcoin command "a\x00b": want at most 12 bytes and no NUL`},
		{name: "exactly max", b: small, cmd: "tx", payload: "abc", want: frame(DefaultMagic, "tx", 3, "abc")},
		{name: "over max", b: small, cmd: "tx", payload: "abcd", wantErr: `framing: message "tx" of 4 bytes over the limit of 3 bytes`},
		{name: "block exactly max", b: small, cmd: "block", payload: "abcde", want: frame(DefaultMagic, "block", 5, "abcde")},
		{name: "block over max", b: small, cmd: "block", payload: "abcdef", wantErr: `framing: message "block" of 6 bytes over the limit of 5 bytes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.b.AppendMessage([]byte("prefix"), tt.cmd, []byte(tt.payload))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("got error %v, want %q", err, tt.wantErr)
				}
				if string(got) != "prefix" {
					t.Errorf("dst changed on error: %q", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff("prefix"+tt.want, string(got)); diff != "" {
				t.Errorf("frame (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBitcoinAppendMessageErrors(t *testing.T) {
	_, err := Bitcoin{}.AppendMessage(nil, "much-too-long-command", nil)
	if !errors.Is(err, ErrInvalidCommand) {
		t.Errorf("long command: got %v, want ErrInvalidCommand", err)
	}
	_, err = Bitcoin{MaxPayload: 1}.AppendMessage(nil, "tx", []byte("ab"))
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Fatal() || tl.Command != "tx" {
		t.Errorf("oversized: got %#v", err)
	}
}

// TestBitcoinCommandCache checks that commands are shared, not
// allocated per message, and that more distinct commands than the cache
// holds still come back right.
func TestBitcoinCommandCache(t *testing.T) {
	var in string
	var want []result
	for i := range 3 * len(BitcoinReader{}.commands) {
		cmd := strings.Repeat(string(rune('a'+i%26)), 1+i%12)
		in += msgFrame(cmd, "") + msgFrame(cmd, "")
		want = append(want, result{Cmd: cmd}, result{Cmd: cmd})
	}
	want = append(want, result{Err: "EOF"})
	got := readAllBitcoin(Bitcoin{}.NewReader(strings.NewReader(in)), len(want)+1)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reads (-want +got):\n%s", diff)
	}
}
