// Package doccheck holds a test that compiles every Go code sample of
// the project's Markdown documentation (README.md and docs/*.md), so
// that the samples stay in step with the SDK. Each sample fenced as
// "```go" must be a complete program or package file.
package doccheck
