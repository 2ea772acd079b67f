package main

import (
	"slices"
)

// cell is the medians of one server under one setting.
type cell struct {
	rps, items, p50, p99 float64
	kib                  float64 // idle tests
	serverCPU, loadCPU   float64 // µs per request
	runs, failed         int
	firstErr             string
}

// key names a (server, setting) pair.
type key struct{ server, setting string }

// medians aggregates the measurements: the median of the successful
// repetitions of each server under each setting.
func medians(ms []measurement) map[key]*cell {
	type series struct {
		rps, items, p50, p99, kib, scpu, lcpu []float64
		failed                                int
		firstErr                              string
	}
	all := map[key]*series{}
	for _, m := range ms {
		k := key{m.server, m.setting}
		s := all[k]
		if s == nil {
			s = &series{}
			all[k] = s
		}
		if m.err != nil {
			s.failed++
			if s.firstErr == "" {
				s.firstErr = m.err.Error()
			}
			continue
		}
		s.rps = append(s.rps, m.load.RPS)
		s.items = append(s.items, m.load.ItemsPerSec)
		s.p50 = append(s.p50, m.load.P50us)
		s.p99 = append(s.p99, m.load.P99us)
		s.kib = append(s.kib, m.kibPerSession)
		s.scpu = append(s.scpu, m.serverCPUPerReq)
		s.lcpu = append(s.lcpu, m.load.CPUPerReq)
	}
	cells := map[key]*cell{}
	for k, s := range all {
		cells[k] = &cell{
			rps: median(s.rps), items: median(s.items), p50: median(s.p50), p99: median(s.p99),
			kib: median(s.kib), serverCPU: median(s.scpu), loadCPU: median(s.lcpu),
			runs: len(s.rps), failed: s.failed, firstErr: s.firstErr,
		}
	}
	return cells
}

// median returns the median of xs (the mean of the middle two for an
// even count), or 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
