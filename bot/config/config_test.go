package config

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/sla"
)

func TestExampleIsValid(t *testing.T) {
	c, err := Load("../../examples/slakeeper.yaml")
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
	_, err := Parse("bad.yaml", []byte(bad))
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

func TestTypeErrorsHaveLines(t *testing.T) {
	_, err := Parse("x.yaml", []byte("policy:\n  ack_within: soon\n"))
	if err == nil || !strings.Contains(err.Error(), "x.yaml: line 2") {
		t.Fatalf("err = %v", err)
	}
	_, err = Parse("x.yaml", []byte("customers: [\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "x.yaml: ") {
		t.Fatalf("err = %v", err)
	}
	if _, err := Parse("x.yaml", nil); err == nil {
		t.Fatal("empty file accepted")
	}
}

func TestDuplicateIdentities(t *testing.T) {
	_, err := Parse("d.yaml", []byte(`people:
  - {id: a, role: engineer, slack: U1}
  - {id: b, role: engineer, slack: U1}
  - {id: a, role: engineer}
`))
	if err == nil || !strings.Contains(err.Error(), `d.yaml:3: people[1].slack: slack id "U1" also belongs to a`) ||
		!strings.Contains(err.Error(), `d.yaml:4: people[2].id: person "a" is defined twice`) {
		t.Fatalf("err = %v", err)
	}
}

func TestMissingFile(t *testing.T) {
	if _, err := Load(os.DevNull + "/nope.yaml"); err == nil {
		t.Fatal("missing file accepted")
	}
}
