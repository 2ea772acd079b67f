module github.com/gorpcx/gorpcx

go 1.26.8

require (
	github.com/coder/websocket v1.8.14
	github.com/google/go-cmp v0.7.0
	github.com/pires/go-proxyproto v0.15.0
	github.com/sourcegraph/jsonrpc2 v0.2.3
	go.uber.org/goleak v1.3.0
	go.uber.org/zap v1.28.0
	golang.org/x/net v0.62.0
	golang.org/x/sys v0.49.0
)

require go.uber.org/multierr v1.10.0 // indirect
