package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/slakeeper/slakeeper/commands"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

const authzConfig = `
zone: Asia/Shanghai
customers:
  - {id: acme, name: 星辰数据, language: zh, accepted_on: 2026-03-01}
  - {id: globex, name: Globex, language: en, accepted_on: 2026-06-15}
people:
  - {id: li, name: 李雷, role: customer, customer: acme, slack: UCLI}
  - {id: wang, name: 王工, role: engineer, slack: UENG}
  - {id: zhao, name: 赵组长, role: lead, slack: ULEAD}
  - {id: chen, name: 陈经理, role: manager, slack: UMGR}
  - {id: root, name: Root, role: admin, language: en, slack: UADMIN}
channels:
  - {platform: slack, id: CACME, kind: customer, customer: acme}
  - {platform: slack, id: CGLOBEX, kind: customer, customer: globex}
  - {platform: slack, id: CENG, kind: engineering}
  - {platform: slack, id: CMGR, kind: managers}
oncall:
  people: [wang]
`

type actor struct {
	user, chat string
	role       sla.Role
}

var actors = []actor{
	{"UCLI", "CACME", sla.RoleCustomer}, // a customer of acme, in acme's channel
	{"UENG", "CENG", sla.RoleEngineer},
	{"ULEAD", "CENG", sla.RoleLead},
	{"UMGR", "CENG", sla.RoleManager},
	{"UADMIN", "CENG", sla.RoleAdmin},
}

// incidentCases are the commands on an incident: the state the incident is
// brought to first (by an admin), and the command's arguments.
var incidentCases = []struct {
	cmd, prepare, args string
}{
	{"ack", "", ""}, {"take", "", ""}, {"assign", "", "wang"}, {"sev", "", "noncore"}, {"onsite", "", ""},
	{"restore", "", "重启了服务"}, {"close", "/restore %d 重启了服务", ""}, {"reopen", "/restore %d 重启了服务", ""},
	{"note", "", "补充说明"}, {"followup", "", "已电话联系"}, {"report", "", ""}, {"status", "", ""},
}

// The authorization matrix: every role × every command × the actor's own
// customer's incident or another's, each cell asserted. A refused command
// changes nothing and tells nothing about another customer's incident.
func TestAuthorizationMatrix(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarnessWith(t, s, authzConfig)
		ctx := context.Background()
		open := func(customer, title string) int64 {
			t.Helper()
			reply := h.reply("UADMIN", "CENG", "", "/incident "+customer+" "+title)
			var id int64
			if _, err := fmt.Sscanf(reply[strings.Index(reply, "#")+1:], "%d", &id); err != nil {
				t.Fatalf("open: %q", reply)
			}
			return id
		}
		cells := 0
		for _, a := range actors {
			for _, c := range incidentCases {
				def, _ := commands.Lookup(c.cmd)
				for _, own := range []bool{true, false} {
					customer, title := "acme", "集群全部宕机了"
					if !own {
						customer, title = "globex", "SECRET-GLOBEX cluster is down"
					}
					id := open(customer, title)
					if c.prepare != "" {
						if r := h.say("UADMIN", "CENG", "", fmt.Sprintf(c.prepare, id)); r[0].Refused {
							t.Fatalf("prepare %s: %s", c.cmd, r[0].Text)
						}
					}
					before, err := s.Incident(ctx, id)
					if err != nil {
						t.Fatal(err)
					}
					line := strings.TrimSpace(fmt.Sprintf("/%s %d %s", c.cmd, id, c.args))
					r := h.say(a.user, a.chat, "", line)
					if len(r) != 1 {
						t.Fatalf("%s %s: %d replies", a.user, line, len(r))
					}
					want := a.role.AtLeast(def.MinRole) && (a.role.IsStaff() || own)
					after, _ := s.Incident(ctx, id)
					cell := fmt.Sprintf("%s × /%s × own=%v", a.role, c.cmd, own)
					switch {
					case want && r[0].Refused:
						t.Errorf("%s: refused: %s", cell, r[0].Text)
					case !want && !r[0].Refused:
						t.Errorf("%s: allowed: %s", cell, r[0].Text)
					case !want && after.Version != before.Version:
						t.Errorf("%s: refused but the incident changed", cell)
					case !own && !a.role.IsStaff() && (strings.Contains(r[0].Text, "SECRET") || strings.Contains(r[0].Text, "Globex")):
						t.Errorf("%s: the refusal leaks the other customer's incident: %s", cell, r[0].Text)
					}
					cells++
				}
			}
		}

		// Commands about customers, the rota, the calendar and the digests.
		type cell struct {
			line  string
			allow func(actor) bool
		}
		staff := func(a actor) bool { return a.role.IsStaff() }
		atLeast := func(r sla.Role) func(actor) bool { return func(a actor) bool { return a.role.AtLeast(r) } }
		everyone := func(actor) bool { return true }
		rows := []cell{
			{"/list", everyone}, {"/help", everyone}, {"/critical", everyone}, {"/rejected", atLeast(sla.RoleAdmin)},
			{"/status acme", everyone}, {"/status globex", staff},
			{"/oncall", staff}, {"/oncall wang 8h", atLeast(sla.RoleLead)},
			{"/note acme 客户反馈良好", staff}, {"/note globex fine", staff},
			{"/report inspection acme 各模块正常", staff}, {"/report healthcheck globex all good", staff},
			{"/critical acme 2026-12-20 2026-12-31 年终结算", atLeast(sla.RoleLead)},
			{"/critical globex 2026-12-20 2026-12-31", atLeast(sla.RoleLead)},
			{"/digest", atLeast(sla.RoleLead)}, {"/digest weekly acme", atLeast(sla.RoleLead)},
			{"/digest quarter globex 2026Q4", atLeast(sla.RoleLead)},
		}
		for i, a := range actors {
			rows := append(rows, cell{fmt.Sprintf("/announce release 9.%d notes", i), atLeast(sla.RoleManager)},
				cell{fmt.Sprintf("/announce status 9.%d", i), atLeast(sla.RoleManager)})
			for _, c := range rows {
				r := h.say(a.user, a.chat, "", c.line)
				want := c.allow(a)
				switch {
				case len(r) != 1:
					t.Fatalf("%s %s: %d replies", a.user, c.line, len(r))
				case want && r[0].Refused:
					t.Errorf("%s × %s: refused: %s", a.role, c.line, r[0].Text)
				case !want && !r[0].Refused:
					t.Errorf("%s × %s: allowed: %s", a.role, c.line, r[0].Text)
				case !want && a.role == sla.RoleCustomer && strings.Contains(r[0].Text, "Globex"):
					t.Errorf("%s × %s: leaks: %s", a.role, c.line, r[0].Text)
				}
				cells++
			}
		}
		// Opening an incident: a customer for their own customer only.
		for _, a := range actors {
			line := "/incident acme 磁盘坏了"
			if a.role == sla.RoleCustomer {
				line = "/incident 磁盘坏了"
			}
			if r := h.say(a.user, a.chat, "", line); r[0].Refused {
				t.Errorf("%s × /incident: refused: %s", a.role, r[0].Text)
			}
			cells++
		}
		// Naming another customer only words the customer's own report.
		h.say("UCLI", "CACME", "", "/incident globex 磁盘坏了")
		list, err := s.ListIncidents(ctx, storage.IncidentFilter{CustomerID: "globex"})
		if err != nil {
			t.Fatal(err)
		}
		for _, inc := range list {
			if inc.ReportedBy == "li" {
				t.Errorf("li opened #%d for globex", inc.ID)
			}
		}
		t.Logf("%d cells", cells)
	})
}
