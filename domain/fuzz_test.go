package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
)

// FuzzNormalizeUserCode: never panics; accepts exactly the inputs made of
// alphabet characters (either ASCII case) plus spaces and dashes with eight
// alphabet characters in all, and answers what referenceNormalize answers;
// an accepted code is canonical and normalising it again is the identity.
func FuzzNormalizeUserCode(f *testing.F) {
	for _, s := range []string{"ABCD-EFGH", "abcd efgh", "", "----", "ÄBCD-EFGH", "ABCD-EFGH-", "a b c d e f g h", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, ok := domain.NormalizeUserCode(in)
		want, wantOK := referenceNormalize(in)
		if ok != wantOK || out != want {
			t.Fatalf("NormalizeUserCode(%q) = %q, %v; the alphabet rule says %q, %v", in, out, ok, want, wantOK)
		}
		if !ok {
			if out != "" {
				t.Fatalf("rejected input returned %q", out)
			}
			return
		}
		if len(out) != 9 || out[4] != '-' {
			t.Fatalf("not canonical: %q", out)
		}
		for i, r := range out {
			if i != 4 && !strings.ContainsRune(domain.UserCodeAlphabet, r) {
				t.Fatalf("character %q outside the alphabet in %q", r, out)
			}
		}
		if again, ok := domain.NormalizeUserCode(out); !ok || again != out {
			t.Fatalf("not idempotent: %q -> %q", out, again)
		}
		if again, ok := domain.NormalizeUserCode(strings.ToLower(out)); !ok || again != out {
			t.Fatalf("lower case of %q -> %q, %v", out, again, ok)
		}
	})
}

// referenceNormalize restates SPEC 2.1 byte by byte, with no Unicode case
// mapping: only ASCII letters fold, so "ſ" (which strings.ToUpper maps to
// "S") or a fullwidth letter is not an alphabet character.
func referenceNormalize(in string) (string, bool) {
	var kept []byte
	for i := 0; i < len(in); i++ {
		c := in[i]
		if c == ' ' || c == '-' {
			continue
		}
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if strings.IndexByte(domain.UserCodeAlphabet, c) < 0 {
			return "", false
		}
		kept = append(kept, c)
	}
	if len(kept) != 8 {
		return "", false
	}
	return string(kept[:4]) + "-" + string(kept[4:]), true
}

// FuzzPoll: the poll rules never panic, and their answers respect the
// state machine whatever the flow, client and time.
func FuzzPoll(f *testing.F) {
	f.Add(uint8(0), "difyctl", int64(0), int64(0), int64(0), "")
	f.Add(uint8(1), "difyctl", int64(3), int64(1), int64(10), "v")
	f.Add(uint8(3), "other", int64(1000), int64(-5), int64(40), "w")
	f.Fuzz(func(t *testing.T, status uint8, client string, offset, lastPoll, claimLeft int64, verifier string) {
		base := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
		fl := domain.NewFlow("h", "ABCD-EFGH", "difyctl", "l", "ip", base)
		fl.Status = []domain.FlowStatus{domain.FlowPending, domain.FlowApproved, domain.FlowDenied, domain.FlowClaimed}[status%4]
		if fl.Status == domain.FlowApproved || fl.Status == domain.FlowClaimed {
			fl.Subject = &domain.Subject{Type: domain.SubjectAccount}
		}
		now := base.Add(time.Duration(offset%2000) * time.Second)
		if lastPoll != 0 {
			fl.LastPolledAt = now.Add(-time.Duration(lastPoll%60) * time.Second)
		}
		fl.ClaimID, fl.ClaimExpiresAt = "old", now.Add(time.Duration(claimLeft%60)*time.Second)
		req := domain.PollRequest{ClientID: client, ClaimID: "new"}
		if verifier != "" {
			req.VerifierChallenge = domain.PKCEChallenge(verifier)
		}
		if status%2 == 1 { // the flow's verifier is "v"
			fl.CodeChallenge = domain.PKCEChallenge("v")
		}
		st := domain.Poll(&fl, req, now)
		if errors.Is(st.Err, domain.ErrVerifierMismatch) && (st.Store || st.Delete) {
			t.Fatal("a verifier mismatch changes nothing")
		}
		if st.Err == nil && fl.CodeChallenge != req.VerifierChallenge {
			t.Fatal("a claim needs the matching verifier")
		}
		if st.Err == nil && (st.Next.Status != domain.FlowClaimed || st.Next.ClaimID != "new") {
			t.Fatalf("a successful poll must claim: %+v", st.Next)
		}
		if st.Delete && st.Store {
			t.Fatal("a step cannot both delete and store")
		}
		if st.Store && st.Next.Interval < fl.Interval {
			t.Fatal("the interval never shrinks")
		}
	})
}
