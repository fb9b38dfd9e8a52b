package i18n

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/sla"
)

func TestEveryEntryHasBothLanguagesAndTheSameParams(t *testing.T) {
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	for _, k := range Keys() {
		zh, en := Entry(k)
		if zh == "" || en == "" {
			t.Errorf("%s: missing a language", k)
		}
		pz, pe := param.FindAllString(zh, -1), param.FindAllString(en, -1)
		if strings.Join(sorted(pz), ",") != strings.Join(sorted(pe), ",") {
			t.Errorf("%s: zh has %v, en has %v", k, pz, pe)
		}
	}
}

func sorted(s []string) []string {
	m := map[string]bool{}
	for _, x := range s {
		m[x] = true
	}
	out := []string{}
	for x := range m {
		out = append(out, x)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// Every key the code names — error keys and T() keys written as literals —
// is in the catalog. The configuration's messages are for operators, in
// English, and name YAML fields ("calendar.at"), not keys.
func TestCodeUsesOnlyKnownKeys(t *testing.T) {
	key := regexp.MustCompile(`"((?:err|reply|notify|status|help|clock|engine|report|level|event|calendar|checklist|digest|cstatus|occasion|release|delivery|area|role|usage)\.[a-z_]+)"`)
	root := filepath.Join("..", "..")
	filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() && (strings.HasPrefix(info.Name(), ".") && path != root || path == filepath.Join(root, "bot", "config")) {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || strings.HasSuffix(path, "catalog.go") {
			return nil
		}
		b, _ := os.ReadFile(path)
		for _, m := range key.FindAllStringSubmatch(string(b), -1) {
			if !Has(m[1]) {
				t.Errorf("%s uses unknown key %s", path, m[1])
			}
		}
		return nil
	})
}

func TestFormat(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	zh, en := Format{Lang: sla.LangZH, Loc: sh}, Format{Lang: sla.LangEN, Loc: sh}
	at := time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC)
	if zh.Time(at) != "11-25 09:00 CST" {
		t.Fatal(zh.Time(at))
	}
	if d := 26*time.Hour + 90*time.Second; zh.Duration(d) != "1天2小时2分钟" || en.Duration(d) != "1d2h2m" {
		t.Fatal(zh.Duration(d), en.Duration(d))
	}
	c := sla.ClockState{Clock: sla.ClockAck, Due: at}
	if got := en.Clock(c, at.Add(-10*time.Minute)); got != "Reply: by 11-25 09:00 CST (10m left)" {
		t.Fatal(got)
	}
	if got := zh.Clock(c, at.Add(5*time.Minute)); got != "响应：11-25 09:00 CST 前 ⚠ 已超时 5分钟" {
		t.Fatal(got)
	}
	c.MetAt = at.Add(time.Minute)
	if got := en.Clock(c, at.Add(time.Hour)); got != "Reply: by 11-25 09:00 CST ✗ met 1m late" {
		t.Fatal(got)
	}
}

func TestErrorRendering(t *testing.T) {
	err := sla.Errorf(sla.ECONFLICT, "err.close_state", map[string]any{"id": 7, "status": "open"}, "x")
	if got := Error(sla.LangZH, err); !strings.HasPrefix(got, "事件 #7 当前状态为 待响应") {
		t.Fatal(got)
	}
	for _, k := range []string{"policy.nonpositive", "policy.order"} {
		if !Has(k) {
			t.Errorf("missing %s", k)
		}
	}
	if got := Error(sla.LangEN, sla.Errorf(sla.ECONFLICT, "err.same_severity", map[string]any{"id": 1, "severity": "core"}, "x")); got != "Incident #1 is already core." {
		t.Fatal(got)
	}
	if got := Error(sla.LangEN, os.ErrClosed); got != "Internal error; please try again later. It has been logged." {
		t.Fatal(got)
	}
}
