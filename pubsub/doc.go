// Package pubsub delivers server push to many sessions: a [Hub] of
// topics that sessions subscribe to, and that the program publishes
// values on, as an Electrum server pushes each new chain tip to every
// wallet that subscribed to headers, and each address's new status to
// the wallets watching it.
//
// Guarantees:
//
//   - Publishing never waits for a subscriber. A value is encoded once
//     per publication (once per JSON-RPC shape, 1.0 or 2.0, not per
//     session) and queued for each subscriber; a goroutine per
//     subscriber with something queued writes it, and exits when its
//     queue is empty.
//   - Memory is bounded: each subscriber (session) has a queue of at
//     most Options.Queue notifications. When it is full, the policy of
//     the topic being published applies: KeepLatest (the default)
//     replaces a value still waiting with the newer one, DropOldest
//     drops the oldest notification waiting, Disconnect closes the
//     session with ErrSlowConsumer. A KeepLatest value still waiting is
//     replaced even when the queue has room, so a slow peer of a chain
//     tip gets the newest tip, not a backlog.
//   - Order: the notifications of one subscriber are written in the
//     order they were published, except that a coalesced value takes
//     the place of the one it replaced.
//   - A session is removed from every topic when it ends (through
//     session.Session.AfterClose), with no action from the program. A
//     topic made by Subscribe is removed with its last subscriber; a
//     declared one (Declare) stays and keeps its last value, which
//     Subscribe returns (Electrum's subscribe answers with the current
//     tip).
//   - Limits: subscriptions per session, per peer group (with a
//     server.Server, server.GroupOf groups by IP) and per hub; past one
//     Subscribe returns a *LimitError that a handler can return as it
//     is, and the peer gets a JSON-RPC error.
//   - The bytes a subscriber is sent are charged to its session's cost
//     like every other byte it is sent.
//   - Counters per topic (Stats, Topics): published, sent, coalesced,
//     dropped, disconnected.
//
// A fleet of servers shares publications through a [Broker]: a value
// published on one node's hub reaches the subscribers of every node,
// once. contrib/nats provides a Broker on NATS; [Loopback] joins hubs
// of one process, for tests.
//
// All methods of Hub are safe for concurrent use. Lock order: the hub's
// mutex, then a topic's, then a subscriber's.
package pubsub
