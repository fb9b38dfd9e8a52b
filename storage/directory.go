package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/slakeeper/slakeeper/sla"
)

type policyJSON struct {
	AckWithin            string `json:"ack_within,omitempty"`
	CoreOnsiteWithin     string `json:"core_onsite_within,omitempty"`
	CoreRestoreWithin    string `json:"core_restore_within,omitempty"`
	NoncoreRestoreWithin string `json:"noncore_restore_within,omitempty"`
}

func durStr(d interface{ String() string }, zero bool) string {
	if zero {
		return ""
	}
	return d.String()
}

// SyncDirectory makes the database's directory match d in one transaction:
// customers and people are inserted or updated (never deleted: incidents
// refer to them); identities and channels are replaced.
func (s *Store) SyncDirectory(ctx context.Context, d sla.Roster) error {
	return s.InTx(ctx, func(tx *Tx) error {
		q := tx.tx
		for _, c := range d.Customers {
			o := c.Contract.Policy
			pj, _ := json.Marshal(policyJSON{
				AckWithin:            durStr(o.AckWithin, o.AckWithin == 0),
				CoreOnsiteWithin:     durStr(o.CoreOnsiteWithin, o.CoreOnsiteWithin == 0),
				CoreRestoreWithin:    durStr(o.CoreRestoreWithin, o.CoreRestoreWithin == 0),
				NoncoreRestoreWithin: durStr(o.NoncoreRestoreWithin, o.NoncoreRestoreWithin == 0),
			})
			if _, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO customers (id, name, lang, accepted_on, warranty_end, policy)
				VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (id) DO UPDATE SET name = excluded.name, lang = excluded.lang, accepted_on = excluded.accepted_on,
					warranty_end = excluded.warranty_end, policy = excluded.policy`),
				c.ID, c.Name, string(c.Lang), ts(c.Contract.AcceptedOn), ts(c.Contract.WarrantyEnds()), string(pj)); err != nil {
				return fmt.Errorf("sync customer %s: %w", c.ID, mapErr(err))
			}
		}
		for _, p := range d.People {
			if _, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO people (id, name, role, lang, customer_id) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role, lang = excluded.lang, customer_id = excluded.customer_id`),
				p.ID, p.Name, string(p.Role), string(p.Lang), nullStr(p.CustomerID)); err != nil {
				return fmt.Errorf("sync person %s: %w", p.ID, mapErr(err))
			}
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM person_identities`); err != nil {
			return fmt.Errorf("sync identities: %w", err)
		}
		for _, id := range d.Identities {
			if _, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO person_identities (platform, platform_user_id, person_id) VALUES (?, ?, ?)`),
				id.Platform, id.UserID, id.PersonID); err != nil {
				return fmt.Errorf("sync identity %s/%s: %w", id.Platform, id.UserID, mapErr(err))
			}
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM channels`); err != nil {
			return fmt.Errorf("sync channels: %w", err)
		}
		for _, c := range d.Channels {
			if _, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO channels (platform, chat_id, kind, customer_id, lang) VALUES (?, ?, ?, ?, ?)`),
				c.Platform, c.ChatID, string(c.Kind), nullStr(c.CustomerID), string(c.Lang)); err != nil {
				return fmt.Errorf("sync channel %s/%s: %w", c.Platform, c.ChatID, mapErr(err))
			}
		}
		return nil
	})
}

// LoadDirectory reads the directory back (for check-config and tests).
func (s *Store) LoadDirectory(ctx context.Context) (sla.Roster, error) {
	var d sla.Roster
	var cs []struct {
		ID, Name, Lang, Policy string
		AcceptedOn             sql.NullTime `db:"accepted_on"`
		WarrantyEnd            sql.NullTime `db:"warranty_end"`
	}
	if err := s.db.SelectContext(ctx, &cs, `SELECT id, name, lang, accepted_on, warranty_end, policy FROM customers ORDER BY id`); err != nil {
		return d, fmt.Errorf("load customers: %w", err)
	}
	for _, c := range cs {
		d.Customers = append(d.Customers, sla.Customer{ID: c.ID, Name: c.Name, Lang: sla.Lang(c.Lang),
			Contract: sla.Contract{AcceptedOn: fromNull(c.AcceptedOn), WarrantyEnd: fromNull(c.WarrantyEnd)}})
	}
	var ps []struct {
		ID, Name, Role, Lang string
		CustomerID           *string `db:"customer_id"`
	}
	if err := s.db.SelectContext(ctx, &ps, `SELECT id, name, role, lang, customer_id FROM people ORDER BY id`); err != nil {
		return d, fmt.Errorf("load people: %w", err)
	}
	for _, p := range ps {
		per := sla.Person{ID: p.ID, Name: p.Name, Role: sla.Role(p.Role), Lang: sla.Lang(p.Lang)}
		if p.CustomerID != nil {
			per.CustomerID = *p.CustomerID
		}
		d.People = append(d.People, per)
	}
	if err := s.db.SelectContext(ctx, &d.Identities, `SELECT platform, platform_user_id AS userid, person_id AS personid FROM person_identities ORDER BY platform, platform_user_id`); err != nil {
		return d, fmt.Errorf("load identities: %w", err)
	}
	var chs []struct {
		Platform, Kind, Lang string
		ChatID               string  `db:"chat_id"`
		CustomerID           *string `db:"customer_id"`
	}
	if err := s.db.SelectContext(ctx, &chs, `SELECT platform, chat_id, kind, customer_id, lang FROM channels ORDER BY platform, chat_id`); err != nil {
		return d, fmt.Errorf("load channels: %w", err)
	}
	for _, c := range chs {
		ch := sla.Channel{Platform: c.Platform, ChatID: c.ChatID, Kind: sla.ChannelKind(c.Kind), Lang: sla.Lang(c.Lang)}
		if c.CustomerID != nil {
			ch.CustomerID = *c.CustomerID
		}
		d.Channels = append(d.Channels, ch)
	}
	return d, nil
}
