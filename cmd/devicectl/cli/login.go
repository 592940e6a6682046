package cli

import (
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/devicegate/devicegate/cmd/devicectl/deviceclient"
)

func (c *command) login(args []string) error {
	fs := c.flags("login")
	clientID := fs.String("client-id", "difyctl", "OAuth client id")
	label := fs.String("label", "", "device label shown on the approval page and in sessions (default: this host's name)")
	noQR := fs.Bool("no-qr", false, "do not draw the QR code")
	noBrowser := fs.Bool("no-browser", false, "do not open a browser")
	allowHTTP := fs.Bool("allow-http", false, "allow a plain-http server that is not on this machine")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("login takes no argument %q", pos[0])}
	}
	if c.server == "" {
		return usageError{"login needs --server URL"}
	}
	server, err := deviceclient.NormalizeServer(c.server, *allowHTTP)
	if err != nil {
		return usageError{err.Error() + " (or pass --allow-http)"}
	}
	c.server = server
	if *label == "" && c.env.Hostname != nil {
		if h, err := c.env.Hostname(); err == nil {
			*label = h
		}
	}
	if err := c.openStore(); err != nil {
		return err
	}

	md, err := deviceclient.Discover(c.ctx, c.env.HTTP, server)
	if err != nil {
		return err
	}
	l, err := deviceclient.StartLogin(c.ctx, c.env.HTTP, md, *clientID, *label)
	if err != nil {
		return fmt.Errorf("asking %s for a code: %w", server, err)
	}
	da := l.Auth
	// What the server sent reaches a terminal: no control characters.
	da.UserCode, da.VerificationURI, da.VerificationURIComplete = oneLine(da.UserCode), oneLine(da.VerificationURI), oneLine(da.VerificationURIComplete)
	open := da.VerificationURIComplete
	if open == "" {
		open = da.VerificationURI
	}
	tty := !c.json && isTerminal(c.stdout)
	if c.json {
		c.emit(map[string]any{"event": "device_code", "server": server, "user_code": da.UserCode,
			"verification_uri": da.VerificationURI, "verification_uri_complete": da.VerificationURIComplete,
			"expires_at": da.Expiry.UTC().Format(time.RFC3339), "interval": da.Interval, "pkce": l.PKCE})
		fmt.Fprintf(c.stderr, "To sign in, open %s and confirm the code %s\n", da.VerificationURI, da.UserCode)
	} else {
		fmt.Fprintf(c.stdout, "To sign in to %s, open\n\n    %s\n\nand confirm the code\n\n    %s\n\n", server, da.VerificationURI, da.UserCode)
		if tty && !*noQR && da.VerificationURIComplete != "" {
			if err := writeQR(c.stdout, da.VerificationURIComplete, c.env.Getenv("NO_COLOR") == ""); err == nil {
				fmt.Fprintf(c.stdout, "\nor scan this code with your phone.\n\n")
			}
		}
	}
	hint := c.stdout
	if c.json {
		hint = c.stderr
	}
	if !*noBrowser && !headless(c.env) {
		if err := openBrowser(c.env, open); err == nil {
			fmt.Fprintf(hint, "Opened your browser at %s\n", open)
		} else {
			fmt.Fprintf(hint, "Could not open a browser (%v); open the address yourself.\n", err)
		}
	}

	var stop func()
	if tty {
		stop = c.statusLine(da.UserCode, da.Expiry, l.PollInterval)
	} else if !c.json {
		fmt.Fprintln(c.stdout, "Waiting for approval...")
	}
	tok, err := l.Wait(c.ctx)
	if stop != nil {
		stop()
	}
	if err != nil {
		return err
	}
	// The token exists now: keep it even if Ctrl-C comes during the write
	// (the write is atomic, and it is never interrupted half-way).
	if err := c.store.Save(tok); err != nil {
		return fmt.Errorf("signed in, but the token could not be saved: %w", err)
	}
	path := c.store.Path(server)
	if c.json {
		c.emit(map[string]any{"event": "signed_in", "server": server, "subject_type": tok.SubjectType,
			"subject_email": tok.SubjectEmail, "account": tok.Account, "token_id": tok.TokenID,
			"device_label": tok.DeviceLabel, "client_id": tok.ClientID, "expires_at": tok.ExpiresAt.Format(time.RFC3339),
			"pkce": l.PKCE, "token_file": path})
		return nil
	}
	who := tok.SubjectEmail
	if tok.Account != nil && tok.Account.Name != "" {
		who = fmt.Sprintf("%s <%s>", tok.Account.Name, tok.Account.Email)
	}
	who = oneLine(who)
	fmt.Fprintf(c.stdout, "Signed in to %s as %s.\nToken saved in %s (expires %s).\n",
		server, who, path, tok.ExpiresAt.Local().Format("2006-01-02 15:04"))
	return nil
}

// statusLine redraws one line on the terminal until the returned stop is
// called, which erases it.
func (c *command) statusLine(code string, expiry time.Time, interval func() (time.Duration, int)) (stop func()) {
	frames := []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			left := time.Until(expiry).Round(time.Second)
			if left < 0 {
				left = 0
			}
			every, slowDowns := interval()
			slowed := ""
			if slowDowns > 0 {
				slowed = ", slowed down by the server"
			}
			fmt.Fprintf(c.stdout, "\r\x1b[2K%s Waiting for approval of %s: checking every %d s%s, code expires in %d:%02d (Ctrl-C to cancel)",
				frames[i%len(frames)], code, int(every.Seconds()), slowed, int(left.Minutes()), int(left.Seconds())%60)
			select {
			case <-done:
				fmt.Fprint(c.stdout, "\r\x1b[2K")
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); <-finished }) }
}

// headless reports a session with no browser to open: over SSH anywhere,
// and on Linux and the BSDs without an X11 or Wayland display.
func headless(env Env) bool {
	if env.Getenv("SSH_CONNECTION") != "" || env.Getenv("SSH_TTY") != "" {
		return true
	}
	switch env.GOOS {
	case "darwin", "windows":
		return false
	}
	return env.Getenv("DISPLAY") == "" && env.Getenv("WAYLAND_DISPLAY") == ""
}

// openBrowser starts $BROWSER (a colon-separated list of commands; "%s"
// stands for the URL, else it is appended), else the platform's opener. It
// does not wait for the browser.
func openBrowser(env Env, url string) error {
	var cmds [][]string
	if b := env.Getenv("BROWSER"); b != "" {
		for _, entry := range strings.Split(b, ":") {
			f := strings.Fields(entry)
			if len(f) == 0 {
				continue
			}
			substituted := false
			for i := range f {
				if strings.Contains(f[i], "%s") {
					f[i], substituted = strings.ReplaceAll(f[i], "%s", url), true
				}
			}
			if !substituted {
				f = append(f, url)
			}
			cmds = append(cmds, f)
		}
	}
	switch env.GOOS {
	case "darwin":
		cmds = append(cmds, []string{"open", url})
	case "windows":
		cmds = append(cmds, []string{"rundll32", "url.dll,FileProtocolHandler", url})
	default:
		cmds = append(cmds, []string{"xdg-open", url})
	}
	var err error
	for _, argv := range cmds {
		cmd := exec.Command(argv[0], argv[1:]...) //nolint:gosec,noctx // G204: a fixed opener and the server's own https verification URL; it outlives the login
		if err = cmd.Start(); err == nil {
			go cmd.Wait() //nolint:errcheck // reap it; its outcome is the browser's business
			return nil
		}
	}
	return err
}
