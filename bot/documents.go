package bot

import (
	"strconv"
	"strings"
	"time"

	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/commands"
	"github.com/slakeeper/slakeeper/commands/docx"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/sla/i18n"
)

// langsOf are the languages a channel reads: one, or both.
func (s *Service) langsOf(ch sla.Channel) []sla.Lang {
	if ch.Lang == sla.LangBoth {
		return sla.LangBoth.Langs()
	}
	return []sla.Lang{s.channelLang(ch)}
}

// document renders lines (the first is the title) as a .docx file named
// name, for the customer to file.
func (s *Service) document(lang sla.Lang, name string, lines []string, now time.Time) (chat.File, error) {
	d := docx.Document{Author: "slakeeper", Created: now}
	if len(lines) > 0 {
		d.Title, d.Paragraphs = lines[0], lines[1:]
	}
	b, err := d.Write()
	if err != nil {
		return chat.File{}, err
	}
	return chat.File{Name: safeFileName(name) + ".docx", Type: docx.Type, Caption: i18n.T(lang, "report.file_caption", nil), Data: b}, nil
}

// safeFileName keeps a name to what every platform and file system takes.
func safeFileName(name string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(`/\:*?"<>|`, r) || r < ' ' {
			return '-'
		}
		return r
	}, name)
}

// serviceReport renders an incident's maintenance service work report (C5)
// for a reader, from its timeline in the transaction.
func (s *Service) serviceReport(inc sla.Incident, timeline []sla.Event, lang sla.Lang, now time.Time) string {
	f := s.Format(lang)
	cust, _ := s.Dir.Customer(inc.CustomerID)
	assignee := i18n.T(lang, "nobody", nil)
	if p, ok := s.Dir.Person(inc.AssigneeID); ok {
		assignee = p.Name
	}
	return commands.Report(f, cust.Name, assignee, inc, timeline, now)
}

// reportFiles are the customer's copies of a service report, one per
// language of the channel.
func (s *Service) reportFiles(ch sla.Channel, inc sla.Incident, timeline []sla.Event, now time.Time) ([]chat.File, error) {
	var files []chat.File
	for _, l := range s.langsOf(ch) {
		name := i18n.T(l, "report.file_name", map[string]any{"id": strconv.FormatInt(inc.ID, 10)})
		f, err := s.document(l, name, strings.Split(s.serviceReport(inc, timeline, l, now), "\n"), now)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}
