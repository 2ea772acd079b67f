// Package logcap caps how many log lines a process writes, per message
// text, so that whatever a peer makes a server log cannot flood the
// log, and says how many lines it held back.
//
// [New] wraps a [zapcore.Core]. Each distinct message text (the Message
// of the entry, its first [KeyLength] bytes) has a token bucket: burst
// lines at once, then perSecond lines a second. A line past the rate is
// dropped in Check, before any field is encoded, and counted; the next
// line of that message that passes carries the count in a field named
// [SuppressedKey] ("suppressed"). Counts still pending are written by
// [Core.Flush], and by [Core.Sync], which programs call before they
// exit: one summary line per message, [SummaryMessage] ("log lines
// suppressed"), with the message in [LineKey] ("line") and the count.
// So every line triggered is either written or counted in exactly one
// reported count: lines written + counts reported (by lines, by Flush)
// + [Core.Pending] = lines triggered.
//
// Guarantees:
//
//   - Bounded memory: at most [MaxKeys] (256) messages are tracked,
//     each keyed by at most KeyLength bytes; lines of any further
//     message share one bucket (their summary line names no message:
//     [OtherMessages]).
//   - Over any span of time t, at most burst + perSecond×t lines of one
//     message (or of all untracked messages together) are written, plus
//     one summary line per message at each Flush.
//   - Levels: Debug, Info, Warn and Error lines are capped. Error is
//     capped too, on purpose: a peer can trigger error lines (a handler
//     that panics on a request the peer chose logs its stack at Error),
//     and a server's own failure repeating in a loop is a flood as well;
//     nothing is lost silently, as the count is reported. DPanic, Panic
//     and Fatal lines always pass.
//   - A line that the wrapped core does not enable is neither written
//     nor counted; the cap never makes a core log what it would not.
//   - zapcore semantics: Check adds the wrapped core (not this one) to
//     the checked entry, only when the line is allowed, so the wrapped
//     core's own Check (a tee, a sampler, a level filter) still decides
//     for its part; a count then rides on a clone of the wrapped core
//     made by With, on that line only. With returns a core with the
//     fields that shares the buckets of the core it was called on.
//     Write writes unconditionally, as zapcore's own sampler does.
//   - Time is the entry's Time (as for zapcore's sampler), so a logger
//     made with zap.WithClock drives the buckets; an entry with a zero
//     Time uses the system clock. A clock that goes back by more than
//     10 s resets the bucket of the message that saw it instead of
//     holding that message back as long.
//
// The cost of Check on a tracked message is one hash of the message,
// one probe of a fixed table (no map, no lock, no allocation) and one
// compare-and-swap; a line dropped costs two atomic additions more.
//
// A count that rides on a line is lost if the wrapped core then drops
// that line (its own sampler, say); a count in a field the program
// itself adds to a dropped line (such as the per-session counts of
// package session) is not seen here: the line is counted as one.
package logcap
