package gorpcxprom_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/goleak"

	gorpcxprom "github.com/gorpcx/gorpcx/contrib/prometheus"
	"github.com/gorpcx/gorpcx/server"
	"github.com/gorpcx/gorpcx/session"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// wait bounds every wait of these tests; it is there to end a broken
// test, never to measure anything.
const wait = 20 * time.Second

// endpoint serves m on a real HTTP listener on loopback, as a program
// would, and returns its URL.
func endpoint(t testing.TB, m *gorpcxprom.Metrics) string {
	t.Helper()
	hs := httptest.NewServer(m.Handler())
	t.Cleanup(hs.Close)
	return hs.URL + "/metrics"
}

// exposition is one scrape, parsed.
type exposition map[string]*dto.MetricFamily

// scrape gets url over HTTP and parses the text exposition.
func scrape(t testing.TB, url string) exposition {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s", resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("scrape: Content-Type %q", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	return fams
}

// find returns the metric of family name whose labels include every
// pair of labels (name, value, name, value…), or nil.
func (e exposition) find(name string, labels ...string) *dto.Metric {
	f := e[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		return m
	}
	return nil
}

// value returns the value of a counter or gauge, or the sample count of
// a histogram; -1 if there is no such series.
func (e exposition) value(name string, labels ...string) float64 {
	m := e.find(name, labels...)
	switch {
	case m == nil:
		return -1
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return -1
}

// series counts the series of the families whose name begins with
// prefix.
func (e exposition) series(prefix string) int {
	n := 0
	for name, f := range e {
		if strings.HasPrefix(name, prefix) {
			n += len(f.GetMetric())
		}
	}
	return n
}

// labelValues returns every value label takes in the families whose
// name begins with prefix.
func (e exposition) labelValues(prefix, label string) map[string]bool {
	out := make(map[string]bool)
	for name, f := range e {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label {
					out[lp.GetValue()] = true
				}
			}
		}
	}
	return out
}

// expect checks that each series has its value.
func expect(t *testing.T, e exposition, want map[string]float64) {
	t.Helper()
	for key, v := range want {
		name, labels := parseKey(key)
		if got := e.value(name, labels...); got != v {
			t.Errorf("%s = %v, want %v", key, got, v)
		}
	}
}

// parseKey splits `name{a="x",b="y"}` into the name and its label
// pairs.
func parseKey(key string) (string, []string) {
	name, rest, ok := strings.Cut(key, "{")
	if !ok {
		return key, nil
	}
	var labels []string
	for _, kv := range strings.Split(strings.TrimSuffix(rest, "}"), ",") {
		k, v, _ := strings.Cut(kv, "=")
		labels = append(labels, k, strings.Trim(v, `"`))
	}
	return name, labels
}

// eventually scrapes url until cond holds for the exposition, and
// fails the test with what is missing after the wait.
func eventually(t *testing.T, url, what string, cond func(exposition) bool) exposition {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		e := scrape(t, url)
		if cond(e) {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// listen starts srv and shuts it down at the end of the test.
func listen(t testing.TB, srv *server.Server) string {
	t.Helper()
	if err := srv.Listen(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return srv.Addr().String()
}

// dial connects a client session to addr and closes it at the end of
// the test.
func dial(t testing.TB, addr string, o *session.Options) *session.Session {
	t.Helper()
	c, err := server.Dial(context.Background(), "tcp", addr, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func mustNew(t testing.TB, o *gorpcxprom.Options) *gorpcxprom.Metrics {
	t.Helper()
	m, err := gorpcxprom.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
