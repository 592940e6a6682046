package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// maxPasswordBytes bounds what --password-stdin reads: a password, not a file.
const maxPasswordBytes = 4096

// passwordWarning is printed when the password came as a flag (docker login's advice).
const passwordWarning = "WARNING: --password leaves the password in the process list and the shell history; " +
	"pipe it with --password-stdin or let the command prompt for it\n"

// readPassword is how `accounts create` obtains the password, in order:
// the --password flag (kept for scripts, with a warning on stderr);
// --password-stdin (the first line of stdin, like `docker login`); a prompt
// without echo when stdin is a terminal. Anything else is a usage error: a
// password is never read from a non-terminal stdin unasked.
func readPassword(flagValue string, fromStdin bool, stdin io.Reader, stderr io.Writer) (string, error) {
	switch {
	case flagValue != "" && fromStdin:
		return "", usageError{"accounts create: --password and --password-stdin are mutually exclusive"}
	case flagValue != "":
		fmt.Fprint(stderr, passwordWarning)
		return flagValue, nil
	case fromStdin:
		return passwordFromStdin(stdin)
	}
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return promptPassword(int(f.Fd()), stderr)
	}
	return "", usageError{"accounts create: no password: pipe it with --password-stdin, or run on a terminal to be prompted"}
}

// passwordFromStdin reads one line (a trailing newline or CRLF is not part
// of the password); a second line means the input is not what was meant.
func passwordFromStdin(stdin io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(stdin, maxPasswordBytes+1))
	if err != nil {
		return "", fmt.Errorf("--password-stdin: %w", err)
	}
	if len(b) > maxPasswordBytes {
		return "", errors.New("--password-stdin: more than 4096 bytes on stdin")
	}
	b = bytes.TrimSuffix(bytes.TrimSuffix(b, []byte("\n")), []byte("\r"))
	if bytes.ContainsAny(b, "\r\n") {
		return "", errors.New("--password-stdin: stdin holds more than one line; give the password alone")
	}
	if len(b) == 0 {
		return "", errors.New("--password-stdin: stdin is empty")
	}
	return string(b), nil
}

// promptPassword asks twice on the terminal, without echo.
func promptPassword(fd int, stderr io.Writer) (string, error) {
	ask := func(prompt string) ([]byte, error) {
		fmt.Fprint(stderr, prompt)
		pw, err := term.ReadPassword(fd)
		fmt.Fprintln(stderr)
		return pw, err
	}
	pw, err := ask("Password: ")
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	again, err := ask("Repeat password: ")
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if !bytes.Equal(pw, again) {
		return "", errors.New("accounts create: the passwords do not match")
	}
	if len(pw) == 0 {
		return "", errors.New("accounts create: the password is empty")
	}
	return string(pw), nil
}
