package natsbroker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"

	natsbroker "github.com/gorpcx/gorpcx/contrib/nats"
	"github.com/gorpcx/gorpcx/internal/realpeer"
	"github.com/gorpcx/gorpcx/pubsub"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// wait bounds every wait of these tests; it is there to end a broken
// test, never to measure anything.
const wait = 20 * time.Second

// fast are the connection options of the tests: reconnection attempts
// close together, so that a restarted server is found quickly.
var fast = []nats.Option{nats.ReconnectWait(50 * time.Millisecond), nats.ReconnectJitter(10*time.Millisecond, 10*time.Millisecond)}

// inbox records what a broker delivers.
type inbox struct {
	mu   sync.Mutex
	msgs []pubsub.Message
}

func (in *inbox) deliver(m pubsub.Message) {
	in.mu.Lock()
	in.msgs = append(in.msgs, m)
	in.mu.Unlock()
}

func (in *inbox) all() []pubsub.Message {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]pubsub.Message(nil), in.msgs...)
}

// waitFor polls cond until it holds, failing t after wait.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not %s after %v", what, wait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitTopic waits until in holds a message of topic, and returns how
// many messages it held then.
func waitTopic(t *testing.T, in *inbox, topic string) int {
	t.Helper()
	var n int
	waitFor(t, "received "+topic, func() bool {
		msgs := in.all()
		n = len(msgs)
		for _, m := range msgs {
			if m.Topic == topic {
				return true
			}
		}
		return false
	})
	return n
}

// dial makes a started broker on srv, closed when the test ends.
func dial(t *testing.T, srv *realpeer.NATS, o *natsbroker.Options) (*natsbroker.Broker, *inbox) {
	t.Helper()
	if o == nil {
		o = &natsbroker.Options{}
	}
	o.NATS = append(o.NATS, fast...)
	b, err := natsbroker.Dial(srv.URL, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	in := new(inbox)
	if err := b.Start(in.deliver); err != nil { // the server has the subscription
		t.Fatal(err)
	}
	return b, in
}

func publish(t *testing.T, b *natsbroker.Broker, topic, params string) {
	t.Helper()
	if err := b.Publish(context.Background(), pubsub.Message{Topic: topic, Params: json.RawMessage(params)}); err != nil {
		t.Fatalf("Publish(%q): %v", topic, err)
	}
}

// messages are published by the tests: topics of any bytes and any
// length, params of every kind of JSON value.
func messages() []pubsub.Message {
	return []pubsub.Message{
		{Topic: "blockchain.headers.subscribe", Params: json.RawMessage(`[{"height":11,"hex":"00ff"}]`)},
		{Topic: "", Params: json.RawMessage(`null`)},
		{Topic: "a.*.>", Params: json.RawMessage(`"wildcards are not special in a topic"`)},
		{Topic: "\x00\xff\n\r\t \"é", Params: json.RawMessage(` [ 1 , 2 ] `)},
		{Topic: strings.Repeat("t", 10_000), Params: json.RawMessage(`{"long":"topic"}`)},
		{Topic: "scripthash", Params: json.RawMessage(`["8b01df4e368ea28f8dc0423bcf7a4923e3a12d307c875e47a0cfbf90b5c39161","` + strings.Repeat("ab", 32) + `"]`)},
		{Topic: "big", Params: json.RawMessage(`"` + strings.Repeat("x", 500_000) + `"`)},
		{Topic: "n", Params: json.RawMessage(`-1.5e3`)},
	}
}

// TestPublishReachesOtherNodesOnce publishes on A and checks that B and
// C each receive every message once, in order, with its bytes intact,
// and that A receives none of its own.
func TestPublishReachesOtherNodesOnce(t *testing.T) {
	srv := realpeer.StartNATS(t)
	a, inA := dial(t, srv, &natsbroker.Options{Name: "a"})
	_, inB := dial(t, srv, &natsbroker.Options{Name: "b"})
	c, inC := dial(t, srv, &natsbroker.Options{Name: "c"})

	var want []pubsub.Message
	for round := range 3 {
		for _, m := range messages() {
			m.Topic = fmt.Sprint(round, m.Topic)
			want = append(want, m)
			publish(t, a, m.Topic, string(m.Params))
		}
	}
	// NATS delivers one publisher's messages in order: once "end" is in,
	// so is every copy of the messages before it.
	publish(t, a, "end", `true`)
	want = append(want, pubsub.Message{Topic: "end", Params: json.RawMessage(`true`)})
	waitTopic(t, inB, "end")
	waitTopic(t, inC, "end")
	// A's own messages, had NATS sent them back, would reach A before a
	// message C publishes after receiving them all.
	publish(t, c, "from c", `1`)
	waitTopic(t, inA, "from c")

	for name, in := range map[string]*inbox{"B": inB, "C": inC} {
		var got []pubsub.Message // A's messages, without the one of C
		for _, m := range in.all() {
			if m.Topic != "from c" {
				got = append(got, m)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s received %d messages, want %d (each once)", name, len(got), len(want))
			continue
		}
		for i := range want {
			if got[i].Topic != want[i].Topic || !bytes.Equal(got[i].Params, want[i].Params) {
				t.Errorf("%s's message %d is %.40q %.40s, want %.40q %.40s", name, i, got[i].Topic, got[i].Params, want[i].Topic, want[i].Params)
			}
		}
	}
	if got := inA.all(); len(got) != 1 {
		t.Errorf("A received %d messages, want only C's one (never its own)", len(got))
	}
	if s := a.Stats(); s.Published != uint64(len(want)) || s.Refused != 0 || s.Echoes != 0 || s.Delivered != 1 {
		t.Errorf("A's stats %+v; want %d published, 1 delivered, nothing refused or echoed", s, len(want))
	}
}

// TestStartSubscribedAtServer is the regression test of a fleet test
// that failed now and then: a node published right after another
// node's hub had started, before the NATS server had the new node's
// subscription, and the new node missed it. Start now returns once the
// server has the subscription.
func TestStartSubscribedAtServer(t *testing.T) {
	srv := realpeer.StartNATS(t)
	a, _ := dial(t, srv, nil)
	for i := range 20 {
		b, err := natsbroker.Dial(srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		in := new(inbox)
		if err := b.Start(in.deliver); err != nil {
			t.Fatal(err)
		}
		publish(t, a, fmt.Sprint("first", i), `1`)
		publish(t, a, "end", `1`)
		waitTopic(t, in, "end")
		if got := in.all(); len(got) != 2 {
			t.Errorf("round %d: received %v, want the message published right after Start, then end", i, got)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestNoEchoWithoutNoEcho gives New a connection made without
// nats.NoEcho: NATS sends the node's messages back, and the broker
// discards them.
func TestNoEchoWithoutNoEcho(t *testing.T) {
	srv := realpeer.StartNATS(t)
	nc, err := nats.Connect(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	a, err := natsbroker.New(nc, nil)
	if err != nil {
		t.Fatal(err)
	}
	inA := new(inbox)
	if err := a.Start(inA.deliver); err != nil {
		t.Fatal(err)
	}
	if err := nc.FlushTimeout(wait); err != nil {
		t.Fatal(err)
	}
	_, inB := dial(t, srv, nil)

	for i := range 10 {
		publish(t, a, fmt.Sprint("t", i), `{}`)
	}
	waitTopic(t, inB, "t9")
	waitFor(t, "10 echoes discarded", func() bool { return a.Stats().Echoes == 10 })
	if got := inA.all(); len(got) != 0 {
		t.Errorf("A delivered %d of its own messages, want none", len(got))
	}
	if got := inB.all(); len(got) != 10 {
		t.Errorf("B received %d messages, want 10", len(got))
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if nc.IsClosed() {
		t.Error("Close closed a connection New was given")
	}
}

// TestClose checks that a closed broker delivers nothing more, while
// the others go on, and refuses to publish or start.
func TestClose(t *testing.T) {
	srv := realpeer.StartNATS(t)
	a, _ := dial(t, srv, nil)
	b, inB := dial(t, srv, nil)
	_, inC := dial(t, srv, nil)

	publish(t, a, "before", `1`)
	waitTopic(t, inB, "before")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if !b.Conn().IsClosed() {
		t.Error("Close left Dial's connection open")
	}
	publish(t, a, "after", `2`)
	waitTopic(t, inC, "after")
	if got := inB.all(); len(got) != 1 {
		t.Errorf("the closed broker delivered %d messages, want 1 (none after Close)", len(got))
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
	if err := b.Publish(context.Background(), pubsub.Message{Topic: "x", Params: json.RawMessage(`1`)}); !errors.Is(err, natsbroker.ErrClosed) {
		t.Errorf("Publish after Close: %v, want ErrClosed", err)
	}
	if err := b.Start(new(inbox).deliver); !errors.Is(err, natsbroker.ErrClosed) {
		t.Errorf("Start after Close: %v, want ErrClosed", err)
	}
	if s := b.Stats(); s.Refused != 1 || s.Delivered != 1 {
		t.Errorf("stats %+v, want 1 refused and 1 delivered", s)
	}
}

// TestCloseWhileDelivering closes a broker while its deliver function
// is running: Close waits for it, and nothing is delivered afterwards.
func TestCloseWhileDelivering(t *testing.T) {
	srv := realpeer.StartNATS(t)
	a, _ := dial(t, srv, nil)
	b, err := natsbroker.Dial(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	closed, late := false, 0
	err = b.Start(func(pubsub.Message) {
		mu.Lock()
		if closed {
			late++
		}
		mu.Unlock()
		select {
		case entered <- struct{}{}:
			<-release
		default:
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		publish(t, a, fmt.Sprint(i), `0`)
	}
	<-entered
	closeReturned := make(chan error, 1)
	go func() { closeReturned <- b.Close() }()
	select {
	case err := <-closeReturned:
		t.Fatalf("Close returned (%v) while deliver was running", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-closeReturned; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	closed = true
	mu.Unlock()
	for i := range 10 {
		publish(t, a, fmt.Sprint("after", i), `0`)
	}
	if err := a.Conn().FlushTimeout(wait); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if late != 0 {
		t.Errorf("deliver was called %d times after Close returned", late)
	}
}

func TestStartTwice(t *testing.T) {
	srv := realpeer.StartNATS(t)
	b, _ := dial(t, srv, nil)
	if err := b.Start(new(inbox).deliver); !errors.Is(err, natsbroker.ErrStarted) {
		t.Errorf("second Start: %v, want ErrStarted", err)
	}
	if err := b.Start(nil); err == nil {
		t.Error("Start(nil) succeeded")
	}
}

// TestSubjectsSeparateFleets checks that brokers on different subjects
// do not hear each other, and that Subject reports the one in use.
func TestSubjectsSeparateFleets(t *testing.T) {
	srv := realpeer.StartNATS(t)
	a1, _ := dial(t, srv, &natsbroker.Options{Subject: "fleet1"})
	_, in1 := dial(t, srv, &natsbroker.Options{Subject: "fleet1"})
	a2, _ := dial(t, srv, nil)
	_, in2 := dial(t, srv, nil)
	if a1.Subject() != "fleet1" || a2.Subject() != natsbroker.DefaultSubject {
		t.Fatalf("subjects %q and %q", a1.Subject(), a2.Subject())
	}
	publish(t, a1, "one", `1`)
	publish(t, a2, "two", `2`)
	waitTopic(t, in1, "one")
	waitTopic(t, in2, "two")
	// Each subscriber's messages come in order from one publisher only;
	// a round trip on each publisher lets any stray copy arrive first.
	for _, b := range []*natsbroker.Broker{a1, a2} {
		if err := b.Conn().FlushTimeout(wait); err != nil {
			t.Fatal(err)
		}
	}
	publish(t, a1, "end", `0`)
	publish(t, a2, "end", `0`)
	waitTopic(t, in1, "end")
	waitTopic(t, in2, "end")
	if got := in1.all(); len(got) != 2 || got[0].Topic != "one" {
		t.Errorf("fleet1 received %v, want only its own messages", got)
	}
	if got := in2.all(); len(got) != 2 || got[0].Topic != "two" {
		t.Errorf("the default fleet received %v, want only its own messages", got)
	}
}

// TestPublishRefused checks the errors of Publish for messages that
// cannot be sent.
func TestPublishRefused(t *testing.T) {
	srv := realpeer.StartNATS(t)
	b, _ := dial(t, srv, nil)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		msg  pubsub.Message
		want error
	}{
		{"empty params", context.Background(), pubsub.Message{Topic: "t"}, natsbroker.ErrBadParams},
		{"invalid JSON", context.Background(), pubsub.Message{Topic: "t", Params: json.RawMessage(`[1,`)}, natsbroker.ErrBadParams},
		{"two values", context.Background(), pubsub.Message{Topic: "t", Params: json.RawMessage(`1 2`)}, natsbroker.ErrBadParams},
		{"over max_payload", context.Background(), pubsub.Message{Topic: "t", Params: json.RawMessage(`"` + strings.Repeat("x", 1<<20) + `"`)}, nats.ErrMaxPayload},
		{"canceled", canceled, pubsub.Message{Topic: "t", Params: json.RawMessage(`1`)}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := b.Publish(tc.ctx, tc.msg); !errors.Is(err, tc.want) {
				t.Errorf("Publish: %v, want %v", err, tc.want)
			}
		})
	}
	if s := b.Stats(); s.Refused != 5 || s.Published != 0 {
		t.Errorf("stats %+v, want 5 refused", s)
	}
}

// TestMalformedDiscarded publishes payloads that are not a broker's on
// the fleet's subject: they are counted and not delivered.
func TestMalformedDiscarded(t *testing.T) {
	srv := realpeer.StartNATS(t)
	a, _ := dial(t, srv, nil)
	b, in := dial(t, srv, nil)
	id := bytes.Repeat([]byte{7}, 16)
	bad := [][]byte{
		nil,
		[]byte("hello"),
		append([]byte{2}, id...),               // another format
		append(append([]byte{1}, id...), 0x80), // truncated length
		append(append([]byte{1}, id...), 5, 'a', 'b'),               // topic longer than the payload
		append(append([]byte{1}, id...), 1, 't', '{'),               // params not JSON
		append(append([]byte{1}, id...), 1, 't'),                    // no params
		append(append([]byte{1}, id...), 1, 't', '1', ' ', '2'),     // two values
		append(append([]byte{1}, id[:8]...), 1, 't', '1', '1', '1'), // short origin
	}
	for _, p := range bad {
		if err := a.Conn().Publish(natsbroker.DefaultSubject, p); err != nil {
			t.Fatal(err)
		}
	}
	good := append(append([]byte{1}, id...), 1, 't', '[', ']')
	if err := a.Conn().Publish(natsbroker.DefaultSubject, good); err != nil {
		t.Fatal(err)
	}
	waitTopic(t, in, "t")
	if got := in.all(); len(got) != 1 || string(got[0].Params) != "[]" {
		t.Errorf("delivered %v, want only the well-formed message", got)
	}
	if s := b.Stats(); s.Malformed != uint64(len(bad)) {
		t.Errorf("stats %+v, want %d malformed", s, len(bad))
	}
}

// TestNATSRestart stops the NATS server and starts it again: a
// publication while it is down fails with ErrNotConnected and is never
// delivered; after the brokers reconnect, publications are delivered
// once each.
func TestNATSRestart(t *testing.T) {
	srv := realpeer.StartNATS(t)
	a, _ := dial(t, srv, nil)
	b, in := dial(t, srv, nil)
	// c's connection, given to New, keeps what is published while it is
	// down (nats.go's default): the broker refuses to publish all the same.
	nc, err := nats.Connect(srv.URL, append([]nats.Option{nats.NoEcho(), nats.MaxReconnects(-1)}, fast...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c, err := natsbroker.New(nc, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	publish(t, a, "before", `1`)
	waitTopic(t, in, "before")

	srv.Stop()
	waitFor(t, "reconnecting", func() bool {
		return a.Conn().Status() == nats.RECONNECTING && b.Conn().Status() == nats.RECONNECTING && nc.Status() == nats.RECONNECTING
	})
	for name, br := range map[string]*natsbroker.Broker{"Dial's": a, "New's": c} {
		err := br.Publish(context.Background(), pubsub.Message{Topic: "while down", Params: json.RawMessage(`2`)})
		if !errors.Is(err, natsbroker.ErrNotConnected) {
			t.Fatalf("Publish on %s connection while NATS is down: %v, want ErrNotConnected", name, err)
		}
	}

	srv.Start()
	reconnected(t, a, b, c)
	publish(t, a, "after", `3`)
	waitTopic(t, in, "after")
	publish(t, a, "end", `4`)
	waitTopic(t, in, "end")
	var topics []string
	for _, m := range in.all() {
		topics = append(topics, m.Topic)
	}
	if got := strings.Join(topics, ","); got != "before,after,end" {
		t.Errorf("received %s, want before,after,end (nothing published while NATS was down)", got)
	}
}

// reconnected waits until every broker's connection is up again and
// its subscription is in place at the server (a round trip after the
// subscription nats.go sends again on reconnection).
func reconnected(t *testing.T, bs ...*natsbroker.Broker) {
	t.Helper()
	for _, b := range bs {
		waitFor(t, "reconnected", func() bool {
			return b.Conn().Status() == nats.CONNECTED && b.Conn().FlushTimeout(time.Second) == nil
		})
	}
}

func TestBadOptions(t *testing.T) {
	for _, subject := range []string{".", "a.", ".a", "a..b", "a.*", "a.>", "a b", "a\tb", "a\nb", "a\x7fb", "*", ">"} {
		if _, err := natsbroker.Dial("nats://127.0.0.1:1", &natsbroker.Options{Subject: subject}); !errors.Is(err, natsbroker.ErrBadSubject) {
			t.Errorf("Dial with subject %q: %v, want ErrBadSubject", subject, err)
		}
	}
	if _, err := natsbroker.New(nil, nil); err == nil {
		t.Error("New(nil) succeeded")
	}
}

// TestDialUnreachable checks that Dial fails when no server answers.
func TestDialUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	if b, err := natsbroker.Dial("nats://"+addr, nil); err == nil {
		b.Close()
		t.Fatal("Dial succeeded with no server")
	}
}
