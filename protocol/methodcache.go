package protocol

import "sync/atomic"

// methodCache holds method names decoded lately, so that a method called
// again, the usual case, costs no allocation for its name. It has
// methodSlots slots, one chosen by a name's length and last byte; a name
// that misses replaces the slot's. Names longer than maxCachedMethod are
// not kept. Safe for concurrent use: each slot is one atomic pointer.
type methodCache struct {
	slot [methodSlots]atomic.Pointer[string]
}

const (
	methodSlots     = 8
	maxCachedMethod = 64
)

// name returns raw (an unescaped method name) as a string: the cached
// one if it is there.
func (m *methodCache) name(raw []byte) string {
	if len(raw) == 0 || len(raw) > maxCachedMethod {
		return string(raw)
	}
	slot := &m.slot[(len(raw)^int(raw[len(raw)-1]))%methodSlots]
	if p := slot.Load(); p != nil && *p == string(raw) {
		return *p
	}
	s := string(raw)
	slot.Store(&s)
	return s
}
