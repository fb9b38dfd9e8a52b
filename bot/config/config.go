// Package config reads slakeeper's YAML configuration: the zone and language,
// the policy, customers with their contracts, people with their roles and
// platform ids, and the channels. Every problem is reported with the file,
// line and field, all at once.
package config

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/sla"
)

// Config is the whole configuration file.
type Config struct {
	Zone     string   `yaml:"zone"`
	Language string   `yaml:"language"`
	Policy   Policy   `yaml:"policy"`
	FollowUp FollowUp `yaml:"followup"`
	OnCall   OnCall   `yaml:"oncall"`
	Calendar Calendar `yaml:"calendar"`
	// CriticalLadder is the escalation ladder in critical business periods.
	CriticalLadder Ladder     `yaml:"critical_ladder"`
	Intake         Intake     `yaml:"intake"`
	Customers      []Customer `yaml:"customers"`
	People         []Person   `yaml:"people"`
	Channels       []Channel  `yaml:"channels"`

	// Derived by Load.
	Location   *time.Location `yaml:"-"`
	Lang       sla.Lang       `yaml:"-"`
	BasePolicy sla.Policy     `yaml:"-"`
	Rotation   sla.Rotation   `yaml:"-"`
	Directory  sla.Roster     `yaml:"-"`
	// Schedule is the calendar and Critical the configured critical
	// business periods.
	Schedule sla.Calendar         `yaml:"-"`
	Critical []sla.CriticalWindow `yaml:"-"`
	// StaffReplyIsFirstResponse is Intake's setting with its default.
	StaffReplyIsFirstResponse bool `yaml:"-"`
	// FloodLimit is Intake's flood setting with its defaults.
	FloodLimit sla.FloodLimit `yaml:"-"`
}

// Intake is how customers' messages are read.
type Intake struct {
	// StaffReplyIsFirstResponse: a staff member's reply in a customer's
	// conversation meets the reply clock, as a help desk's first response
	// does (default true); false leaves that to /ack.
	StaffReplyIsFirstResponse *bool `yaml:"staff_reply_is_first_response"`
	// Flood is the per-customer intake limit: past max incidents opened for
	// one customer within within, a new fault report joins the latest
	// (default 10 within 10m).
	Flood Flood `yaml:"flood"`
}

// Flood is the per-customer intake limit.
type Flood struct {
	Max    int           `yaml:"max"`
	Within time.Duration `yaml:"within"`
}

// Calendar is when the contract's scheduled services happen.
type Calendar struct {
	InspectionDay    int           `yaml:"inspection_day"`       // day of each quarter, 1-90; default 46 (mid-quarter)
	HealthChecks     []string      `yaml:"health_checks"`        // MM-DD; default ["08-15", "12-15"]
	NoticeAhead      time.Duration `yaml:"notice_ahead"`         // default 168h
	At               string        `yaml:"at"`                   // HH:MM of the posts; default 09:00
	WarrantyWarnings []int         `yaml:"warranty_warnings"`    // days before the warranty ends; default [30, 7]
	ReportRemindDays int           `yaml:"report_remind_days"`   // default 30
	RevisitMonths    int           `yaml:"revisit_every_months"` // 1, 2, 3, 4, 6 or 12; default 3
	DigestAt         string        `yaml:"digest_at"`            // HH:MM of the managers' digests; default 08:30
}

// Ladder is the escalation ladder of critical business periods.
type Ladder struct {
	ReminderBefore time.Duration `yaml:"reminder_before"`
	LeadAfter      time.Duration `yaml:"lead_after"`
	ManagerAfter   time.Duration `yaml:"manager_after"`
	RepeatEvery    time.Duration `yaml:"repeat_every"`
}

// Critical is a customer's critical business period.
type Critical struct {
	From   string   `yaml:"from"` // 2026-12-20 or 2026-12-20T08:00, in the zone
	To     string   `yaml:"to"`   // a date alone runs through that day
	Note   string   `yaml:"note"`
	Onsite []string `yaml:"onsite"` // person ids; default the customer's engineer
}

// FollowUp is the weekly follow-up of unsolved problems (C6) and the report
// reminder (C5).
type FollowUp struct {
	Weekday      string        `yaml:"weekday"`       // mon..sun; default fri
	At           string        `yaml:"at"`            // HH:MM; default 10:00
	After        time.Duration `yaml:"after"`         // default 168h
	AnswerWithin time.Duration `yaml:"answer_within"` // default 24h
	ReportEvery  time.Duration `yaml:"report_every"`  // default 24h
}

// OnCall is the weekly on-call rotation.
type OnCall struct {
	Handover string   `yaml:"handover"` // "mon 09:00"
	People   []string `yaml:"people"`
}

// Policy is the policy block, at the top level or in a customer's contract.
type Policy struct {
	AckWithin            time.Duration `yaml:"ack_within"`
	CoreOnsiteWithin     time.Duration `yaml:"core_onsite_within"`
	CoreRestoreWithin    time.Duration `yaml:"core_restore_within"`
	NoncoreRestoreWithin time.Duration `yaml:"noncore_restore_within"`
	ReminderBefore       time.Duration `yaml:"reminder_before"`
	LeadAfter            time.Duration `yaml:"lead_after"`
	ManagerAfter         time.Duration `yaml:"manager_after"`
	RepeatEvery          time.Duration `yaml:"repeat_every"`
	// After the managers' escalation: repeat_every, then each gap doubled,
	// repeat_steps times (default 4: 30m, 1h, 2h, 4h), then once a day at
	// repeat_daily_at (default "09:00", in the zone).
	RepeatSteps   *int   `yaml:"repeat_steps"`
	RepeatDailyAt string `yaml:"repeat_daily_at"`
}

// Customer is one customer and its contract.
type Customer struct {
	ID          string `yaml:"id"`
	Name        string `yaml:"name"`
	Language    string `yaml:"language"`
	AcceptedOn  string `yaml:"accepted_on"`
	WarrantyEnd string `yaml:"warranty_end"`
	Policy      Policy `yaml:"policy"`
	// Engineer is the account's engineer (a person id).
	Engineer string     `yaml:"engineer"`
	Critical []Critical `yaml:"critical"`
}

// Person is one person, with their ids on each platform.
type Person struct {
	ID       string `yaml:"id"`
	Name     string `yaml:"name"`
	Role     string `yaml:"role"`
	Customer string `yaml:"customer"`
	Language string `yaml:"language"`
	// IDs are the person's user ids by platform name ({slack: U024BE7LH,
	// telegram: "123456789"}).
	IDs map[string]string `yaml:"ids"`
	// Slack and Telegram are the older spelling of ids.slack and
	// ids.telegram, still read.
	Slack    string `yaml:"slack"`
	Telegram string `yaml:"telegram"`
}

// Channel maps a platform chat to a customer or a role.
type Channel struct {
	Platform string `yaml:"platform"`
	ID       string `yaml:"id"`
	Kind     string `yaml:"kind"`
	Customer string `yaml:"customer"`
	Language string `yaml:"language"`
}

// Load reads and validates the file at path; platforms are the chat
// platforms its ids and channels may name.
func Load(path string, platforms *chat.Registry) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, b, platforms)
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// Parse validates configuration text; name is used in messages and
// platforms are the chat platforms its ids and channels may name.
func Parse(name string, text []byte, platforms *chat.Registry) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(text, &root); err != nil {
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	v := validator{file: name, platforms: platforms, nodes: map[string]*yaml.Node{}, typed: map[int]bool{}}
	var cfg Config
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("%s: the file is empty", name)
	}
	doc := root.Content[0]
	v.index(doc, reflect.TypeOf(cfg), "")
	// A value of the wrong form is left at its zero value by Decode, which
	// goes on with the rest: every other problem is reported too.
	if err := doc.Decode(&cfg); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			v.errs = append(v.errs, fmt.Errorf("%s: %v", name, err))
			return nil, errors.Join(v.errs...)
		}
		for _, e := range te.Errors {
			var line int
			if _, err := fmt.Sscanf(e, "line %d:", &line); err == nil && v.typed[line] {
				continue // already said, with its field
			}
			v.errs = append(v.errs, fmt.Errorf("%s: %s", name, e))
		}
	}
	v.validate(&cfg)
	if len(v.errs) > 0 {
		return nil, errors.Join(v.errs...)
	}
	cfg.StaffReplyIsFirstResponse = cfg.Intake.StaffReplyIsFirstResponse == nil || *cfg.Intake.StaffReplyIsFirstResponse
	return &cfg, nil
}

type validator struct {
	file      string
	platforms *chat.Registry
	nodes     map[string]*yaml.Node // field path -> its value node
	errs      []error
	typed     map[int]bool // lines whose value index found of the wrong form
}

// index records the node of every field path and reports unknown keys and
// values of the wrong form, naming the field and the form it wants.
func (v *validator) index(n *yaml.Node, t reflect.Type, path string) {
	v.nodes[path] = n
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Tag != "!!null" {
		bad := ""
		switch {
		case t == reflect.TypeOf(time.Duration(0)):
			// A bare number would be read as nanoseconds: say it in units.
			if _, err := time.ParseDuration(n.Value); err != nil || n.Kind != yaml.ScalarNode || n.Tag == "!!int" || n.Tag == "!!float" {
				bad = "a duration: use e.g. 30m, 2h or 24h"
			}
		case t.Kind() == reflect.Int:
			if _, err := strconv.Atoi(n.Value); err != nil || n.Kind != yaml.ScalarNode {
				bad = "a whole number"
			}
		case t.Kind() == reflect.Bool:
			if n.Tag != "!!bool" {
				bad = "true or false"
			}
		case t.Kind() == reflect.Struct && t != reflect.TypeOf(time.Time{}):
			if n.Kind != yaml.MappingNode {
				bad = "a block of fields (key: value)"
			}
		case t.Kind() == reflect.Map:
			if n.Kind != yaml.MappingNode {
				bad = "a block of entries (key: value)"
			}
		case t.Kind() == reflect.Slice:
			if n.Kind != yaml.SequenceNode {
				bad = "a list (one \"- \" item per entry)"
			}
		case t.Kind() == reflect.String:
			if n.Kind != yaml.ScalarNode {
				bad = "a single value"
			}
		}
		if bad != "" {
			v.typed[n.Line] = true
			if n.Kind == yaml.ScalarNode {
				v.errf(path, "%q is not %s", n.Value, bad)
			} else {
				v.errf(path, "is not %s", bad)
			}
			return
		}
	}
	switch {
	case t.Kind() == reflect.Struct && t != reflect.TypeOf(time.Time{}):
		if n.Kind != yaml.MappingNode {
			return // Decode reports the type error
		}
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
			if tag != "" && tag != "-" {
				fields[tag] = t.Field(i).Type
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			sub := k
			if path != "" {
				sub = path + "." + k
			}
			ft, ok := fields[k]
			if !ok {
				v.errs = append(v.errs, fmt.Errorf("%s:%d: %s: unknown field", v.file, n.Content[i].Line, sub))
				continue
			}
			v.index(n.Content[i+1], ft, sub)
			v.nodes[sub] = n.Content[i] // report a field at its key's line
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			sub := path + "." + n.Content[i].Value
			v.index(n.Content[i+1], t.Elem(), sub)
			v.nodes[sub] = n.Content[i]
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			v.index(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	}
}

// identity is a platform id of a person, with the field it came from.
type identity struct{ Platform, UserID, path string }

// identities are a person's platform ids, each checked against its
// platform: ids, the older per-platform fields, and the person id itself on
// the platforms where one types as a person (the console).
func (v *validator) identities(path string, pe Person) []identity {
	given := map[string]identity{}
	for _, old := range []identity{{"slack", pe.Slack, path + ".slack"}, {"telegram", pe.Telegram, path + ".telegram"}} {
		if old.UserID != "" {
			given[old.Platform] = old
		}
	}
	for _, name := range slices.Sorted(maps.Keys(pe.IDs)) {
		id := identity{name, pe.IDs[name], path + ".ids." + name}
		if prev, ok := given[name]; ok && prev.UserID != id.UserID {
			v.errf(id.path, "%q differs from %s %q: give the id once, under ids", id.UserID, prev.path, prev.UserID)
			continue
		}
		given[name] = id
	}
	for _, p := range v.platforms.All() {
		if _, ok := given[p.Name]; p.PersonIsUser && !ok {
			given[p.Name] = identity{p.Name, pe.ID, path + ".id"}
		}
	}
	var out []identity
	for _, name := range slices.Sorted(maps.Keys(given)) {
		id := given[name]
		if err := v.platforms.CheckUserID(id.Platform, id.UserID); err != nil {
			v.errf(id.path, "%v", err)
			continue
		}
		out = append(out, id)
	}
	return out
}

// errf reports a problem at a field path, with the line of the closest
// node that exists.
func (v *validator) errf(path, format string, args ...any) {
	line := 0
	for p := path; ; {
		if n, ok := v.nodes[p]; ok {
			line = n.Line
			break
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	v.errs = append(v.errs, fmt.Errorf("%s:%d: %s: %s", v.file, line, path, fmt.Sprintf(format, args...)))
}

// id checks an id's form and that it is not defined twice, and records it.
func (v *validator) id(path, what, id string, seen map[string]bool) {
	if !idPattern.MatchString(id) {
		v.errf(path, "%q is not an id: use lower-case letters, digits, '-', '_' or '.'", id)
	} else if seen[id] {
		v.errf(path, "%s %q is defined twice", what, id)
	}
	seen[id] = true
}

func (v *validator) lang(path, s string, def sla.Lang) sla.Lang {
	if s == "" {
		return def
	}
	l, ok := sla.ParseLang(s)
	if !ok {
		v.errf(path, "%q is not a language: use zh or en", s)
	}
	return l
}

func (v *validator) date(path, s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		v.errf(path, "%q is not a date (YYYY-MM-DD)", s)
	}
	return t
}

func (v *validator) validate(c *Config) {
	if c.Zone == "" {
		c.Zone = "Asia/Shanghai"
	}
	loc, err := time.LoadLocation(c.Zone)
	if err != nil {
		v.errf("zone", "%q is not a time zone (e.g. Asia/Shanghai)", c.Zone)
		loc = time.UTC
	}
	c.Location = loc
	c.Lang = v.lang("language", c.Language, sla.LangZH)
	c.FloodLimit = sla.DefaultFloodLimit
	if f := c.Intake.Flood; f.Max != 0 || f.Within != 0 {
		if f.Max < 1 {
			v.errf("intake.flood.max", "must be at least 1 (incidents within the window before reports are folded)")
		}
		if f.Within <= 0 {
			v.errf("intake.flood.within", "must be a positive duration, e.g. 10m")
		}
		c.FloodLimit = sla.FloodLimit{Max: f.Max, Within: f.Within}
	}
	base := sla.DefaultPolicy()
	base.FollowUp = v.followUp(c.FollowUp, base.FollowUp, loc)
	l := c.CriticalLadder
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"reminder_before", l.ReminderBefore}, {"lead_after", l.LeadAfter}, {"manager_after", l.ManagerAfter}, {"repeat_every", l.RepeatEvery}} {
		if f.d < 0 {
			v.errf("critical_ladder."+f.name, "must not be negative")
		}
	}
	base.Critical = sla.PolicyOverride{ReminderBefore: orDefault(l.ReminderBefore, base.Critical.ReminderBefore),
		LeadAfter: orDefault(l.LeadAfter, base.Critical.LeadAfter), ManagerAfter: orDefault(l.ManagerAfter, base.Critical.ManagerAfter),
		RepeatEvery: orDefault(l.RepeatEvery, base.Critical.RepeatEvery)}
	c.BasePolicy = v.policy("policy", c.Policy, base)
	c.Schedule = v.calendar(c.Calendar, loc)

	customers := map[string]bool{}
	for i, cu := range c.Customers {
		p := fmt.Sprintf("customers[%d]", i)
		v.id(p+".id", "customer", cu.ID, customers)
		name := cu.Name
		if name == "" {
			name = cu.ID
		}
		contract := sla.Contract{AcceptedOn: v.date(p+".accepted_on", cu.AcceptedOn), WarrantyEnd: v.date(p+".warranty_end", cu.WarrantyEnd)}
		if !contract.WarrantyEnd.IsZero() && !contract.AcceptedOn.IsZero() && !contract.WarrantyEnd.After(contract.AcceptedOn) {
			v.errf(p+".warranty_end", "must be after accepted_on")
		}
		if cu.Policy != (Policy{}) {
			contract.Policy = v.override(p+".policy", cu.Policy)
			v.check(p+".policy", contract.Policy.Apply(c.BasePolicy))
		}
		c.Directory.Customers = append(c.Directory.Customers, sla.Customer{ID: cu.ID, Name: name,
			Lang: v.lang(p+".language", cu.Language, c.Lang), Contract: contract})
	}

	people := map[string]bool{}
	ids := map[string]string{}
	for i, pe := range c.People {
		p := fmt.Sprintf("people[%d]", i)
		v.id(p+".id", "person", pe.ID, people)
		role := sla.Role(strings.ToLower(pe.Role))
		if !role.Valid() {
			v.errf(p+".role", "%q is not a role: use customer, engineer, lead, manager or admin", pe.Role)
		}
		switch {
		case role == sla.RoleCustomer && pe.Customer == "":
			v.errf(p+".customer", "a customer's person must name their customer")
		case role == sla.RoleCustomer && !customers[pe.Customer]:
			v.errf(p+".customer", "no customer %q is defined", pe.Customer)
		case role != sla.RoleCustomer && role.Valid() && pe.Customer != "":
			v.errf(p+".customer", "only people with role customer belong to a customer")
		}
		name := pe.Name
		if name == "" {
			name = pe.ID
		}
		var cust string
		if role == sla.RoleCustomer {
			cust = pe.Customer
		}
		lang := c.Lang
		if role == sla.RoleCustomer {
			for _, cu := range c.Directory.Customers {
				if cu.ID == pe.Customer {
					lang = cu.Lang
				}
			}
		}
		c.Directory.People = append(c.Directory.People, sla.Person{ID: pe.ID, Name: name, Role: role,
			Lang: v.lang(p+".language", pe.Language, lang), CustomerID: cust})
		for _, id := range v.identities(p, pe) {
			key := id.Platform + ":" + id.UserID
			if other, dup := ids[key]; dup {
				v.errf(id.path, "%s id %q also belongs to %s", id.Platform, id.UserID, other)
				continue
			}
			ids[key] = pe.ID
			c.Directory.Identities = append(c.Directory.Identities, sla.Identity{Platform: id.Platform, UserID: id.UserID, PersonID: pe.ID})
		}
	}

	weekday, at, _ := v.weekTime("oncall.handover", c.OnCall.Handover, time.Monday, 9*time.Hour)
	c.Rotation = sla.Rotation{Weekday: weekday, At: at, Zone: loc}
	for i, id := range c.OnCall.People {
		v.staff(fmt.Sprintf("oncall.people[%d]", i), id, c.Directory.People)
		c.Rotation.People = append(c.Rotation.People, id)
	}

	for i, cu := range c.Customers {
		p := fmt.Sprintf("customers[%d]", i)
		staff := func(path, id string) bool { return v.staff(path, id, c.Directory.People) }
		if cu.Engineer != "" && staff(p+".engineer", cu.Engineer) {
			c.Directory.Customers[i].Engineer = cu.Engineer
		}
		for j, cr := range cu.Critical {
			q := fmt.Sprintf("%s.critical[%d]", p, j)
			from, okFrom := v.when(q+".from", cr.From, loc, false)
			to, okTo := v.when(q+".to", cr.To, loc, true)
			if okFrom && okTo && !to.After(from) {
				v.errf(q+".to", "must be after from")
			}
			w := sla.CriticalWindow{CustomerID: cu.ID, Start: from, End: to, Note: cr.Note}
			for k, id := range cr.Onsite {
				if staff(fmt.Sprintf("%s.onsite[%d]", q, k), id) {
					w.Onsite = append(w.Onsite, id)
				}
			}
			if len(w.Onsite) == 0 && cu.Engineer != "" {
				w.Onsite = []string{cu.Engineer}
			}
			c.Critical = append(c.Critical, w)
		}
	}

	chans := map[string]bool{}
	for i, ch := range c.Channels {
		p := fmt.Sprintf("channels[%d]", i)
		var unknown *chat.UnknownPlatformError
		switch err := v.platforms.CheckChatID(ch.Platform, ch.ID); {
		case errors.As(err, &unknown):
			v.errf(p+".platform", "%v", err)
		case strings.TrimSpace(ch.ID) == "":
			v.errf(p+".id", "the channel id is missing")
		case err != nil:
			v.errf(p+".id", "%v", err)
		}
		key := ch.Platform + ":" + ch.ID
		if chans[key] {
			v.errf(p+".id", "channel %s is defined twice", key)
		}
		chans[key] = true
		kind := sla.ChannelKind(ch.Kind)
		lang := c.Lang
		switch kind {
		case sla.ChannelCustomer:
			if !customers[ch.Customer] {
				v.errf(p+".customer", "a customer channel must name a defined customer (got %q)", ch.Customer)
			}
			for _, cu := range c.Directory.Customers {
				if cu.ID == ch.Customer {
					lang = cu.Lang
				}
			}
		case sla.ChannelEngineering, sla.ChannelManagers:
			if ch.Customer != "" {
				v.errf(p+".customer", "only customer channels belong to a customer")
			}
		default:
			v.errf(p+".kind", "%q is not a channel kind: use customer, engineering or managers", ch.Kind)
		}
		var cust string
		if kind == sla.ChannelCustomer {
			cust = ch.Customer
		}
		chLang := sla.LangBoth // a channel may speak both
		if strings.ToLower(ch.Language) != string(sla.LangBoth) {
			chLang = v.lang(p+".language", ch.Language, lang)
		}
		c.Directory.Channels = append(c.Directory.Channels, sla.Channel{Platform: ch.Platform, ChatID: ch.ID, Kind: kind,
			CustomerID: cust, Lang: chLang})
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d != 0 {
		return d
	}
	return def
}

// staff checks that a person is defined and is staff; it reports whether
// the person is defined.
func (v *validator) staff(path, id string, people []sla.Person) bool {
	for _, pe := range people {
		if pe.ID == id {
			if !pe.Role.IsStaff() {
				v.errf(path, "%q is not an engineer", id)
			}
			return true
		}
	}
	v.errf(path, "no person %q is defined", id)
	return false
}

// when reads a period's bound, "2026-12-20" or "2026-12-20T08:00" in loc
// (sla.ParseWhen).
func (v *validator) when(path, s string, loc *time.Location, end bool) (time.Time, bool) {
	t, err := sla.ParseWhen(s, loc, end)
	if err != nil {
		v.errf(path, "%q is not a date or time (2026-12-20 or 2026-12-20T08:00)", s)
		return t, false
	}
	return t, true
}

// clock reads "HH:MM" as a time of day.
func (v *validator) clock(path, s string, def time.Duration) time.Duration {
	if s == "" {
		return def
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		v.errf(path, "%q is not a time of day (HH:MM)", s)
		return def
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
}

func (v *validator) calendar(c Calendar, loc *time.Location) sla.Calendar {
	out := sla.DefaultCalendar(loc)
	if c.InspectionDay != 0 {
		if c.InspectionDay < 1 || c.InspectionDay > 90 {
			v.errf("calendar.inspection_day", "must be a day of the quarter, 1 to 90")
		} else {
			out.InspectionDay = c.InspectionDay - 1
		}
	}
	if c.HealthChecks != nil {
		out.HealthChecks = nil
		for i, s := range c.HealthChecks {
			t, err := time.Parse("01-02", s)
			if err != nil {
				v.errf(fmt.Sprintf("calendar.health_checks[%d]", i), "%q is not a day of the year (MM-DD)", s)
				continue
			}
			out.HealthChecks = append(out.HealthChecks, sla.MonthDay{Month: t.Month(), Day: t.Day()})
		}
	}
	switch {
	case c.NoticeAhead < 0:
		v.errf("calendar.notice_ahead", "must not be negative")
	case c.NoticeAhead > 0:
		out.NoticeAhead = c.NoticeAhead
	}
	out.At = v.clock("calendar.at", c.At, out.At)
	out.DigestAt = v.clock("calendar.digest_at", c.DigestAt, out.DigestAt)
	if c.WarrantyWarnings != nil {
		out.WarrantyWarnings = nil
		for i, n := range c.WarrantyWarnings {
			if n <= 0 || n > 366 {
				v.errf(fmt.Sprintf("calendar.warranty_warnings[%d]", i), "must be 1 to 366 days")
			}
			out.WarrantyWarnings = append(out.WarrantyWarnings, n)
		}
	}
	if c.ReportRemindDays < 0 || c.ReportRemindDays > 366 {
		v.errf("calendar.report_remind_days", "must be 0 to 366 days")
	} else if c.ReportRemindDays > 0 {
		out.ReportRemindDays = c.ReportRemindDays
	}
	if c.RevisitMonths != 0 {
		if c.RevisitMonths < 0 || 12%c.RevisitMonths != 0 {
			v.errf("calendar.revisit_every_months", "must divide the year: 1, 2, 3, 4, 6 or 12")
		} else {
			out.RevisitMonths = c.RevisitMonths
		}
	}
	return out
}

func (p Policy) override() sla.PolicyOverride {
	return sla.PolicyOverride{AckWithin: p.AckWithin, CoreOnsiteWithin: p.CoreOnsiteWithin,
		CoreRestoreWithin: p.CoreRestoreWithin, NoncoreRestoreWithin: p.NoncoreRestoreWithin,
		ReminderBefore: p.ReminderBefore, LeadAfter: p.LeadAfter, ManagerAfter: p.ManagerAfter, RepeatEvery: p.RepeatEvery}
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// weekTime reads "mon 09:00" (or just the day, or just the time).
func (v *validator) weekTime(path, s string, defDay time.Weekday, defAt time.Duration) (time.Weekday, time.Duration, bool) {
	day, at := defDay, defAt
	for _, f := range strings.Fields(strings.ToLower(s)) {
		// "fri" or "friday", not "friday-ish".
		if d, ok := weekdays[f[:min(3, len(f))]]; ok && len(f) >= 3 && (len(f) == 3 || f == strings.ToLower(d.String())) {
			day = d
			continue
		}
		t, err := time.Parse("15:04", f)
		if err != nil {
			v.errf(path, "%q is not a weekday and time, e.g. \"mon 09:00\"", s)
			return day, at, false
		}
		at = time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
	}
	return day, at, true
}

func (v *validator) followUp(f FollowUp, base sla.FollowUpPolicy, loc *time.Location) sla.FollowUpPolicy {
	out := base
	out.Zone = loc
	out.Weekday, _, _ = v.weekTime("followup.weekday", f.Weekday, base.Weekday, base.At)
	_, out.At, _ = v.weekTime("followup.at", f.At, base.Weekday, base.At)
	for _, d := range []struct {
		name string
		val  time.Duration
		dst  *time.Duration
	}{{"after", f.After, &out.After}, {"answer_within", f.AnswerWithin, &out.AnswerWithin}, {"report_every", f.ReportEvery, &out.ReportEvery}} {
		switch {
		case d.val < 0:
			v.errf("followup."+d.name, "must not be negative")
		case d.val > 0:
			*d.dst = d.val
		}
	}
	return out
}

func (v *validator) policy(path string, p Policy, base sla.Policy) sla.Policy {
	out := v.override(path, p).Apply(base)
	v.check(path, out)
	return out
}

// check reports a policy whose clocks contradict each other.
func (v *validator) check(path string, p sla.Policy) {
	if err := p.Validate(); err != nil {
		v.errf(path, "%s", err.Error())
	}
}

// override reads a policy block, checking each field.
func (v *validator) override(path string, p Policy) sla.PolicyOverride {
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"ack_within", p.AckWithin}, {"core_onsite_within", p.CoreOnsiteWithin},
		{"core_restore_within", p.CoreRestoreWithin}, {"noncore_restore_within", p.NoncoreRestoreWithin},
		{"reminder_before", p.ReminderBefore}, {"lead_after", p.LeadAfter}, {"manager_after", p.ManagerAfter}, {"repeat_every", p.RepeatEvery}} {
		if f.d < 0 {
			v.errf(path+"."+f.name, "must not be negative")
		}
	}
	o := p.override()
	if p.RepeatSteps != nil {
		if *p.RepeatSteps < 0 || *p.RepeatSteps > 12 {
			v.errf(path+".repeat_steps", "must be from 0 to 12")
		} else {
			o.RepeatSteps = *p.RepeatSteps
			if o.RepeatSteps == 0 {
				o.RepeatSteps = -1 // no doubling steps: daily at once
			}
		}
	}
	if p.RepeatDailyAt != "" {
		t, err := time.Parse("15:04", p.RepeatDailyAt)
		if err != nil {
			v.errf(path+".repeat_daily_at", "%q is not a time of day, e.g. \"09:00\"", p.RepeatDailyAt)
		} else {
			o.RepeatDailyAt, o.HasRepeatDailyAt = time.Duration(t.Hour())*time.Hour+time.Duration(t.Minute())*time.Minute, true
		}
	}
	return o
}
