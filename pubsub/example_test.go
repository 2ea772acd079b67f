package pubsub_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/pubsub"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// A server whose clients subscribe to the chain tip: the subscribe
// method answers with the current tip, and every new tip is pushed.
func ExampleHub() {
	ctx := context.Background()
	hub, err := pubsub.NewHub(&pubsub.Options{Group: server.GroupOf})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer hub.Close()
	const method = "blockchain.headers.subscribe"
	hub.Declare("tip", pubsub.TopicOptions{Method: method, Policy: pubsub.KeepLatest})
	hub.Publish(ctx, "tip", []any{map[string]int{"height": 100}})

	methods := handler.Methods{
		method: handler.MustFunc(func(ctx context.Context) (any, error) {
			last, err := hub.Subscribe(session.FromContext(ctx), "tip", nil)
			if err != nil {
				return nil, err
			}
			return last, nil
		}),
	}
	srv := &server.Server{Options: session.Options{Handler: methods}}
	if err := srv.Listen(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown(ctx)

	pushed := make(chan string, 1)
	client, err := server.Dial(ctx, "tcp", srv.Addr().String(), &session.Options{
		Handler: session.HandlerFunc(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
			pushed <- string(*req.Params)
			return nil, nil
		}),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	var current any
	if err := client.Call(ctx, method, nil, &current); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("subscribed at", current)
	hub.Publish(ctx, "tip", []any{map[string]int{"height": 101}})
	select {
	case p := <-pushed:
		fmt.Println("pushed", p)
	case <-time.After(5 * time.Second):
		fmt.Println("nothing pushed")
	}
	// Output:
	// subscribed at [map[height:100]]
	// pushed [{"height":101}]
}
