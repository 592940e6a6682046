package web

import "testing"

func TestSafeReturnTo(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "/device"},
		{"/device", "/device"},
		{"/device?user_code=ABCD-EFGH", "/device?user_code=ABCD-EFGH"},
		{"/device?user_code=abcd%20efgh", "/device?user_code=abcd+efgh"},
		{"/device?sso_verified=1", "/device?sso_verified=1"},
		{"/device?user_code=ABCD-EFGH&sso_verified=1", "/device?sso_verified=1&user_code=ABCD-EFGH"},
		// Other origins, however spelled.
		{"//evil.com", "/device"},
		{"//evil.com/device?user_code=ABCD-EFGH", "/device"},
		{"/\\evil.com", "/device"},
		{"/device\\@evil.com", "/device"},
		{"\\\\evil.com", "/device"},
		{"https://evil", "/device"},
		{"https://evil/device?user_code=ABCD-EFGH", "/device"},
		{"http:/device", "/device"},
		{"javascript:alert(1)", "/device"},
		{"data:text/html,x", "/device"},
		{" /device", "/device"},
		{"/device\r\nLocation: //evil.com", "/device"},
		{"/device\t", "/device"},
		// Other paths on this origin.
		{"/signin", "/device"},
		{"/devicex", "/device"},
		{"/device/../openapi/v1/oauth/device/approve", "/device"},
		{"/device/", "/device"},
		{"/%64evice?user_code=ABCD-EFGH", "/device"},
		{"/device%2f..%2fsignin", "/device"},
		// Parameters beyond user_code and sso_verified.
		{"/device?user_code=X&next=..", "/device"},
		{"/device?user_code=X&next=//evil.com", "/device"},
		{"/device?next=https://evil", "/device"},
		{"/device?user_code=A&user_code=B", "/device"},
		{"/device?sso_verified=2", "/device"},
		{"/device?sso_error=sso_failed", "/device"},
		{"/device?user_code=%3Cscript%3E", "/device"},
		{"/device?user_code=ABCD-EFGH%26next%3D%2F%2Fevil.com", "/device"},
		{"/device?user_code=" + "ABCDEFGHJKLMNPQRS", "/device"},
		{"/device?user_code=%zz", "/device"},
		{"/device?user_code=ABCD-EFGH#//evil.com", "/device"},
		{"/device?user_code=ABCD-EFGH;next=x", "/device"},
		{"/device?%75ser_code=ABCD-EFGH", "/device?user_code=ABCD-EFGH"},
		{"/device?", "/device"},
		{"/device?user_code=", "/device"},
	} {
		if got := SafeReturnTo(tc.in); got != tc.want {
			t.Errorf("SafeReturnTo(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzSafeReturnTo: whatever comes in, the answer is /device on this origin.
func FuzzSafeReturnTo(f *testing.F) {
	for _, s := range []string{"/device?user_code=ABCD-EFGH", "//evil.com", "/\\evil", "/device?a=b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := SafeReturnTo(in)
		if got != "/device" && (len(got) < 9 || got[:8] != "/device?") {
			t.Fatalf("SafeReturnTo(%q) = %q", in, got)
		}
		if again := SafeReturnTo(got); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, got, again)
		}
	})
}
