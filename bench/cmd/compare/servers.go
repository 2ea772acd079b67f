package main

import (
	"path/filepath"
	"slices"
)

// A server is one of the servers compared.
type server struct {
	name    string // label in the tables and in the loadgen's output
	title   string // what it is, for the page
	method  string // the echo method's name; empty: "echo"
	batches bool   // it answers JSON-RPC batches
	tls     bool   // it serves TLS with -tls, and runs the TLS settings
	python  bool   // it needs Python's aiorpcX
	// only lists the settings it runs in; empty: all of them.
	only []string
	// command returns the program and arguments that start it, given
	// the directory of the built binaries.
	command func(h *harness) []string
}

// echoMethod returns the name of s's echo method, which the load
// generator calls.
func (s server) echoMethod() string {
	if s.method == "" {
		return "echo"
	}
	return s.method
}

// runs reports whether s runs in setting st.
func (s server) runs(st setting) bool {
	return (st.batch == 0 || s.batches) && (!st.tls || s.tls) && (len(s.only) == 0 || slices.Contains(s.only, st.name))
}

// rawName and gorpcxName are the servers the goals compare against.
const (
	rawName     = "raw-echo"
	gorpcxName  = "gorpcx"
	aiorpcxName = "aiorpcx"
	// freeBytesName is gorpcx without the cost per byte, at c1d64 and
	// batch only: what a busy connection does before the byte cost
	// throttles it.
	freeBytesName = "gorpcx-free-bytes"
	// funcName is gorpcx with echo adapted by handler.MustFunc: the
	// reflection-bound server, judged by the same goals as gorpcx.
	funcName = "gorpcx-func"
	gethName = "geth"
)

// goPeers are the Go libraries gorpcx competes with.
var goPeers = []string{"sourcegraph", "sourcegraph-async", "jrpc2", gethName}

// allServers lists every server the harness knows, in table order;
// defaultServers those compared unless -servers says otherwise.
var (
	allServers = []server{
		{name: rawName, title: "raw newline echo by byte scanning, no JSON parsing (the ceiling); with -tls the raw TLS echo", batches: true, tls: true,
			command: func(h *harness) []string { return []string{h.bin("rawecho")} }},
		{name: gorpcxName, title: "gorpcx, the default settings of examples/interop-server (max sessions raised to 20,000)", batches: true, tls: true,
			command: func(h *harness) []string { return []string{h.bin("gorpcx"), "-max-sessions", "20000"} }},
		{name: freeBytesName, title: "gorpcx as above but with no cost per byte (errors still cost, every other protection on), at c1d64 and batch only: what a busy connection does before aiorpcX's byte cost throttles it (the c1d64 goal is judged on it)", batches: true,
			only: []string{"c1d64", "batch"},
			command: func(h *harness) []string {
				return []string{h.bin("gorpcx"), "-byte-cost", "0", "-max-sessions", "20000"}
			}},
		{name: funcName, title: "gorpcx with echo adapted by handler.MustFunc, as interop-server registers it (reflection on every call)", batches: true, tls: true,
			command: func(h *harness) []string { return []string{h.bin("gorpcx"), "-func", "-max-sessions", "20000"} }},
		{name: "sourcegraph", title: "github.com/sourcegraph/jsonrpc2, plain object stream, serial handler",
			command: func(h *harness) []string { return []string{h.bin("sourcegraph")} }},
		{name: "sourcegraph-async", title: "github.com/sourcegraph/jsonrpc2, plain object stream, jsonrpc2.AsyncHandler",
			command: func(h *harness) []string { return []string{h.bin("sourcegraph"), "-async"} }},
		{name: "jrpc2", title: "github.com/creachadair/jrpc2, channel.Line, default options", batches: true,
			command: func(h *harness) []string { return []string{h.bin("jrpc2")} }},
		{name: gethName, title: "github.com/ethereum/go-ethereum/rpc, an rpc.Server serving each connection with rpc.NewCodec (Server.ServeListener, as a node serves IPC) with a node's default batch limits (1,000 requests and 25,000,000 bytes of results a batch); its methods are namespaced, so echo is bench_echo", batches: true,
			method:  "bench_echo",
			command: func(h *harness) []string { return []string{h.bin("geth")} }},
		{name: aiorpcxName, title: "Python aiorpcX (Debian's python3-aiorpcx), RPCSession at its defaults", batches: true, python: true,
			command: func(h *harness) []string {
				return []string{h.python, filepath.Join(h.benchDir, "aiorpcx_echo.py")}
			}},
	}
	defaultServers = []string{rawName, gorpcxName, freeBytesName, funcName, "sourcegraph", "sourcegraph-async", "jrpc2", gethName, aiorpcxName}
)

// A setting is one load (or the idle-memory test).
type setting struct {
	name         string
	title        string
	conns, depth int
	batch        int  // requests per batch, 0 for none
	pinned       bool // server and load generator on CPU 0 only
	idle         int  // idle sessions held, for the memory test
	tls          bool // over TLS: -tls to the server and the load generator
}

// allSettings lists the settings in table order.
var allSettings = []setting{
	{name: "c1d1", title: "1 connection, 1 request in flight, server and load generator pinned together to CPU 0 (taskset -c 0)", conns: 1, depth: 1, pinned: true},
	{name: "c1d64", title: "1 connection, 64 requests in flight (pipelined)", conns: 1, depth: 64},
	{name: "c64d8", title: "64 connections, 8 requests in flight each", conns: 64, depth: 8},
	{name: "c1000d1", title: "1,000 connections, 1 request in flight each", conns: 1000, depth: 1},
	{name: "batch", title: "4 connections, 4 batches of 100 requests in flight each", conns: 4, depth: 4, batch: 100},
	{name: "c64d8-tls", title: "c64d8 over TLS: TLS 1.3 at Go's defaults, the same self-signed ECDSA P-256 certificate type on every server, every handshake done before the warm-up", conns: 64, depth: 8, tls: true},
	{name: "idle1k", title: "1,000 idle sessions (each made one echo call), server RSS growth per session", idle: 1000},
	{name: "idle10k", title: "10,000 idle sessions, server RSS growth per session", idle: 10000},
	{name: "idle10k-tls", title: "idle10k over TLS (as c64d8-tls)", idle: 10000, tls: true},
}

func findServer(name string) (server, bool) {
	for _, s := range allServers {
		if s.name == name {
			return s, true
		}
	}
	return server{}, false
}

func findSetting(name string) (setting, bool) {
	for _, s := range allSettings {
		if s.name == name {
			return s, true
		}
	}
	return setting{}, false
}
