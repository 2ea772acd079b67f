package server

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/gorpcx/gorpcx/framing"
	"github.com/gorpcx/gorpcx/session"
)

// BenchmarkLeastUseful measures the choice of the connection to shed
// at MaxSessions among 1,000 held: when the oldest has never sent a
// message (a flood: the search ends at once), when clients that talk
// were there before a flood (990 of them, then 10 silent ones) and
// when every one has talked (the whole list is ranked).
func BenchmarkLeastUseful(b *testing.B) {
	const held = 1000
	for _, bc := range []struct {
		name    string
		talkers int
	}{{"flood", 0}, {"flood-after-talkers", held - 10}, {"all-talked", held}} {
		b.Run(bc.name, func(b *testing.B) {
			srv := &Server{}
			if err := srv.init(); err != nil {
				b.Fatal(err)
			}
			var sessions []*session.Session
			var clients []net.Conn
			for i := range held {
				a, z := net.Pipe()
				c := &connection{closer: a, conn: a, accepted: time.Now()}
				if i < bc.talkers {
					s := session.New(framing.NewStream(framing.Newline{}, a), &session.Options{Handler: hello})
					go func() {
						// Read the reply, then keep the pipe open.
						z.Write([]byte(`{"jsonrpc":"2.0","method":"x","id":1}` + "\n"))
						buf := make([]byte, 256)
						for {
							if _, err := z.Read(buf); err != nil {
								return
							}
						}
					}()
					c.sess.Store(s)
					sessions = append(sessions, s)
				}
				clients = append(clients, z)
				srv.conns.push(c)
			}
			if bc.talkers > 0 {
				for _, s := range sessions {
					for {
						if n, _ := s.Activity(); n > 0 {
							break
						}
						time.Sleep(time.Millisecond)
					}
				}
			}
			now := time.Now()
			b.ReportAllocs()
			for b.Loop() {
				srv.mu.Lock()
				if srv.leastUsefulLocked(now) == nil {
					b.Fatal("no victim")
				}
				srv.mu.Unlock()
			}
			b.StopTimer()
			for _, s := range sessions {
				s.Abort()
			}
			for _, z := range clients {
				z.Close()
			}
		})
	}
}

// BenchmarkConnectRequestClose measures a whole short connection to a
// server with its defaults (admission, peer groups, timeouts, the
// cost shared): dial, one request and its answer, close.
func BenchmarkConnectRequestClose(b *testing.B) {
	for _, bc := range []struct {
		name  string
		peers PeerGroups
	}{{"exempt", PeerGroups{}}, {"grouped", PeerGroups{PerIP: -1, PerSubnet: -1, Exempt: noExempt()}}} {
		b.Run(bc.name, func(b *testing.B) {
			srv := &Server{Peers: bc.peers, Options: session.Options{Handler: hello}}
			if err := srv.Listen(context.Background()); err != nil {
				b.Fatal(err)
			}
			addr := srv.Addr().String()
			req := []byte(`{"jsonrpc":"2.0","method":"x","id":1}` + "\n")
			buf := make([]byte, 512)
			b.ReportAllocs()
			for b.Loop() {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Write(req); err != nil {
					b.Fatal(err)
				}
				if _, err := c.Read(buf); err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
			b.StopTimer()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			srv.Shutdown(ctx)
		})
	}
}
