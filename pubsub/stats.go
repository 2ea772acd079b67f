package pubsub

import "sort"

// Stats returns the counters of topic, and false if the hub has no such
// topic now.
func (h *Hub) Stats(topic string) (TopicStats, bool) {
	h.mu.Lock()
	t := h.topics[topic]
	h.mu.Unlock()
	if t == nil {
		return TopicStats{}, false
	}
	return t.stats(), true
}

// Topics returns the counters of every topic the hub has now, by name.
// A topic made by Subscribe is forgotten, counters and all, when its
// last subscriber leaves.
func (h *Hub) Topics() []TopicStats {
	h.mu.Lock()
	ts := make([]*topic, 0, len(h.topics))
	for _, t := range h.topics {
		ts = append(ts, t)
	}
	h.mu.Unlock()
	out := make([]TopicStats, len(ts))
	for i, t := range ts {
		out[i] = t.stats()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Topic < out[j].Topic })
	return out
}
