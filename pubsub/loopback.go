package pubsub

import (
	"context"
	"errors"
	"sync"
)

// Loopback joins hubs of one process as if they were the nodes of a
// fleet: what one publishes, the others receive, synchronously. It is
// for tests and simulations of fleets, and is safe for concurrent use.
type Loopback struct {
	mu    sync.Mutex
	nodes []*loopbackNode
}

// NewLoopback returns an empty loopback fleet.
func NewLoopback() *Loopback { return &Loopback{} }

// Broker returns a new node's Broker, to give to one Hub.
func (l *Loopback) Broker() Broker {
	n := &loopbackNode{fleet: l}
	l.mu.Lock()
	l.nodes = append(l.nodes, n)
	l.mu.Unlock()
	return n
}

type loopbackNode struct {
	fleet *Loopback
	// mu serialises the calls of deliver, as the Broker contract says.
	mu      sync.Mutex
	deliver func(Message)
	closed  bool
}

var errLoopbackClosed = errors.New("pubsub: loopback broker closed")

// Publish delivers msg to every other started node, in turn.
func (n *loopbackNode) Publish(ctx context.Context, msg Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n.mu.Lock()
	closed := n.closed
	n.mu.Unlock()
	if closed {
		return errLoopbackClosed
	}
	n.fleet.mu.Lock()
	nodes := append([]*loopbackNode(nil), n.fleet.nodes...)
	n.fleet.mu.Unlock()
	for _, o := range nodes {
		if o == n {
			continue
		}
		o.mu.Lock()
		if o.deliver != nil && !o.closed {
			o.deliver(msg)
		}
		o.mu.Unlock()
	}
	return nil
}

// Start sets the function that receives the other nodes' messages.
func (n *loopbackNode) Start(deliver func(Message)) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errLoopbackClosed
	}
	n.deliver = deliver
	return nil
}

// Close stops delivery to this node.
func (n *loopbackNode) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closed = true
	n.deliver = nil
	return nil
}
