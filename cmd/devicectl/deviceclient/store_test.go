package deviceclient

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestStoreSaveLoadDelete(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes mean nothing on Windows")
	}
	// An existing folder with loose permissions is tightened.
	dir := filepath.Join(t.TempDir(), "devicectl")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := Store{Dir: dir}
	a := &Token{Server: "https://a.example", AccessToken: "dfoa_a", ExpiresAt: time.Now().UTC().Truncate(time.Second)}
	b := &Token{Server: "https://a.example:8443", AccessToken: "dfoa_b"}
	for _, tok := range []*Token{a, b} {
		if err := s.Save(tok); err != nil {
			t.Fatal(err)
		}
	}
	if s.Path(a.Server) == s.Path(b.Server) {
		t.Fatal("two servers share a token file")
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, s.Path(a.Server): 0o600, s.Path(b.Server): 0o600, filepath.Join(dir, currentFile): 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Fatalf("%s: %v %v, want %v", path, fi.Mode().Perm(), err, want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Fatalf("folder holds %d entries, want 2 tokens + current (no temporary files)", len(entries))
	}
	got, err := s.Load(a.Server)
	if err != nil || got.AccessToken != "dfoa_a" || !got.ExpiresAt.Equal(a.ExpiresAt) {
		t.Fatalf("load: %+v %v", got, err)
	}
	if cur, _ := s.Current(); cur != b.Server {
		t.Fatalf("current %q, want the last saved", cur)
	}
	if s.LooseMode(a.Server) {
		t.Fatal("a 0600 file reported loose")
	}
	if err := os.Chmod(s.Path(a.Server), 0o644); err != nil {
		t.Fatal(err)
	}
	if !s.LooseMode(a.Server) {
		t.Fatal("a 0644 file not reported")
	}

	if err := s.Delete(b.Server); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(b.Server); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("load after delete: %v", err)
	}
	if cur, _ := s.Current(); cur != "" {
		t.Fatalf("current %q after deleting its token", cur)
	}
	if err := s.Delete(b.Server); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
}

func TestNormalizeServer(t *testing.T) {
	ok := map[string]string{
		"https://Auth.Example.com/":   "https://auth.example.com",
		"HTTPS://auth.example.com/x/": "https://auth.example.com/x",
		"http://localhost:8080":       "http://localhost:8080",
		"http://127.0.0.1:9/":         "http://127.0.0.1:9",
		"http://[::1]:9":              "http://[::1]:9",
	}
	for in, want := range ok {
		if got, err := NormalizeServer(in, false); err != nil || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "auth.example.com", "ftp://auth.example.com", "https://auth.example.com/?a=b",
		"https://auth.example.com/#x", "https://user:pw@auth.example.com", "http://auth.example.com", "http://10.0.0.1"} {
		if got, err := NormalizeServer(in, false); err == nil {
			t.Errorf("%q accepted as %q", in, got)
		}
	}
	if _, err := NormalizeServer("http://auth.example.com", true); err != nil {
		t.Errorf("--allow-http refused: %v", err)
	}
}
