package main

import (
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserSignInPastTheCeiling: while anonymous guessers from many
// addresses keep the deployment-wide user-code ceiling full, a person who
// types their code sees the rate-limited view offering "Sign in to
// continue"; signed in, they authorize (a signed-in lookup answers to the
// account's budget, not to the ceiling) and the CLI gets its token.
func TestBrowserSignInPastTheCeiling(t *testing.T) {
	const ceiling = 5
	srv := webServer(t, map[string]string{"USER_CODE_GUESS_LIMIT_PER_15MIN": "5"})
	c := startCLI(t, srv.Base, "ada's laptop", "")
	for i := 0; ; i++ {
		st, _ := lookup(t, srv.Base, randomUserCode(), nthAddr(10, i))
		if st == http.StatusTooManyRequests {
			break
		}
		if st != 200 || i > ceiling {
			t.Fatalf("guess %d: %d, want 200 until the ceiling of %d is full", i+1, st, ceiling)
		}
	}
	tab := newTab(t, 390, 844)
	drive(t, tab, chromedp.Navigate(srv.Base+"/device"))
	waitView(t, tab, "entry")
	drive(t, tab, chromedp.SendKeys(chromedp.CSS("#code"), typed(c.userCode)),
		chromedp.Click(chromedp.CSS("#entry-form button[type=submit]")))
	waitView(t, tab, "ratelimited")
	if got := textOf(t, tab, "#ratelimited-signin"); got != "Sign in to continue" {
		t.Fatalf("rate-limited view offers %q, want Sign in to continue", got)
	}
	checkView(t, tab, "ratelimited-signin")
	drive(t, tab, chromedp.Click(chromedp.CSS("#ratelimited-signin")))
	waitView(t, tab, "signin")
	signIn(t, tab, webPassword)
	waitView(t, tab, "authorize") // the code was typed, so checked: no second confirmation
	if got := textOf(t, tab, "#view-authorize dd.mono"); got != c.userCode {
		t.Fatalf("authorize view shows %q, want %q", got, c.userCode)
	}
	drive(t, tab, chromedp.Click(chromedp.CSS("#approve")))
	waitView(t, tab, "success")
	wantPoll(t, c, 200, "")
	// Anonymous callers are still refused.
	if st, _ := lookup(t, srv.Base, c.userCode, nthAddr(11, 0)); st != http.StatusTooManyRequests {
		t.Fatalf("anonymous lookup while the ceiling is full: %d, want 429", st)
	}
}
