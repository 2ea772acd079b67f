module github.com/gorpcx/gorpcx/bench

go 1.26.8

require (
	github.com/creachadair/jrpc2 v1.3.6
	github.com/google/go-cmp v0.7.0
	github.com/gorpcx/gorpcx v0.0.0-00010101000000-000000000000
	github.com/sourcegraph/jsonrpc2 v0.2.3
	go.uber.org/zap v1.28.0
)

require (
	github.com/coder/websocket v1.8.14 // indirect
	github.com/creachadair/mds v0.31.0 // indirect
	github.com/pires/go-proxyproto v0.15.0 // indirect
	go.uber.org/multierr v1.10.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

replace github.com/gorpcx/gorpcx => ../
