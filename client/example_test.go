package client_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/client"
	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/pubsub"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// A client that subscribes to a server's chain tip on every connection
// and is told when it reconnects.
func Example() {
	ctx := context.Background()
	// A server pushing the chain tip to its subscribers.
	hub, err := pubsub.NewHub(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer hub.Close()
	hub.Declare("tip", pubsub.TopicOptions{Method: "blockchain.headers", Policy: pubsub.KeepLatest})
	srv := &server.Server{Options: session.Options{Handler: handler.Methods{
		"blockchain.headers.subscribe": handler.MustFunc(func(ctx context.Context) (any, error) {
			return hub.Subscribe(ctx, session.FromContext(ctx), "tip", nil)
		}),
	}}}
	if err := srv.Listen(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown(ctx)

	pushed := make(chan string, 1)
	c, err := client.New(&client.Options{
		Endpoints: []client.Endpoint{{Address: srv.Addr().String()}},
		Dialer: server.Dialer{
			Timeout: 5 * time.Second,
			Options: session.Options{
				Handler: session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
					pushed <- string(*req.Params)
					return nil, nil
				}),
				Ping: &session.Ping{Method: "server.ping", Interval: time.Minute},
			},
		},
		OnConnect: func(ctx context.Context, s *session.Session) error {
			return s.Call(ctx, "blockchain.headers.subscribe", nil, nil)
		},
		OnState: func(st client.State) {
			if st.Kind == client.Connected && st.Connection > 1 {
				fmt.Println("reconnected: notifications may have been missed")
			}
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Ready(rctx); err != nil {
		fmt.Println(err)
		return
	}
	hub.Publish(ctx, "tip", []any{map[string]int{"height": 101}})
	select {
	case p := <-pushed:
		fmt.Println("pushed", p)
	case <-time.After(5 * time.Second):
		fmt.Println("nothing pushed")
	}
	// Output:
	// pushed [{"height":101}]
}
