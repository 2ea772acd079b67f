package realpeer

import (
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// TestStartNATS checks that the server started greets a client, that
// Stop ends it (its address refuses connections), and that Start brings
// it back on the same address.
func TestStartNATS(t *testing.T) {
	n := StartNATS(t)
	if !strings.HasPrefix(n.URL, "nats://127.0.0.1:") || n.URL != "nats://"+n.Addr {
		t.Fatalf("URL %q, Addr %q; want nats://127.0.0.1:PORT and the same address", n.URL, n.Addr)
	}
	if !natsGreets(n.Addr) {
		t.Fatal("the started server does not greet a client")
	}
	n.Stop()
	if c, err := net.DialTimeout("tcp", n.Addr, time.Second); err == nil {
		c.Close()
		t.Fatal("the stopped server's address still accepts connections")
	}
	n.Stop() // stopping a stopped server does nothing
	n.Start()
	if !natsGreets(n.Addr) {
		t.Fatal("the server started again does not greet a client on its address")
	}
	n.Start() // starting a running server does nothing
}

func TestNATSConfig(t *testing.T) {
	if got, want := natsConfig("127.0.0.1:4222"), "listen: \"127.0.0.1:4222\"\n"; !strings.HasSuffix(got, want) {
		t.Errorf("configuration %q does not end with %q", got, want)
	}
}

// TestNeedLooksInSbin checks that a server installed in /usr/sbin is
// found when PATH lacks that directory, as a user's PATH often does.
func TestNeedLooksInSbin(t *testing.T) {
	if _, err := os.Stat("/usr/sbin/nats-server"); err != nil {
		t.Skip("nats-server is not in /usr/sbin:", err)
	}
	t.Setenv("PATH", t.TempDir())
	if got := Need(t, "nats-server", "nats-server"); got != "/usr/sbin/nats-server" {
		t.Errorf("Need found %q, want /usr/sbin/nats-server", got)
	}
}
