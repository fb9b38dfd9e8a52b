package bot_test

import (
	"slices"
	"testing"

	"github.com/slakeeper/slakeeper/bot"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage"
)

// audienceDirectory has two customers with two chats each (acme on Slack
// and Telegram), two engineering channels and, if managers, a managers'
// channel; plus a channel of a customer the configuration does not know.
func audienceDirectory(managers bool) *sla.Directory {
	r := sla.Roster{
		Customers: []sla.Customer{{ID: "globex", Name: "Globex"}, {ID: "acme", Name: "Acme"}},
		Channels: []sla.Channel{
			{Platform: "telegram", ChatID: "-100acme", Kind: sla.ChannelCustomer, CustomerID: "acme"},
			{Platform: "slack", ChatID: "CACME", Kind: sla.ChannelCustomer, CustomerID: "acme"},
			{Platform: "slack", ChatID: "CGLOBEX1", Kind: sla.ChannelCustomer, CustomerID: "globex"},
			{Platform: "slack", ChatID: "CGLOBEX2", Kind: sla.ChannelCustomer, CustomerID: "globex"},
			{Platform: "slack", ChatID: "CGONE", Kind: sla.ChannelCustomer, CustomerID: "gone"},
			{Platform: "slack", ChatID: "CENG", Kind: sla.ChannelEngineering},
			{Platform: "telegram", ChatID: "-100eng", Kind: sla.ChannelEngineering},
		},
	}
	if managers {
		r.Channels = append(r.Channels, sla.Channel{Platform: "slack", ChatID: "CMGR", Kind: sla.ChannelManagers})
	}
	return sla.NewDirectory(r, sla.Settings{})
}

func TestAudienceRecipients(t *testing.T) {
	thread := func(platform, chat, id string) storage.ThreadRef {
		return storage.ThreadRef{Platform: platform, ChatID: chat, ThreadID: id}
	}
	acmeSlackReport := thread("slack", "CACME", "1700.1")
	tests := []struct {
		name     string
		managers bool // the directory has a managers' channel
		audience bot.Audience
		want     []string // platform/chat#thread
	}{
		{name: "nobody", managers: true, audience: bot.Audience{}, want: nil},
		{name: "customer without threads: each of its channels at top level",
			audience: bot.Audience{Customer: "acme"},
			want:     []string{"slack/CACME#", "telegram/-100acme#"}},
		{name: "customer with a report thread in one chat: only there, in the thread",
			audience: bot.Audience{Customer: "acme", Threads: []storage.ThreadRef{acmeSlackReport}},
			want:     []string{"slack/CACME#1700.1"}},
		{name: "the report came at top level in the customer's chat: there, at top level",
			audience: bot.Audience{Customer: "acme", Threads: []storage.ThreadRef{thread("slack", "CACME", "")}},
			want:     []string{"slack/CACME#"}},
		{name: "the first thread of each chat, in the order of the threads",
			audience: bot.Audience{Customer: "acme", Threads: []storage.ThreadRef{acmeSlackReport, thread("slack", "CACME", "1700.9"),
				thread("telegram", "-100acme", "42"), thread("telegram", "-100acme", "43")}},
			want: []string{"slack/CACME#1700.1", "telegram/-100acme#42"}},
		{name: "another customer's chat in the threads never hears",
			audience: bot.Audience{Customer: "acme", Threads: []storage.ThreadRef{thread("slack", "CGLOBEX1", "9.9"), acmeSlackReport}},
			want:     []string{"slack/CACME#1700.1"}},
		{name: "threads only in chats not the customer's: each of its channels at top level",
			audience: bot.Audience{Customer: "acme", Threads: []storage.ThreadRef{thread("slack", "CGLOBEX1", "9.9"),
				thread("slack", "CENG", "1.1"), thread("slack", "CUNKNOWN", "2.2")}},
			want: []string{"slack/CACME#", "telegram/-100acme#"}},
		{name: "engineers", managers: true, audience: bot.Audience{Engineers: true},
			want: []string{"slack/CENG#", "telegram/-100eng#"}},
		{name: "managers", managers: true, audience: bot.Audience{Managers: true},
			want: []string{"slack/CMGR#"}},
		{name: "managers without a managers' channel: nobody", audience: bot.Audience{Managers: true},
			want: nil},
		{name: "managers else engineers, with a managers' channel", managers: true,
			audience: bot.Audience{ManagersElseEngineers: true},
			want:     []string{"slack/CMGR#"}},
		{name: "managers else engineers, without a managers' channel",
			audience: bot.Audience{ManagersElseEngineers: true},
			want:     []string{"slack/CENG#", "telegram/-100eng#"}},
		{name: "engineers and managers: the engineers first", managers: true,
			audience: bot.Audience{Engineers: true, Managers: true},
			want:     []string{"slack/CENG#", "telegram/-100eng#", "slack/CMGR#"}},
		{name: "managers twice over hear once", managers: true,
			audience: bot.Audience{Managers: true, ManagersElseEngineers: true},
			want:     []string{"slack/CMGR#"}},
		{name: "the customer then the engineers", managers: true,
			audience: bot.Audience{Customer: "acme", Threads: []storage.ThreadRef{acmeSlackReport}, Engineers: true},
			want:     []string{"slack/CACME#1700.1", "slack/CENG#", "telegram/-100eng#"}},
		{name: "all customers, customer by customer; an unknown customer's channel does not hear", managers: true,
			audience: bot.Audience{AllCustomers: true},
			want:     []string{"slack/CACME#", "telegram/-100acme#", "slack/CGLOBEX1#", "slack/CGLOBEX2#"}},
		{name: "all customers ignore the threads",
			audience: bot.Audience{AllCustomers: true, Customer: "acme", Threads: []storage.ThreadRef{acmeSlackReport}},
			want:     []string{"slack/CACME#", "telegram/-100acme#", "slack/CGLOBEX1#", "slack/CGLOBEX2#"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, r := range tt.audience.Recipients(audienceDirectory(tt.managers)) {
				got = append(got, r.Channel.Platform+"/"+r.Channel.ChatID+"#"+r.Thread)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Recipients() = %q, want %q", got, tt.want)
			}
		})
	}
}
