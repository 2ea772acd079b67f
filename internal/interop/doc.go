// Package interop tests gorpcx against peers it did not write, over
// real loopback sockets: the Python aiorpcX library (Debian's
// python3-aiorpcx) in both directions and in every JSON-RPC dialect,
// and the example programs in examples/, built and run as processes
// through their command lines.
//
// The package has no API; everything is in its tests and in the Python
// helper scripts under testdata. Without an interpreter that can import
// aiorpcx the aiorpcX tests are skipped, naming the package to install,
// except in CI (CI=true), where that is a failure.
package interop
