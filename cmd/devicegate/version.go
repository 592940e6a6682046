package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version and commit are set by the build (Makefile: -ldflags "-X
// main.version=... -X main.commit=..."); when empty they come from the
// module and VCS information Go embeds in the binary.
var (
	version string
	commit  string
)

// buildInfo is what `devicegate version` prints and start-up logs.
type buildInfo struct {
	Version, Commit, Go string
}

// readBuildInfo resolves the version and commit: -ldflags first, then the
// build's own information (module version, vcs.revision, vcs.modified).
func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Commit: commit, Go: runtime.Version()}
	info, ok := debug.ReadBuildInfo()
	if ok {
		if b.Version == "" && info.Main.Version != "" {
			b.Version = info.Main.Version
		}
		if b.Commit == "" {
			var rev string
			dirty := false
			for _, s := range info.Settings {
				switch s.Key {
				case "vcs.revision":
					rev = s.Value
				case "vcs.modified":
					dirty = s.Value == "true"
				}
			}
			if rev != "" && dirty {
				rev += "-dirty"
			}
			b.Commit = rev
		}
	}
	if b.Version == "" {
		b.Version = "(devel)"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	return b
}

func printVersion(w io.Writer) {
	b := readBuildInfo()
	fmt.Fprintf(w, "devicegate %s (commit %s, %s)\n", b.Version, b.Commit, b.Go)
}
