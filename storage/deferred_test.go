package storage_test

import (
	"cmp"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/sla/classify"
	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

// Rows held in a transaction (timeline, outbox, messages, slots, threads)
// are there for whatever the transaction reads next, and are written with
// it or not at all.
func TestHeldRowsAreReadBackAndCommittedWithTheTransaction(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		setup(t, s)
		inc := openIncident(t, s, "acme")
		at := t0.Add(time.Minute)
		err := s.InTx(ctx, func(tx *storage.Tx) error {
			if err := tx.AppendEvents(ctx, inc.ID, sla.Event{Kind: sla.EventNote, At: at, Actor: "王工", Body: "checking"}); err != nil {
				return err
			}
			tl, err := tx.Timeline(ctx, inc.ID)
			if err != nil || len(tl) != 2 || tl[1].Body != "checking" {
				t.Errorf("the timeline inside the transaction: %+v %v", tl, err)
			}
			if err := tx.InsertMessage(ctx, &storage.Message{At: at, Platform: "slack", ChatID: "C1", MessageID: "m2", CustomerID: "acme",
				AuthorID: "li", AuthorName: "李雷", Body: "还是不行", Decision: sla.DecisionAttached, IncidentID: inc.ID}); err != nil {
				return err
			}
			convs, err := tx.Conversations(ctx, "acme", 5)
			if err != nil || len(convs) != 1 || len(convs[0].Said) != 2 || convs[0].Said[1] != "还是不行" ||
				!convs[0].LastCustomerAt.Equal(at.Truncate(time.Microsecond)) {
				t.Errorf("the conversation inside the transaction: %+v %v", convs, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		ms, err := s.Messages(ctx, storage.MessageFilter{CustomerID: "acme"})
		if err != nil || len(ms) != 1 || ms[0].Body != "还是不行" {
			t.Fatalf("messages after the commit: %+v %v", ms, err)
		}

		// A held row the database refuses fails the commit, and nothing of
		// the transaction is written.
		err = s.InTx(ctx, func(tx *storage.Tx) error {
			if err := tx.AppendEvents(ctx, inc.ID, sla.Event{Kind: sla.EventNote, At: at, Actor: "王工", Body: "lost"}); err != nil {
				return err
			}
			return tx.Enqueue(ctx, at, storage.Outgoing{Platform: "slack", ChatID: "C1", IncidentID: ptr(int64(9999)), Kind: "notice", Body: "x"})
		})
		if err == nil {
			t.Fatal("an outbox row of a missing incident committed")
		}
		if tl, _ := s.Timeline(ctx, inc.ID); len(tl) != 2 {
			t.Fatalf("a failed commit left %d timeline events", len(tl))
		}
	})
}

func ptr[T any](v T) *T { return &v }

// Every held row comes back as it was held, whatever it holds: quotes,
// backslashes, braces and commas, the word NULL, newlines, Chinese and
// emoji, empty strings and NULLs, booleans, floats to the last digit, and
// times to the microsecond in any zone; and the rows keep the order they
// were held in (PostgreSQL writes them all in one statement, as arrays).
func TestHeldRowsKeepEveryValue(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		setup(t, s)
		inc := openIncident(t, s, "acme")
		tricky := []string{`he said "stop" \ {a,b}`, "NULL", "", "line one\nline two\ttab", "🚨 集群宕机，{“引号”}", `\\"\"`, "  spaced  "}
		at := time.Date(2026, 11, 25, 17, 4, 5, 123456789, time.FixedZone("CST", 8*3600))
		const n = 600 // more than one statement's rows used to hold
		err := s.InTx(ctx, func(tx *storage.Tx) error {
			for i, body := range tricky {
				ev := sla.Event{Kind: sla.EventNote, At: at.Add(time.Duration(i) * time.Microsecond), Actor: body, Body: body,
					Data: map[string]string{"q": body}}
				if i%2 == 0 {
					ev.ActorID = "wang"
				}
				if err := tx.AppendEvents(ctx, inc.ID, ev); err != nil {
					return err
				}
			}
			for i := range n {
				m := storage.Message{At: at.Add(time.Duration(i) * time.Microsecond), Platform: "slack", ChatID: "C1", MessageID: fmt.Sprint("m", i),
					CustomerID: "acme", AuthorName: "李雷", Body: fmt.Sprint("message ", i), Decision: sla.DecisionChatter}
				if i < len(tricky) {
					m.Body, m.AuthorName = tricky[i], tricky[i]
				}
				if i%3 == 0 {
					m.AuthorID, m.Verdict, m.Confidence, m.Reason = "li", classify.VerdictCore, 0.9938088113190481, tricky[i%len(tricky)]
					m.Decision, m.IncidentID = sla.DecisionAttached, inc.ID
				}
				if i%5 == 0 {
					m.Staff, m.AuthorID = true, "wang"
				}
				if err := tx.InsertMessage(ctx, &m); err != nil {
					return err
				}
			}
			if err := tx.Enqueue(ctx, at, storage.Outgoing{Platform: "slack", ChatID: "C2", IncidentID: ptr(inc.ID), Kind: "card", Body: tricky[0],
				Payload: `{"x":"` + tricky[0] + `"}`, Mentions: []string{"wang", "zhao"}}, storage.Outgoing{Platform: "slack", ChatID: "C1",
				Kind: "notice", Body: tricky[3]}); err != nil {
				return err
			}
			if err := tx.BindThread(ctx, storage.ThreadRef{Platform: "slack", ChatID: "C1", ThreadID: tricky[0]}, inc.ID, at); err != nil {
				return err
			}
			return tx.SaveSlots(ctx, inc.ID, nil, []sla.Slot{
				{Timer: sla.Timer{Clock: sla.ClockAck, Kind: sla.TimerReminder, Level: 0, Due: at}, Basis: at.Add(time.Hour), State: sla.SlotPending},
				{Timer: sla.Timer{Clock: sla.ClockFollowUp, Kind: sla.TimerFollowUp, Level: 1, Due: at.Add(7 * 24 * time.Hour)}, State: sla.SlotFired},
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		us := func(t time.Time) time.Time { return t.Truncate(time.Microsecond) }

		tl, err := s.Timeline(ctx, inc.ID)
		if err != nil || len(tl) != 1+len(tricky) {
			t.Fatalf("timeline: %d events, %v", len(tl), err)
		}
		for i, body := range tricky {
			ev := tl[1+i]
			wantActor := ""
			if i%2 == 0 {
				wantActor = "wang"
			}
			if ev.Body != body || ev.Actor != body || ev.ActorID != wantActor || ev.Data["q"] != body || !ev.At.Equal(us(at.Add(time.Duration(i)*time.Microsecond))) {
				t.Errorf("timeline event %d: %+v", i, ev)
			}
		}

		ms, err := s.Messages(ctx, storage.MessageFilter{CustomerID: "acme", Limit: n + 1})
		if err != nil || len(ms) != n {
			t.Fatalf("messages: %d, %v", len(ms), err)
		}
		for i, m := range ms {
			body, name := fmt.Sprint("message ", i), "李雷"
			if i < len(tricky) {
				body, name = tricky[i], tricky[i]
			}
			ok := m.Body == body && m.AuthorName == name && m.MessageID == fmt.Sprint("m", i) && m.At.Equal(us(at.Add(time.Duration(i)*time.Microsecond))) &&
				m.Staff == (i%5 == 0)
			if i%3 == 0 {
				ok = ok && m.Confidence == 0.9938088113190481 && m.Verdict == classify.VerdictCore && m.Reason == tricky[i%len(tricky)] && m.IncidentID == inc.ID
			} else {
				ok = ok && m.Confidence == 0 && m.Verdict == "" && m.IncidentID == 0 && (m.AuthorID == "") == (i%5 != 0)
			}
			if !ok || (i > 0 && m.ID <= ms[i-1].ID) {
				t.Fatalf("message %d: %+v", i, m)
			}
		}

		out, err := s.ClaimOutbox(ctx, at.Add(time.Minute), time.Minute, 10)
		if err != nil || len(out) != 2 {
			t.Fatalf("outbox: %+v %v", out, err)
		}
		card, notice := out[0], out[1]
		if card.Kind != "card" {
			card, notice = notice, card
		}
		if card.Body != tricky[0] || card.Payload != `{"x":"`+tricky[0]+`"}` || card.IncidentID == nil || *card.IncidentID != inc.ID ||
			card.MentionList != "wang,zhao" || notice.Body != tricky[3] || notice.IncidentID != nil || notice.ID <= card.ID {
			t.Errorf("outbox: %+v %+v", card, notice)
		}

		if id, ok, err := s.IncidentInThread(ctx, storage.ThreadRef{Platform: "slack", ChatID: "C1", ThreadID: tricky[0]}); err != nil || !ok || id != inc.ID {
			t.Errorf("thread: %d %v %v", id, ok, err)
		}
		err = s.InTx(ctx, func(tx *storage.Tx) error {
			slots, err := tx.Slots(ctx, inc.ID)
			if err != nil {
				return err
			}
			got := map[string]sla.Slot{}
			for _, sl := range slots {
				got[sl.Track()] = sl
			}
			ack, fu := got["ack"], got["followup"]
			if !ack.Due.Equal(us(at)) || !ack.Basis.Equal(us(at.Add(time.Hour))) || ack.State != sla.SlotPending ||
				!fu.Due.Equal(us(at.Add(7*24*time.Hour))) || !fu.Basis.IsZero() || fu.Level != 1 || fu.State != sla.SlotFired {
				t.Errorf("slots: %+v", slots)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// The held-row statement names each column's type (PostgreSQL takes the
// rows as one array a column): the types must be the schema's.
func TestHeldColumnTypesAreTheSchemas(t *testing.T) {
	s := storagetest.Postgres(t)
	name := map[string]string{"timestamptz": "timestamp with time zone"}
	for table, cols := range storage.HeldColumnTypes() {
		for col, typ := range cols {
			var have string
			if err := s.DB().Get(&have, `SELECT data_type FROM information_schema.columns WHERE table_name = $1 AND column_name = $2`,
				table, col); err != nil {
				t.Fatalf("%s.%s: %v", table, col, err)
			}
			if want := cmp.Or(name[typ], typ); have != want {
				t.Errorf("%s.%s is %s in the schema, %s in the held-row statement", table, col, have, typ)
			}
		}
	}
}

// A value the driver would not take fails the held rows' write; it never
// becomes a NULL.
func TestHeldValueOfAnUnknownTypeIsAnError(t *testing.T) {
	if a, err := storage.PgArray("a", nil, int64(1)); err != nil || a != `{"a",NULL,"1"}` {
		t.Fatalf("%q, %v", a, err)
	}
	for _, v := range []any{[]string{"a"}, uint64(1 << 63), struct{}{}} {
		if a, err := storage.PgArray(v); err == nil {
			t.Errorf("%T became %q", v, a)
		}
	}
}
