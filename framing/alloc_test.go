package framing

import "testing"

// TestSteadyStateAllocs checks that reading and writing a message
// allocate nothing once buffers are warm.
func TestSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	msg := payload(1000)
	check := func(name string, f func()) {
		t.Helper()
		f()
		if n := testing.AllocsPerRun(200, f); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", name, n)
		}
	}
	// testing.AllocsPerRun rounds down to whole allocations per run, so
	// each run reads many messages: an allocation every few reads, say
	// at every refill of the buffer, still counts.
	const perRun = 256
	readMany := func(read func()) func() {
		return func() {
			for range perRun {
				read()
			}
		}
	}
	for name, f := range framers {
		r := f.NewReader(&loopReader{data: wire(msg, f.AppendFrame)})
		check(name+" read", readMany(func() { _, _ = r.ReadMessage() }))
		s := NewStream(f, discardConn{})
		check(name+" write", func() { _ = s.WriteMessage(msg) })
		batch := [][]byte{msg, msg, msg}
		check(name+" write batch", func() { _ = s.WriteMessages(batch) })
	}
	jmsg := jsonPayload(1000)
	for name, f := range map[string]Framer{"rawjson": RawJSON{}, "rawjson newline": RawJSON{NewlineAfter: true}} {
		r := f.NewReader(&loopReader{data: wire(jmsg, f.AppendFrame)})
		check(name+" read", readMany(func() { _, _ = r.ReadMessage() }))
		s := NewStream(f, discardConn{})
		check(name+" write", func() { _ = s.WriteMessage(jmsg) })
		batch := [][]byte{jmsg, jmsg, jmsg}
		check(name+" write batch", func() { _ = s.WriteMessages(batch) })
	}
	br := Bitcoin{}.NewReader(&loopReader{data: wire(msg, bitcoinFrame)})
	check("bitcoin read", readMany(func() { _, _ = br.ReadMessage() }))
	bs := NewBitcoinStream(Bitcoin{}, discardConn{})
	check("bitcoin write", func() { _ = bs.WriteMessage("tx", msg) })
}
