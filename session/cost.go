package session

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// costMeter keeps a peer's resource cost as aiorpcX's SessionBase does,
// and turns it into a throttling delay and a concurrency target.
type costMeter struct {
	mu    sync.Mutex
	cfg   Cost
	clock Clock
	cost  float64
	last  float64   // cost at the last recalculation
	at    time.Time // time of the last decay
	// fraction is (cost − soft) / (hard − soft), at least 0, as the
	// bits of a float64: written under mu, read without it by delay, on
	// the path of every request.
	fraction atomic.Uint64
	// retarget is called, outside mu, with the new concurrency
	// fraction after a recalculation that changed it.
	retarget func(fraction float64)
}

func newCostMeter(cfg Cost, clock Clock, retarget func(float64)) *costMeter {
	return &costMeter{cfg: cfg, clock: clock, at: clock.Now(), retarget: retarget}
}

// bump adds delta (which may be negative) to the cost and recalculates
// the throttling when the cost moved by more than 100 since the last
// recalculation.
func (m *costMeter) bump(delta float64) {
	m.mu.Lock()
	m.cost = math.Max(0, m.cost+delta)
	// Recalculated when the cost moved by more than 100 (aiorpcX's
	// rule), and on every change past the hard limit, so that a peer
	// just over it is closed at its next message.
	if math.Abs(m.cost-m.last) <= 100 && (m.cfg.HardLimit <= 0 || m.cost < m.cfg.HardLimit) {
		m.mu.Unlock()
		return
	}
	m.recalcLocked()
}

// recalcLocked is called with mu held and releases it.
func (m *costMeter) recalcLocked() {
	now := m.clock.Now()
	elapsed := now.Sub(m.at).Seconds()
	if elapsed > 0 {
		m.cost = math.Max(0, m.cost-elapsed*m.cfg.DecayPerSecond)
	}
	m.at = now
	m.last = m.cost
	softRange := m.cfg.HardLimit - m.cfg.SoftLimit
	if m.cfg.HardLimit <= 0 || softRange <= 0 {
		m.mu.Unlock()
		return
	}
	cost := m.cost
	extra := m.cfg.Extra
	m.mu.Unlock()
	if extra != nil {
		cost += extra()
	}
	fraction := math.Max(0, (cost-m.cfg.SoftLimit)/softRange)
	m.mu.Lock()
	changed := fraction != math.Float64frombits(m.fraction.Load())
	m.fraction.Store(math.Float64bits(fraction))
	m.mu.Unlock()
	if changed && m.retarget != nil {
		m.retarget(fraction)
	}
}

// value returns the current cost, decayed to now.
func (m *costMeter) value() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	elapsed := m.clock.Now().Sub(m.at).Seconds()
	if elapsed <= 0 {
		return m.cost
	}
	return math.Max(0, m.cost-elapsed*m.cfg.DecayPerSecond)
}

// delay is how long a request sleeps before it runs: MaxSleep times
// the fraction of the way from the soft to the hard limit.
func (m *costMeter) delay() time.Duration {
	f := math.Float64frombits(m.fraction.Load())
	if f <= 0 {
		return 0
	}
	return time.Duration(f * float64(m.cfg.MaxSleep))
}

// concurrencyTarget is aiorpcX's max(0, ceil((1 − fraction) × base)).
func concurrencyTarget(base int, fraction float64) int {
	t := math.Ceil((1 - fraction) * float64(base))
	if t < 0 {
		return 0
	}
	return int(t)
}
