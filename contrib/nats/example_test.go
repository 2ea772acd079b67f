package natsbroker_test

import (
	"context"
	"errors"
	"log"
	"os"
	"time"

	"github.com/nats-io/nats.go"

	natsbroker "github.com/gorpcx/gorpcx/contrib/nats"
	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/pubsub"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// One node of a fleet: its hub publishes through NATS, so a new tip
// published on any node is pushed to the subscribers of every node.
// Every node runs the same program. (It needs a NATS server, so it is
// compiled but not run; TestFleet runs three such nodes.)
func Example() {
	ctx := context.Background()
	host, _ := os.Hostname()
	b, err := natsbroker.Dial("nats://127.0.0.1:4222", &natsbroker.Options{
		Name: host, // shown by NATS monitoring
		NATS: []nats.Option{nats.ReconnectWait(time.Second)},
	})
	if err != nil {
		log.Fatal(err)
	}
	hub, err := pubsub.NewHub(&pubsub.Options{Broker: b, Group: server.GroupOf})
	if err != nil {
		log.Fatal(err)
	}
	defer hub.Close() // closes the broker and its connection
	const method = "blockchain.headers.subscribe"
	if err := hub.Declare("tip", pubsub.TopicOptions{Method: method, Policy: pubsub.KeepLatest}); err != nil {
		log.Fatal(err)
	}

	srv := &server.Server{Address: ":50001", Options: session.Options{Handler: handler.Methods{
		method: handler.MustFunc(func(ctx context.Context) (any, error) {
			return hub.Subscribe(ctx, session.FromContext(ctx), "tip", nil)
		}),
	}}}
	if err := srv.Listen(ctx); err != nil {
		log.Fatal(err)
	}
	defer srv.Shutdown(ctx)

	// A new block on this node: its own subscribers get it, and so do
	// the other nodes' unless NATS is unreachable right now.
	err = hub.Publish(ctx, "tip", []any{map[string]any{"height": 101, "hex": "00"}})
	if errors.Is(err, natsbroker.ErrNotConnected) {
		log.Print("NATS is down: only this node's subscribers have the new tip")
	}
}
