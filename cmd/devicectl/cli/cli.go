package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/devicegate/devicegate/cmd/devicectl/deviceclient"
	"golang.org/x/term"
)

// Exit codes, a contract for scripts (see Usage and README.md).
const (
	ExitOK           = 0
	ExitError        = 1
	ExitUsage        = 2
	ExitUnauthorized = 3
	ExitDenied       = 4
	ExitExpired      = 5
	ExitUnreachable  = 6
	ExitInterrupted  = 130
)

// Usage is the help text.
const Usage = `devicectl: sign in to a devicegate server from the command line (OAuth 2.0 device flow)

Usage:
  devicectl login --server URL [--client-id difyctl] [--label NAME] [--no-qr] [--no-browser] [--allow-http]
        show a code (and a QR code) to approve in a browser, wait for the approval,
        and keep the token for that server
  devicectl whoami [--server URL]         who the stored token belongs to
  devicectl sessions [--server URL]       list your signed-in devices (* = this one)
  devicectl sessions revoke ID [--server URL]
                                          sign a device out (yours: forgets the token too)
  devicectl logout [--server URL] [--force]
                                          revoke this device's token, then forget it
                                          (--force: forget it even if the server is unreachable)
  devicectl help                          show this text

Every command takes --json: one JSON object per line on stdout (login first
prints {"event":"device_code",...}, then {"event":"signed_in",...}); an error
is {"error":KIND,"message":...,"exit_code":N}.

Without --server the commands use $DEVICECTL_SERVER, else the server of the
last login. Tokens are kept in $DEVICECTL_CONFIG_DIR, else in devicectl/
under the user's configuration directory (~/.config on Linux), one file per
server, readable only by you (0600, folder 0700).

Exit codes:
  0    success
  1    other error (an unexpected answer, a local file error)
  2    usage error
  3    unauthorised: not signed in, or the server refused the token
       (revoked, expired); run devicectl login
  4    denied: the request was declined in the browser
  5    expired: the code expired before it was approved
  6    unreachable: the server could not be reached or is unavailable
  130  interrupted (Ctrl-C); nothing was written
`

// Env is what the command reads from its surroundings.
type Env struct {
	Getenv   func(string) string
	Hostname func() (string, error)
	GOOS     string       // runtime.GOOS; decides the browser opener
	HTTP     *http.Client // nil: a client with a 30 s timeout
}

// usageError is a command-line mistake (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// command is one run's shared state.
type command struct {
	ctx            context.Context
	env            Env
	stdout, stderr io.Writer
	json           bool
	server         string
	store          deviceclient.Store
}

// Run runs devicectl with args (without the program name) and returns the
// process exit code. ctx is cancelled on Ctrl-C.
func Run(ctx context.Context, args []string, env Env, stdout, stderr io.Writer) int {
	if env.HTTP == nil {
		env.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	c := &command{ctx: ctx, env: env, stdout: stdout, stderr: stderr}
	for _, a := range args {
		if a == "--json" || a == "-json" {
			c.json = true
		}
	}
	err := c.dispatch(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, Usage)
		return ExitOK
	}
	if err == nil {
		return ExitOK
	}
	code, kind := classify(ctx, err)
	msg := err.Error()
	if code == ExitInterrupted {
		msg = "interrupted; nothing was written"
	}
	if c.json {
		c.emit(map[string]any{"error": kind, "message": msg, "exit_code": code})
	} else {
		fmt.Fprintln(stderr, "devicectl:", msg)
		if code == ExitUsage {
			fmt.Fprintln(stderr, "Run 'devicectl help' for usage.")
		}
	}
	return code
}

// classify maps an error to its exit code and --json kind.
func classify(ctx context.Context, err error) (int, string) {
	var ue usageError
	switch {
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		return ExitInterrupted, "interrupted"
	case errors.As(err, &ue):
		return ExitUsage, "usage"
	case errors.Is(err, deviceclient.ErrDenied):
		return ExitDenied, "access_denied"
	case errors.Is(err, deviceclient.ErrExpired):
		return ExitExpired, "expired_token"
	case errors.Is(err, deviceclient.ErrUnreachable):
		return ExitUnreachable, "unreachable"
	case errors.Is(err, deviceclient.ErrUnauthorized):
		return ExitUnauthorized, "unauthorized"
	}
	return ExitError, "error"
}

func (c *command) dispatch(args []string) error {
	if len(args) == 0 {
		return usageError{"missing command"}
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "--help", "-help":
		return flag.ErrHelp
	case "login":
		return c.login(rest)
	case "whoami":
		return c.whoami(rest)
	case "logout":
		return c.logout(rest)
	case "sessions":
		return c.sessions(rest)
	}
	return usageError{fmt.Sprintf("unknown command %q", name)}
}

// parse parses flags anywhere among the arguments (flag stops at the first
// positional one) and returns the positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
}

// flags is a FlagSet with the flags every command has.
func (c *command) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.BoolVar(&c.json, "json", c.json, "JSON output")
	fs.StringVar(&c.server, "server", "", "server URL")
	return fs
}

// openStore resolves the token folder.
func (c *command) openStore() error {
	dir := c.env.Getenv("DEVICECTL_CONFIG_DIR")
	if dir == "" {
		var err error
		if dir, err = deviceclient.DefaultDir(); err != nil {
			return fmt.Errorf("no configuration directory for the token (set DEVICECTL_CONFIG_DIR): %w", err)
		}
	}
	c.store = deviceclient.Store{Dir: dir}
	return nil
}

// signedIn resolves the server (--server, $DEVICECTL_SERVER, the last
// login) and loads its token.
func (c *command) signedIn() (*deviceclient.Token, error) {
	if err := c.openStore(); err != nil {
		return nil, err
	}
	server := c.server
	if server == "" {
		server = c.env.Getenv("DEVICECTL_SERVER")
	}
	if server == "" {
		cur, err := c.store.Current()
		if err != nil {
			return nil, err
		}
		if cur == "" {
			return nil, fmt.Errorf("%w: run devicectl login --server URL", deviceclient.ErrUnauthorized)
		}
		server = cur
	}
	norm, err := deviceclient.NormalizeServer(server, true)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	c.server = norm
	tok, err := c.store.Load(norm)
	if err != nil {
		return nil, err
	}
	if c.store.LooseMode(norm) {
		fmt.Fprintf(c.stderr, "devicectl: warning: %s can be read by other users; run chmod 600 on it\n", c.store.Path(norm))
	}
	return tok, nil
}

func (c *command) api(tok *deviceclient.Token) *deviceclient.Client {
	return &deviceclient.Client{APIBase: tok.APIBase, Token: tok.AccessToken, HTTP: c.env.HTTP}
}

// refused explains a failed API call: a token the server no longer
// accepts, or a server out of reach.
func (c *command) refused(err error) error {
	if errors.Is(err, deviceclient.ErrUnreachable) {
		return fmt.Errorf("cannot reach %s: %w", c.server, err)
	}
	if errors.Is(err, deviceclient.ErrUnauthorized) {
		return fmt.Errorf("%s no longer accepts the stored token (%w); sign in again: devicectl login --server %s: %w",
			c.server, err, c.server, deviceclient.ErrUnauthorized)
	}
	return err
}

// emit writes v as one line of JSON on stdout.
func (c *command) emit(v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintf(c.stdout, "%s\n", b)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// when formats a server timestamp for people.
func when(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.Local().Format("2006-01-02 15:04")
}

// noun picks a word by count.
func noun(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
