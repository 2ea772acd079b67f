package server

import (
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/gorpcx/gorpcx/internal/logcap"
)

// capLogger returns l with its lines capped per message (see package
// internal/logcap): at most logcap.DefaultBurst at once, then
// logcap.DefaultPerSecond a second; the next line that passes carries
// the count dropped as "suppressed", and Sync writes what is left as
// summary lines. It returns nil for nil.
func capLogger(l *zap.Logger) (*zap.Logger, *logcap.Core) {
	if l == nil {
		return nil, nil
	}
	var capped *logcap.Core
	out := l.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		capped = logcap.New(c, logcap.DefaultPerSecond, logcap.DefaultBurst)
		return capped
	}))
	return out, capped
}

// warn logs a line a peer can trigger (a refusal, an eviction) at
// warning level; the server's logger caps such lines.
func (s *Server) warn(msg string, fields ...zap.Field) { s.log.Warn(msg, fields...) }

// limitedInfo logs a line a peer can trigger at info level; the
// server's logger caps such lines.
func (s *Server) limitedInfo(msg string, fields ...zap.Field) { s.log.Info(msg, fields...) }

// suppressed returns the log lines the server's caps have dropped.
func (s *Server) suppressed() int64 {
	var n int64
	for _, c := range s.caps {
		if c != nil {
			n += c.Suppressed()
		}
	}
	return n
}
