// Package fakefeishu is a fake Feishu Open Platform for tests: the calls
// slakeeper makes (tenant_access_token/internal, bot/v3/info, sending,
// replying to and updating messages, uploading files) with the platform's
// {code, msg, data} envelope and error codes, and the checks it makes: an
// app secret, a Bearer tenant token on every call that expires, chats the
// bot is in, content that is valid JSON for its msg_type, cards within
// 30 KB, messages that exist for replies and updates, the bot's own
// interactive messages only updated; 429 with a reset header on demand.
//
// Tests play the people in the groups: Say writes a text message (Post a
// rich-text one), Press presses a card's button; Deliver sends such an
// event to the adapter's webhook encrypted and signed as Feishu does, or
// tampered with.
package fakefeishu

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config is the app the fake serves.
type Config struct {
	AppID, AppSecret  string
	VerificationToken string
	EncryptKey        string
	BotOpenID         string
	// Now is the platform's clock, for token expiry and event timestamps.
	Now func() time.Time
	// TokenLife is how long a tenant token lasts; two hours if zero.
	TokenLife time.Duration
	Chats     []string
}

// Message is a message in a chat, the bot's or a person's.
type Message struct {
	ID, ChatID       string
	ParentID, RootID string
	FromBot          bool
	Sender           string // open_id
	MsgType          string // text, post, interactive, file
	Content          string // as sent
	Text             string // a text message's text; a card's texts, one a line
	Card             map[string]any
	Buttons          []Button
	Edits            int
	Recalled         bool
	FileName         string
	FileData         []byte
	ReplyInThread    bool
}

// Button is a card's button.
type Button struct {
	Label   string
	Type    string
	Value   json.RawMessage
	Confirm bool
}

// Server is the fake Open Platform.
type Server struct {
	*httptest.Server
	cfg Config

	mu        sync.Mutex
	tokens    map[string]time.Time // token -> expiry
	tokenN    int
	chats     map[string]bool
	messages  []*Message
	byID      map[string]*Message
	files     map[string]upload
	n         int
	limitNext int
	limitFor  time.Duration
	floodNext int
	calls     map[string]int
	refused   []string
}

type upload struct {
	name string
	typ  string
	data []byte
}

// New starts a fake Open Platform.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.TokenLife == 0 {
		cfg.TokenLife = 2 * time.Hour
	}
	s := &Server{cfg: cfg, tokens: map[string]time.Time{}, chats: map[string]bool{}, byID: map[string]*Message{},
		files: map[string]upload{}, calls: map[string]int{}}
	for _, c := range cfg.Chats {
		s.chats[c] = true
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// MaxCard is the size of a card's JSON the platform accepts.
const MaxCard = 30 << 10

func answer(w http.ResponseWriter, status, code int, msg string, data any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	body := map[string]any{"code": code, "msg": msg}
	if data != nil {
		body["data"] = data
	}
	json.NewEncoder(w).Encode(body)
}

func (s *Server) fail(w http.ResponseWriter, status, code int, msg string) {
	s.refused = append(s.refused, fmt.Sprintf("%d %s", code, msg))
	answer(w, status, code, msg, nil)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := r.URL.Path
	if p == "/open-apis/auth/v3/tenant_access_token/internal" && r.Method == http.MethodPost {
		s.calls["token"]++
		var in struct {
			AppID     string `json:"app_id"`
			AppSecret string `json:"app_secret"`
		}
		if json.NewDecoder(r.Body).Decode(&in) != nil || in.AppID != s.cfg.AppID || in.AppSecret != s.cfg.AppSecret {
			s.fail(w, 400, 10003, "invalid param")
			return
		}
		s.tokenN++
		tok := fmt.Sprintf("t-g%04dfake%d", s.tokenN, s.tokenN*7919)
		s.tokens[tok] = s.cfg.Now().Add(s.cfg.TokenLife)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		json.NewEncoder(w).Encode(map[string]any{"code": 0, "msg": "ok", "tenant_access_token": tok, "expire": int(s.cfg.TokenLife / time.Second)})
		return
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		s.fail(w, 400, 99991661, "Missing access token for authorization")
		return
	}
	if exp, ok := s.tokens[tok]; !ok || !s.cfg.Now().Before(exp) {
		s.fail(w, 400, 99991663, "Invalid access token for authorization")
		return
	}
	if s.limitNext > 0 {
		s.limitNext--
		w.Header().Set("x-ogw-ratelimit-limit", "5")
		w.Header().Set("x-ogw-ratelimit-reset", strconv.Itoa(int(s.limitFor/time.Second)))
		s.fail(w, http.StatusTooManyRequests, 99991400, "request trigger frequency limit")
		return
	}
	if s.floodNext > 0 && r.Method == http.MethodPost && strings.HasPrefix(p, "/open-apis/im/v1/messages") {
		s.floodNext--
		s.fail(w, http.StatusBadRequest, 230020, "This operation triggers the frequency limit.")
		return
	}
	switch {
	case p == "/open-apis/bot/v3/info" && r.Method == http.MethodGet:
		s.calls["bot"]++
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		json.NewEncoder(w).Encode(map[string]any{"code": 0, "msg": "ok", "bot": map[string]any{"open_id": s.cfg.BotOpenID, "app_name": "slakeeper", "activate_status": 2}})
	case p == "/open-apis/im/v1/messages" && r.Method == http.MethodPost:
		s.calls["send"]++
		if r.URL.Query().Get("receive_id_type") != "chat_id" {
			s.fail(w, 400, 230001, "invalid receive_id_type")
			return
		}
		var in struct {
			ReceiveID string `json:"receive_id"`
			MsgType   string `json:"msg_type"`
			Content   string `json:"content"`
		}
		if json.NewDecoder(r.Body).Decode(&in) != nil {
			s.fail(w, 400, 230001, "invalid request body")
			return
		}
		if !s.chats[in.ReceiveID] {
			s.fail(w, 400, 230002, "Bot/User can NOT be out of the chat.")
			return
		}
		m := &Message{ChatID: in.ReceiveID, FromBot: true, Sender: s.cfg.BotOpenID}
		if err := s.fill(m, in.MsgType, in.Content); err != nil {
			s.fail(w, 400, 230001, err.Error())
			return
		}
		s.add(m)
		answer(w, 200, 0, "success", map[string]any{"message_id": m.ID, "chat_id": m.ChatID, "msg_type": m.MsgType})
	case strings.HasPrefix(p, "/open-apis/im/v1/messages/") && strings.HasSuffix(p, "/reply") && r.Method == http.MethodPost:
		s.calls["reply"]++
		id := strings.TrimSuffix(strings.TrimPrefix(p, "/open-apis/im/v1/messages/"), "/reply")
		parent, ok := s.byID[id]
		if !ok {
			s.fail(w, 400, 231003, "The message is not found")
			return
		}
		if parent.Recalled {
			s.fail(w, 400, 230011, "The message was withdrawn.")
			return
		}
		var in struct {
			MsgType       string `json:"msg_type"`
			Content       string `json:"content"`
			ReplyInThread bool   `json:"reply_in_thread"`
		}
		if json.NewDecoder(r.Body).Decode(&in) != nil {
			s.fail(w, 400, 230001, "invalid request body")
			return
		}
		m := &Message{ChatID: parent.ChatID, FromBot: true, Sender: s.cfg.BotOpenID, ParentID: parent.ID, RootID: parent.RootID, ReplyInThread: in.ReplyInThread}
		if m.RootID == "" {
			m.RootID = parent.ID
		}
		if err := s.fill(m, in.MsgType, in.Content); err != nil {
			s.fail(w, 400, 230001, err.Error())
			return
		}
		s.add(m)
		answer(w, 200, 0, "success", map[string]any{"message_id": m.ID, "chat_id": m.ChatID, "root_id": m.RootID, "parent_id": m.ParentID})
	case strings.HasPrefix(p, "/open-apis/im/v1/messages/") && r.Method == http.MethodPatch:
		s.calls["patch"]++
		id := strings.TrimPrefix(p, "/open-apis/im/v1/messages/")
		m, ok := s.byID[id]
		switch {
		case !ok:
			s.fail(w, 400, 231003, "The message is not found")
			return
		case m.Recalled:
			s.fail(w, 400, 230011, "The message was withdrawn.")
			return
		case !m.FromBot || m.MsgType != "interactive":
			s.fail(w, 400, 230001, "only the bot's interactive messages can be updated")
			return
		}
		var in struct {
			Content string `json:"content"`
		}
		if json.NewDecoder(r.Body).Decode(&in) != nil {
			s.fail(w, 400, 230001, "invalid request body")
			return
		}
		edited := &Message{}
		if err := s.fill(edited, "interactive", in.Content); err != nil {
			s.fail(w, 400, 230099, err.Error())
			return
		}
		if multi, _ := edited.Card["config"].(map[string]any)["update_multi"].(bool); !multi {
			s.fail(w, 400, 230099, "a card shared in a group must set config.update_multi to be updated for everyone")
			return
		}
		m.Content, m.Text, m.Card, m.Buttons = edited.Content, edited.Text, edited.Card, edited.Buttons
		m.Edits++
		answer(w, 200, 0, "success", map[string]any{})
	case p == "/open-apis/im/v1/files" && r.Method == http.MethodPost:
		s.calls["upload"]++
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			s.fail(w, 400, 234001, "invalid multipart body")
			return
		}
		typ, name := r.FormValue("file_type"), r.FormValue("file_name")
		switch typ {
		case "opus", "mp4", "pdf", "doc", "xls", "ppt", "stream":
		default:
			s.fail(w, 400, 234001, "invalid file_type")
			return
		}
		f, _, err := r.FormFile("file")
		if err != nil || name == "" {
			s.fail(w, 400, 234001, "file and file_name are required")
			return
		}
		data, _ := io.ReadAll(f)
		if len(data) == 0 {
			s.fail(w, 400, 234010, "empty file")
			return
		}
		s.n++
		key := fmt.Sprintf("file_v3_%04d", s.n)
		s.files[key] = upload{name: name, typ: typ, data: data}
		answer(w, 200, 0, "success", map[string]any{"file_key": key})
	default:
		s.fail(w, 404, 404, "not found: "+r.Method+" "+p)
	}
}

// fill checks content for its msg_type, as the platform does, and fills m.
func (s *Server) fill(m *Message, msgType, content string) error {
	m.MsgType, m.Content = msgType, content
	switch msgType {
	case "text":
		var c struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal([]byte(content), &c); err != nil || strings.TrimSpace(c.Text) == "" {
			return fmt.Errorf("text content must be {\"text\": …}: %q", content)
		}
		m.Text = c.Text
	case "interactive":
		if len(content) > MaxCard {
			return fmt.Errorf("card content is %d bytes, over %d", len(content), MaxCard)
		}
		var card map[string]any
		if err := json.Unmarshal([]byte(content), &card); err != nil {
			return fmt.Errorf("card content is not a JSON object: %v", err)
		}
		if _, ok := card["elements"].([]any); !ok {
			return fmt.Errorf("card without elements")
		}
		m.Card = card
		m.Text, m.Buttons = cardTexts(card)
	case "file":
		var c struct {
			FileKey string `json:"file_key"`
		}
		if err := json.Unmarshal([]byte(content), &c); err != nil {
			return fmt.Errorf("file content must be {\"file_key\": …}")
		}
		f, ok := s.files[c.FileKey]
		if !ok {
			return fmt.Errorf("unknown file_key %q", c.FileKey)
		}
		m.FileName, m.FileData = f.name, f.data
	default:
		return fmt.Errorf("msg_type %q not supported here", msgType)
	}
	return nil
}

// cardTexts collects a card's visible texts (header, divs, fields) and its
// buttons.
func cardTexts(card map[string]any) (string, []Button) {
	var lines []string
	content := func(o any) string {
		m, _ := o.(map[string]any)
		c, _ := m["content"].(string)
		return c
	}
	if h, ok := card["header"].(map[string]any); ok {
		lines = append(lines, content(h["title"]))
	}
	var buttons []Button
	els, _ := card["elements"].([]any)
	for _, e := range els {
		el, _ := e.(map[string]any)
		switch el["tag"] {
		case "div":
			if t := content(el["text"]); t != "" {
				lines = append(lines, t)
			}
			fs, _ := el["fields"].([]any)
			for _, f := range fs {
				fm, _ := f.(map[string]any)
				lines = append(lines, content(fm["text"]))
			}
		case "action":
			as, _ := el["actions"].([]any)
			for _, a := range as {
				am, _ := a.(map[string]any)
				v, _ := json.Marshal(am["value"])
				typ, _ := am["type"].(string)
				buttons = append(buttons, Button{Label: content(am["text"]), Type: typ, Value: v, Confirm: am["confirm"] != nil})
			}
		}
	}
	return strings.Join(lines, "\n"), buttons
}

func (s *Server) add(m *Message) {
	s.n++
	m.ID = fmt.Sprintf("om_%06d", s.n)
	s.messages = append(s.messages, m)
	s.byID[m.ID] = m
}

// BotMessages returns copies of the bot's messages in a chat, in order.
func (s *Server) BotMessages(chatID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if m.FromBot && m.ChatID == chatID {
			out = append(out, *m)
		}
	}
	return out
}

// Message returns a copy of a message.
func (s *Server) Message(id string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.byID[id]
	if !ok {
		return Message{}, false
	}
	return *m, true
}

// Recall withdraws a message, as its sender or an admin can.
func (s *Server) Recall(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.byID[id]; ok {
		m.Recalled = true
	}
}

// RateLimit answers the next n API calls 429 with a reset after d.
func (s *Server) RateLimit(n int, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limitNext, s.limitFor = n, d
}

// FloodChat answers the next n messages sent or replied 400 with code
// 230020, the message API's limit on messages to one chat.
func (s *Server) FloodChat(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.floodNext = n
}

// Calls returns how many calls of a kind were made: token, bot, send,
// reply, patch, upload.
func (s *Server) Calls(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[kind]
}

// Refused returns the errors the fake answered, "code msg", in order.
func (s *Server) Refused() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.refused...)
}

// Mention is an @-mention in a person's message.
type Mention struct {
	OpenID, Name string
}

// Event is an event the platform delivers, before encryption.
type Event map[string]any

func (s *Server) envelope(eventType string, event any) Event {
	s.n++
	return Event{"schema": "2.0", "header": map[string]any{"event_id": fmt.Sprintf("ev_%08x%04d", s.n*2654435761&0xffffffff, s.n),
		"event_type": eventType, "create_time": strconv.FormatInt(s.cfg.Now().UnixMilli(), 10), "token": s.cfg.VerificationToken,
		"app_id": s.cfg.AppID, "tenant_key": "tenant_fake"}, "event": event}
}

// EventID returns an event's event_id.
func (e Event) EventID() string { return e["header"].(map[string]any)["event_id"].(string) }

// Say records a person's text message in a chat, in reply to replyTo when
// it is not empty, and returns its id and the im.message.receive_v1 event.
// Mentions are written in the text as their keys, @_user_1 and on.
func (s *Server) Say(chatID, openID, text, replyTo string, mentions ...Mention) (string, Event) {
	c, _ := json.Marshal(map[string]string{"text": text})
	return s.message(chatID, openID, "text", string(c), replyTo, mentions)
}

// Post is Say with a rich-text (post) message of a title and paragraphs
// of plain text.
func (s *Server) Post(chatID, openID, title string, paragraphs []string, replyTo string) (string, Event) {
	var content [][]map[string]any
	for _, p := range paragraphs {
		content = append(content, []map[string]any{{"tag": "text", "text": p}})
	}
	c, _ := json.Marshal(map[string]any{"title": title, "content": content})
	return s.message(chatID, openID, "post", string(c), replyTo, nil)
}

func (s *Server) message(chatID, openID, msgType, content, replyTo string, mentions []Mention) (string, Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &Message{ChatID: chatID, Sender: openID, MsgType: msgType, Content: content}
	if p, ok := s.byID[replyTo]; ok {
		m.ParentID, m.RootID = p.ID, p.RootID
		if m.RootID == "" {
			m.RootID = p.ID
		}
	}
	s.add(m)
	var ms []map[string]any
	for i, mt := range mentions {
		ms = append(ms, map[string]any{"key": fmt.Sprintf("@_user_%d", i+1), "id": map[string]any{"open_id": mt.OpenID, "union_id": "on_x"},
			"name": mt.Name, "tenant_key": "tenant_fake"})
	}
	msg := map[string]any{"message_id": m.ID, "root_id": m.RootID, "parent_id": m.ParentID, "create_time": strconv.FormatInt(s.cfg.Now().UnixMilli(), 10),
		"chat_id": chatID, "chat_type": "group", "message_type": msgType, "content": content}
	if ms != nil {
		msg["mentions"] = ms
	}
	senderType := "user"
	if openID == s.cfg.BotOpenID {
		senderType = "app"
	}
	return m.ID, s.envelope("im.message.receive_v1", map[string]any{
		"sender":  map[string]any{"sender_id": map[string]any{"open_id": openID, "union_id": "on_" + openID, "user_id": "u_" + openID}, "sender_type": senderType, "tenant_key": "tenant_fake"},
		"message": msg})
}

// Press returns the card.action.trigger callback of a person pressing the
// i-th button of a card message.
func (s *Server) Press(messageID, openID string, i int) Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.byID[messageID]
	var value any = map[string]any{}
	chatID := ""
	if m != nil {
		chatID = m.ChatID
		if i < len(m.Buttons) {
			json.Unmarshal(m.Buttons[i].Value, &value)
		}
	}
	return s.envelope("card.action.trigger", map[string]any{
		"operator": map[string]any{"tenant_key": "tenant_fake", "open_id": openID, "union_id": "on_" + openID},
		"token":    "c-fake-update-token", "host": "im_message",
		"action":  map[string]any{"value": value, "tag": "button"},
		"context": map[string]any{"open_message_id": messageID, "open_chat_id": chatID}})
}

// Delivery says how an event is delivered; the zero value is as Feishu
// does: encrypted, signed now.
type Delivery struct {
	At           time.Time // the timestamp signed; now if zero
	Plain        bool      // not encrypted
	Unsigned     bool      // no signature headers
	BadSignature bool      // a signature made with another key
	Token        string    // the verification token in the event; the app's if ""
}

// Encrypt encrypts a body as the platform does with an Encrypt Key.
func Encrypt(key string, plain []byte) string {
	k := sha256.Sum256([]byte(key))
	block, _ := aes.NewCipher(k[:])
	n := aes.BlockSize - len(plain)%aes.BlockSize
	padded := append(append([]byte(nil), plain...), bytes.Repeat([]byte{byte(n)}, n)...)
	out := make([]byte, aes.BlockSize+len(padded))
	rand.Read(out[:aes.BlockSize])
	cipher.NewCBCEncrypter(block, out[:aes.BlockSize]).CryptBlocks(out[aes.BlockSize:], padded)
	return base64.StdEncoding.EncodeToString(out)
}

// Body returns the bytes Feishu would send for an event.
func (s *Server) Body(e any, d Delivery) []byte {
	if ev, ok := e.(Event); ok && d.Token != "" {
		cp := Event{}
		for k, v := range ev {
			cp[k] = v
		}
		h := map[string]any{}
		for k, v := range ev["header"].(map[string]any) {
			h[k] = v
		}
		h["token"] = d.Token
		cp["header"] = h
		e = cp
	}
	plain, _ := json.Marshal(e)
	if d.Plain {
		return plain
	}
	body, _ := json.Marshal(map[string]string{"encrypt": Encrypt(s.cfg.EncryptKey, plain)})
	return body
}

// Request is the HTTP request delivering body to url, signed as d says.
func (s *Server) Request(url string, body []byte, d Delivery) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if d.Unsigned {
		return req
	}
	at := d.At
	if at.IsZero() {
		at = s.cfg.Now()
	}
	ts, nonce, key := strconv.FormatInt(at.Unix(), 10), fmt.Sprintf("n%d", at.UnixNano()%1000003), s.cfg.EncryptKey
	if d.BadSignature {
		key += "-forged"
	}
	h := sha256.New()
	h.Write([]byte(ts + nonce + key))
	h.Write(body)
	req.Header.Set("X-Lark-Request-Timestamp", ts)
	req.Header.Set("X-Lark-Request-Nonce", nonce)
	req.Header.Set("X-Lark-Signature", hex.EncodeToString(h.Sum(nil)))
	return req
}

// Deliver posts an event to a webhook and returns the answer's status and
// body.
func (s *Server) Deliver(url string, e any, d Delivery) (int, []byte) {
	return s.Send(s.Request(url, s.Body(e, d), d))
}

// Send makes a request and returns the answer's status and body (0 if the
// request failed).
func (s *Server) Send(req *http.Request) (int, []byte) {
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}
