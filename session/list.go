package session

// list is an intrusive doubly linked list of incoming requests. An
// incoming request can be in two lists at once, through two sets of
// links: the queue (waiting for a worker) and the unanswered list (in
// arrival order, which is also deadline order).
type list struct {
	head, tail *incoming
	len        int
	queue      bool // which links this list uses
}

func (l *list) links(in *incoming) (prev, next **incoming) {
	if l.queue {
		return &in.qprev, &in.qnext
	}
	return &in.prev, &in.next
}

func (l *list) pushBack(in *incoming) {
	prev, next := l.links(in)
	*prev, *next = l.tail, nil
	if l.tail != nil {
		_, tnext := l.links(l.tail)
		*tnext = in
	} else {
		l.head = in
	}
	l.tail = in
	l.len++
}

func (l *list) remove(in *incoming) {
	prev, next := l.links(in)
	if *prev != nil {
		_, pnext := l.links(*prev)
		*pnext = *next
	} else {
		l.head = *next
	}
	if *next != nil {
		nprev, _ := l.links(*next)
		*nprev = *prev
	} else {
		l.tail = *prev
	}
	*prev, *next = nil, nil
	l.len--
}

func (l *list) popFront() *incoming {
	in := l.head
	if in != nil {
		l.remove(in)
	}
	return in
}
