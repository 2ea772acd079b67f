// Package interop tests gorpcx against peers it did not write, over
// real loopback sockets and pipes: the Python aiorpcX library (Debian's
// python3-aiorpcx) in both directions and in every JSON-RPC dialect,
// and its server killed and restarted under a reconnecting
// client.Client;
// Open vSwitch's ovsdb-server (JSON-RPC 1.0 with messages back to back,
// over its Unix socket and TCP, errors without a result member, echo
// probes) and pylsp, the Python language server (LSP over a child
// process's standard input and output), both started by
// internal/realpeer; and the example programs in examples/, built and
// run as processes through their command lines, some of them against
// those same programs.
//
// The package has no API; everything is in its tests and in the Python
// helper scripts under testdata. Without an interpreter that can import
// aiorpcx, or without ovsdb-server or pylsp, the tests that need them
// are skipped, naming the package to install, except in CI (CI=true),
// where that is a failure.
package interop
