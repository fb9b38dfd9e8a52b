package storage

import (
	"context"
	"sync"
	"time"

	"github.com/slakeeper/slakeeper/sla"
)

// The on-call overrides and the critical business periods change a few
// times a month, and every intake read both (who is offered the incident,
// which ladder it is on): two statements of the six an intake runs. Both
// tables are held in memory instead, read whole and filtered here. A write
// through this store forgets them at once (and again when its transaction
// commits, so that a read in between cannot keep the old rows); another
// replica's write is seen within calendarTTL.

const (
	// calendarTTL is how long the tables are trusted without reading them
	// again (what another replica wrote is seen within it).
	calendarTTL = 2 * time.Second
	// calendarMaxRows bounds what is held: a deployment with more rows than
	// this (years of overrides) reads the database every time.
	calendarMaxRows = 2000
)

// calendarCache holds the overrides and the critical windows.
type calendarCache struct {
	ttl       time.Duration
	mu        sync.Mutex
	gen       uint64 // bumped by every invalidation
	at        time.Time
	valid     bool
	overrides []sla.Override
	windows   []sla.CriticalWindow
}

func (c *calendarCache) invalidate() {
	c.mu.Lock()
	c.gen++
	c.valid = false
	c.mu.Unlock()
}

// get returns the held tables, reading them in the transaction when they
// are not held or too old; ok is false when they are too big to hold (the
// caller then queries).
func (c *calendarCache) get(ctx context.Context, tx *Tx) (os []sla.Override, ws []sla.CriticalWindow, ok bool, err error) {
	if tx.wroteCalendar {
		// This transaction's own rows are not committed: read them from the
		// database, and neither hold them nor what was there before them.
		return nil, nil, false, nil
	}
	c.mu.Lock()
	if c.valid && time.Since(c.at) < c.ttl {
		os, ws = c.overrides, c.windows
		c.mu.Unlock()
		return os, ws, true, nil
	}
	gen := c.gen
	c.mu.Unlock()
	start := time.Now()
	if os, err = overrides(ctx, tx.tx, time.Time{}); err != nil {
		return nil, nil, false, err
	}
	if ws, err = criticalWindows(ctx, tx.tx, "", time.Time{}); err != nil {
		return nil, nil, false, err
	}
	if len(os)+len(ws) > calendarMaxRows {
		return nil, nil, false, nil
	}
	c.mu.Lock()
	if c.gen == gen { // nothing was written meanwhile
		c.overrides, c.windows, c.at, c.valid = os, ws, start, true
	}
	c.mu.Unlock()
	return os, ws, true, nil
}

func newCalendarCache() *calendarCache { return &calendarCache{ttl: calendarTTL} }
