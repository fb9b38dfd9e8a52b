package slack

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/slakeeper/slakeeper/bot/chat"
)

// What an endpoint reads before the signature is checked. A slash command
// or a click is a few KiB (a command's text is at most a few thousand
// characters, a click carries the card it was on); an event carries a
// message of up to 40,000 characters twice (text and blocks). A longer
// body is refused with 413 as soon as its Content-Length says so, else once
// the limit has been read.
const (
	MaxEventBody = 256 << 10
	MaxFormBody  = 64 << 10
)

// MaxSkew is how far a request's timestamp may be from now.
const MaxSkew = 5 * time.Minute

// Verify checks Slack's request signature: HMAC-SHA256 with the signing
// secret over "v0:<timestamp>:<raw body>", compared in constant time, with
// the timestamp within MaxSkew of now.
func Verify(secret string, h http.Header, body []byte, now time.Time) bool {
	tsText := h.Get("X-Slack-Request-Timestamp")
	sig := h.Get("X-Slack-Signature")
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || secret == "" || len(sig) < 3 || sig[:3] != "v0=" {
		return false
	}
	if d := now.Sub(time.Unix(ts, 0)); d > MaxSkew || d < -MaxSkew {
		return false
	}
	got, err := hex.DecodeString(sig[3:])
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + tsText + ":"))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// Routes adds the HTTP endpoints: POST /slack/events, /slack/commands and
// /slack/interactions. A bad or stale signature gets 401 and changes
// nothing. A slash command is answered in its response if the router is
// quick enough (Config.ReplyWithin), else through its response_url; a click
// is acknowledged at once and answered through its response_url once its
// command has run (Close waits for that).
func (a *Adapter) Routes(mux *http.ServeMux) {
	mux.HandleFunc("POST /slack/events", a.signed(MaxEventBody, func(w http.ResponseWriter, r *http.Request, body []byte) {
		status, out := a.onEvent(r.Context(), body)
		if out != nil {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		w.Write(out)
	}))
	mux.HandleFunc("POST /slack/commands", a.signed(MaxFormBody, func(w http.ResponseWriter, r *http.Request, body []byte) {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		c := slackgo.SlashCommand{Command: form.Get("command"), Text: form.Get("text"), ChannelID: form.Get("channel_id"),
			UserID: form.Get("user_id"), UserName: form.Get("user_name"), ResponseURL: form.Get("response_url"),
			TriggerID: form.Get("trigger_id"), TeamID: form.Get("team_id")}
		writeEphemeral(w, a.onCommand(r.Context(), c, replayKey(r), a.cfg.ReplyWithin))
	}))
	mux.HandleFunc("POST /slack/interactions", a.signed(MaxFormBody, func(w http.ResponseWriter, r *http.Request, body []byte) {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		var cb slackgo.InteractionCallback
		if err := json.Unmarshal([]byte(form.Get("payload")), &cb); err != nil {
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		// A click is acknowledged first and answered through its
		// response_url: Slack's three seconds must not wait on our outbound
		// call. The replay key is taken from the request before it is
		// answered; the router drops a replay when the work runs. The work
		// is registered with Close before the acknowledgement and starts
		// after it.
		ins := a.actionInbounds(cb, replayKey(r))
		foreign := !a.ourTeam(cb.Team.ID, "interaction")
		acked := make(chan struct{})
		switch {
		case foreign:
			a.later(r.Context(), func(ctx context.Context) {
				<-acked
				a.answer(ctx, cb.ResponseURL, ephemeral{text: ForeignTeam})
			})
		case len(ins) > 0:
			a.later(r.Context(), func(ctx context.Context) {
				<-acked
				a.answer(ctx, cb.ResponseURL, a.run(ctx, ins...))
			})
		}
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		close(acked)
	}))
}

// signed reads the body (at most limit bytes) and refuses requests whose
// signature does not verify.
func (a *Adapter) signed(limit int64, next func(http.ResponseWriter, *http.Request, []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, ok := chat.ReadBody(w, r, limit)
		if !ok {
			return
		}
		if !Verify(a.cfg.SigningSecret, r.Header, body, a.clock.Now()) {
			a.log.Warn("slack: refused a request with a bad or stale signature", "path", r.URL.Path, "remote", r.RemoteAddr)
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		next(w, r, body)
	}
}

// replayKey identifies a signed delivery of a command or a click. Slack
// never retries those, so a second request with the same signature is
// someone replaying a captured one within the five minutes it stays valid;
// the router drops it as it drops a retried event.
//
// The key is made of the signature's bytes, not its text: the hex digits
// verify in either case, and "v0=ABCD…" must be the same delivery as
// "v0=abcd…". It is called on verified requests only.
func replayKey(r *http.Request) string {
	sig, _ := hex.DecodeString(strings.TrimPrefix(r.Header.Get("X-Slack-Signature"), "v0="))
	return "sig:" + r.Header.Get("X-Slack-Request-Timestamp") + ":" + hex.EncodeToString(sig)
}

// ForeignTeam answers a slash command or a click from a workspace other
// than Config.TeamID.
const ForeignTeam = "⚠️ This workspace is not served here; nothing was changed. / 本机器人不服务于此工作区，未做任何更改。"

// ourTeam reports whether a request from the workspace team may be
// handled: always when Config.TeamID is not set, else only when it is that
// workspace. A refusal is logged.
func (a *Adapter) ourTeam(team, what string) bool {
	if a.cfg.TeamID == "" || team == a.cfg.TeamID {
		return true
	}
	a.log.Warn("slack: refused a request from another workspace", "kind", what, "team", team)
	return false
}

func writeEphemeral(w http.ResponseWriter, text string) {
	if text == "" {
		w.WriteHeader(http.StatusOK) // answered later through response_url
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"response_type": "ephemeral", "text": truncate(escape(text), maxText)})
}
