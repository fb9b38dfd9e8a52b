package bot

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/commands"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/sla/i18n"
	"github.com/slakeeper/slakeeper/storage"
)

// Calendar is when the contract's scheduled services happen.
func (s *Service) Calendar() sla.Calendar { return s.Dir.Calendar }

// Customers lists every customer, by id.
func (s *Service) Customers() []sla.Customer { return s.Dir.Customers() }

func (s *Service) customer(id string) (sla.Customer, error) {
	cu, ok := s.Dir.Customer(id)
	if !ok {
		return cu, sla.Errorf(sla.EINVALID, "err.unknown_customer", map[string]any{"name": id}, "unknown customer %q", id)
	}
	return cu, nil
}

// endOfDay is the start of the day after t's, in the calendar's zone.
func (s *Service) endOfDay(t time.Time) time.Time {
	l := t.In(s.Dir.Calendar.Zone)
	return time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, l.Location())
}

// FileOccasionReport keeps the report of the customer's latest occasion of
// the kind up to today and sends it to the customer's channels, in one
// transaction.
func (s *Service) FileOccasionReport(ctx context.Context, customerID string, kind sla.OccasionKind, actor sla.Person, body string,
	now time.Time) (sla.Occasion, error) {
	cu, err := s.customer(customerID)
	if err != nil {
		return sla.Occasion{}, err
	}
	var last sla.Occasion
	for _, o := range s.Dir.Calendar.Occasions(cu, now.AddDate(-2, 0, 0), s.endOfDay(now)) {
		if o.Kind == kind {
			last = o
		}
	}
	if last.Period == "" {
		return last, sla.Errorf(sla.EINVALID, "err.no_occasion", map[string]any{"customer": cu.Name,
			"occasion": i18n.T(s.Dir.DefaultLang, "occasion."+string(kind), nil)}, "%s has had no %s yet", cu.ID, kind)
	}
	err = s.inTx(ctx, func(tx *storage.Tx) error {
		if err := tx.FileServiceReport(ctx, storage.ServiceReport{Kind: string(kind), CustomerID: cu.ID, Period: last.Period,
			FiledAt: now, FiledBy: actor.ID, Body: body}); err != nil {
			return err
		}
		var msgs []storage.Outgoing
		for _, r := range (Audience{Customer: cu.ID}).Recipients(s.Dir) {
			ch := r.Channel
			text := func(l sla.Lang) string {
				return i18n.T(l, "report.occasion", map[string]any{"occasion": i18n.T(l, "occasion."+string(kind), nil),
					"period": last.Period, "day": last.Day.Format("2006-01-02"), "body": body})
			}
			msgs = append(msgs, storage.Outgoing{Platform: ch.Platform, ChatID: ch.ChatID, Kind: "report", Body: s.inLangs(ch, text)})
			// The customer's copy to file, as a document.
			var files []chat.File
			for _, l := range s.langsOf(ch) {
				f, err := s.document(l, i18n.T(l, "report.occasion_file", map[string]any{"customer": cu.Name,
					"occasion": i18n.T(l, "occasion."+string(kind), nil), "period": last.Period}), strings.Split(text(l), "\n"), now)
				if err != nil {
					return err
				}
				files = append(files, f)
			}
			fm, err := fileMessages(ch.Platform, ch.ChatID, "", "", files)
			if err != nil {
				return err
			}
			msgs = append(msgs, fm...)
		}
		return tx.Enqueue(ctx, now, msgs...)
	})
	if err == nil {
		s.kick()
	}
	return last, err
}

// AddRevisit records a revisit of a customer (C13).
func (s *Service) AddRevisit(ctx context.Context, customerID string, actor sla.Person, body string, now time.Time) (string, error) {
	if _, err := s.customer(customerID); err != nil {
		return "", err
	}
	_, _, period := s.Dir.Calendar.RevisitPeriod(now)
	return period, s.inTx(ctx, func(tx *storage.Tx) error {
		return tx.AddCustomerNote(ctx, storage.CustomerNote{CustomerID: customerID, At: now, AuthorID: actor.ID, Body: body})
	})
}

// AnnounceRelease records a release and queues its notice to every
// customer channel in the channel's language, in one transaction; the
// messages carry the release's topic so that /announce status can report
// them.
func (s *Service) AnnounceRelease(ctx context.Context, actor sla.Person, version string, notes map[sla.Lang]string, now time.Time) (int, error) {
	stored, _ := json.Marshal(notes)
	r := storage.Release{Version: version, Notes: string(stored), AnnouncedAt: now, AnnouncedBy: actor.ID}
	n := 0
	err := s.inTx(ctx, func(tx *storage.Tx) error {
		if err := tx.InsertRelease(ctx, &r); err != nil {
			if e, ok := sla.AsError(err); ok && e.Code == sla.ECONFLICT {
				return sla.Errorf(sla.ECONFLICT, "err.release_exists", map[string]any{"version": version}, "%s was announced already", version)
			}
			return err
		}
		var msgs []storage.Outgoing
		for _, to := range (Audience{AllCustomers: true}).Recipients(s.Dir) {
			ch := to.Channel
			l := s.channelLang(ch)
			msgs = append(msgs, storage.Outgoing{Platform: ch.Platform, ChatID: ch.ChatID, Kind: "release", Topic: r.Topic(),
				Body: i18n.T(l, "release.notice", map[string]any{"version": version, "notes": notes[l]})})
		}
		n = len(msgs)
		return tx.Enqueue(ctx, now, msgs...)
	})
	if err == nil {
		s.kick()
	}
	return n, err
}

// ReleaseStatus reports where a release notice went.
func (s *Service) ReleaseStatus(ctx context.Context, version string) (commands.ReleaseStatus, error) {
	r, ok, err := s.Store.ReleaseByVersion(ctx, version)
	if err != nil {
		return commands.ReleaseStatus{}, err
	}
	if !ok {
		return commands.ReleaseStatus{}, sla.Errorf(sla.ENOTFOUND, "err.no_release", map[string]any{"version": version}, "no release %q", version)
	}
	ds, err := s.Store.Deliveries(ctx, r.Topic())
	if err != nil {
		return commands.ReleaseStatus{}, err
	}
	st := commands.ReleaseStatus{Version: r.Version, AnnouncedAt: r.AnnouncedAt, AnnouncedBy: r.AnnouncedBy}
	for _, d := range ds {
		ch, _ := s.Dir.Channel(d.Platform, d.ChatID)
		st.Deliveries = append(st.Deliveries, commands.Delivery{Platform: d.Platform, ChatID: d.ChatID, CustomerID: ch.CustomerID,
			Status: d.Status, Attempts: d.Attempts, Error: d.LastError})
	}
	return st, nil
}

// AddCritical records a critical business period. Without named engineers,
// the account's engineer (or whoever is on call when it starts) is on site.
func (s *Service) AddCritical(ctx context.Context, w sla.CriticalWindow, actor sla.Person, now time.Time) error {
	cu, err := s.customer(w.CustomerID)
	if err != nil {
		return err
	}
	err = s.inTx(ctx, func(tx *storage.Tx) error {
		if len(w.Onsite) == 0 {
			if cu.Engineer != "" {
				w.Onsite = []string{cu.Engineer}
			} else {
				os, err := tx.Overrides(ctx, w.Start)
				if err != nil {
					return err
				}
				if cur, _ := sla.OnCall(s.Dir.Rotation, os, w.Start); cur.PersonID != "" {
					w.Onsite = []string{cur.PersonID}
				}
			}
		}
		return tx.AddCriticalWindow(ctx, &w, actor.ID)
	})
	if err == nil {
		s.kick()
	}
	return err
}

// CriticalWindows lists the critical periods (configured and set by
// command) of a customer, or of all with "", that have not ended at now.
func (s *Service) CriticalWindows(ctx context.Context, customerID string, now time.Time) ([]sla.CriticalWindow, error) {
	ws, err := s.Store.CriticalWindows(ctx, customerID, now)
	if err != nil {
		return nil, err
	}
	for _, w := range s.Dir.Critical {
		if (customerID == "" || w.CustomerID == customerID) && w.End.After(now) {
			ws = append(ws, w)
		}
	}
	sort.SliceStable(ws, func(i, j int) bool { return ws[i].Start.Before(ws[j].Start) })
	return ws, nil
}

// CustomerStatus gathers a customer's contract status at now.
func (s *Service) CustomerStatus(ctx context.Context, customerID string, now time.Time) (commands.CustomerStatus, error) {
	cu, err := s.customer(customerID)
	if err != nil {
		return commands.CustomerStatus{}, err
	}
	st := commands.CustomerStatus{Customer: cu}
	cal := s.Dir.Calendar
	seen := map[sla.OccasionKind]bool{}
	for _, o := range cal.Occasions(cu, s.endOfDay(now).AddDate(0, 0, -1), now.AddDate(1, 1, 0)) {
		if !seen[o.Kind] {
			st.Next, seen[o.Kind] = append(st.Next, o), true
		}
	}
	reports, err := s.Store.ServiceReports(ctx, cu.ID)
	if err != nil {
		return st, err
	}
	filed := map[string]bool{}
	latest := map[string]bool{}
	for _, r := range reports {
		filed[r.Kind+"/"+r.Period] = true
		if !latest[r.Kind] {
			latest[r.Kind] = true
			st.Reports = append(st.Reports, commands.FiledReport{Kind: sla.OccasionKind(r.Kind), Period: r.Period, FiledAt: r.FiledAt})
		}
	}
	for _, o := range cal.Occasions(cu, now.AddDate(-1, 0, 0), s.endOfDay(now).AddDate(0, 0, -1)) {
		if !filed[string(o.Kind)+"/"+o.Period] {
			st.Missing = append(st.Missing, o)
		}
	}
	notes, err := s.Store.CustomerNotes(ctx, cu.ID, time.Time{})
	if err != nil {
		return st, err
	}
	if len(notes) > 0 {
		st.LastRevisit = notes[0].At
	}
	if _, st.Open, err = s.Store.OpenIncidents(ctx, cu.ID); err != nil {
		return st, err
	}
	st.Critical, err = s.CriticalWindows(ctx, cu.ID, now)
	return st, err
}

// Stats computes the statistics of the incidents reported in [from, to).
func (s *Service) Stats(ctx context.Context, customerID string, from, to, now time.Time) (sla.Stats, error) {
	return s.Store.Stats(ctx, customerID, from, to, now)
}

// DailyDigest gathers the daily digest of the 24 hours before now.
func (s *Service) DailyDigest(ctx context.Context, customerID string, now time.Time) (sla.DailyDigest, error) {
	return s.Store.DailyDigest(ctx, customerID, now)
}

// SendFiles queues files to where a command was given.
func (s *Service) SendFiles(ctx context.Context, place commands.Place, now time.Time, files ...chat.File) error {
	if place.Platform == "" || len(files) == 0 {
		return nil
	}
	msgs, err := fileMessages(place.Platform, place.ChatID, place.ThreadID, "", files)
	if err != nil {
		return err
	}
	err = s.inTx(ctx, func(tx *storage.Tx) error { return tx.Enqueue(ctx, now, msgs...) })
	if err == nil {
		s.kick()
	}
	return err
}

func fileMessages(platform, chatID, thread, topic string, files []chat.File) ([]storage.Outgoing, error) {
	var out []storage.Outgoing
	for _, f := range files {
		b, err := json.Marshal(f)
		if err != nil {
			return nil, err
		}
		out = append(out, storage.Outgoing{Platform: platform, ChatID: chatID, ThreadID: thread, Kind: chat.KindFile, Topic: topic,
			Body: f.Name, Payload: string(b)})
	}
	return out, nil
}

// errNoFile marks a file message whose payload cannot be read.
var errNoFile = errors.New("file message without a readable payload")

// PostMade reports whether a scheduled post was made (or skipped) already.
func (s *Service) PostMade(ctx context.Context, p sla.Post) (bool, error) {
	return s.Store.PostMade(ctx, p.Job, p.CustomerID, p.Period)
}

// MakePost claims a scheduled post as status (posted or skipped) and
// queues its messages, in one transaction; fresh is false when it was
// claimed before (by this replica after a restart, or by another).
func (s *Service) MakePost(ctx context.Context, p sla.Post, status string, msgs []storage.Outgoing, now time.Time) (fresh bool, err error) {
	err = s.inTx(ctx, func(tx *storage.Tx) error {
		if fresh, err = tx.ClaimPost(ctx, p.Job, p.CustomerID, p.Period, status, now); err != nil || !fresh {
			return err
		}
		return tx.Enqueue(ctx, now, msgs...)
	})
	if err == nil && fresh && len(msgs) > 0 {
		s.kick()
	}
	return fresh, err
}

// OnFile are a customer's service reports and the notes written since
// since: what the calendar counts as done.
func (s *Service) OnFile(ctx context.Context, customerID string, since time.Time) ([]storage.ServiceReport, []storage.CustomerNote, error) {
	reports, err := s.Store.ServiceReports(ctx, customerID)
	if err != nil {
		return nil, nil, err
	}
	notes, err := s.Store.CustomerNotes(ctx, customerID, since)
	return reports, notes, err
}
