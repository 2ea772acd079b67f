package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sort"
	"time"

	"go.uber.org/zap"

	gorpcxprom "github.com/gorpcx/gorpcx/contrib/prometheus"
	"github.com/gorpcx/gorpcx/server"
)

// metricsReadTimeout bounds the reading of a scrape's request.
const metricsReadTimeout = 10 * time.Second

// metricsServer serves the Prometheus metrics of -metrics.
type metricsServer struct {
	http *http.Server
	ln   net.Listener
	done chan struct{} // closed when Serve has returned
}

// startMetrics instruments srv, which must not be listening yet, with
// contrib/prometheus (every method of the table a label of its own),
// and serves the metrics over HTTP at http://addr/metrics. It returns
// the error of New or of listening on addr.
func startMetrics(addr string, srv *server.Server, log *zap.Logger) (*metricsServer, error) {
	names := make([]string, 0, len(methods))
	for name := range methods {
		names = append(names, name)
	}
	sort.Strings(names)
	m, err := gorpcxprom.New(&gorpcxprom.Options{Methods: names})
	if err != nil {
		return nil, err
	}
	m.Instrument(srv)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	ms := &metricsServer{
		http: &http.Server{Handler: mux, ReadHeaderTimeout: metricsReadTimeout, ErrorLog: zap.NewStdLog(log)},
		ln:   ln,
		done: make(chan struct{}),
	}
	go func() {
		defer close(ms.done)
		if err := ms.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("serving the metrics", zap.Error(err))
		}
	}()
	return ms, nil
}

// URL returns the address of the metrics.
func (ms *metricsServer) URL() string {
	return "http://" + ms.ln.Addr().String() + "/metrics"
}

// shutdown stops serving the metrics, letting scrapes in progress end
// until ctx ends.
func (ms *metricsServer) shutdown(ctx context.Context) error {
	err := ms.http.Shutdown(ctx)
	if err != nil {
		_ = ms.http.Close()
	}
	<-ms.done
	return err
}
