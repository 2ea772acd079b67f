//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

package transport_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gorpcx/gorpcx/transport"
)

func ExampleListenConfig_unixMode() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "electrumx.sock")

	// The group may connect; the socket never has other permissions.
	ln, err := (&transport.ListenConfig{UnixMode: 0o660}).Listen(ctx, "unix", path)
	if err != nil {
		fmt.Println(err)
		return
	}
	list := func() {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			info, _ := e.Info()
			fmt.Println(" ", e.Name(), info.Mode())
		}
	}
	fmt.Println("listening:")
	list()

	// A second listener, in this process or another, is refused at once.
	_, err = transport.Listen(ctx, "unix", path)
	fmt.Println("second listener refused:", err != nil)

	ln.Close()
	fmt.Println("closed:")
	list()
	// Output:
	// listening:
	//   electrumx.sock Srw-rw----
	//   electrumx.sock.lock -rw-------
	// second listener refused: true
	// closed:
}
