//go:build linux

package main

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// openPTY opens a pseudo-terminal pair (Linux: /dev/ptmx, unlock, /dev/pts/N).
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	unlock, n := int32(0), uint32(0)
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatalf("unlock pty: %v", e)
	}
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatalf("pty number: %v", e)
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty slave: %v", err)
	}
	t.Cleanup(func() { slave.Close() })
	return master, slave
}

// echoOff reports whether the terminal's ECHO flag is cleared.
func echoOff(f *os.File) bool {
	var tio syscall.Termios
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&tio))); e != 0 {
		return false
	}
	return tio.Lflag&syscall.ECHO == 0
}

// typeOnTerminal runs `accounts create` for email with a real terminal as
// stdin and types the two lines once the prompt has turned echo off. It
// returns the command's error, its stderr and everything the terminal showed.
func typeOnTerminal(t *testing.T, vars map[string]string, email, first, second string) (string, string, error) {
	t.Helper()
	master, slave := openPTY(t)
	var stderr syncWriter
	done := make(chan error, 1)
	go func() {
		done <- runIO(t.Context(), createArgs(email), testEnv(vars), slave, io.Discard, &stderr)
	}()
	// Typed while echo is on, the password would be shown: wait for the prompt to turn it off.
	deadline := time.Now().Add(30 * time.Second)
	for !echoOff(slave) {
		if time.Now().After(deadline) {
			t.Fatalf("the prompt never turned echo off; stderr %q", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := master.Write([]byte(first + "\n" + second + "\n")); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("accounts create did not finish after the password was typed")
	}
	if echoOff(slave) {
		t.Error("the prompt left the terminal without echo")
	}
	slave.Close()
	var shown bytes.Buffer
	_, _ = io.Copy(&shown, master) // ends with EIO once the slave is closed and drained
	return stderr.String(), shown.String(), err
}

// TestAccountsCreatePromptsWithoutEcho: on a terminal, with no password
// flag, `accounts create` asks twice without echo (the password never shows
// on the terminal), refuses two different answers, and creates an account
// that signs in with the typed password.
func TestAccountsCreatePromptsWithoutEcho(t *testing.T) {
	vars := sqliteVars(t)
	stderr, shown, err := typeOnTerminal(t, vars, "typo@example.com", "typed horse battery", "typed horse batterY")
	if err == nil || !strings.Contains(err.Error(), "do not match") {
		t.Fatalf("different answers: %v (stderr %q, terminal %q)", err, stderr, shown)
	}
	stderr, shown, err = typeOnTerminal(t, vars, "tty@example.com", "typed horse battery", "typed horse battery")
	if err != nil {
		t.Fatalf("accounts create on a terminal: %v (stderr %q)", err, stderr)
	}
	if !strings.Contains(stderr, "Password: ") || !strings.Contains(stderr, "Repeat password: ") {
		t.Fatalf("prompts on stderr: %q", stderr)
	}
	if strings.Contains(shown, "typed horse") || strings.Contains(stderr, "typed horse") {
		t.Fatalf("the password was echoed: terminal %q stderr %q", shown, stderr)
	}
	in := startInstance(t, vars)
	newBrowser(t, in.Base).login("tty@example.com", "typed horse battery")
}
