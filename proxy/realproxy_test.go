package proxy_test

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gorpcx/gorpcx/proxy"
	"github.com/gorpcx/gorpcx/transport"
)

// The tests in this file run real SOCKS servers from Debian's packages
// on 127.0.0.1, each with a configuration written into the test's
// temporary directory, and dial through them: microsocks (SOCKS5),
// danted (SOCKS4 and SOCKS5) and OpenSSH's dynamic forwarding (ssh -D
// to an sshd started for the test: SOCKS4, SOCKS4a and SOCKS5).
// Through each, a gorpcx session calls a gorpcx server, which must see
// a connection belonging to the proxy.

// targets are the servers called through the proxies.
type targets struct {
	// port is the port of the peer servers: one on 127.0.0.1 and, if
	// the machine has IPv6 loopback, one on [::1], so that "localhost"
	// reaches a server whichever address the proxy picks.
	port int
	ipv6 bool
	// echo is an echo server on 127.0.0.1, for half-close.
	echo string
}

func startTargets(t *testing.T) *targets {
	srv := startPeerServer(t, "")
	tg := &targets{port: mustPort(t, srv.Addr().String()), echo: startEcho(t)}
	if ln, err := net.Listen("tcp", "[::1]:0"); err == nil {
		ln.Close()
		startPeerServer(t, "[::1]:"+strconv.Itoa(tg.port))
		tg.ipv6 = true
	}
	return tg
}

// ipv4, name and ipv6 return the peer servers' address as an IPv4
// address, as "localhost", and as an IPv6 address.
func (tg *targets) ipv4() string { return loopback(tg.port) }
func (tg *targets) name() string { return "localhost:" + strconv.Itoa(tg.port) }
func (tg *targets) ipv6Addr() string {
	return "[::1]:" + strconv.Itoa(tg.port)
}

// server returns the address of the peer server that peer reached.
func (tg *targets) server(peer netip.AddrPort) netip.AddrPort {
	if peer.Addr().Is4() {
		return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(tg.port))
	}
	return netip.AddrPortFrom(netip.IPv6Loopback(), uint16(tg.port))
}

// through runs a session to target through via twice, with
// server.Dialer and over a transport.Conn, and checks that the server
// sees a connection of the proxy process p.
func (tg *targets) through(t *testing.T, p *process, via *proxy.SOCKS, target string) {
	t.Helper()
	peer := callPeer(t, via, target)
	checkOwner(t, peer, tg.server(peer), p.Pid())

	conn, peer := dialPeer(t, via, target)
	checkPeer(t, conn, peer)
	checkOwner(t, peer, tg.server(peer), p.Pid())
}

// halfClose checks that a half-close goes through via.
func (tg *targets) halfClose(t *testing.T, via *proxy.SOCKS) {
	t.Helper()
	d := transport.Dialer{Via: via}
	conn, err := d.Dial(testContext(t), "tcp", tg.echo)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	echoCheck(t, conn, "half-close through "+via.String())
}

// detect checks that a Detector finds protocol at address.
func (tg *targets) detect(t *testing.T, address string, auth proxy.Auth, want proxy.Protocol) {
	t.Helper()
	d := proxy.Detector{Auth: auth, Target: tg.ipv4(), NameTarget: tg.name()}
	s, err := d.Detect(testContext(t), address)
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	if s.Protocol != want {
		t.Errorf("Detect found %v, want %v", s.Protocol, want)
	}
}

// wantRefused checks that err is a refusal, and matches ErrAuth if
// auth.
func wantRefused(t *testing.T, err error, auth bool) *proxy.RefusedError {
	t.Helper()
	var re *proxy.RefusedError
	if !errors.As(err, &re) || errors.Is(err, proxy.ErrAuth) != auth {
		t.Fatalf("error %v: want a refusal (credentials: %v)", err, auth)
	}
	asError(t, err)
	return re
}

func TestMicrosocks(t *testing.T) {
	bin := program(t, "microsocks", "microsocks")
	tg := startTargets(t)
	dir := t.TempDir()

	t.Run("without auth", func(t *testing.T) {
		addr := loopback(freePort(t))
		host, port, _ := net.SplitHostPort(addr)
		p := startProcess(t, filepath.Join(dir, "microsocks.log"), bin, "-i", host, "-p", port)
		p.mustListen(t, addr)

		tg.through(t, p, &proxy.SOCKS{Address: addr}, tg.ipv4())
		tg.through(t, p, &proxy.SOCKS{Address: addr}, tg.name())
		tg.through(t, p, &proxy.SOCKS{Address: addr, ResolveLocally: true}, tg.name())
		tg.through(t, p, &proxy.SOCKS{Address: addr, Auth: proxy.Auth{Random: true}}, tg.ipv4())
		if tg.ipv6 {
			tg.through(t, p, &proxy.SOCKS{Address: addr}, tg.ipv6Addr())
		}
		tg.detect(t, addr, proxy.Auth{}, proxy.SOCKS5)

		_, err := (&proxy.SOCKS{Address: addr}).DialContext(testContext(t), "tcp", closedPort(t))
		wantRefused(t, err, false)
	})

	t.Run("with username and password", func(t *testing.T) {
		addr := loopback(freePort(t))
		host, port, _ := net.SplitHostPort(addr)
		p := startProcess(t, filepath.Join(dir, "microsocks-auth.log"), bin, "-i", host, "-p", port, "-u", "alice", "-P", "s3cret")
		p.mustListen(t, addr)

		alice := proxy.Auth{Username: "alice", Password: "s3cret"}
		tg.through(t, p, &proxy.SOCKS{Address: addr, Auth: alice}, tg.ipv4())
		tg.through(t, p, &proxy.SOCKS{Address: addr, Auth: alice}, tg.name())
		tg.detect(t, addr, proxy.Auth{}, proxy.SOCKS5) // refused credentials still count

		_, err := (&proxy.SOCKS{Address: addr, Auth: proxy.Auth{Username: "alice", Password: "wrong"}}).DialContext(testContext(t), "tcp", tg.ipv4())
		wantRefused(t, err, true)
		if strings.Contains(err.Error(), "wrong") {
			t.Errorf("error %q shows the password", err)
		}
		_, err = (&proxy.SOCKS{Address: addr}).DialContext(testContext(t), "tcp", tg.ipv4())
		if re := wantRefused(t, err, true); re.Code != 255 {
			t.Errorf("no credentials: code %d, want 255", re.Code)
		}
	})
}

func TestDante(t *testing.T) {
	bin := program(t, "danted", "dante-server")
	tg := startTargets(t)
	dir := t.TempDir()
	addr := loopback(freePort(t))
	_, port, _ := net.SplitHostPort(addr)

	conf := []string{
		"logoutput: " + filepath.Join(dir, "danted.log"),
		"internal: 127.0.0.1 port = " + port,
		"external: 127.0.0.1",
		"clientmethod: none",
		"socksmethod: none",
	}
	if os.Geteuid() == 0 {
		conf = append(conf, "user.privileged: root", "user.unprivileged: root")
	}
	conf = append(conf, // rules come last
		"client pass {\n\tfrom: 127.0.0.0/8 to: 0.0.0.0/0\n}",
		"socks pass {\n\tfrom: 127.0.0.0/8 to: 0.0.0.0/0\n}")
	confPath := filepath.Join(dir, "danted.conf")
	if err := os.WriteFile(confPath, []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProcess(t, filepath.Join(dir, "danted.out"), bin, "-f", confPath, "-p", filepath.Join(dir, "danted.pid"))
	if ok, why := p.waitListening(addr); !ok {
		b, _ := os.ReadFile(filepath.Join(dir, "danted.log"))
		t.Fatalf("%s\n%s", why, b)
	}

	tg.through(t, p, &proxy.SOCKS{Address: addr}, tg.ipv4())
	tg.through(t, p, &proxy.SOCKS{Address: addr}, tg.name())
	tg.through(t, p, &proxy.SOCKS{Protocol: proxy.SOCKS4, Address: addr, Auth: proxy.Auth{Username: "bob"}}, tg.ipv4())
	tg.through(t, p, &proxy.SOCKS{Protocol: proxy.SOCKS4, Address: addr, ResolveLocally: true}, tg.name())
	tg.halfClose(t, &proxy.SOCKS{Address: addr})
	tg.halfClose(t, &proxy.SOCKS{Protocol: proxy.SOCKS4, Address: addr})
	tg.detect(t, addr, proxy.Auth{}, proxy.SOCKS5)

	// danted does not speak SOCKS4a: it refuses host names.
	_, err := (&proxy.SOCKS{Protocol: proxy.SOCKS4a, Address: addr}).DialContext(testContext(t), "tcp", tg.name())
	if re := wantRefused(t, err, false); re.Code != 91 {
		t.Errorf("SOCKS4a: code %d, want 91", re.Code)
	}
	_, err = (&proxy.SOCKS{Address: addr}).DialContext(testContext(t), "tcp", closedPort(t))
	wantRefused(t, err, false)
}

func TestSSHDynamicForwarding(t *testing.T) {
	sshd := program(t, "sshd", "openssh-server")
	ssh := program(t, "ssh", "openssh-client")
	keygen := program(t, "ssh-keygen", "openssh-client")
	tg := startTargets(t)
	dir := t.TempDir()

	login := "root"
	if os.Geteuid() != 0 {
		// sshd not run as root can only log in its own user.
		u, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		login = u.Username
	} else if _, err := os.Stat("/run/sshd"); errors.Is(err, os.ErrNotExist) {
		// sshd run as root needs its privilege separation directory,
		// which Debian's service scripts make at boot.
		if err := os.Mkdir("/run/sshd", 0o755); err != nil {
			missing(t, "sshd needs /run/sshd: %v", err)
		}
		t.Cleanup(func() { os.Remove("/run/sshd") }) // after sshd has ended
	}

	for _, key := range []string{"host_key", "client_key"} {
		out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", "gorpcx-test", "-f", filepath.Join(dir, key)).CombinedOutput()
		if err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	pub, err := os.ReadFile(filepath.Join(dir, "client_key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o600); err != nil {
		t.Fatal(err)
	}
	sshdAddr := loopback(freePort(t))
	_, sshdPort, _ := net.SplitHostPort(sshdAddr)
	conf := strings.Join([]string{
		"Port " + sshdPort,
		"ListenAddress 127.0.0.1",
		"HostKey " + filepath.Join(dir, "host_key"),
		"AuthorizedKeysFile " + filepath.Join(dir, "authorized_keys"),
		"PermitRootLogin prohibit-password",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"AllowTcpForwarding yes",
		"StrictModes no",
		"UsePAM no",
		"PidFile none",
	}, "\n") + "\n"
	confPath := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	server := startProcess(t, filepath.Join(dir, "sshd.log"), sshd, "-D", "-e", "-f", confPath)
	if ok, why := server.waitListening(sshdAddr); !ok {
		missing(t, "sshd does not run here: %s", why)
	}

	addr := loopback(freePort(t))
	client := startProcess(t, filepath.Join(dir, "ssh.log"), ssh,
		"-F", "/dev/null", "-N", "-D", addr, "-p", sshdPort, "-i", filepath.Join(dir, "client_key"),
		"-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes", "-o", "LogLevel=ERROR",
		login+"@127.0.0.1")
	if ok, why := client.waitListening(addr); !ok {
		missing(t, "ssh -D does not run here: %s\nsshd: %s", why, server.Log())
	}

	// sshd's child for the login makes the connections.
	tg.through(t, server, &proxy.SOCKS{Protocol: proxy.SOCKS4a, Address: addr, Auth: proxy.Auth{Username: "bob"}}, tg.name())
	tg.through(t, server, &proxy.SOCKS{Protocol: proxy.SOCKS4, Address: addr}, tg.ipv4())
	tg.through(t, server, &proxy.SOCKS{Address: addr}, tg.name())
	tg.through(t, server, &proxy.SOCKS{Address: addr}, tg.ipv4())
	tg.halfClose(t, &proxy.SOCKS{Protocol: proxy.SOCKS4a, Address: addr})
	tg.detect(t, addr, proxy.Auth{}, proxy.SOCKS5)
}
