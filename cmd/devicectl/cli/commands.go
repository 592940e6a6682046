package cli

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/devicegate/devicegate/cmd/devicectl/deviceclient"
)

// noArgs refuses positional arguments to a command that takes none.
func noArgs(name string, pos []string) error {
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("%s takes no argument %q", name, pos[0])}
	}
	return nil
}

func (c *command) whoami(args []string) error {
	pos, err := parse(c.flags("whoami"), args)
	if err != nil {
		return err
	}
	if err := noArgs("whoami", pos); err != nil {
		return err
	}
	tok, err := c.signedIn()
	if err != nil {
		return err
	}
	me, err := c.api(tok).Me(c.ctx)
	if err != nil {
		return c.refused(err)
	}
	if c.json {
		c.emit(struct {
			Server string `json:"server"`
			*deviceclient.Me
			ClientID       string `json:"client_id"`
			DeviceLabel    string `json:"device_label"`
			TokenID        string `json:"token_id"`
			TokenExpiresAt string `json:"token_expires_at"`
		}{c.server, me, tok.ClientID, tok.DeviceLabel, tok.TokenID, tok.ExpiresAt.Format(time.RFC3339)})
		return nil
	}
	who := me.SubjectEmail
	if me.Account != nil {
		who = fmt.Sprintf("%s <%s>", me.Account.Name, me.Account.Email)
	}
	if me.SubjectType == "external_sso" {
		who += " (single sign-on via " + me.SubjectIssuer + ")"
	}
	fmt.Fprintf(c.stdout, "Signed in to %s as %s\n", c.server, oneLine(who))
	for _, w := range me.Workspaces {
		def := ""
		if me.DefaultWorkspaceID != nil && *me.DefaultWorkspaceID == w.ID {
			def = ", default"
		}
		fmt.Fprintf(c.stdout, "  workspace %s (%s%s)\n", oneLine(w.Name), oneLine(w.Role), def)
	}
	fmt.Fprintf(c.stdout, "This device: %q, client %s, token expires %s\n",
		tok.DeviceLabel, tok.ClientID, tok.ExpiresAt.Local().Format("2006-01-02 15:04"))
	return nil
}

func (c *command) logout(args []string) error {
	fs := c.flags("logout")
	force := fs.Bool("force", false, "forget the token even if the server cannot revoke it")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs("logout", pos); err != nil {
		return err
	}
	tok, err := c.signedIn()
	if errors.Is(err, deviceclient.ErrUnauthorized) {
		c.say(map[string]any{"status": "not_signed_in", "server": c.server}, "Not signed in; nothing to do.")
		return nil
	}
	if err != nil {
		return err
	}
	revoked, note := true, "token revoked"
	if err := c.api(tok).RevokeSelf(c.ctx); err != nil {
		switch {
		case errors.Is(err, deviceclient.ErrUnauthorized):
			// Already revoked or expired: nothing left to revoke, forget it.
			revoked, note = false, "the server had already invalidated the token"
		case *force && c.ctx.Err() == nil:
			revoked, note = false, fmt.Sprintf("NOT revoked (%v); it stays valid on the server until it expires or is revoked from another device", err)
		case errors.Is(err, deviceclient.ErrUnreachable):
			return fmt.Errorf("%w; the token is kept (logout --force forgets it anyway)", c.refused(err))
		default:
			return c.refused(err)
		}
	}
	if err := c.store.Delete(c.server); err != nil {
		return err
	}
	c.say(map[string]any{"status": "signed_out", "server": c.server, "revoked": revoked},
		fmt.Sprintf("Signed out of %s (%s).", c.server, note))
	return nil
}

func (c *command) sessions(args []string) error {
	pos, err := parse(c.flags("sessions"), args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		if pos[0] != "revoke" {
			return usageError{fmt.Sprintf("unknown sessions command %q (want: sessions, or sessions revoke ID)", pos[0])}
		}
		if len(pos) != 2 {
			return usageError{"sessions revoke needs exactly one session ID (see devicectl sessions)"}
		}
		return c.revokeSession(pos[1])
	}
	tok, err := c.signedIn()
	if err != nil {
		return err
	}
	list, err := c.api(tok).Sessions(c.ctx)
	if err != nil {
		return c.refused(err)
	}
	if c.json {
		if list == nil {
			list = []deviceclient.Session{}
		}
		c.emit(map[string]any{"server": c.server, "sessions": list})
		return nil
	}
	fmt.Fprintf(c.stdout, "%d signed-in %s on %s:\n\n", len(list), noun(len(list), "device", "devices"), c.server)
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\tID\tDEVICE\tCLIENT\tSIGNED IN\tLAST USED\tEXPIRES")
	for _, s := range list {
		mark, last := "", "-"
		if s.Current {
			mark = "*"
		}
		if s.LastUsedAt != nil {
			last = when(*s.LastUsedAt)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", mark, s.ID, oneLine(s.DeviceLabel), s.ClientID, when(s.CreatedAt), last, when(s.ExpiresAt))
	}
	return tw.Flush()
}

func (c *command) revokeSession(id string) error {
	tok, err := c.signedIn()
	if err != nil {
		return err
	}
	if err := c.api(tok).Revoke(c.ctx, id); err != nil {
		var ae *deviceclient.APIError
		if errors.As(err, &ae) && ae.Status == 404 {
			return fmt.Errorf("no session %q among yours (see devicectl sessions)", id)
		}
		return c.refused(err)
	}
	self := tok.TokenID != "" && id == tok.TokenID
	if self {
		if err := c.store.Delete(c.server); err != nil {
			return err
		}
	}
	msg := fmt.Sprintf("Revoked session %s.", id)
	if self {
		msg += " It was this device's: signed out."
	}
	c.say(map[string]any{"status": "revoked", "server": c.server, "id": id, "signed_out": self}, msg)
	return nil
}

// say prints v as JSON with --json, else text.
func (c *command) say(v any, text string) {
	if c.json {
		c.emit(v)
		return
	}
	fmt.Fprintln(c.stdout, text)
}

// oneLine keeps a device label (chosen by whoever signed in) from breaking
// the table or the terminal.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r >= 0x7f && r < 0xa0 {
			return ' '
		}
		return r
	}, s)
}
