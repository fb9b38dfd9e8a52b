package commands

import (
	"bytes"
	"encoding/csv"
	"image/png"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/sla/i18n"
)

func chartStats() []sla.Stats {
	comp := func(met, missed int) []sla.Compliance {
		return []sla.Compliance{{Clock: sla.ClockAck, Met: met, Missed: missed}, {Clock: sla.ClockOnsite, Met: met},
			{Clock: sla.ClockRestore, Severity: sla.SeverityCore, Met: met, Missed: 1}, {Clock: sla.ClockRestore, Severity: sla.SeverityNoncore, Met: 1}}
	}
	return []sla.Stats{{Incidents: 12, Compliance: comp(10, 2)}, {CustomerID: "acme", Incidents: 7, Compliance: comp(6, 1)},
		{CustomerID: "globex", Incidents: 5, Compliance: comp(4, 1)}}
}

var chartNames = Namer(func(id string) string {
	return map[string]string{"acme": "星辰数据科技有限公司", "globex": "Globex Ltd"}[id]
})

// The quarterly chart speaks Chinese: customer names, the title and the
// legend in the reader's language, every character drawn from the font
// (none falls back to the missing-glyph box), long names cut by
// characters.
func TestChartSpeaksChinese(t *testing.T) {
	for _, l := range []sla.Lang{sla.LangZH, sla.LangEN} {
		f := i18n.Format{Lang: l, Loc: time.UTC}
		title := i18n.T(l, "digest.title.quarter", map[string]any{"period": "2026Q4"})
		c, err := StatsChart(f, title, chartStats(), chartNames)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Missing) != 0 {
			t.Errorf("%s: drawn as boxes: %q", l, string(c.Missing))
		}
		img, err := png.Decode(bytes.NewReader(c.PNG))
		if err != nil || img.Bounds().Dx() < 640 {
			t.Fatalf("%s: %v %v", l, err, img)
		}
		if os.Getenv("CHART_OUT") != "" {
			os.WriteFile(os.Getenv("CHART_OUT")+"-"+string(l)+".png", c.PNG, 0o644)
		}
	}
	// A name the font cannot draw is reported, not silently boxed.
	c, _ := StatsChart(i18n.Format{Lang: sla.LangZH, Loc: time.UTC}, "𝄞", chartStats(), chartNames)
	if len(c.Missing) != 1 {
		t.Errorf("missing %q", string(c.Missing))
	}
}

// The CSV names its columns in the reader's language and its customers by
// name beside their ids.
func TestCSVInTheReadersLanguage(t *testing.T) {
	zh := StatsCSV(sla.LangZH, "2026Q4", chartStats(), chartNames)
	if !bytes.HasPrefix(zh, []byte("\ufeff")) {
		t.Error("no byte-order mark for Excel")
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(zh, []byte("\ufeff")))).ReadAll()
	if err != nil || len(rows) != 4 {
		t.Fatalf("%v %v", rows, err)
	}
	if rows[0][0] != "季度" || rows[0][2] != "客户名称" || rows[1][2] != "全部客户" || rows[2][1] != "acme" || rows[2][2] != "星辰数据科技有限公司" {
		t.Errorf("zh csv: %v", rows[:3])
	}
	en := string(StatsCSV(sla.LangEN, "2026Q4", chartStats(), chartNames))
	if !strings.HasPrefix(en, "period,customer,customer_name,incidents,") || !strings.Contains(en, "globex,Globex Ltd,5,") {
		t.Errorf("en csv:\n%s", en)
	}
}
