package protocol

// AppendBatch appends a batch of up to n items to dst: '[', the items
// joined by commas, ']'. item(dst, i) appends item i (one JSON value,
// for example from a Codec's Append methods) and returns the extended
// buffer; it may append nothing to leave item i out, as a batch reply
// leaves out notifications. AppendBatch serves requests and replies
// alike, and needs no buffer per item.
//
// If no item appends anything, AppendBatch returns dst unchanged: a
// batch of notifications gets no reply at all. If item returns an
// error, AppendBatch stops and returns dst unchanged and that error.
func AppendBatch(dst []byte, n int, item func(dst []byte, i int) ([]byte, error)) ([]byte, error) {
	orig, start := dst, len(dst)
	dst = append(dst, '[')
	for i := 0; i < n; i++ {
		if len(dst) > start+1 {
			dst = append(dst, ',')
		}
		mark := len(dst)
		var err error
		if dst, err = item(dst, i); err != nil {
			return orig, err
		}
		if len(dst) == mark && mark > start+1 {
			dst = dst[:mark-1] // drop the comma
		}
	}
	if len(dst) == start+1 {
		return orig, nil
	}
	return append(dst, ']'), nil
}
