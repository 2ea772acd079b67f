package logcap_test

import (
	"os"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/gorpcx/gorpcx/internal/logcap"
)

// stopped is a zapcore.Clock that does not move, so that the example's
// output is always the same.
type stopped struct{}

func (stopped) Now() time.Time                         { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) }
func (stopped) NewTicker(d time.Duration) *time.Ticker { return time.NewTicker(d) }

func ExampleNew() {
	enc := zapcore.NewJSONEncoder(zapcore.EncoderConfig{MessageKey: "msg", LevelKey: "level", EncodeLevel: zapcore.LowercaseLevelEncoder})
	core := logcap.New(zapcore.NewCore(enc, zapcore.AddSync(os.Stdout), zapcore.InfoLevel), 1, 2)
	logger := zap.New(core, zap.WithClock(stopped{}))

	for i := range 1000 {
		logger.Warn("cannot decode message", zap.Int("n", i))
	}
	logger.Info("session started") // another message, another bucket
	_ = logger.Sync()              // a program's last call: reports what is pending
	// Output:
	// {"level":"warn","msg":"cannot decode message","n":0}
	// {"level":"warn","msg":"cannot decode message","n":1}
	// {"level":"info","msg":"session started"}
	// {"level":"warn","msg":"log lines suppressed","line":"cannot decode message","suppressed":998}
}
