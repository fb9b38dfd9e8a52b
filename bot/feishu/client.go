package feishu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/slakeeper/slakeeper/bot/chat"
)

// client speaks the Open Platform's HTTP API: the tenant_access_token,
// cached and refreshed before it expires, and the few IM calls slakeeper
// makes. The app secret and the token never appear in an error or a log
// line: neither is part of a URL, and errors carry the API's code and
// message only.
type client struct {
	base      string // https://open.feishu.cn, no trailing slash
	appID     string
	appSecret string
	http      *http.Client
	clock     chat.Clock

	mu      sync.Mutex
	token   string
	renewAt time.Time // when the cached token is refreshed
}

// Codes of the Open Platform's answers that slakeeper acts on.
const (
	codeRateLimited   = 99991400 // 应用频率限制 (HTTP 429, or 400 on older APIs)
	codeChatFlooded   = 230020   // the message API's own limit: too many messages to one chat
	codeTokenInvalid  = 99991663 // tenant_access_token invalid
	codeTokenExpired  = 99991677 // token expired
	codeTokenMissing  = 99991661 // no Authorization header
	codeMsgWithdrawn  = 230011   // the message was recalled
	codeMsgNotFound   = 231003   // the message does not exist
	defaultRetryAfter = time.Second
)

// permanentCodes are answers no retry fixes: the bot is not in the chat,
// the chat or the message is gone, the app lacks a permission, the
// content is refused.
var permanentCodes = map[int]bool{
	230001:   true, // invalid parameter (a bad chat id, bad content)
	230002:   true, // the bot is not in the chat
	230006:   true, // the bot ability is not enabled
	230011:   true, // message recalled
	230013:   true, // no availability to the receiver
	230017:   true, // the bot cannot send to an external chat
	230025:   true, // the content is too long
	230027:   true, // no permission
	230099:   true, // card content refused
	231003:   true, // message not found
	99991672: true, // the app lacks the scope
	99991401: true, // IP not allowed
	10003:    true, // invalid app_id or app_secret
}

// apiError is an answer of the Open Platform with a non-zero code.
type apiError struct {
	Op     string
	Status int
	Code   int
	Msg    string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("feishu %s: HTTP %d, code %d: %s", e.Op, e.Status, e.Code, e.Msg)
}

// envelope is every answer's frame.
type envelope struct {
	Code int             `json:"code"`
	Msg  string          `json:"msg"`
	Data json.RawMessage `json:"data"`
}

// tokenMargin is how long before its expiry the token is refreshed. The
// Open Platform hands out a new token once the old one has less than 30
// minutes left.
const tokenMargin = 30 * time.Minute

// tenantToken returns the cached token, fetching a new one when it is
// about to expire.
func (c *client) tenantToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock.Now()
	if c.token != "" && now.Before(c.renewAt) {
		return c.token, nil
	}
	body, _ := json.Marshal(map[string]string{"app_id": c.appID, "app_secret": c.appSecret})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/open-apis/auth/v3/tenant_access_token/internal", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	res, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("feishu tenant_access_token: %w", err)
	}
	defer res.Body.Close()
	var r struct {
		Code   int    `json:"code"`
		Msg    string `json:"msg"`
		Token  string `json:"tenant_access_token"`
		Expire int    `json:"expire"` // seconds
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&r); err != nil {
		return "", fmt.Errorf("feishu tenant_access_token: HTTP %d: %w", res.StatusCode, err)
	}
	if r.Code != 0 || r.Token == "" {
		return "", classify(&apiError{Op: "tenant_access_token", Status: res.StatusCode, Code: r.Code, Msg: r.Msg}, res.Header)
	}
	life := time.Duration(r.Expire) * time.Second
	margin := min(tokenMargin, life/2)
	c.token, c.renewAt = r.Token, now.Add(life-margin)
	return c.token, nil
}

// forget drops the cached token, when the platform says it is not valid.
func (c *client) forget(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == token {
		c.token = ""
	}
}

// call makes one API call with the tenant token and decodes data into out
// (if not nil). A token the platform refuses is fetched again and the call
// made once more. Errors are classified for the dispatcher.
func (c *client) call(ctx context.Context, op, method, path, contentType string, body func() io.Reader, out any) error {
	for attempt := 0; ; attempt++ {
		token, err := c.tenantToken(ctx)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, method, c.base+path, body())
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", contentType)
		res, err := c.http.Do(req)
		if err != nil {
			return fmt.Errorf("feishu %s: %w", op, err)
		}
		var env envelope
		derr := json.NewDecoder(io.LimitReader(res.Body, 4<<20)).Decode(&env)
		res.Body.Close()
		if derr != nil {
			err := fmt.Errorf("feishu %s: HTTP %d: unreadable answer: %w", op, res.StatusCode, derr)
			if res.StatusCode == http.StatusTooManyRequests {
				return &chat.RetryAfter{After: retryAfter(res.Header), Err: err}
			}
			return err
		}
		if env.Code == 0 && res.StatusCode < 300 {
			if out != nil && len(env.Data) > 0 {
				if err := json.Unmarshal(env.Data, out); err != nil {
					return fmt.Errorf("feishu %s: data: %w", op, err)
				}
			}
			return nil
		}
		ae := &apiError{Op: op, Status: res.StatusCode, Code: env.Code, Msg: env.Msg}
		if (env.Code == codeTokenInvalid || env.Code == codeTokenExpired || env.Code == codeTokenMissing) && attempt == 0 {
			c.forget(token)
			continue
		}
		return classify(ae, res.Header)
	}
}

// callJSON is call with a JSON body.
func (c *client) callJSON(ctx context.Context, op, method, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return &chat.PermanentError{Err: fmt.Errorf("feishu %s: %w", op, err)}
	}
	return c.call(ctx, op, method, path, "application/json; charset=utf-8", func() io.Reader { return bytes.NewReader(b) }, out)
}

// retryAfter reads the rate limit's reset header (seconds).
func retryAfter(h http.Header) time.Duration {
	for _, k := range []string{"X-Ogw-Ratelimit-Reset", "Retry-After"} {
		if n, err := strconv.Atoi(h.Get(k)); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	return defaultRetryAfter
}

// classify tells the dispatcher whether and when to retry: a rate limit
// (the platform's 99991400, or the message API's per-chat 230020) after its
// reset, a known permanent code or another 4xx never, the rest (5xx,
// unknown codes) with backoff.
func classify(e *apiError, h http.Header) error {
	switch {
	case e.Status == http.StatusTooManyRequests || e.Code == codeRateLimited:
		return &chat.RetryAfter{After: retryAfter(h), Err: e}
	case e.Code == codeChatFlooded:
		// An HTTP 400 that a later try fixes: without this case it would
		// be dropped as a 4xx. It comes without a reset header.
		return &chat.RetryAfter{After: retryAfter(h), Err: e}
	case permanentCodes[e.Code]:
		return &chat.PermanentError{Err: e}
	case e.Status >= 400 && e.Status < 500 && e.Status != http.StatusRequestTimeout &&
		e.Code != codeTokenInvalid && e.Code != codeTokenExpired && e.Code != codeTokenMissing:
		return &chat.PermanentError{Err: e}
	}
	return e
}

// isGone reports whether err says the message to edit was recalled or
// does not exist.
func isGone(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && (ae.Code == codeMsgWithdrawn || ae.Code == codeMsgNotFound)
}

// message is what the send, reply and upload calls need.
type sentMessage struct {
	MessageID string `json:"message_id"`
}

// send posts a message to a chat.
func (c *client) send(ctx context.Context, chatID, msgType, content string) (string, error) {
	var out sentMessage
	err := c.callJSON(ctx, "send "+msgType, http.MethodPost, "/open-apis/im/v1/messages?receive_id_type=chat_id",
		map[string]string{"receive_id": chatID, "msg_type": msgType, "content": content}, &out)
	return out.MessageID, err
}

// reply posts a message in reply to another (in its thread if it has one).
func (c *client) reply(ctx context.Context, messageID, msgType, content string, inThread bool) (string, error) {
	var out sentMessage
	err := c.callJSON(ctx, "reply "+msgType, http.MethodPost, "/open-apis/im/v1/messages/"+pathEscape(messageID)+"/reply",
		map[string]any{"msg_type": msgType, "content": content, "reply_in_thread": inThread}, &out)
	return out.MessageID, err
}

// patchCard replaces a card the bot sent with another.
func (c *client) patchCard(ctx context.Context, messageID, card string) error {
	return c.callJSON(ctx, "update card", http.MethodPatch, "/open-apis/im/v1/messages/"+pathEscape(messageID),
		map[string]string{"content": card}, nil)
}

// upload uploads a file and returns its file_key.
func (c *client) upload(ctx context.Context, f *chat.File) (string, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("file_type", fileType(f.Name))
	mw.WriteField("file_name", f.Name)
	part, err := mw.CreateFormFile("file", f.Name)
	if err != nil {
		return "", err
	}
	part.Write(f.Data)
	if err := mw.Close(); err != nil {
		return "", err
	}
	b := buf.Bytes()
	var out struct {
		FileKey string `json:"file_key"`
	}
	err = c.call(ctx, "upload file", http.MethodPost, "/open-apis/im/v1/files", mw.FormDataContentType(),
		func() io.Reader { return bytes.NewReader(b) }, &out)
	return out.FileKey, err
}

// botOpenID asks who the bot is, so that its own mentions and messages are
// recognised.
func (c *client) botOpenID(ctx context.Context) (string, error) {
	token, err := c.tenantToken(ctx)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/open-apis/bot/v3/info", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("feishu bot info: %w", err)
	}
	defer res.Body.Close()
	var r struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
		Bot  struct {
			OpenID string `json:"open_id"`
		} `json:"bot"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&r); err != nil {
		return "", fmt.Errorf("feishu bot info: HTTP %d: %w", res.StatusCode, err)
	}
	if r.Code != 0 {
		return "", &apiError{Op: "bot info", Status: res.StatusCode, Code: r.Code, Msg: r.Msg}
	}
	return r.Bot.OpenID, nil
}
