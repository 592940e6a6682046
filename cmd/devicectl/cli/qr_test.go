package cli

import (
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
)

// TestHalfBlocksRoundTrip reads the drawn characters back into modules and
// compares them with the library's bitmap, in both colour modes, for an odd
// and an even number of rows.
func TestHalfBlocksRoundTrip(t *testing.T) {
	q, err := qrcode.New("http://127.0.0.1:8080/device?user_code=ABCD-EFGH", qrcode.Low)
	if err != nil {
		t.Fatal(err)
	}
	odd := q.Bitmap()
	if len(odd)%2 == 0 {
		t.Fatalf("expected an odd module count, got %d", len(odd))
	}
	even := odd[:len(odd)-1]
	for _, bm := range [][][]bool{odd, even} {
		for _, invert := range []bool{false, true} {
			lines := halfBlocks(bm, invert)
			if len(lines) != (len(bm)+1)/2 {
				t.Fatalf("%d lines for %d rows", len(lines), len(bm))
			}
			for y := range bm {
				row := []rune(lines[y/2])
				if len(row) != len(bm[y]) {
					t.Fatalf("line %d is %d wide, want %d", y/2, len(row), len(bm[y]))
				}
				for x, dark := range bm[y] {
					c := row[x]
					inked := c == '█' || (y%2 == 0 && c == '▀') || (y%2 == 1 && c == '▄')
					if inked != (dark != invert) {
						t.Fatalf("invert=%v module (%d,%d) dark=%v drawn as %q", invert, x, y, dark, c)
					}
				}
			}
			if len(bm)%2 == 1 { // the padding half of the last line is light
				for _, c := range lines[len(lines)-1] {
					if padInked := c == '█' || c == '▄'; padInked != invert {
						t.Fatalf("invert=%v: padding drawn as %q", invert, c)
					}
				}
			}
		}
	}
}

func TestWriteQRColour(t *testing.T) {
	var b strings.Builder
	if err := writeQR(&b, "https://auth.example.com/device?user_code=ABCD-EFGH", true); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		if !strings.HasPrefix(line, "\x1b[30;107m") || !strings.HasSuffix(line, "\x1b[0m") {
			t.Fatalf("line not painted black on white: %q", line)
		}
	}
	b.Reset()
	if err := writeQR(&b, "https://auth.example.com/device?user_code=ABCD-EFGH", false); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "\x1b[") {
		t.Fatal("NO_COLOR output carries escape sequences")
	}
}
