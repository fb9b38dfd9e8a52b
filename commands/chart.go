package commands

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/slakeeper/slakeeper/sla"
)

// Chart colours, one per clock in the order of Stats.Compliance.
var chartColours = []color.RGBA{{0x2b, 0x6c, 0xb0, 0xff}, {0x2f, 0x9e, 0x44, 0xff}, {0xe0, 0x8e, 0x0b, 0xff}, {0xc9, 0x2a, 0x2a, 0xff}}

var chartLegend = []string{"ack", "on site", "restore (core)", "restore (other)"}

// StatsChart draws compliance per clock, as percentages, for each scope of
// a quarterly report (a group of bars per customer, "*" for all), with the
// incident count under each group: a PNG for managers who want the picture.
// Labels are customer ids, which are ASCII.
func StatsChart(title string, sts []sla.Stats) ([]byte, error) {
	const (
		left, right, top, bottom = 50, 20, 50, 60
		barW, gap, plotH         = 14, 24, 200
	)
	groupW := len(chartColours)*barW + gap
	w := left + right + max(len(sts), 1)*groupW
	if w < 560 {
		w = 560
	}
	h := top + plotH + bottom
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	grey := color.RGBA{0xcc, 0xcc, 0xcc, 0xff}
	black := color.RGBA{0x22, 0x22, 0x22, 0xff}
	text := func(x, y int, s string, c color.Color) {
		d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
		d.DrawString(s)
	}
	rect := func(x0, y0, x1, y1 int, c color.Color) {
		draw.Draw(img, image.Rect(x0, y0, x1, y1), image.NewUniform(c), image.Point{}, draw.Src)
	}
	text(left, 20, title, black)
	x := left
	for i, label := range chartLegend {
		rect(x, 28, x+10, 38, chartColours[i])
		text(x+14, 37, label, black)
		x += 14 + 7*len(label) + 16
	}
	base := top + plotH
	for p := 0; p <= 100; p += 25 {
		y := base - p*plotH/100
		rect(left, y, w-right, y+1, grey)
		text(8, y+4, strconv.Itoa(p)+"%", black)
	}
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
		label := st.CustomerID
		if label == "" {
			label = "*"
		}
		if len(label) > 9 {
			label = label[:9]
		}
		text(x0, base+16, label, black)
		text(x0, base+30, "n="+strconv.Itoa(st.Incidents), black)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
