package pubsub

import (
	"context"
	"encoding/json"
)

// Message is one publication as it crosses a fleet: the topic and the
// params of the notification its subscribers get.
type Message struct {
	Topic  string
	Params json.RawMessage
}

// Broker carries publications between the hubs of a fleet of servers,
// so that a value published on one node reaches the subscribers of
// every node. A Hub without a Broker delivers to its own sessions only.
//
// A Broker is used by one Hub. Its methods are safe for concurrent use.
type Broker interface {
	// Publish sends msg to the other nodes of the fleet. It must not
	// deliver msg back to this node's own Start function (the hub has
	// already delivered it locally). It may return before the other
	// nodes have received it; an error means msg was not sent.
	Publish(ctx context.Context, msg Message) error
	// Start makes the broker call deliver for every message the other
	// nodes publish, from then until Close; deliver may be called from
	// any goroutine, but not concurrently with itself for one broker.
	// It returns an error if the broker cannot receive.
	Start(deliver func(Message)) error
	// Close stops receiving and releases the broker's resources; no
	// call of deliver begins after it returns.
	Close() error
}
