// Package doccheck holds a test that compiles every Go code sample of
// the project's Markdown documentation (README.md and docs/*.md), so
// that the samples stay in step with the SDK. Each sample fenced as
// "```go" must be a complete program or package file. A sample that
// imports a module of contrib/ (such as contrib/nats) is built in that
// module, which requires the SDK and the module's own dependencies.
package doccheck
