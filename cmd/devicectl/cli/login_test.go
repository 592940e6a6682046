package cli

import "testing"

func TestHeadless(t *testing.T) {
	cases := []struct {
		goos string
		env  map[string]string
		want bool
	}{
		{"linux", nil, true},
		{"linux", map[string]string{"DISPLAY": ":0"}, false},
		{"linux", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, false},
		{"linux", map[string]string{"DISPLAY": ":0", "SSH_CONNECTION": "1.2.3.4 5 6.7.8.9 22"}, true},
		{"freebsd", nil, true},
		{"darwin", nil, false},
		{"darwin", map[string]string{"SSH_TTY": "/dev/ttys001"}, true},
		{"windows", nil, false},
	}
	for _, c := range cases {
		env := Env{GOOS: c.goos, Getenv: func(k string) string { return c.env[k] }}
		if got := headless(env); got != c.want {
			t.Errorf("%s %v: headless %v, want %v", c.goos, c.env, got, c.want)
		}
	}
}
