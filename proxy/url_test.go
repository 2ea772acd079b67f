package proxy_test

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	xproxy "golang.org/x/net/proxy"

	"github.com/gorpcx/gorpcx/proxy"
)

func TestString(t *testing.T) {
	tests := []struct {
		socks *proxy.SOCKS
		want  string
	}{
		{&proxy.SOCKS{}, "SOCKS5 proxy at 127.0.0.1:1080"},
		{&proxy.SOCKS{Protocol: proxy.SOCKS4, Address: "10.0.0.1:1080"}, "SOCKS4 proxy at 10.0.0.1:1080"},
		{&proxy.SOCKS{Protocol: proxy.SOCKS4a, Address: "[::1]:9050", Auth: proxy.Auth{Username: "bob"}}, `SOCKS4a proxy at [::1]:9050, user "bob"`},
		{&proxy.SOCKS{Address: "tor:9050", Auth: proxy.Auth{Username: "alice", Password: "hunter2"}}, `SOCKS5 proxy at tor:9050, user "alice"`},
		{&proxy.SOCKS{Address: "tor:9050", Auth: proxy.Auth{Username: "alice", Password: "hunter2", Random: true}}, "SOCKS5 proxy at tor:9050, random credentials"},
		{&proxy.SOCKS{ResolveLocally: true}, "SOCKS5 proxy at 127.0.0.1:1080, local resolution"},
		{&proxy.SOCKS{Protocol: 9}, "Protocol(9) proxy at 127.0.0.1:1080"},
		{nil, "<nil>"},
	}
	for _, tt := range tests {
		if got := tt.socks.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestPasswordNeverShown(t *testing.T) {
	const password = "hunter2-secret"
	s := &proxy.SOCKS{Address: "127.0.0.1:9050", Auth: proxy.Auth{Username: "alice", Password: password}}
	for _, text := range []string{
		s.String(),
		fmt.Sprint(s),
		fmt.Sprintf("%v", *s),
		fmt.Sprintf("%+v", *s),
		fmt.Sprintf("%#v", *s),
		fmt.Sprintf("%v %+v %#v %s", s.Auth, s.Auth, s.Auth, s.Auth),
	} {
		if strings.Contains(text, password) {
			t.Errorf("%q shows the password", text)
		}
		if !strings.Contains(text, "alice") {
			t.Errorf("%q does not name the user", text)
		}
	}
	if got, want := fmt.Sprintf("%#v", s.Auth), `proxy.Auth{Username:"alice", Password:"xxxxx", Random:false}`; got != want {
		t.Errorf("%%#v = %s, want %s", got, want)
	}
	if got, want := fmt.Sprintf("%#v", proxy.Auth{}), `proxy.Auth{Username:"", Password:"", Random:false}`; got != want {
		t.Errorf("%%#v = %s, want %s", got, want)
	}
	for auth, want := range map[proxy.Auth]string{{}: "none", {Random: true}: "random", {Username: "a\"b"}: `user "a\"b"`} {
		if got := auth.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", auth, got, want)
		}
	}
	for _, raw := range []string{
		"socks5://alice:" + password + "@host:99999",
		"socks5://alice:" + password + "@host:1080/path",
		"socks5://alice:" + password + "@[::1",
		"socks5://alice:" + password + "@:1080",
		"socks5://alice:" + password + "@host:1080?x=1",
	} {
		_, err := proxy.ParseURL(raw)
		if err == nil || strings.Contains(err.Error(), password) {
			t.Errorf("ParseURL(%q): error %v; want one without the password", raw, err)
		}
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		in      string
		want    *proxy.SOCKS
		wantErr string
	}{
		{"socks5://127.0.0.1:9050", &proxy.SOCKS{Address: "127.0.0.1:9050", ResolveLocally: true}, ""},
		{"socks5h://127.0.0.1:9050", &proxy.SOCKS{Address: "127.0.0.1:9050"}, ""},
		{"SOCKS5H://tor.example:9050/", &proxy.SOCKS{Address: "tor.example:9050"}, ""},
		{"socks4://10.0.0.1", &proxy.SOCKS{Protocol: proxy.SOCKS4, Address: "10.0.0.1:1080", ResolveLocally: true}, ""},
		{"socks4a://[::1]:1081", &proxy.SOCKS{Protocol: proxy.SOCKS4a, Address: "[::1]:1081"}, ""},
		{"socks5h://alice:p%40ss@host:1", &proxy.SOCKS{Address: "host:1", Auth: proxy.Auth{Username: "alice", Password: "p@ss"}}, ""},
		{"socks4a://bob@host:1", &proxy.SOCKS{Protocol: proxy.SOCKS4a, Address: "host:1", Auth: proxy.Auth{Username: "bob"}}, ""},
		{"http://host:1", nil, `proxy: URL scheme "http" is not socks4, socks4a, socks5 or socks5h`},
		{"host:1080", nil, `proxy: URL scheme "host" is not socks4, socks4a, socks5 or socks5h`},
		{"socks5:host:1080", nil, "proxy: URL has no host"},
		{"socks5://", nil, "proxy: URL socks5: has no host"},
		{"socks5://host:0", nil, `proxy: URL socks5://host:0: port 0 out of range`},
		{"socks5://host:1/x", nil, "proxy: URL socks5://host:1/x has a path, query or fragment"},
		{"socks5://host:1#f", nil, "proxy: URL socks5://host:1#f has a path, query or fragment"},
		{"socks5://a b:1", nil, `proxy: invalid URL: invalid character " " in host name`},
	}
	for _, tt := range tests {
		got, err := proxy.ParseURL(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("ParseURL(%q): error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseURL(%q): (-want +got)\n%s", tt.in, diff)
		}
	}
}

func TestFromURL(t *testing.T) {
	echo := startEcho(t)
	for _, tt := range []struct {
		scheme string
		want   request // what the proxy is asked for
	}{
		{"socks4", request{Version: 4, Host: "127.0.0.1", User: "bob"}},
		{"socks4a", request{Version: 4, Host: "localhost", User: "bob"}},
		{"socks5", request{Version: 5, Host: "localhost", User: "bob", Pass: "pw"}}, // x/net/proxy's own
		{"socks5h", request{Version: 5, Host: "localhost", User: "bob", Pass: "pw"}},
	} {
		t.Run(tt.scheme, func(t *testing.T) {
			r := &relay{Check: func(user, pass string) bool { return user == "bob" && pass == "pw" }}
			fp := startFakeProxy(t, r.Serve)
			u, _ := url.Parse(tt.scheme + "://bob:pw@" + fp.Addr())
			d, err := xproxy.FromURL(u, xproxy.Direct)
			if err != nil {
				t.Fatal(err)
			}
			if s, ok := d.(*proxy.SOCKS); ok != strings.HasPrefix(tt.scheme, "socks4") {
				t.Errorf("FromURL gave a %T", d)
			} else if ok && s.Forward != xproxy.Direct {
				t.Errorf("Forward is %v, want the forward dialer given", s.Forward)
			}
			target := "localhost:" + mustPortString(t, echo)
			c, err := d.(xproxy.ContextDialer).DialContext(testContext(t), "tcp", target)
			if err != nil {
				t.Fatal(err)
			}
			c.Close()
			tt.want.Port = mustPort(t, echo)
			if diff := cmp.Diff([]request{tt.want}, r.Requests(), cmpopts.IgnoreFields(request{}, "Methods")); diff != "" {
				t.Errorf("requests: (-want +got)\n%s", diff)
			}
		})
	}

	t.Run("forward without a context", func(t *testing.T) {
		r := &relay{}
		fp := startFakeProxy(t, r.Serve)
		u, _ := url.Parse("socks4://" + fp.Addr())
		d, err := xproxy.FromURL(u, plainDialer{})
		if err != nil {
			t.Fatal(err)
		}
		c, err := d.Dial("tcp", echo)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		echoCheck(t, c, "plain forward")
	})

	t.Run("bad URL", func(t *testing.T) {
		u, _ := url.Parse("socks4a://host:1/path")
		if _, err := xproxy.FromURL(u, nil); err == nil {
			t.Error("FromURL accepted a path")
		}
	})
}

// plainDialer is an x/net/proxy.Dialer without DialContext.
type plainDialer struct{}

func (plainDialer) Dial(network, address string) (net.Conn, error) {
	return net.Dial(network, address)
}
