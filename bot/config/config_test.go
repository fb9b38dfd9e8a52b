package config

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/bot/console"
	slackadapter "github.com/slakeeper/slakeeper/bot/slack"
	tgadapter "github.com/slakeeper/slakeeper/bot/telegram"
	"github.com/slakeeper/slakeeper/sla"
)

// platforms are the program's (platforms.go at the root).
var platforms = chat.NewRegistry(console.Platform, slackadapter.Platform, tgadapter.Platform)

func TestExampleIsValid(t *testing.T) {
	c, err := Load("../../examples/slakeeper.yaml", platforms)
	if err != nil {
		t.Fatal(err)
	}
	want := sla.DefaultPolicy()
	want.FollowUp.Zone = c.Location
	if c.Location.String() != "Asia/Shanghai" || c.Lang != sla.LangZH || c.BasePolicy != want {
		t.Fatalf("settings: %v %v %+v", c.Location, c.Lang, c.BasePolicy)
	}
	if r := c.Rotation; len(r.People) != 2 || r.Weekday != time.Monday || r.At != 9*time.Hour || r.Zone != c.Location {
		t.Fatalf("rotation %+v", r)
	}
	d := c.Directory
	if len(d.Customers) != 2 || d.Customers[1].Contract.Policy.AckWithin != 15*time.Minute || d.Customers[1].Lang != sla.LangEN {
		t.Fatalf("customers: %+v", d.Customers)
	}
	if d.People[0].Lang != sla.LangZH || d.People[1].Lang != sla.LangEN || d.People[0].CustomerID != "acme" {
		t.Fatalf("people: %+v", d.People)
	}
	if len(d.Channels) != 4 || d.Channels[1].Lang != sla.LangEN {
		t.Fatalf("channels: %+v", d.Channels)
	}
}

func TestErrorsNameFileLineAndField(t *testing.T) {
	bad := `zone: Mars/Olympus
language: fr
policy:
  ack_within: 30m
  core_onsite_within: 5h
customers:
  - id: Acme!
    accepted_on: 2026-13-01
  - id: globex
    colour: blue
people:
  - id: li
    role: customer
    customer: nobody
  - id: wang
    role: wizard
    telegram: "@wang"
channels:
  - {platform: irc, id: x, kind: customer, customer: globex}
  - {platform: slack, id: C1, kind: lounge}
oncall:
  handover: someday 9am
  people: [li, ghost]
`
	_, err := Parse("bad.yaml", []byte(bad), platforms)
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{
		`bad.yaml:1: zone: "Mars/Olympus" is not a time zone`,
		`bad.yaml:2: language: "fr" is not a language`,
		`bad.yaml:3: policy: the core on-site clock must not be longer`,
		`bad.yaml:7: customers[0].id: "Acme!" is not an id`,
		`bad.yaml:8: customers[0].accepted_on: "2026-13-01" is not a date`,
		`bad.yaml:10: customers[1].colour: unknown field`,
		`bad.yaml:14: people[0].customer: no customer "nobody" is defined`,
		`bad.yaml:16: people[1].role: "wizard" is not a role`,
		`bad.yaml:17: people[1].telegram: "@wang" is not a Telegram user id`,
		`bad.yaml:19: channels[0].platform: "irc" is not a platform`,
		`bad.yaml:20: channels[1].kind: "lounge" is not a channel kind`,
		`bad.yaml:22: oncall.handover: "someday 9am" is not a weekday and time`,
		`bad.yaml:23: oncall.people[0]: "li" is not an engineer`,
		`bad.yaml:23: oncall.people[1]: no person "ghost" is defined`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

// A value of the wrong form names its field and the form it wants, and
// every other problem of the file is reported with it.
func TestTypeErrorsHaveLines(t *testing.T) {
	_, err := Parse("x.yaml", []byte(`policy:
  ack_within: 30 minutes
  lead_after: 15
  repeat_steps: many
followup:
  weekday: friday-ish
intake:
  staff_reply_is_first_response: maybe
customers:
  - {id: acme, name: A, accepted_on: 2026-13-01, policy: {repeat_daily_at: "7:61"}}
people: {id: li}
`), platforms)
	for _, want := range []string{
		`x.yaml:2: policy.ack_within: "30 minutes" is not a duration: use e.g. 30m, 2h or 24h`,
		`x.yaml:3: policy.lead_after: "15" is not a duration: use e.g. 30m, 2h or 24h`,
		`x.yaml:4: policy.repeat_steps: "many" is not a whole number`,
		`x.yaml:6: followup.weekday: "friday-ish" is not a weekday and time`,
		`x.yaml:8: intake.staff_reply_is_first_response: "maybe" is not true or false`,
		`x.yaml:10: customers[0].accepted_on: "2026-13-01" is not a date (YYYY-MM-DD)`,
		`x.yaml:10: customers[0].policy.repeat_daily_at: "7:61" is not a time of day`,
		`x.yaml:11: people`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if err != nil && strings.Contains(err.Error(), "cannot unmarshal") {
		t.Errorf("a problem said twice, once in the decoder's words:\n%v", err)
	}
	_, err = Parse("x.yaml", []byte("customers: [\n"), platforms)
	if err == nil || !strings.HasPrefix(err.Error(), "x.yaml: ") {
		t.Fatalf("err = %v", err)
	}
	if _, err := Parse("x.yaml", nil, platforms); err == nil {
		t.Fatal("empty file accepted")
	}
}

func TestDuplicateIdentities(t *testing.T) {
	_, err := Parse("d.yaml", []byte(`people:
  - {id: a, role: engineer, slack: U1}
  - {id: b, role: engineer, slack: U1}
  - {id: a, role: engineer}
`), platforms)
	if err == nil || !strings.Contains(err.Error(), `d.yaml:3: people[1].slack: slack id "U1" also belongs to a`) ||
		!strings.Contains(err.Error(), `d.yaml:4: people[2].id: person "a" is defined twice`) {
		t.Fatalf("err = %v", err)
	}
}

// People carry their ids by platform name; the older per-platform fields
// still work; every id is checked by its platform, and a platform the
// program does not speak is named as such.
func TestPlatformIDs(t *testing.T) {
	c, err := Parse("p.yaml", []byte(`people:
  - {id: a, role: engineer, ids: {slack: U1, telegram: "42"}}
  - {id: b, role: lead, slack: U2, ids: {slack: U2}}
`), platforms)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, id := range c.Directory.Identities {
		got = append(got, id.Platform+":"+id.UserID+"="+id.PersonID)
	}
	if want := "console:a=a slack:U1=a telegram:42=a console:b=b slack:U2=b"; strings.Join(got, " ") != want {
		t.Fatalf("identities %q, want %q", strings.Join(got, " "), want)
	}

	_, err = Parse("p.yaml", []byte(`people:
  - id: a
    role: engineer
    ids:
      irc: nick
      telegram: "@a"
  - {id: b, role: engineer, slack: U2, ids: {slack: U3}}
  - {id: c, role: engineer, ids: {slack: ""}}
  - {id: d, role: engineer, ids: [U4]}
channels:
  - {platform: telegram, id: general, kind: engineering}
  - {platform: feishu, id: oc_1, kind: engineering}
`), platforms)
	for _, want := range []string{
		`p.yaml:5: people[0].ids.irc: "irc" is not a platform: use console, slack or telegram`,
		`p.yaml:6: people[0].ids.telegram: "@a" is not a Telegram user id (a number)`,
		`p.yaml:7: people[1].ids.slack: "U3" differs from people[1].slack "U2": give the id once, under ids`,
		`p.yaml:8: people[2].ids.slack: the slack id is missing`,
		`p.yaml:9: people[3].ids: is not a block of entries (key: value)`,
		`p.yaml:11: channels[0].id: "general" is not a Telegram chat id (a number)`,
		`p.yaml:12: channels[1].platform: "feishu" is not a platform: use console, slack or telegram`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

func TestMissingFile(t *testing.T) {
	if _, err := Load(os.DevNull+"/nope.yaml", platforms); err == nil {
		t.Fatal("missing file accepted")
	}
}

func TestCalendarAndCriticalPeriods(t *testing.T) {
	c, err := Parse("c.yaml", []byte(`zone: Asia/Shanghai
calendar:
  inspection_day: 20
  health_checks: ["08-01", "12-20"]
  at: "10:30"
  digest_at: "08:00"
  warranty_warnings: [60]
  revisit_every_months: 6
critical_ladder: {lead_after: 3m}
customers:
  - id: acme
    accepted_on: 2026-03-01
    engineer: wang
    critical:
      - {from: 2026-12-20, to: 2026-12-31, note: 年终结算}
      - {from: "2027-01-05T08:00", to: "2027-01-05T20:00", onsite: [sam, wang]}
people:
  - {id: wang, role: engineer}
  - {id: sam, role: engineer}
`), platforms)
	if err != nil {
		t.Fatal(err)
	}
	cal := c.Schedule
	if cal.InspectionDay != 19 || len(cal.HealthChecks) != 2 || cal.HealthChecks[0] != (sla.MonthDay{Month: time.August, Day: 1}) ||
		cal.At != 10*time.Hour+30*time.Minute || cal.DigestAt != 8*time.Hour || cal.WarrantyWarnings[0] != 60 || cal.RevisitMonths != 6 ||
		cal.NoticeAhead != 7*24*time.Hour || cal.Zone != c.Location {
		t.Fatalf("calendar %+v", cal)
	}
	if l := c.BasePolicy.Critical; l.LeadAfter != 3*time.Minute || l.ManagerAfter != sla.DefaultCriticalLadder.ManagerAfter {
		t.Fatalf("critical ladder %+v", l)
	}
	if c.Directory.Customers[0].Engineer != "wang" || len(c.Critical) != 2 {
		t.Fatalf("customer %+v, critical %+v", c.Directory.Customers[0], c.Critical)
	}
	w := c.Critical[0]
	if w.Start != time.Date(2026, 12, 20, 0, 0, 0, 0, c.Location) || w.End != time.Date(2027, 1, 1, 0, 0, 0, 0, c.Location) ||
		w.Onsite[0] != "wang" || w.Note != "年终结算" {
		t.Fatalf("window %+v", w)
	}
	if strings.Join(c.Critical[1].Onsite, ",") != "sam,wang" {
		t.Fatalf("on site %v", c.Critical[1].Onsite)
	}

	_, err = Parse("bad.yaml", []byte(`calendar:
  inspection_day: 100
  health_checks: ["13-40"]
  at: noon
  revisit_every_months: 5
critical_ladder: {lead_after: 20m, manager_after: 10m}
customers:
  - id: acme
    engineer: li
    critical:
      - {from: 2026-12-31, to: 2026-12-20}
      - {from: soon, to: 2026-12-20, onsite: [ghost]}
people:
  - {id: li, role: customer, customer: acme}
`), platforms)
	for _, want := range []string{"bad.yaml:2: calendar.inspection_day: must be a day of the quarter",
		`bad.yaml:3: calendar.health_checks[0]: "13-40" is not a day of the year`, `bad.yaml:4: calendar.at: "noon" is not a time of day`,
		"bad.yaml:5: calendar.revisit_every_months: must divide the year", "policy: the critical ladder needs",
		`bad.yaml:9: customers[0].engineer: "li" is not an engineer`, "bad.yaml:11: customers[0].critical[0].to: must be after from",
		`customers[0].critical[1].from: "soon" is not a date`, `customers[0].critical[1].onsite[0]: no person "ghost"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("expected %q in:\n%v", want, err)
		}
	}
}

// The configuration parser, fed any text: an error or a valid
// configuration, never a panic.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile("../../examples/slakeeper.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte("calendar: {inspection_day: 0, health_checks: [\"02-30\"]}\ncustomers: [{id: a, critical: [{from: 2026-01-01, to: 2026-01-01}]}]"))
	f.Add([]byte("oncall: {handover: \"sun 25:99\", people: [x]}"))
	f.Fuzz(func(t *testing.T, text []byte) {
		c, err := Parse("f.yaml", text, platforms)
		if err == nil && (c.Location == nil || c.BasePolicy.Validate() != nil) {
			t.Fatalf("accepted an invalid configuration: %+v", c)
		}
	})
}

// The escalation back-off has defaults and a contract may set its own.
func TestRepeatBackOff(t *testing.T) {
	c, err := Parse("x.yaml", []byte(`policy: {repeat_daily_at: "08:30"}
customers:
  - {id: acme, name: A, policy: {repeat_steps: 2, repeat_every: 1h}}
  - {id: globex, name: G, policy: {repeat_steps: 0}}
`), platforms)
	if err != nil {
		t.Fatal(err)
	}
	if c.BasePolicy.RepeatSteps != sla.DefaultRepeatSteps || c.BasePolicy.RepeatDailyAt != 8*time.Hour+30*time.Minute {
		t.Fatalf("base %+v", c.BasePolicy)
	}
	acme := c.Directory.Customers[0].Contract.Policy.Apply(c.BasePolicy)
	if acme.RepeatSteps != 2 || acme.RepeatEvery != time.Hour || acme.RepeatDailyAt != 8*time.Hour+30*time.Minute {
		t.Fatalf("acme %+v", acme)
	}
	if g := c.Directory.Customers[1].Contract.Policy.Apply(c.BasePolicy); g.RepeatSteps != 0 {
		t.Fatalf("globex %+v", g)
	}
}

// The intake limit has defaults, and a setting that cannot work is refused.
func TestFloodLimit(t *testing.T) {
	c, err := Parse("f.yaml", []byte("customers: [{id: a, name: A}]\n"), platforms)
	if err != nil || c.FloodLimit != sla.DefaultFloodLimit {
		t.Fatalf("default: %+v %v", c.FloodLimit, err)
	}
	c, err = Parse("f.yaml", []byte("intake: {flood: {max: 50, within: 1h}}\n"), platforms)
	if err != nil || c.FloodLimit != (sla.FloodLimit{Max: 50, Within: time.Hour}) {
		t.Fatalf("set: %+v %v", c.FloodLimit, err)
	}
	_, err = Parse("f.yaml", []byte("intake:\n  flood: {max: 0, within: -1m}\n"), platforms)
	for _, want := range []string{"f.yaml:2: intake.flood.max: must be at least 1", "f.yaml:2: intake.flood.within: must be a positive duration"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
}
