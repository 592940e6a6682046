package deviceclient

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Store keeps one Token per server as a JSON file in Dir (mode 0600, Dir
// 0700), and remembers the server of the last sign-in. Every write goes to
// a temporary file in Dir and is renamed over the old one, so an
// interruption leaves either the old file or the new one, never half of one.
type Store struct {
	Dir string
}

// DefaultDir is devicectl's folder in the user's configuration directory
// (os.UserConfigDir: $XDG_CONFIG_HOME or ~/.config on Linux,
// ~/Library/Application Support on macOS, %AppData% on Windows).
func DefaultDir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "devicectl"), nil
}

const currentFile = "current"

// Path is the file holding server's token.
func (s Store) Path(server string) string {
	sum := sha256.Sum256([]byte(server))
	host := server
	if u, err := url.Parse(server); err == nil && u.Host != "" {
		host = u.Host
	}
	slug := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, strings.ToLower(host))
	return filepath.Join(s.Dir, "token-"+slug+"-"+hex.EncodeToString(sum[:4])+".json")
}

// Save writes t as its server's token and makes that server the current one.
func (s Store) Save(t *Token) error {
	b, err := json.MarshalIndent(t, "", "  ") //nolint:gosec // G117: storing the token is the point; writeFile makes it 0600 in a 0700 folder
	if err != nil {
		return err
	}
	if err := s.writeFile(filepath.Base(s.Path(t.Server)), append(b, '\n')); err != nil {
		return err
	}
	return s.writeFile(currentFile, []byte(t.Server+"\n"))
}

// Load reads server's token; a missing one is an error matching ErrUnauthorized.
func (s Store) Load(server string) (*Token, error) {
	p := s.Path(server)
	b, err := os.ReadFile(p) //nolint:gosec // G304: the path is built by Path from the user's own config folder
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w to %s: run devicectl login --server %s", ErrUnauthorized, server, server)
	}
	if err != nil {
		return nil, err
	}
	var t Token
	if err := json.Unmarshal(b, &t); err != nil || t.AccessToken == "" {
		return nil, fmt.Errorf("%s holds no readable token: sign in again (devicectl login --server %s)", p, server)
	}
	return &t, nil
}

// LooseMode reports whether server's token file can be read by anyone but
// its owner (never on Windows, where modes mean nothing).
func (s Store) LooseMode(server string) bool {
	fi, err := os.Stat(s.Path(server))
	return err == nil && runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0
}

// Delete forgets server's token (no error if there was none) and, if it was
// the current server, that too.
func (s Store) Delete(server string) error {
	if err := os.Remove(s.Path(server)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if cur, _ := s.Current(); cur == server {
		if err := os.Remove(filepath.Join(s.Dir, currentFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// Current is the server of the last sign-in ("" if none).
func (s Store) Current() (string, error) {
	b, err := os.ReadFile(filepath.Join(s.Dir, currentFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	return strings.TrimSpace(string(b)), err
}

// writeFile replaces Dir/name atomically: a 0600 temporary file in the same
// folder, synced, then renamed over name.
func (s Store) writeFile(name string, data []byte) error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return err
	}
	if runtime.GOOS != "windows" {
		// MkdirAll leaves an existing folder alone; this one holds secrets.
		if err := os.Chmod(s.Dir, 0o700); err != nil { //nolint:gosec // G302: a folder needs x; 0700 is owner-only
			return err
		}
	}
	f, err := os.CreateTemp(s.Dir, "."+name+".*.tmp") // created 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() { _ = os.Remove(tmp) }() // a no-op once renamed
	if _, err := f.Write(data); err != nil {
		_ = f.Close() // the write error is the one to report
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close() // the write error is the one to report
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(s.Dir, name)); err != nil {
		return err
	}
	if d, err := os.Open(s.Dir); err == nil { // make the rename durable
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
