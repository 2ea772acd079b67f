package proxy

import (
	"errors"
	"testing"
)

// checkReplyError fails unless err is nil or the error of a reply
// parser reading from memory: a *ProtocolError or a *RefusedError.
func checkReplyError(t *testing.T, err error) {
	t.Helper()
	var pe *ProtocolError
	var re *RefusedError
	if err != nil && !errors.As(err, &pe) && !errors.As(err, &re) {
		t.Fatalf("error %v (%T) is neither a protocol error nor a refusal", err, err)
	}
}

// checkRead fails unless the parser read min(len(data), declared)
// bytes: all the reply declares, and nothing beyond.
func checkRead(t *testing.T, data []byte, read, declared int) {
	t.Helper()
	want := min(len(data), declared)
	if read != want {
		t.Fatalf("read %d bytes of %d, want %d (the reply declares %d)", read, len(data), want, declared)
	}
}

func FuzzSOCKS4Reply(f *testing.F) {
	for _, s := range []string{
		"\x00\x5a\x01\xbb\x7f\x00\x00\x01", "\x00\x5b\x00\x00\x00\x00\x00\x00",
		"\x04\x5a\x00\x00\x00\x00\x00\x00", "\x00\x5a\x00", "",
		"\x00\x5a\x00\x00\x00\x00\x00\x00extra",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &trickle{data: data}
		bound, err := readSOCKS4Reply(r, SOCKS4)
		checkReplyError(t, err)
		checkRead(t, data, r.read, 8)
		ok := len(data) >= 8 && data[0] == 0 && data[1] == 90
		if ok != (err == nil) {
			t.Fatalf("reply %q: error %v", data, err)
		}
		if ok && (bound.Port() != uint16(data[2])<<8|uint16(data[3]) || bound.Addr().As4() != [4]byte(data[4:8])) {
			t.Fatalf("reply %q: bound address %v", data, bound)
		}
	})
}

func FuzzMethodReply(f *testing.F) {
	for _, s := range []string{"\x05\x00", "\x05\x02", "\x05\xff", "\x04\x00", "\x05", "", "\x05\x01xx"} {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, userPass bool) {
		r := &trickle{data: data}
		m, err := readMethodReply(r, userPass)
		checkReplyError(t, err)
		checkRead(t, data, r.read, 2)
		ok := len(data) >= 2 && data[0] == 5 && (data[1] == 0 || data[1] == 2 && userPass)
		if ok != (err == nil) || ok && m != data[1] {
			t.Fatalf("reply %q (user offered: %v): method %d, error %v", data, userPass, m, err)
		}
		if errors.Is(err, ErrAuth) != (len(data) >= 2 && data[0] == 5 && data[1] == 0xff) {
			t.Fatalf("reply %q: error %v, ErrAuth wrongly matched or not", data, err)
		}
	})
}

func FuzzAuthReply(f *testing.F) {
	for _, s := range []string{"\x01\x00", "\x01\x01", "\x05\x00", "\x01", "", "\x01\x00xx"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &trickle{data: data}
		err := readAuthReply(r)
		checkReplyError(t, err)
		checkRead(t, data, r.read, 2)
		ok := len(data) >= 2 && data[0] == 1 && data[1] == 0
		if ok != (err == nil) {
			t.Fatalf("reply %q: error %v", data, err)
		}
	})
}

func FuzzConnectReply(f *testing.F) {
	for _, s := range []string{
		"\x05\x00\x00\x01\x7f\x00\x00\x01\x1f\x90",
		"\x05\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x50",
		"\x05\x00\x00\x03\x09localhost\x00\x50",
		"\x05\x00\x00\x03\x00\x00\x50",
		"\x05\x00\x00\x03\xff\x00\x50",
		"\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00",
		"\x05\x00\x01\x01\x00\x00\x00\x00\x00\x00",
		"\x05\x00\x00\x02",
		"\x04\x00\x00\x01",
		"\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00extra",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &trickle{data: data}
		bound, err := readConnectReply(r)
		checkReplyError(t, err)

		// What the reply declares: 4 fixed bytes, then, if they are
		// sound, the address its type gives and the port.
		declared, valid := 4, len(data) >= 4 && data[0] == 5 && data[1] == 0 && data[2] == 0
		if valid {
			switch data[3] {
			case 1:
				declared = 4 + 4 + 2
			case 4:
				declared = 4 + 16 + 2
			case 3:
				declared = 5
				if len(data) >= 5 {
					declared = 4 + 1 + int(data[4]) + 2
				}
			default:
				valid = false
			}
		}
		checkRead(t, data, r.read, declared)
		ok := valid && len(data) >= declared
		if ok != (err == nil) {
			t.Fatalf("reply %q: error %v", data, err)
		}
		var re *RefusedError
		if refused := len(data) >= 4 && data[0] == 5 && data[1] != 0; refused != errors.As(err, &re) {
			t.Fatalf("reply %q: error %v, refusal wrongly reported or not", data, err)
		}
		if ok && bound == nil {
			t.Fatalf("reply %q: no bound address", data)
		}
	})
}
