package natsbroker_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/sourcegraph/jsonrpc2"

	natsbroker "github.com/gorpcx/gorpcx/contrib/nats"
	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/internal/realpeer"
	"github.com/gorpcx/gorpcx/pubsub"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// The notification the fleet's clients get, and the topic they
// subscribe to (a topic with bytes a NATS subject could not hold).
const (
	notifyMethod = "blockchain.headers.subscribe"
	fleetTopic   = "tip.*>\x00 é"
)

// node is one server of the fleet: a gorpcx server whose hub publishes
// through NATS, and the clients connected to it.
type node struct {
	broker  *natsbroker.Broker
	hub     *pubsub.Hub
	server  *server.Server
	clients []*client
}

// client is a real TCP session to a node, recording the params of the
// notifications the server pushes to it.
type client struct {
	mu     sync.Mutex
	pushed []string
}

func (c *client) got() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.pushed...)
}

// startNode starts a server on loopback whose "subscribe" method
// subscribes the calling session to the topic named in its params, and
// connects clients to it, each subscribed to fleetTopic.
func startNode(t *testing.T, url, name string, clients int) *node {
	t.Helper()
	ctx := context.Background()
	b, err := natsbroker.Dial(url, &natsbroker.Options{Name: name, NATS: fast})
	if err != nil {
		t.Fatal(err)
	}
	hub, err := pubsub.NewHub(&pubsub.Options{Broker: b, Group: server.GroupOf})
	if err != nil {
		b.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := hub.Close(); err != nil { // closes the broker
			t.Errorf("%s: closing the hub: %v", name, err)
		}
	})
	if err := hub.Declare(fleetTopic, pubsub.TopicOptions{Method: notifyMethod, Policy: pubsub.KeepLatest}); err != nil {
		t.Fatal(err)
	}
	n := &node{broker: b, hub: hub}
	n.server = &server.Server{Options: session.Options{Handler: handler.Methods{
		"subscribe": handler.MustFunc(func(ctx context.Context, topic string) (any, error) {
			return hub.Subscribe(ctx, session.FromContext(ctx), topic, nil)
		}),
	}}}
	if err := n.server.Listen(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.server.Shutdown(ctx); err != nil {
			t.Errorf("%s: shutdown: %v", name, err)
		}
	})
	for range clients {
		c := new(client)
		s, err := server.Dial(ctx, "tcp", n.server.Addr().String(), &session.Options{
			Handler: session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
				if req.Notif && req.Method == notifyMethod && req.Params != nil {
					c.mu.Lock()
					c.pushed = append(c.pushed, string(*req.Params))
					c.mu.Unlock()
				}
				return nil, nil
			}),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		var last any
		if err := s.Call(ctx, "subscribe", []string{fleetTopic}, &last); err != nil {
			t.Fatal(err)
		}
		n.clients = append(n.clients, c)
	}
	return n
}

// TestFleet runs three gorpcx servers whose hubs publish through a real
// NATS server, with clients subscribed on each: one publication on any
// node reaches every client of every node exactly once. Then NATS is
// restarted: a publication while it is down reaches only the
// publishing node's own clients (Publish returns ErrNotConnected), and
// publications after the brokers have reconnected reach everyone once.
func TestFleet(t *testing.T) {
	srv := realpeer.StartNATS(t)
	var nodes []*node
	for i := range 3 {
		nodes = append(nodes, startNode(t, srv.URL, fmt.Sprint("node", i), 3))
	}
	ctx := context.Background()
	// want[i] is what every client of node i must have been pushed.
	want := make([][]string, len(nodes))

	// publishAll publishes [v] on node i and waits until every client
	// of every node has it. Publishing in turn from each node is also a
	// barrier: a second copy of an earlier value would reach a client
	// before the later value that crossed NATS after it.
	publishAll := func(i, v int) {
		t.Helper()
		if err := nodes[i].hub.Publish(ctx, fleetTopic, []int{v}); err != nil {
			t.Fatalf("node %d: Publish(%d): %v", i, v, err)
		}
		p := fmt.Sprintf("[%d]", v)
		for j, n := range nodes {
			want[j] = append(want[j], p)
			for k, c := range n.clients {
				waitFor(t, fmt.Sprintf("pushed %s to client %d of node %d", p, k, j), func() bool {
					got := c.got()
					return len(got) > 0 && got[len(got)-1] == p
				})
			}
		}
	}
	check := func(when string) {
		t.Helper()
		for j, n := range nodes {
			for k, c := range n.clients {
				if got, w := strings.Join(c.got(), " "), strings.Join(want[j], " "); got != w {
					t.Errorf("%s: client %d of node %d was pushed %s, want %s (each once)", when, k, j, got, w)
				}
			}
		}
	}

	publishAll(0, 1)
	publishAll(1, 2)
	publishAll(2, 3)
	check("before the restart")

	stopped := time.Now()
	srv.Stop()
	waitFor(t, "every broker reconnecting", func() bool {
		for _, n := range nodes {
			if n.broker.Conn().Status() != nats.RECONNECTING {
				return false
			}
		}
		return true
	})
	noticed := time.Since(stopped)
	err := nodes[0].hub.Publish(ctx, fleetTopic, []int{4})
	if !errors.Is(err, natsbroker.ErrNotConnected) {
		t.Fatalf("Publish while NATS is down: %v, want ErrNotConnected", err)
	}
	// The publishing node's own clients are served all the same.
	want[0] = append(want[0], "[4]")
	for k, c := range nodes[0].clients {
		waitFor(t, fmt.Sprintf("pushed [4] to client %d of node 0", k), func() bool {
			got := c.got()
			return got[len(got)-1] == "[4]"
		})
	}

	restarted := time.Now()
	srv.Start()
	for _, n := range nodes {
		reconnected(t, n.broker)
	}
	t.Logf("the brokers noticed NATS was down %v after it was stopped, and were subscribed again %v after it was started", noticed, time.Since(restarted))
	publishAll(0, 5)
	publishAll(1, 6)
	publishAll(2, 7)
	check("after the restart")

	for i, n := range nodes {
		st := n.broker.Stats()
		if st.Published != 2 || st.Echoes != 0 || st.Malformed != 0 || st.Dropped != 0 {
			t.Errorf("node %d broker stats %+v; want 2 published, no echo, malformed or dropped", i, st)
		}
		if i == 0 && st.Refused != 1 {
			t.Errorf("node 0 refused %d publications, want 1 (while NATS was down)", st.Refused)
		}
	}
}
