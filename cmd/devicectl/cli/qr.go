package cli

import (
	"fmt"
	"io"

	qrcode "github.com/skip2/go-qrcode"
)

// writeQR draws content as a QR code with half-block characters, two
// modules per character cell, with the standard four-module quiet zone.
// With color it paints black on bright white (readable on light and dark
// terminals); without (NO_COLOR) it assumes light text on a dark
// background and draws the light modules.
func writeQR(w io.Writer, content string, color bool) error {
	q, err := qrcode.New(content, qrcode.Low)
	if err != nil {
		return err
	}
	for _, line := range halfBlocks(q.Bitmap(), !color) {
		if color {
			line = "\x1b[30;107m" + line + "\x1b[0m"
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}

// halfBlocks renders bm (true = dark module) two rows per line; inked says
// which modules get ink: the dark ones, or with invert the light ones.
func halfBlocks(bm [][]bool, invert bool) []string {
	ink := func(y, x int) bool {
		if y >= len(bm) {
			return invert // the padding row below an odd bitmap is light
		}
		return bm[y][x] != invert
	}
	var lines []string
	for y := 0; y < len(bm); y += 2 {
		line := make([]rune, len(bm[y]))
		for x := range bm[y] {
			switch top, bottom := ink(y, x), ink(y+1, x); {
			case top && bottom:
				line[x] = '█'
			case top:
				line[x] = '▀'
			case bottom:
				line[x] = '▄'
			default:
				line[x] = ' '
			}
		}
		lines = append(lines, string(line))
	}
	return lines
}
