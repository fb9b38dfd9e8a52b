package slack

import (
	"context"
	"errors"
	"strings"

	"github.com/slakeeper/slakeeper/bot/chat"
)

// Platform is Slack as the runtime knows it. Socket Mode when
// SLACK_APP_TOKEN is set, otherwise the signed HTTP endpoints on the public
// listener.
var Platform = chat.Platform{
	Name:     chat.PlatformSlack,
	Env:      []string{"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL", "SLACK_TEAM_ID"},
	HowToRun: "set SLACK_BOT_TOKEN",
	Enabled:  func(getenv func(string) string) bool { return getenv("SLACK_BOT_TOKEN") != "" },
	CheckUserID: func(id string) error {
		if strings.TrimSpace(id) != id || strings.ContainsAny(id, " <>@#") {
			return errors.New("a Slack user id looks like U024BE7LH (not a name or a mention)")
		}
		return nil
	},
	Start: start,
}

func start(ctx context.Context, env chat.Env) (chat.Running, error) {
	appToken, secret := env.Getenv("SLACK_APP_TOKEN"), env.Getenv("SLACK_SIGNING_SECRET")
	if appToken == "" && secret == "" {
		return chat.Running{}, errors.New("slack HTTP mode needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode)")
	}
	team := strings.TrimSpace(env.Getenv("SLACK_TEAM_ID"))
	ad, err := New(ctx, Config{BotToken: env.Getenv("SLACK_BOT_TOKEN"), AppToken: appToken, SigningSecret: secret,
		APIURL: env.Getenv("SLACK_API_URL"), TeamID: team, Quarantine: env.Quarantine}, env.Handler, env.Directory, env.Clock, env.Log)
	if err != nil {
		return chat.Running{}, err
	}
	if team == "" {
		env.Log.Warn("slack: SLACK_TEAM_ID is not set, so the workspace of requests is not checked: any workspace where an app with this signing secret is installed is served")
	}
	r := chat.Running{Sender: ad, Close: ad.Close}
	if appToken != "" {
		r.Run = ad.RunSocketMode
	} else {
		ad.Routes(env.Mux)
	}
	return r, nil
}

// Capabilities: Slack shows Block Kit cards, edits them in place, posts in
// threads and uploads files. It implements chat.Capable.
func (a *Adapter) Capabilities() chat.Capabilities {
	return chat.Capabilities{Cards: true, Edit: true, Threads: true, Files: true}
}
