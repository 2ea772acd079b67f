module github.com/gorpcx/gorpcx/examples/interop-server

go 1.26.8

replace github.com/gorpcx/gorpcx => ../..

require (
	github.com/gorpcx/gorpcx v0.0.0-00010101000000-000000000000
	github.com/sourcegraph/jsonrpc2 v0.2.3
	go.uber.org/zap v1.28.0
)

require (
	github.com/coder/websocket v1.8.14 // indirect
	github.com/pires/go-proxyproto v0.15.0 // indirect
	go.uber.org/multierr v1.10.0 // indirect
)
