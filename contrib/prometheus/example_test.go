package gorpcxprom_test

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	gorpcxprom "github.com/gorpcx/gorpcx/contrib/prometheus"
	"github.com/gorpcx/gorpcx/handler"
	"github.com/gorpcx/gorpcx/pubsub"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

// A server whose requests, sessions and refusals Prometheus scrapes from
// /metrics on a listener of its own.
func Example() {
	ctx := context.Background()
	methods := handler.Methods{
		"greet": handler.MustFunc(func(name string) string { return "hello, " + name }),
	}
	m, err := gorpcxprom.New(&gorpcxprom.Options{
		Methods: []string{"greet"}, // any other method is "other"
	})
	if err != nil {
		log.Fatal(err)
	}
	srv := &server.Server{Address: "127.0.0.1:0", Options: session.Options{Handler: methods}}
	m.Instrument(srv) // before Listen
	if err := srv.Listen(ctx); err != nil {
		log.Fatal(err)
	}
	defer srv.Shutdown(ctx)

	// The metrics endpoint (":9100" in a real program).
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	hs := &http.Server{Handler: mux}
	go hs.Serve(ln)
	defer hs.Close()

	client, err := server.Dial(ctx, "tcp", srv.Addr().String(), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	var greeting string
	client.Call(ctx, "greet", []string{"gopher"}, &greeting)
	client.Call(ctx, "made.up.by.the.peer", nil, nil)

	printLines("http://"+ln.Addr().String()+"/metrics", "gorpcx_requests_total")
	// Output:
	// gorpcx_requests_total{method="greet",outcome="ok"} 1
	// gorpcx_requests_total{method="other",outcome="-32601"} 1
}

// A program's own registry, a hub of subscriptions and a client
// session: each gets the Metrics' observer or interceptors where it is
// made.
func ExampleMetrics_Register() {
	ctx := context.Background()
	m, err := gorpcxprom.New(&gorpcxprom.Options{
		Methods:     []string{"server.version"},
		Topics:      []string{"tip"}, // other topics are "other"
		ConstLabels: prometheus.Labels{"node": "a"},
	})
	if err != nil {
		log.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	if err := m.Register(reg); err != nil {
		log.Fatal(err)
	}

	hub, err := pubsub.NewHub(&pubsub.Options{Observer: m.Observer()}) // dropped notifications
	if err != nil {
		log.Fatal(err)
	}
	defer hub.Close()
	hub.Declare("tip", pubsub.TopicOptions{Method: "tip"})
	m.Hub(hub) // topics, subscriptions, notifications sent

	// The client side of a session: outgoing calls, and the session.
	local := server.NewLocal(&session.Options{
		Handler: handler.Methods{"server.version": handler.MustFunc(func() string { return "1.4" })},
	}, &session.Options{
		OutgoingInterceptors: []session.OutgoingInterceptor{m.OutgoingInterceptor()},
		Observer:             m.Observer(),
	})
	defer local.Close()
	local.Client.Call(ctx, "server.version", nil, nil)

	hs := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go hs.Serve(ln)
	defer hs.Close()
	url := "http://" + ln.Addr().String() + "/metrics"
	printLines(url, "gorpcx_outgoing_requests_total")
	printLines(url, "gorpcx_sessions_open")
	printLines(url, "gorpcx_pubsub_topics")
	// Output:
	// gorpcx_outgoing_requests_total{method="server.version",node="a",outcome="ok"} 1
	// gorpcx_sessions_open{node="a"} 1
	// gorpcx_pubsub_topics{node="a"} 1
}

// printLines prints the samples of the exposition at url whose name is
// name.
func printLines(url, name string) {
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(url)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			fmt.Println(line)
		}
	}
}
