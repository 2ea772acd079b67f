module github.com/gorpcx/gorpcx/examples/electrum-server

go 1.26.8

replace (
	github.com/gorpcx/gorpcx => ../..
	github.com/gorpcx/gorpcx/contrib/nats => ../../contrib/nats
)

require (
	github.com/gorpcx/gorpcx v0.0.0-00010101000000-000000000000
	github.com/gorpcx/gorpcx/contrib/nats v0.0.0-00010101000000-000000000000
	github.com/sourcegraph/jsonrpc2 v0.2.3
	go.uber.org/goleak v1.3.0
	go.uber.org/zap v1.28.0
)

require (
	github.com/coder/websocket v1.8.14 // indirect
	github.com/klauspost/compress v1.20.0 // indirect
	github.com/nats-io/nats.go v1.56.0 // indirect
	github.com/nats-io/nkeys v0.4.16 // indirect
	github.com/nats-io/nuid v1.0.1 // indirect
	github.com/pires/go-proxyproto v0.15.0 // indirect
	go.uber.org/multierr v1.10.0 // indirect
	golang.org/x/crypto v0.57.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
