package commands

import (
	"strings"
	"testing"

	"github.com/slakeeper/slakeeper/sla"
)

func TestParse(t *testing.T) {
	tests := []struct {
		line string
		want Command
		err  string // catalog key of the expected error
	}{
		{line: "/ack", want: Command{Name: "ack"}},
		{line: "/ack 42", want: Command{Name: "ack", ID: 42}},
		{line: "/ack #42", want: Command{Name: "ack", ID: 42}},
		{line: "  /ACK   42  ", want: Command{Name: "ack", ID: 42}},
		{line: "/ack@slakeeper_bot 42", want: Command{Name: "ack", ID: 42}},
		{line: "/sla ack 42", want: Command{Name: "ack", ID: 42}},
		{line: "/sla@slakeeper_bot restore 7 重启了 NameNode", want: Command{Name: "restore", ID: 7, Text: "重启了 NameNode"}},
		{line: "/sla", want: Command{Name: "help"}},
		{line: "/assign 3 wang", want: Command{Name: "assign", ID: 3, Person: "wang"}},
		{line: "/assign @wang", want: Command{Name: "assign", Person: "wang"}},
		{line: "/sev 3 core", want: Command{Name: "sev", ID: 3, Severity: sla.SeverityCore}},
		{line: "/sev 非核心", want: Command{Name: "sev", Severity: sla.SeverityNoncore}},
		{line: "/restore replaced the disk", want: Command{Name: "restore", Text: "replaced the disk"}},
		{line: "/note 12 客户说：明天再看", want: Command{Name: "note", ID: 12, Text: "客户说：明天再看"}},
		{line: "/note 3rd node is fine", want: Command{Name: "note", Text: "3rd node is fine"}},
		{line: "/incident 集群全部宕机了", want: Command{Name: "incident", Text: "集群全部宕机了"}},
		{line: "/incident\u3000全角空格", want: Command{Name: "incident", Text: "全角空格"}},
		{line: "/list", want: Command{Name: "list"}},
		{line: "/status 9", want: Command{Name: "status", ID: 9}},
		{line: "/ack 42 43", err: "err.usage"},
		{line: "/ack abc", err: "err.usage"},
		{line: "/ack #x", err: "err.bad_id"},
		{line: "/ack -1", err: "err.bad_id"},
		{line: "/ack 0", err: "err.bad_id"},
		{line: "/ack 99999999999999999999", err: "err.bad_id"},
		{line: "/assign 3", err: "err.usage"},
		{line: "/sev 3", err: "err.usage"},
		{line: "/sev 3 purple", err: "err.severity"},
		{line: "/restore 3", err: "err.usage"},
		{line: "/note", err: "err.usage"},
		{line: "/incident", err: "err.usage"},
		{line: "/list everything", err: "err.usage"},
		{line: "/frobnicate", err: "err.unknown_command"},
		{line: "/sla frobnicate", err: "err.unknown_command"},
		{line: "hello", err: "err.unknown_command"},
		{line: "/note 1 " + strings.Repeat("长", MaxTextLen), err: "err.too_long"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.line)
		if tt.err != "" {
			e, ok := sla.AsError(err)
			if !ok || e.Key != tt.err || e.Code != sla.EINVALID {
				t.Errorf("Parse(%.40q) err = %v, want %s", tt.line, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Parse(%.40q) = %+v, %v; want %+v", tt.line, got, err, tt.want)
		}
	}
}

func TestIsKnownCommand(t *testing.T) {
	for s, want := range map[string]bool{"/ack 1": true, " /LIST": true, "/ack@slakeeper_bot 1": true, "/sla ack 1": true, "/sla frobnicate": true,
		"/help": true, "/frobnicate": false, "/opt/app 目录下的服务全部宕机了": false, "/ack/x": false, "/etc/hosts": false, "/": false,
		"/ 宕机": false, "ack 1": false, "/ackk": false, "/incident\t宕机": true} {
		if IsKnownCommand(s) != want {
			t.Errorf("IsKnownCommand(%q) != %v", s, want)
		}
	}
}

func TestIsCommand(t *testing.T) {
	for s, want := range map[string]bool{"/ack": true, " /list": true, "/": false, "//x": false, "/ x": false, "a/b": false, "http://x": false} {
		if IsCommand(s) != want {
			t.Errorf("IsCommand(%q) != %v", s, want)
		}
	}
}

func TestHelpIsGeneratedFromDefs(t *testing.T) {
	admin := Help(sla.RoleAdmin, sla.LangEN)
	eng := Help(sla.RoleEngineer, sla.LangEN)
	cust := Help(sla.RoleCustomer, sla.LangZH)
	for _, d := range Defs {
		if !strings.Contains(admin, Usage(d, sla.LangEN)+" — ") {
			t.Errorf("admin help lacks /%s", d.Name)
		}
		if in := strings.Contains(eng, "\n/"+d.Name+" "); in != sla.RoleEngineer.AtLeast(d.MinRole) {
			t.Errorf("engineer help shows /%s: %v", d.Name, in)
		}
		if in := strings.Contains(cust, "/"+d.Name+" "); in != (d.MinRole == sla.RoleCustomer) && d.Name != "list" && d.Name != "help" {
			t.Errorf("customer help shows /%s: %v", d.Name, in)
		}
	}
	if !strings.Contains(cust, "/incident <描述> — 报告一个故障") || strings.Contains(cust, "/ack") {
		t.Fatalf("customer help:\n%s", cust)
	}
	if Usage(Defs[3], sla.LangEN) != "/assign [id] <person>" {
		t.Fatal(Usage(Defs[3], sla.LangEN))
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"/ack 42", "/sla restore 7 x", "/assign@b #3 @wang", "/sev 1 core", "/note 9 \u3000", "/", "/ack #", "/ack 9223372036854775808"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cmd, err := Parse(s)
		if err != nil {
			if e, ok := sla.AsError(err); !ok || e.Code != sla.EINVALID || e.Key == "" {
				t.Fatalf("Parse(%q): uncoded error %v", s, err)
			}
			return
		}
		d, ok := Lookup(cmd.Name)
		if !ok || cmd.ID < 0 {
			t.Fatalf("Parse(%q) = %+v", s, cmd)
		}
		for _, a := range d.Args {
			if a == ArgText && strings.TrimSpace(cmd.Text) == "" {
				t.Fatalf("Parse(%q): empty text accepted", s)
			}
		}
	})
}
