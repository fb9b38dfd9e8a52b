package telegram

import (
	"context"
	"fmt"
	"strconv"

	"github.com/slakeeper/slakeeper/bot/chat"
)

// Platform is Telegram as the runtime knows it: a webhook on the public
// listener when TELEGRAM_WEBHOOK_SECRET is set, long polling otherwise.
var Platform = chat.Platform{
	Name:        chat.PlatformTelegram,
	Env:         []string{"TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_WEBHOOK_URL"},
	HowToRun:    "set TELEGRAM_BOT_TOKEN",
	Enabled:     func(getenv func(string) string) bool { return getenv("TELEGRAM_BOT_TOKEN") != "" },
	CheckUserID: number("user"),
	CheckChatID: number("chat"),
	Start:       start,
}

// number checks a Telegram id: users and chats are numbered (a group's id
// is negative).
func number(what string) func(string) error {
	return func(id string) error {
		if _, err := strconv.ParseInt(id, 10, 64); err != nil {
			return fmt.Errorf("%q is not a Telegram %s id (a number)", id, what)
		}
		return nil
	}
}

func start(ctx context.Context, env chat.Env) (chat.Running, error) {
	cfg := Config{Token: env.Getenv("TELEGRAM_BOT_TOKEN"), APIURL: env.Getenv("TELEGRAM_API_URL"),
		WebhookSecret: env.Getenv("TELEGRAM_WEBHOOK_SECRET"), WebhookURL: env.Getenv("TELEGRAM_WEBHOOK_URL"), Quarantine: env.Quarantine}
	ad, err := New(ctx, cfg, env.Handler, env.Directory, env.Log)
	if err != nil {
		return chat.Running{}, err
	}
	if err := ad.SetCommands(ctx); err != nil {
		env.Log.Warn("telegram: command menu not set", "err", err)
	}
	r := chat.Running{Sender: ad}
	if cfg.WebhookSecret == "" {
		r.Run = func(ctx context.Context) error { return ad.Poll(ctx, env.Locks) }
		return r, nil
	}
	env.Mux.Handle("POST /telegram/webhook", ad.WebhookHandler())
	if cfg.WebhookURL != "" {
		if err := ad.SetWebhook(ctx); err != nil {
			return chat.Running{}, err
		}
	}
	return r, nil
}

// Capabilities: Telegram shows cards with an inline keyboard, edits them
// in place, replies to messages (its threads) and sends documents. It
// implements chat.Capable.
func (a *Adapter) Capabilities() chat.Capabilities {
	return chat.Capabilities{Cards: true, Edit: true, Threads: true, Files: true}
}
