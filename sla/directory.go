package sla

import (
	"sort"
	"strings"
	"time"
)

// ChannelKind says whom a chat channel serves.
type ChannelKind string

// Channel kinds.
const (
	ChannelCustomer    ChannelKind = "customer"
	ChannelEngineering ChannelKind = "engineering"
	ChannelManagers    ChannelKind = "managers"
)

// Channel maps a platform's chat to a customer or a role.
type Channel struct {
	Platform   string
	ChatID     string
	Kind       ChannelKind
	CustomerID string // for customer channels
	Lang       Lang
}

// Identity maps a platform user to a person.
type Identity struct {
	Platform string
	UserID   string
	PersonID string
}

// Roster is everything the configuration says about who is who: the
// customers, the people, their identities on each platform, and the
// channels.
type Roster struct {
	Customers  []Customer
	People     []Person
	Identities []Identity
	Channels   []Channel
}

// Directory answers who is who and where, from the configuration. It is
// immutable once built and safe for concurrent use.
type Directory struct {
	Settings

	customers  map[string]Customer
	people     map[string]Person
	names      map[string]string // lower-cased name -> person id
	identities map[string]string // platform + "\x00" + user id -> person id
	accounts   map[string]string // platform + "\x00" + person id -> user id
	channels   map[string]Channel
	ordered    []Channel
}

// Settings are the directory's global settings.
type Settings struct {
	Zone        *time.Location
	DefaultLang Lang   // for people and channels that set none
	BasePolicy  Policy // before each contract's overrides
	Rotation    Rotation
	// Calendar is when inspections, health checks, revisits and digests
	// happen; the zero value means DefaultCalendar in Zone.
	Calendar Calendar
	// Critical are the critical business periods of the configuration;
	// more may be added by command (stored in the database).
	Critical []CriticalWindow
	// StaffRepliesNotFirstResponse turns off the rule that a staff
	// member's reply in a customer's conversation meets the reply clock
	// (as a help desk's first response does): then only /ack meets it.
	StaffRepliesNotFirstResponse bool
	// Flood is the per-customer intake limit; the zero value means
	// DefaultFloodLimit.
	Flood FloodLimit
}

// NewDirectory indexes a roster.
func NewDirectory(d Roster, s Settings) *Directory {
	if s.Zone == nil {
		s.Zone = time.UTC
	}
	if s.DefaultLang == "" {
		s.DefaultLang = LangZH
	}
	if s.Calendar.At == 0 && s.Calendar.InspectionDay == 0 {
		s.Calendar = DefaultCalendar(s.Zone)
	}
	if s.Calendar.Zone == nil {
		s.Calendar.Zone = s.Zone
	}
	dir := &Directory{Settings: s,
		customers: map[string]Customer{}, people: map[string]Person{}, names: map[string]string{},
		identities: map[string]string{}, accounts: map[string]string{}, channels: map[string]Channel{}}
	for _, c := range d.Customers {
		dir.customers[c.ID] = c
	}
	for _, p := range d.People {
		dir.people[p.ID] = p
		dir.names[strings.ToLower(p.Name)] = p.ID
	}
	for _, id := range d.Identities {
		dir.identities[id.Platform+"\x00"+id.UserID] = id.PersonID
		dir.accounts[id.Platform+"\x00"+id.PersonID] = id.UserID
	}
	for _, c := range d.Channels {
		dir.channels[c.Platform+"\x00"+c.ChatID] = c
		dir.ordered = append(dir.ordered, c)
	}
	sort.Slice(dir.ordered, func(i, j int) bool {
		a, b := dir.ordered[i], dir.ordered[j]
		return a.Platform+a.ChatID < b.Platform+b.ChatID
	})
	return dir
}

// Customer returns a customer by id.
func (d *Directory) Customer(id string) (Customer, bool) { c, ok := d.customers[id]; return c, ok }

// Person returns a person by id.
func (d *Directory) Person(id string) (Person, bool) { p, ok := d.people[id]; return p, ok }

// FindPerson resolves an id, a name (any case) or a platform mention
// ("@wang") to a person.
func (d *Directory) FindPerson(ref string) (Person, bool) {
	ref = strings.TrimPrefix(strings.TrimSpace(ref), "@")
	if p, ok := d.people[ref]; ok {
		return p, true
	}
	if id, ok := d.names[strings.ToLower(ref)]; ok {
		return d.people[id], true
	}
	return Person{}, false
}

// ByIdentity returns the person behind a platform user id.
func (d *Directory) ByIdentity(platform, userID string) (Person, bool) {
	id, ok := d.identities[platform+"\x00"+userID]
	if !ok {
		return Person{}, false
	}
	return d.Person(id)
}

// PlatformUser returns a person's user id on a platform, for mentions.
func (d *Directory) PlatformUser(platform, personID string) (string, bool) {
	id, ok := d.accounts[platform+"\x00"+personID]
	return id, ok
}

// Channel returns a configured channel.
func (d *Directory) Channel(platform, chatID string) (Channel, bool) {
	c, ok := d.channels[platform+"\x00"+chatID]
	return c, ok
}

// Channels returns the channels of a kind (and, for customer channels, of a
// customer when customerID is not empty), in a stable order.
func (d *Directory) Channels(kind ChannelKind, customerID string) []Channel {
	var out []Channel
	for _, c := range d.ordered {
		if c.Kind == kind && (customerID == "" || c.CustomerID == customerID) {
			out = append(out, c)
		}
	}
	return out
}

// Policy returns the clocks that apply to a customer: the base policy with
// the contract's overrides.
func (d *Directory) Policy(customerID string) Policy {
	c := d.customers[customerID]
	return c.Contract.Policy.Apply(d.BasePolicy)
}

// CriticalOf returns the configured critical business periods of a
// customer.
func (d *Directory) CriticalOf(customerID string) []CriticalWindow {
	var out []CriticalWindow
	for _, w := range d.Critical {
		if w.CustomerID == customerID {
			out = append(out, w)
		}
	}
	return out
}

// Customers returns every customer, sorted by id.
func (d *Directory) Customers() []Customer {
	out := make([]Customer, 0, len(d.customers))
	for _, c := range d.customers {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// WithRole returns the ids of everyone with exactly the given role, sorted.
func (d *Directory) WithRole(r Role) []string {
	var out []string
	for _, p := range d.People() {
		if p.Role == r {
			out = append(out, p.ID)
		}
	}
	return out
}

// People returns everyone, sorted by id.
func (d *Directory) People() []Person {
	out := make([]Person, 0, len(d.people))
	for _, p := range d.people {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
