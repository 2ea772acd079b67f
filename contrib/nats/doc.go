// Package natsbroker carries the publications of a fleet of gorpcx
// servers through NATS: a [pubsub.Hub] on each node, given a [Broker]
// as its Options.Broker, delivers what it publishes to its own
// subscribers and, through NATS, to the subscribers of every other
// node, and delivers what the other nodes publish to its own.
//
// It is a module of its own (github.com/gorpcx/gorpcx/contrib/nats),
// so that the SDK's module does not depend on NATS. The package is
// named natsbroker so that it does not clash with nats.go's nats.
//
// # Use
//
// Each node dials NATS and gives the broker to its hub:
//
//	b, err := natsbroker.Dial("nats://10.0.0.5:4222", &natsbroker.Options{Name: hostname})
//	...
//	hub := pubsub.NewHub(&pubsub.Options{Broker: b})
//	defer hub.Close() // closes the broker and its connection
//
// [New] makes a Broker on a connection the program made and keeps
// (see New for the options that connection needs).
//
// # Guarantees
//
//   - No echo: a node never receives its own publications back (its hub
//     has already delivered them locally). Dial's connection is made
//     with nats.NoEcho, so NATS does not send them; on a connection
//     given to New without it, the broker recognises and discards them
//     by an origin identifier each message carries (Stats.Echoes).
//   - Exactly once per node, at most once overall: each node holds one
//     subscription, so a message NATS delivers reaches each other node's
//     hub once; NATS core neither acknowledges nor redelivers, so a
//     message can be lost (never duplicated) when a connection fails.
//   - Order: the messages of one publishing node are delivered to each
//     other node in the order its Publish calls returned, across all
//     topics (one subject, one connection each way). Messages of
//     different nodes interleave in no set order.
//   - Bytes intact: a message's topic (any bytes, any length) and its
//     params arrive as they were published.
//   - Start (which pubsub.NewHub calls): when it returns on a connection
//     that is up, the NATS server has the node's subscription, and every
//     message published after that is delivered to it.
//   - Close: when it returns, the deliver function is not running and
//     is never called again, and no goroutine of the broker is left.
//
// # While NATS is down
//
// nats.go notices a lost connection and reconnects by itself, for ever
// with Dial (nats.MaxReconnects(-1)), every nats.ReconnectWait (2 s by
// default). On reconnection it subscribes again, and deliveries resume.
// The policy for what is published meanwhile is: not delivered.
//
//   - While the connection is down (nats.RECONNECTING) Publish sends
//     nothing and returns an error wrapping [ErrNotConnected]. Dial's
//     connection is made with nats.ReconnectBufSize(-1), so nats.go does
//     not keep publications to send after the reconnection either; a
//     connection given to New that keeps them is checked the same way
//     before each Publish. A hub's local subscribers still get the value
//     (the hub delivers locally before it publishes to the broker).
//   - A publication made in the moment between the server's failure and
//     nats.go noticing it (at once when the server's process ends, which
//     closes the TCP connection; after nats.PingInterval times
//     nats.MaxPingsOutstanding when the network silently fails) is
//     accepted and lost.
//   - What other nodes publish while this node is disconnected from NATS
//     is not delivered to it afterwards.
//   - Publications made after every node has reconnected are delivered
//     as usual. A program that must bring other nodes up to date after an
//     outage republishes its current values from a nats.ReconnectHandler
//     (given in Options.NATS).
//
// Stale values are not replayed on purpose: for the values hubs carry
// (a chain tip, a status hash), the next publication supersedes them.
//
// # Wire format
//
// All nodes of a fleet publish on one subject ([Options.Subject],
// default "gorpcx.pubsub"), so a topic needs no escaping into a subject
// and may be any string. Each NATS message's payload is: the byte 1
// (the format), the publishing broker's 16-byte origin identifier
// (random, chosen by New or Dial), the topic's length as a uvarint, the
// topic's bytes, then the params (one JSON value) to the end. Payloads
// on the subject that are not of this form, or whose params are not
// valid JSON, are discarded and counted (Stats.Malformed), so that
// another publisher on the subject cannot make a hub send a client
// invalid JSON. A message must fit the NATS server's max_payload (1 MiB
// by default) with its 18 to 27 bytes of framing and its topic.
//
// # Limits
//
// Messages received wait for the deliver function in nats.go's pending
// queue of the subscription, bounded by nats.go's default pending limits
// (nats.DefaultSubPendingMsgsLimit messages, nats.DefaultSubPendingBytesLimit
// bytes); past them nats.go drops them (Stats.Dropped). A hub's deliver
// function does not block, so the queue stays short.
package natsbroker
