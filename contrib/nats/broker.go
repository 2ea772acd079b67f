package natsbroker

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gorpcx/gorpcx/pubsub"
)

// DefaultSubject is the subject a Broker publishes on when
// [Options.Subject] is empty.
const DefaultSubject = "gorpcx.pubsub"

// DefaultName is the connection name [Dial] gives NATS when
// [Options.Name] is empty.
const DefaultName = "gorpcx"

// StartTimeout bounds the wait of Start for the NATS server to
// confirm the subscription.
const StartTimeout = 10 * time.Second

// format is the first byte of every payload a Broker publishes, the
// version of the layout described in the package documentation.
const format = 1

// idLen is the length of a broker's origin identifier in a payload.
const idLen = 16

// headerLen is the fixed part of a payload: format and origin.
const headerLen = 1 + idLen

var (
	// ErrBadSubject is returned (wrapped) by New and Dial when
	// Options.Subject is not a valid literal NATS subject.
	ErrBadSubject = errors.New("natsbroker: bad subject")
	// ErrNotConnected is returned (wrapped) by Publish while the
	// connection to NATS is down (reconnecting) or not yet made: the
	// message is not sent, and is never delivered to other nodes.
	ErrNotConnected = errors.New("natsbroker: not connected to NATS")
	// ErrClosed is returned by Publish and Start after Close.
	ErrClosed = errors.New("natsbroker: broker closed")
	// ErrStarted is returned by Start when it was called before.
	ErrStarted = errors.New("natsbroker: already started")
	// ErrBadParams is returned (wrapped) by Publish when a message's
	// Params are not one valid JSON value.
	ErrBadParams = errors.New("natsbroker: params are not valid JSON")
)

// Options configure a Broker. The zero value, like a nil *Options,
// gives the defaults.
type Options struct {
	// Subject is the NATS subject the hubs of one fleet publish on and
	// listen to; every node of a fleet uses the same one, and fleets
	// sharing a NATS server use different ones. It must be a literal
	// subject: dot-separated non-empty tokens, without wildcards ('*',
	// '>') or white space. Default [DefaultSubject].
	Subject string
	// Name is the connection name Dial gives NATS (nats.Name), which
	// NATS monitoring shows, such as the node's host name. Default
	// [DefaultName]. New ignores it.
	Name string
	// NATS are further options of the connection Dial makes, applied
	// after the broker's own (nats.NoEcho, nats.ReconnectBufSize(-1),
	// nats.MaxReconnects(-1), nats.Name): credentials, TLS, the timing
	// of reconnection (nats.ReconnectWait), of ping (nats.PingInterval),
	// handlers (nats.ReconnectHandler). New ignores them.
	NATS []nats.Option
}

// Stats are counts of what a Broker did since it was made.
type Stats struct {
	// Published counts messages Publish handed to NATS.
	Published uint64
	// Refused counts Publish calls that returned an error: not
	// connected, closed, bad params, a payload over NATS's limit.
	Refused uint64
	// Delivered counts messages of other nodes passed to deliver.
	Delivered uint64
	// Echoes counts this broker's own messages received back and
	// discarded (only on a connection made without nats.NoEcho).
	Echoes uint64
	// Malformed counts payloads received on the subject that are not
	// a Broker's messages (another publisher on the subject), discarded.
	Malformed uint64
	// Dropped counts messages nats.go discarded because deliver fell
	// behind its pending limits (a slow consumer), as reported by the
	// subscription; 0 before Start and after Close.
	Dropped uint64
}

// Broker carries a [pubsub.Hub]'s publications to the other nodes of a
// fleet through NATS, and theirs to it. It implements [pubsub.Broker];
// the package documentation states its guarantees.
type Broker struct {
	nc         *nats.Conn
	owned      bool          // made by Dial: Close closes it
	connClosed chan struct{} // owned: closed by nats.go's closed handler; nil if none is called
	subject    string
	id         [idLen]byte // this broker's origin identifier
	buffers    sync.Pool   // *[]byte, payloads being encoded

	mu      sync.Mutex // guards sub, subDone, started; orders Start and Close
	sub     *nats.Subscription
	subDone chan struct{} // closed when nats.go's delivery goroutine has ended
	started bool
	closed  atomic.Bool
	deliver func(pubsub.Message)

	published, refused, delivered, echoes, malformed atomic.Uint64
}

var _ pubsub.Broker = (*Broker)(nil)

// New returns a Broker that publishes and listens through nc, a
// connection the caller made and keeps: Close does not close it. nc
// should be made with nats.NoEcho (otherwise NATS sends this node's
// messages back, and the broker discards them by their origin) and
// with nats.MaxReconnects(-1) (otherwise nats.go gives up reconnecting
// after its default number of attempts, and the node leaves the fleet
// for good). Each node needs a connection of its own: with nats.NoEcho,
// two brokers sharing one connection do not hear each other. New
// returns an error wrapping [ErrBadSubject] for a bad Options.Subject,
// or an error if nc is nil.
func New(nc *nats.Conn, o *Options) (*Broker, error) {
	if nc == nil {
		return nil, errors.New("natsbroker: nil connection")
	}
	return newBroker(nc, o)
}

// Dial connects to the NATS server(s) at url (a comma-separated list
// of URLs, as nats.Connect takes) and returns a Broker owning the
// connection, made with nats.NoEcho, nats.ReconnectBufSize(-1) (no
// buffering while disconnected) and nats.MaxReconnects(-1) (reconnect
// for ever), then o.NATS. Close closes the connection. Dial returns an
// error wrapping [ErrBadSubject] for a bad Options.Subject, or
// nats.Connect's error if no server can be reached (add
// nats.RetryOnFailedConnect(true) to o.NATS to return at once and
// connect in the background instead).
func Dial(url string, o *Options) (*Broker, error) {
	if o == nil {
		o = &Options{}
	}
	subject, err := subjectOf(o)
	if err != nil {
		return nil, err
	}
	name := o.Name
	if name == "" {
		name = DefaultName
	}
	opts := nats.GetDefaultOptions()
	opts.Url = url
	for _, f := range append([]nats.Option{nats.Name(name), nats.NoEcho(), nats.ReconnectBufSize(-1), nats.MaxReconnects(-1)}, o.NATS...) {
		if err := f(&opts); err != nil {
			return nil, fmt.Errorf("natsbroker: connection option: %w", err)
		}
	}
	// Close waits for nats.go's closed handler, the last callback its
	// dispatching goroutine runs, so that no callback outlives Close.
	var connClosed chan struct{}
	if !opts.NoCallbacksAfterClientClose {
		connClosed = make(chan struct{})
		userClosed := opts.ClosedCB
		opts.ClosedCB = func(nc *nats.Conn) {
			if userClosed != nil {
				userClosed(nc)
			}
			close(connClosed)
		}
	}
	nc, err := opts.Connect()
	if err != nil {
		return nil, fmt.Errorf("natsbroker: connecting to %s: %w", url, err)
	}
	b, _ := newBroker(nc, &Options{Subject: subject})
	b.owned, b.connClosed = true, connClosed
	return b, nil
}

func newBroker(nc *nats.Conn, o *Options) (*Broker, error) {
	subject, err := subjectOf(o)
	if err != nil {
		return nil, err
	}
	b := &Broker{nc: nc, subject: subject}
	rand.Read(b.id[:]) // never fails (crypto/rand documents it)
	return b, nil
}

// subjectOf returns o's subject, or the default, or an error wrapping
// ErrBadSubject.
func subjectOf(o *Options) (string, error) {
	if o == nil || o.Subject == "" {
		return DefaultSubject, nil
	}
	s := o.Subject
	token := 0 // length of the current token
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			if token == 0 {
				return "", fmt.Errorf("%w: %q has an empty token", ErrBadSubject, s)
			}
			token = 0
		case c == '*' || c == '>':
			return "", fmt.Errorf("%w: %q has a wildcard", ErrBadSubject, s)
		case c <= ' ' || c == 0x7f:
			return "", fmt.Errorf("%w: %q has white space or a control character", ErrBadSubject, s)
		default:
			token++
		}
	}
	if token == 0 {
		return "", fmt.Errorf("%w: %q has an empty token", ErrBadSubject, s)
	}
	return s, nil
}

// Conn returns the broker's NATS connection, for instance to watch its
// status (Status, StatusChanged) or to read its statistics.
func (b *Broker) Conn() *nats.Conn { return b.nc }

// Subject returns the NATS subject the broker publishes on.
func (b *Broker) Subject() string { return b.subject }

// Publish sends msg to the other nodes of the fleet, without waiting
// for them (NATS core has no acknowledgement). It returns an error,
// and msg is never delivered to other nodes, if ctx is done, if the
// broker is closed ([ErrClosed]), if the connection is down or not yet
// made ([ErrNotConnected]: publications are not kept for after the
// reconnection), if msg.Params is not one valid JSON value
// ([ErrBadParams]), or if the encoded message is larger than the NATS
// server's max_payload (nats.ErrMaxPayload).
func (b *Broker) Publish(ctx context.Context, msg pubsub.Message) error {
	if err := b.publish(ctx, msg); err != nil {
		b.refused.Add(1)
		return err
	}
	b.published.Add(1)
	return nil
}

func (b *Broker) publish(ctx context.Context, msg pubsub.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.closed.Load() {
		return ErrClosed
	}
	if !json.Valid(msg.Params) {
		return fmt.Errorf("%w: topic %q", ErrBadParams, msg.Topic)
	}
	if st := b.nc.Status(); st != nats.CONNECTED && st != nats.DRAINING_SUBS {
		if st == nats.CLOSED {
			return fmt.Errorf("%w: %w", ErrNotConnected, nats.ErrConnectionClosed)
		}
		return fmt.Errorf("%w (connection %v)", ErrNotConnected, st)
	}
	bp, _ := b.buffers.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	buf := append((*bp)[:0], format)
	buf = append(buf, b.id[:]...)
	buf = binary.AppendUvarint(buf, uint64(len(msg.Topic)))
	buf = append(buf, msg.Topic...)
	buf = append(buf, msg.Params...)
	err := b.nc.Publish(b.subject, buf) // copies buf before returning
	*bp = buf
	b.buffers.Put(bp)
	if err != nil {
		if errors.Is(err, nats.ErrReconnectBufExceeded) || errors.Is(err, nats.ErrConnectionReconnecting) {
			return fmt.Errorf("%w: %w", ErrNotConnected, err)
		}
		return fmt.Errorf("natsbroker: publishing topic %q (%d bytes): %w", msg.Topic, len(buf), err)
	}
	return nil
}

// Start subscribes to the fleet's subject and calls deliver for every
// message another node publishes, one call at a time, from a goroutine
// of nats.go, until Close. When the connection is up, Start returns
// once the NATS server has the subscription (one round trip), so that
// every message published after it returns is delivered; when the
// connection is down, it returns at once and nats.go subscribes on
// reconnection. deliver must not block for long (messages wait behind
// it, up to nats.go's pending limits, past which they are dropped and
// counted in Stats.Dropped) and must not call Close. Start returns
// [ErrStarted] if called before, [ErrClosed] after Close, the
// subscription's error (such as nats.ErrConnectionClosed), or an error
// wrapping nats.ErrTimeout if the server does not answer within
// [StartTimeout] (the broker is then not started).
func (b *Broker) Start(deliver func(pubsub.Message)) error {
	if deliver == nil {
		return errors.New("natsbroker: nil deliver function")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return ErrClosed
	}
	if b.started {
		return ErrStarted
	}
	b.deliver = deliver
	sub, err := b.nc.Subscribe(b.subject, b.receive)
	if err != nil {
		return fmt.Errorf("natsbroker: subscribing to %q: %w", b.subject, err)
	}
	done := make(chan struct{})
	sub.SetClosedHandler(func(string) { close(done) })
	// nats.go calls the handler when its delivery goroutine ends, which
	// happens only once the subscription is closed: if it is still
	// valid now, the handler set above will be called.
	if !sub.IsValid() {
		return fmt.Errorf("natsbroker: subscribing to %q: %w", b.subject, nats.ErrConnectionClosed)
	}
	// A round trip: when the server answers it has the subscription, so
	// what other nodes publish from then on is delivered. If the
	// connection is down, nats.go subscribes again on reconnection.
	if b.nc.Status() == nats.CONNECTED {
		if err := b.nc.FlushTimeout(StartTimeout); errors.Is(err, nats.ErrTimeout) {
			sub.Unsubscribe()
			<-done
			return fmt.Errorf("natsbroker: subscribing to %q: the NATS server did not answer in %v: %w", b.subject, StartTimeout, err)
		}
	}
	b.sub, b.subDone, b.started = sub, done, true
	return nil
}

// receive is the subscription's handler: it decodes one payload and
// delivers it unless it is malformed, this broker's own, or late.
func (b *Broker) receive(m *nats.Msg) {
	msg, origin, ok := decode(m.Data)
	switch {
	case !ok:
		b.malformed.Add(1)
	case origin == b.id:
		b.echoes.Add(1)
	case b.closed.Load():
	default:
		b.delivered.Add(1)
		b.deliver(msg)
	}
}

// decode splits a payload into its message and origin; ok is false if
// it is not a well-formed payload of this format.
func decode(data []byte) (msg pubsub.Message, origin [idLen]byte, ok bool) {
	if len(data) < headerLen || data[0] != format {
		return msg, origin, false
	}
	origin = [idLen]byte(data[1:headerLen])
	rest := data[headerLen:]
	n, w := binary.Uvarint(rest)
	if w <= 0 || n > uint64(len(rest)-w) {
		return msg, origin, false
	}
	rest = rest[w:]
	params := rest[n:]
	if !json.Valid(params) {
		return msg, origin, false
	}
	// The payload is this message's own (nats.go allocates one per
	// message), so Params can keep referring to it.
	return pubsub.Message{Topic: string(rest[:n]), Params: params}, origin, true
}

// Stats returns the broker's counts.
func (b *Broker) Stats() Stats {
	s := Stats{
		Published: b.published.Load(),
		Refused:   b.refused.Load(),
		Delivered: b.delivered.Load(),
		Echoes:    b.echoes.Load(),
		Malformed: b.malformed.Load(),
	}
	b.mu.Lock()
	sub := b.sub
	b.mu.Unlock()
	if sub != nil {
		if n, err := sub.Dropped(); err == nil && n > 0 {
			s.Dropped = uint64(n)
		}
	}
	return s
}

// Close stops delivery and, for a Broker made by Dial, closes the
// connection. When it returns, deliver is not running and is never
// called again, and no goroutine of the broker (nor, for Dial's, of
// its connection's callbacks) is left. Closing again does nothing and
// returns nil. It returns the error of ending the subscription, if
// any other than the connection being closed already.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed.Swap(true) {
		b.mu.Unlock()
		return nil
	}
	sub, done := b.sub, b.subDone
	b.mu.Unlock()
	var err error
	if sub != nil {
		if uerr := sub.Unsubscribe(); uerr != nil && !errors.Is(uerr, nats.ErrConnectionClosed) && !errors.Is(uerr, nats.ErrBadSubscription) {
			err = fmt.Errorf("natsbroker: unsubscribing: %w", uerr)
		}
	}
	if b.owned {
		b.nc.Close()
		if b.connClosed != nil {
			<-b.connClosed
		}
	}
	if done != nil {
		<-done
	}
	return err
}
