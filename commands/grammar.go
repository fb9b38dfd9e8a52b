// Package commands is slakeeper's chat-neutral command layer: the grammar of
// slash commands, their definitions (from which help is generated), the
// permission rules, and thin handlers that parse a request, call the
// incident service and render a reply in the reader's language.
//
// Nothing here knows Slack, Telegram or SQL.
package commands

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slakeeper/slakeeper/sla"
)

// ArgKind describes one argument of a command.
type ArgKind int

// Argument kinds.
const (
	ArgID       ArgKind = iota // optional incident id; the thread's incident when left out
	ArgPerson                  // one word naming a person
	ArgSeverity                // core or noncore
	ArgText                    // the rest of the line, required
	ArgOptText                 // the rest of the line, optional
)

// Def defines a command: its name, arguments, who may run it and its help.
type Def struct {
	Name string
	Args []ArgKind
	// MinRole is the least role that may run the command at all.
	MinRole sla.Role
}

// Defs lists every command in the order help shows them.
var Defs = []Def{
	{Name: "incident", Args: []ArgKind{ArgText}, MinRole: sla.RoleCustomer},
	{Name: "ack", Args: []ArgKind{ArgID}, MinRole: sla.RoleEngineer},
	{Name: "take", Args: []ArgKind{ArgID}, MinRole: sla.RoleEngineer},
	{Name: "assign", Args: []ArgKind{ArgID, ArgPerson}, MinRole: sla.RoleEngineer},
	{Name: "sev", Args: []ArgKind{ArgID, ArgSeverity}, MinRole: sla.RoleEngineer},
	{Name: "onsite", Args: []ArgKind{ArgID}, MinRole: sla.RoleEngineer},
	{Name: "restore", Args: []ArgKind{ArgID, ArgText}, MinRole: sla.RoleEngineer},
	{Name: "close", Args: []ArgKind{ArgID}, MinRole: sla.RoleEngineer},
	{Name: "reopen", Args: []ArgKind{ArgID}, MinRole: sla.RoleEngineer},
	{Name: "triage", Args: []ArgKind{ArgID, ArgText}, MinRole: sla.RoleEngineer},
	{Name: "merge", Args: []ArgKind{ArgID, ArgText}, MinRole: sla.RoleEngineer},
	{Name: "notfault", Args: []ArgKind{ArgID, ArgText}, MinRole: sla.RoleLead},
	{Name: "note", Args: []ArgKind{ArgID, ArgText}, MinRole: sla.RoleCustomer},
	{Name: "followup", Args: []ArgKind{ArgID, ArgText}, MinRole: sla.RoleEngineer},
	{Name: "report", Args: []ArgKind{ArgID, ArgOptText}, MinRole: sla.RoleEngineer},
	{Name: "oncall", Args: []ArgKind{ArgOptText}, MinRole: sla.RoleEngineer},
	{Name: "critical", Args: []ArgKind{ArgOptText}, MinRole: sla.RoleCustomer},
	{Name: "digest", Args: []ArgKind{ArgOptText}, MinRole: sla.RoleLead},
	{Name: "announce", Args: []ArgKind{ArgText}, MinRole: sla.RoleManager},
	{Name: "status", Args: []ArgKind{ArgID, ArgOptText}, MinRole: sla.RoleCustomer},
	{Name: "list", MinRole: sla.RoleCustomer},
	{Name: "rejected", MinRole: sla.RoleAdmin},
	{Name: "help", MinRole: sla.RoleCustomer},
}

// Lookup returns the definition of a command by name.
func Lookup(name string) (Def, bool) {
	for _, d := range Defs {
		if d.Name == name {
			return d, true
		}
	}
	return Def{}, false
}

// Umbrella is the one slash command under which every command also works
// ("/sla ack 42" is "/ack 42").
const Umbrella = "sla"

// MaxTextLen bounds a command's text, in characters.
const MaxTextLen = 4000

// Command is a parsed command line.
type Command struct {
	Name     string
	ID       int64 // 0 when left out
	Person   string
	Severity sla.Severity
	Text     string
}

// IsCommand reports whether a message is a command (starts with a slash).
func IsCommand(text string) bool {
	t := strings.TrimSpace(text)
	return strings.HasPrefix(t, "/") && len(t) > 1 && t[1] != '/' && t[1] != ' '
}

// IsKnownCommand reports whether a message is one of slakeeper's commands:
// its first word is "/name" or Telegram's "/name@bot" with name a command of
// Defs or the umbrella. "/opt/app is down" is a command in form only.
func IsKnownCommand(text string) bool {
	if !IsCommand(text) {
		return false
	}
	word, _ := cut(strings.TrimSpace(text)[1:])
	name := commandName(word)
	if name == Umbrella {
		return true
	}
	_, ok := Lookup(name)
	return ok
}

// Parse reads a command line: "/name[@bot] args", or the umbrella form
// "/sla name args". Errors are EINVALID with catalog keys err.unknown_command,
// err.usage (params: command), err.bad_id (params: value) or err.too_long.
func Parse(line string) (Command, error) {
	line = strings.TrimSpace(line)
	if n := utf8.RuneCountInString(line); n > MaxTextLen {
		return Command{}, sla.Errorf(sla.EINVALID, "err.too_long", map[string]any{"max": MaxTextLen}, "the message is too long (at most %d characters)", MaxTextLen)
	}
	if !IsCommand(line) {
		return Command{}, sla.Errorf(sla.EINVALID, "err.unknown_command", map[string]any{"command": ""}, "not a command")
	}
	name, rest := cut(line[1:])
	name = commandName(name)
	if name == Umbrella {
		name, rest = cut(rest)
		name = commandName(strings.TrimPrefix(name, "/"))
		if name == "" {
			name = "help"
		}
	}
	def, ok := Lookup(name)
	if !ok {
		return Command{}, sla.Errorf(sla.EINVALID, "err.unknown_command", map[string]any{"command": name}, "unknown command /%s", name)
	}
	cmd := Command{Name: name}
	usage := sla.Errorf(sla.EINVALID, "err.usage", map[string]any{"command": name}, "usage: %s", Usage(def, sla.LangEN))
	for _, a := range def.Args {
		switch a {
		case ArgID:
			word, after := cut(rest)
			if id, ok, err := parseID(word); err != nil {
				// A text that begins with a number-like word is only an id
				// when the command takes no text after it.
				if !hasText(def) {
					return Command{}, err
				}
			} else if ok {
				cmd.ID, rest = id, after
			}
		case ArgPerson:
			word, after := cut(rest)
			if word == "" {
				return Command{}, usage
			}
			cmd.Person, rest = strings.TrimPrefix(word, "@"), after
		case ArgSeverity:
			word, after := cut(rest)
			if word == "" {
				return Command{}, usage
			}
			sev, err := sla.ParseSeverity(word)
			if err != nil {
				return Command{}, err
			}
			cmd.Severity, rest = sev, after
		case ArgText:
			if rest == "" {
				return Command{}, usage
			}
			cmd.Text, rest = rest, ""
		case ArgOptText:
			cmd.Text, rest = rest, ""
		}
	}
	if rest != "" {
		return Command{}, usage
	}
	return cmd, nil
}

func hasText(d Def) bool {
	for _, a := range d.Args {
		if a == ArgText || a == ArgOptText || a == ArgPerson || a == ArgSeverity {
			return true
		}
	}
	return false
}

// commandName lower-cases a command word and drops a Telegram "@botname".
func commandName(w string) string {
	if i := strings.IndexByte(w, '@'); i >= 0 {
		w = w[:i]
	}
	return strings.ToLower(w)
}

// cut splits off the first whitespace-separated word.
func cut(s string) (word, rest string) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\u3000' })
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}

// parseID reads "42" or "#42". ok is false when the word is not id-shaped at
// all; err is set when it looks like an id but is not a valid one.
func parseID(w string) (id int64, ok bool, err error) {
	if w == "" {
		return 0, false, nil
	}
	digits := strings.TrimPrefix(w, "#")
	if digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
		if strings.HasPrefix(w, "#") || (w[0] >= '0' && w[0] <= '9') || w[0] == '-' {
			return 0, false, sla.Errorf(sla.EINVALID, "err.bad_id", map[string]any{"value": w}, "%q is not a valid incident number", w)
		}
		return 0, false, nil
	}
	id, perr := strconv.ParseInt(digits, 10, 64)
	if perr != nil || id <= 0 {
		return 0, false, sla.Errorf(sla.EINVALID, "err.bad_id", map[string]any{"value": w}, "%q is not a valid incident number", w)
	}
	return id, true, nil
}
