package unifont

import (
	"image"
	"image/color"
	"image/draw"
	"testing"
)

func TestGlyphs(t *testing.T) {
	for _, s := range []string{"星辰数据 季度服务统计报告 2026Q4", "响应（核心功能不可用）：95.0%", "Globex Ltd — n=12, 100%", "，。：；！？（）【】「」"} {
		if m := Missing(s); len(m) != 0 {
			t.Errorf("%q: no glyph for %q", s, string(m))
		}
	}
	if Width("星a") != 24 || RuneWidth('星') != 16 || RuneWidth('a') != 8 {
		t.Errorf("widths %d %d %d", Width("星a"), RuneWidth('星'), RuneWidth('a'))
	}
	if m := Missing("𝄞"); len(m) != 1 {
		t.Errorf("a character outside the subset is not missing: %v", m)
	}
}

func TestFitCutsByCharacters(t *testing.T) {
	if got := Fit("星辰数据科技有限公司", 80); got != "星辰数据…" || Width(got) > 80 {
		t.Errorf("Fit = %q (%d px)", got, Width(got))
	}
	if got := Fit("Globex", 80); got != "Globex" {
		t.Errorf("Fit = %q", got)
	}
}

// A drawn Chinese character sets pixels of its glyph, and only inside its
// 16×16 cell; a missing one is a box.
func TestDraw(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 40, 20))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	if w := Draw(img, 2, 2, "星", color.Black); w != 16 {
		t.Fatalf("width %d", w)
	}
	ink := 0
	for y := 0; y < 20; y++ {
		for x := 0; x < 40; x++ {
			if img.RGBAAt(x, y).R == 0 {
				ink++
				if x < 2 || x >= 18 || y < 2 || y >= 18 {
					t.Fatalf("ink outside the cell at %d,%d", x, y)
				}
			}
		}
	}
	if ink < 40 {
		t.Fatalf("%d pixels of ink for 星", ink)
	}
}
