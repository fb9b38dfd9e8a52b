package feishu

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/slakeeper/slakeeper/bot/chat"
)

// Platform is Feishu (or Lark, with FEISHU_API_URL) as the runtime knows
// it: the event and card callback webhooks on the public listener, and the
// Open Platform's API for the outbox.
var Platform = chat.Platform{
	Name:        Name,
	Env:         []string{"FEISHU_APP_ID", "FEISHU_APP_SECRET", "FEISHU_VERIFICATION_TOKEN", "FEISHU_ENCRYPT_KEY", "FEISHU_API_URL"},
	HowToRun:    "set FEISHU_APP_ID",
	Enabled:     func(getenv func(string) string) bool { return getenv("FEISHU_APP_ID") != "" },
	CheckUserID: prefixed("ou_", "user", "an open_id such as ou_7d8a6e6df7621556ce0d21922b676706"),
	CheckChatID: prefixed("oc_", "chat", "a chat_id such as oc_a0553eda9014c201e6969b478895c230"),
	Start:       start,
}

// prefixed checks a Feishu id by its prefix: slakeeper knows people by
// open_id and groups by chat_id.
func prefixed(prefix, what, example string) func(string) error {
	return func(id string) error {
		if !strings.HasPrefix(id, prefix) || len(id) <= len(prefix) || strings.ContainsAny(id, " <>@\"") {
			return fmt.Errorf("%q is not a Feishu %s id (%s)", id, what, example)
		}
		return nil
	}
}

func start(ctx context.Context, env chat.Env) (chat.Running, error) {
	cfg := Config{AppID: env.Getenv("FEISHU_APP_ID"), AppSecret: env.Getenv("FEISHU_APP_SECRET"),
		VerificationToken: env.Getenv("FEISHU_VERIFICATION_TOKEN"), EncryptKey: env.Getenv("FEISHU_ENCRYPT_KEY"),
		APIURL: env.Getenv("FEISHU_API_URL"), Quarantine: env.Quarantine}
	switch {
	case cfg.AppSecret == "":
		return chat.Running{}, errors.New("feishu needs FEISHU_APP_SECRET with FEISHU_APP_ID")
	case cfg.VerificationToken == "" || cfg.EncryptKey == "":
		// Without the Encrypt Key events are neither signed nor encrypted:
		// anyone who learnt the token could forge and replay them.
		return chat.Running{}, errors.New("feishu needs FEISHU_VERIFICATION_TOKEN and FEISHU_ENCRYPT_KEY (the app's 事件与回调 > 加密策略)")
	}
	ad, err := New(ctx, cfg, env.Handler, env.Directory, env.Clock, env.Log)
	if err != nil {
		return chat.Running{}, err
	}
	ad.Routes(env.Mux)
	return chat.Running{Sender: ad}, nil
}
