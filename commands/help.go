package commands

import (
	"strings"

	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/sla/i18n"
)

// Usage renders a command's synopsis, e.g. "/assign [id] <person>".
func Usage(d Def, lang sla.Lang) string {
	if key := "usage." + d.Name; i18n.Has(key) {
		return i18n.T(lang, key, nil)
	}
	var b strings.Builder
	b.WriteString("/" + d.Name)
	for _, a := range d.Args {
		switch a {
		case ArgID:
			b.WriteString(" [" + i18n.T(lang, "arg.id", nil) + "]")
		case ArgPerson:
			b.WriteString(" <" + i18n.T(lang, "arg.person", nil) + ">")
		case ArgSeverity:
			b.WriteString(" <" + i18n.T(lang, "arg.severity", nil) + ">")
		case ArgOptText:
			if d.Name == "oncall" {
				b.WriteString(" [" + i18n.T(lang, "arg.person", nil) + " [" + i18n.T(lang, "arg.duration", nil) + "]]")
			} else {
				b.WriteString(" [" + i18n.T(lang, "arg.text", nil) + "]")
			}
		case ArgText:
			key := "arg.text"
			if d.Name == "restore" {
				key = "arg.summary"
			}
			b.WriteString(" <" + i18n.T(lang, key, nil) + ">")
		}
	}
	return b.String()
}

// Help lists the commands a person with the given role may run, generated
// from Defs.
func Help(role sla.Role, lang sla.Lang) string {
	var b strings.Builder
	b.WriteString(i18n.T(lang, "help.header", nil))
	for _, d := range Defs {
		if !role.AtLeast(d.MinRole) {
			continue
		}
		b.WriteString("\n" + Usage(d, lang) + " — " + i18n.T(lang, "cmd."+d.Name, nil))
	}
	if !role.IsStaff() {
		b.WriteString("\n" + i18n.T(lang, "help.customer_note", nil))
	}
	return b.String()
}
