package main

import (
	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/bot/console"
	"github.com/slakeeper/slakeeper/bot/feishu"
	slackadapter "github.com/slakeeper/slakeeper/bot/slack"
	tgadapter "github.com/slakeeper/slakeeper/bot/telegram"
)

// platforms are the chat platforms slakeeper speaks. A new platform is a
// package that exports its chat.Platform, and one line here.
var platforms = chat.NewRegistry(
	console.Platform,
	slackadapter.Platform,
	tgadapter.Platform,
	feishu.Platform,
)
