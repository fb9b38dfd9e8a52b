package bot

import (
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage"
)

// Audience names who hears about something: a customer (in the threads
// where it talks about it, else in its channels), every customer, the
// engineers, the managers. It is the one place that decides which chats
// hear what; what they hear, in which language, is for the caller to
// render. The zero Audience hears nothing.
type Audience struct {
	// Customer is the customer whose chats hear it; "" for none.
	Customer string
	// Threads are where the customer already talks about it: an incident's
	// threads (storage.Tx.ThreadsOf: per chat, the report's thread first),
	// or the place a report came from. The customer hears in the first of
	// them in each of its own chats, and nowhere else; only when none of
	// them is in its chats does it hear in each of its channels, at top
	// level. Threads in chats that are not the customer's (another
	// customer's, the engineers') are ignored: they never hear it for the
	// customer.
	Threads []storage.ThreadRef
	// AllCustomers is every customer's channels at top level, customer by
	// customer in the order of their ids (a release notice). Customer and
	// Threads are then not needed: every customer hears.
	AllCustomers bool
	// Engineers is the engineering channels.
	Engineers bool
	// Managers is the managers' channels.
	Managers bool
	// ManagersElseEngineers is the managers' channels, or the engineering
	// channels when no managers' channel is configured (the managers'
	// repeated reminders: never silent, never flooding the engineers).
	ManagersElseEngineers bool
}

// Recipient is one chat to post in.
type Recipient struct {
	Channel sla.Channel
	// Thread is the thread to post in; "" for the top level.
	Thread string
}

// Recipients returns the chats that hear, each once per reason, in the
// order their messages are queued: the customers' chats, then the
// engineering channels, then the managers' channels; within each, the
// directory's stable order.
func (a Audience) Recipients(dir *sla.Directory) []Recipient {
	var out []Recipient
	topLevel := func(chs []sla.Channel) {
		for _, ch := range chs {
			out = append(out, Recipient{Channel: ch})
		}
	}
	switch {
	case a.AllCustomers:
		// Customer by customer: a channel of a customer the directory
		// does not know hears nothing.
		for _, cu := range dir.Customers() {
			topLevel(dir.Channels(sla.ChannelCustomer, cu.ID))
		}
	case a.Customer != "":
		if rs := customerThreads(dir, a.Customer, a.Threads); len(rs) > 0 {
			out = append(out, rs...)
		} else {
			topLevel(dir.Channels(sla.ChannelCustomer, a.Customer))
		}
	}
	managers := dir.Channels(sla.ChannelManagers, "")
	if a.Engineers || (a.ManagersElseEngineers && len(managers) == 0) {
		topLevel(dir.Channels(sla.ChannelEngineering, ""))
	}
	if a.Managers || a.ManagersElseEngineers {
		topLevel(managers)
	}
	return out
}

// customerThreads is the first of threads in each of the customer's chats,
// in the order of threads.
func customerThreads(dir *sla.Directory, customerID string, threads []storage.ThreadRef) []Recipient {
	var out []Recipient
	done := map[string]bool{}
	for _, t := range threads {
		key := t.Platform + "\x00" + t.ChatID
		if done[key] {
			continue
		}
		if ch, ok := dir.Channel(t.Platform, t.ChatID); ok && ch.Kind == sla.ChannelCustomer && ch.CustomerID == customerID {
			out = append(out, Recipient{Channel: ch, Thread: t.ThreadID})
			done[key] = true
		}
	}
	return out
}
