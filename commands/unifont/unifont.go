// Package unifont draws text with GNU Unifont's glyphs: a bitmap font of
// 16 pixels, 8 wide for Latin letters and 16 for Chinese characters,
// embedded here as a subset (Latin, general punctuation, arrows, symbols,
// CJK punctuation and ideographs, full-width forms: 22,351 glyphs).
//
// GNU Unifont 15.0.01 (https://unifoundry.com/unifont/), copyright Roman
// Czyborra, Paul Hardy, Qianqian Fang and the Unifont contributors, is
// dual-licensed under the SIL Open Font License 1.1 and the GNU GPL 2+ with
// the GNU font embedding exception; it is used here under the SIL Open
// Font License 1.1, whose text is in OFL-1.1.txt beside this file. The
// subset was made by keeping the lines of unifont.hex in the ranges above,
// unchanged.
package unifont

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/hex"
	"image"
	"image/color"
	"image/draw"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

//go:embed unifont-15.0.01-subset.hex.gz
var hexGz []byte

// Height is the height of every glyph, in pixels.
const Height = 16

var (
	once   sync.Once
	glyphs map[rune][]byte // 16 rows of 1 (narrow) or 2 (wide) bytes
)

func load() {
	glyphs = make(map[rune][]byte, 22400)
	z, err := gzip.NewReader(bytes.NewReader(hexGz))
	if err != nil {
		panic("unifont: " + err.Error()) // embedded: a broken file fails every test
	}
	sc := bufio.NewScanner(z)
	for sc.Scan() {
		code, bits, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		r, err := strconv.ParseUint(code, 16, 32)
		if err != nil {
			continue
		}
		b, err := hex.DecodeString(bits)
		if err != nil || (len(b) != 16 && len(b) != 32) {
			continue
		}
		glyphs[rune(r)] = b
	}
}

func glyph(r rune) ([]byte, bool) {
	once.Do(load)
	g, ok := glyphs[r]
	return g, ok
}

// Has reports whether the font has a glyph for r.
func Has(r rune) bool { _, ok := glyph(r); return ok }

// Missing lists the characters of s the font has no glyph for (drawn as an
// empty box), each once.
func Missing(s string) []rune {
	var out []rune
	seen := map[rune]bool{}
	for _, r := range s {
		if !Has(r) && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

// RuneWidth is the width of a character in pixels: 16 for a wide one, 8
// for the rest (and for a missing one).
func RuneWidth(r rune) int {
	if g, ok := glyph(r); ok && len(g) == 32 {
		return 16
	}
	return 8
}

// Width is the width of s in pixels.
func Width(s string) int {
	w := 0
	for _, r := range s {
		w += RuneWidth(r)
	}
	return w
}

// Fit cuts s, by whole characters, to at most max pixels, ending it with
// "…" when it was cut.
func Fit(s string, max int) string {
	if Width(s) <= max {
		return s
	}
	ell := RuneWidth('…')
	w := 0
	for i, r := range s {
		if w+RuneWidth(r)+ell > max {
			return s[:i] + "…"
		}
		w += RuneWidth(r)
	}
	return s
}

// Draw writes s with its top-left corner at (x, y) and returns the width
// drawn. A character the font lacks is drawn as an empty box.
func Draw(dst draw.Image, x, y int, s string, c color.Color) int {
	start := x
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		s = s[n:]
		g, ok := glyph(r)
		if !ok {
			box(dst, x, y, c)
			x += 8
			continue
		}
		wide := len(g) == 32
		for row := 0; row < Height; row++ {
			var bits uint16
			if wide {
				bits = uint16(g[2*row])<<8 | uint16(g[2*row+1])
			} else {
				bits = uint16(g[row]) << 8
			}
			for col := 0; col < 16 && bits != 0; col++ {
				if bits&0x8000 != 0 {
					dst.Set(x+col, y+row, c)
				}
				bits <<= 1
			}
		}
		if wide {
			x += 16
		} else {
			x += 8
		}
	}
	return x - start
}

func box(dst draw.Image, x, y int, c color.Color) {
	r := image.Rect(x+1, y+2, x+7, y+14)
	for i := r.Min.X; i < r.Max.X; i++ {
		dst.Set(i, r.Min.Y, c)
		dst.Set(i, r.Max.Y-1, c)
	}
	for j := r.Min.Y; j < r.Max.Y; j++ {
		dst.Set(r.Min.X, j, c)
		dst.Set(r.Max.X-1, j, c)
	}
}
