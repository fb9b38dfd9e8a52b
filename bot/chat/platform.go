package chat

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/slakeeper/slakeeper/sla"
)

// Handler is what an adapter hands inbound messages to: the router. It
// returns the replies the adapter shows itself (for an Inbound with
// InBand); everything else a message causes goes through the outbox.
type Handler interface {
	Handle(ctx context.Context, in Inbound) ([]Outbound, error)
}

// Locker takes a lock shared by every replica, for input that only one
// replica may read (a long poll).
type Locker interface {
	Lock(ctx context.Context, name string, poll time.Duration) (release func(), err error)
}

// Platform is one chat platform as the runtime knows it: its name, how it
// is switched on, what its ids look like and what it runs. An adapter
// package exports one, and the program lists them (platforms.go at the
// root): a new platform is a new package plus that one line.
type Platform struct {
	// Name is the platform's name in the configuration and the database
	// (lowercase letters and digits).
	Name string
	// Env lists the environment variables the platform reads, the one that
	// switches it on first.
	Env []string
	// HowToRun tells an operator how to switch the platform on.
	HowToRun string
	// Enabled reports whether the environment switches the platform on for
	// `slakeeper serve`; nil means never (the console).
	Enabled func(getenv func(string) string) bool
	// CheckUserID and CheckChatID say what is wrong with an id from the
	// configuration; nil accepts any id that is not blank.
	CheckUserID func(id string) error
	CheckChatID func(id string) error
	// PersonIsUser gives every configured person an identity on the
	// platform equal to their person id (the console, where one types as
	// a person).
	PersonIsUser bool
	// Start connects to the platform and returns what it runs. Routes are
	// added to Env.Mux before Start returns.
	Start func(ctx context.Context, env Env) (Running, error)
}

// Env is what a platform gets to start with: the environment, the router,
// the directory and the runtime's shared pieces.
type Env struct {
	Getenv    func(string) string
	Handler   Handler
	Directory *sla.Directory
	Clock     Clock
	Log       *slog.Logger
	// Mux is the public HTTP listener's: webhooks go here.
	Mux   *http.ServeMux
	Locks Locker
	// Quarantine sets aside inbound deliveries that fail every time; nil
	// means none is.
	Quarantine Quarantine
}

// Running is a started platform.
type Running struct {
	// Sender posts the outbox's messages on the platform.
	Sender Sender
	// Run, if not nil, reads input (a socket, a long poll) until ctx ends.
	Run func(ctx context.Context) error
	// Close, if not nil, waits for work begun before input stopped (late
	// answers) once Run has returned and the listener is shut.
	Close func()
}

// Registry is the set of platforms this program speaks, in a fixed order.
type Registry struct {
	list []Platform
}

// NewRegistry returns the registry of ps. It panics on a platform without
// a name or a name given twice: that is a programming error in the list.
func NewRegistry(ps ...Platform) *Registry {
	seen := map[string]bool{}
	for _, p := range ps {
		if p.Name == "" || strings.Trim(p.Name, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
			panic(fmt.Sprintf("chat: platform name %q must be lowercase letters and digits", p.Name))
		}
		if seen[p.Name] {
			panic("chat: platform " + p.Name + " registered twice")
		}
		seen[p.Name] = true
	}
	return &Registry{list: slices.Clone(ps)}
}

// Lookup returns the named platform.
func (r *Registry) Lookup(name string) (Platform, bool) {
	for _, p := range r.list {
		if p.Name == name {
			return p, true
		}
	}
	return Platform{}, false
}

// All returns the platforms in registration order.
func (r *Registry) All() []Platform { return slices.Clone(r.list) }

// Names returns the platforms' names in registration order.
func (r *Registry) Names() []string {
	out := make([]string, len(r.list))
	for i, p := range r.list {
		out[i] = p.Name
	}
	return out
}

// Enabled returns the platforms the environment switches on for serve.
func (r *Registry) Enabled(getenv func(string) string) []Platform {
	var out []Platform
	for _, p := range r.list {
		if p.Enabled != nil && p.Enabled(getenv) {
			out = append(out, p)
		}
	}
	return out
}

// CheckUserID says what is wrong with a user id on a platform, including
// a platform that does not exist.
func (r *Registry) CheckUserID(platform, id string) error {
	return r.check(platform, id, func(p Platform) func(string) error { return p.CheckUserID })
}

// CheckChatID says what is wrong with a chat id on a platform, including
// a platform that does not exist.
func (r *Registry) CheckChatID(platform, id string) error {
	return r.check(platform, id, func(p Platform) func(string) error { return p.CheckChatID })
}

func (r *Registry) check(platform, id string, pick func(Platform) func(string) error) error {
	p, ok := r.Lookup(platform)
	if !ok {
		return &UnknownPlatformError{Name: platform, Known: r.Names()}
	}
	if strings.TrimSpace(id) == "" {
		return fmt.Errorf("the %s id is missing", platform)
	}
	if f := pick(p); f != nil {
		return f(id)
	}
	return nil
}

// UnknownPlatformError is a platform name the registry does not have.
type UnknownPlatformError struct {
	Name  string
	Known []string
}

func (e *UnknownPlatformError) Error() string {
	return fmt.Sprintf("%q is not a platform: use %s", e.Name, orList(e.Known))
}

// orList joins names as "a, b or c".
func orList(names []string) string {
	switch len(names) {
	case 0:
		return "none"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
