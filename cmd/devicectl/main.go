// Command devicectl signs a user in to a devicegate server with the OAuth
// 2.0 device flow and manages the token: login, whoami, sessions, logout.
// Run `devicectl help` for usage and exit codes.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/devicegate/devicegate/cmd/devicectl/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.Env{Getenv: os.Getenv, Hostname: os.Hostname, GOOS: runtime.GOOS}, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
