package commands

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strconv"

	"github.com/slakeeper/slakeeper/commands/unifont"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/sla/i18n"
)

// Chart colours, one per clock in the order of Stats.Compliance.
var chartColours = []color.RGBA{{0x2b, 0x6c, 0xb0, 0xff}, {0x2f, 0x9e, 0x44, 0xff}, {0xe0, 0x8e, 0x0b, 0xff}, {0xc9, 0x2a, 0x2a, 0xff}}

// Chart is a rendered chart and the characters it had to draw as empty
// boxes (none, when the font has them all).
type Chart struct {
	PNG     []byte
	Missing []rune
}

// StatsChart draws compliance per clock, as percentages, for each scope of
// a quarterly report (a group of bars per customer, by name, and one for
// all), with the incident count under each group: a PNG for managers who
// want the picture. Title, legend and labels are in the reader's language,
// drawn with a font that has Chinese; a label too long for its group is
// cut by whole characters.
func StatsChart(f i18n.Format, title string, sts []sla.Stats, name Namer) (Chart, error) {
	const (
		left, right, top, bottom = 56, 24, 64, 72
		barW, gap, plotH         = 16, 28, 220
	)
	l := f.Lang
	var legend []string
	if len(sts) > 0 {
		for _, c := range sts[0].Compliance {
			legend = append(legend, clockLabel(l, c))
		}
	}
	groupW := len(chartColours)*barW + gap
	w := left + right + max(len(sts), 1)*groupW
	legendW := 0
	for _, s := range legend {
		legendW += 14 + unifont.Width(s) + 18
	}
	w = max(w, left+right+legendW, left+right+unifont.Width(title), 640)
	h := top + plotH + bottom
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	grey := color.RGBA{0xcc, 0xcc, 0xcc, 0xff}
	black := color.RGBA{0x22, 0x22, 0x22, 0xff}
	var drawn []string
	text := func(x, y int, s string) int {
		drawn = append(drawn, s)
		return unifont.Draw(img, x, y, s, black)
	}
	rect := func(x0, y0, x1, y1 int, c color.Color) {
		draw.Draw(img, image.Rect(x0, y0, x1, y1), image.NewUniform(c), image.Point{}, draw.Src)
	}
	text(left, 8, title)
	x := left
	for i, label := range legend {
		if i >= len(chartColours) {
			break
		}
		rect(x, 36, x+10, 46, chartColours[i])
		x += 14 + text(x+14, 33, label) + 18
	}
	base := top + plotH
	for p := 0; p <= 100; p += 25 {
		y := base - p*plotH/100
		rect(left, y, w-right, y+1, grey)
		text(8, y-8, strconv.Itoa(p)+"%")
	}
	all := i18n.T(l, "digest.all_customers", nil)
	for g, st := range sts {
		x0 := left + gap/2 + g*groupW
		for i, c := range st.Compliance {
			if i >= len(chartColours) {
				break
			}
			p, ok := c.Percent()
			if !ok {
				continue
			}
			x := x0 + i*barW
			rect(x, base-max(int(p*plotH/100), 2), x+barW-2, base, chartColours[i]) // 0% still shows
		}
		label := all
		if st.CustomerID != "" {
			label = name.of(st.CustomerID)
		}
		text(x0, base+6, unifont.Fit(label, groupW-6))
		text(x0, base+26, unifont.Fit(i18n.T(l, "chart.incidents", map[string]any{"n": st.Incidents}), groupW-6))
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return Chart{}, err
	}
	var missing []rune
	for _, s := range drawn {
		missing = append(missing, unifont.Missing(s)...)
	}
	return Chart{PNG: b.Bytes(), Missing: missing}, nil
}
