// Package faketelegram is a fake Telegram Bot API for tests: the methods
// slakeeper uses (getMe, getUpdates, sendMessage, sendDocument, editMessageText,
// answerCallbackQuery, setMyCommands, setWebhook, deleteWebhook) with
// Telegram's response envelope and error codes, and the checks Telegram
// makes: the token, that the chat exists, HTML that parses, the 4096
// character limit, 64-byte callback data, answering a callback once. Tests
// play the people in the groups: Say writes (SayAnonymous as an anonymous
// group admin; AutoForward is a linked channel's post forwarded into its
// group), Press presses a button (PressOld on a message older than 48
// hours, PressInline on an inline-mode message).
package faketelegram

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Message is a message in a chat, sent by the bot or by a person.
type Message struct {
	ChatID    int64
	ID        int
	Topic     int
	ReplyTo   int
	FromBot   bool
	Text      string // as sent (HTML for the bot)
	Plain     string // the visible text
	Keyboard  [][]Button
	Edits     int
	ParseMode string
	// Document is a file the bot sent (sendDocument); Text is its caption.
	Document *Document
}

// Document is an uploaded file.
type Document struct {
	Name string
	Data []byte
}

// Button is an inline keyboard button.
type Button struct {
	Text string `json:"text"`
	Data string `json:"callback_data"`
}

// Answer is an answerCallbackQuery call.
type Answer struct {
	QueryID string
	Text    string
	Alert   bool
}

// Server is the fake Bot API.
type Server struct {
	*httptest.Server
	Token    string
	Username string

	mu        sync.Mutex
	chats     map[int64]bool
	messages  []*Message
	nextMsg   map[int64]int
	updates   []map[string]any
	nextUpd   int64
	arrived   chan struct{}
	queries   map[string]bool // pending callback queries
	nextQuery int
	answers   []Answer
	commands  map[string][]map[string]string // language -> commands
	webhook   map[string]string
	limitNext int
	limitFor  int
	calls     map[string]int
}

// New starts a fake Bot API for a token, knowing the given chats.
func New(token string, chats ...int64) *Server {
	s := &Server{Token: token, Username: "slakeeper_bot", chats: map[int64]bool{}, nextMsg: map[int64]int{}, nextUpd: 1000,
		arrived: make(chan struct{}, 1), queries: map[string]bool{}, commands: map[string][]map[string]string{}, calls: map[string]int{}}
	for _, c := range chats {
		s.chats[c] = true
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

type params map[string]string

func (p params) int64(k string) int64 { n, _ := strconv.ParseInt(p[k], 10, 64); return n }
func (p params) int(k string) int     { n, _ := strconv.Atoi(p[k]); return n }

func reply(w http.ResponseWriter, result any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": result})
}

func fail(w http.ResponseWriter, code int, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"ok": false, "error_code": code, "description": desc})
}

// readParams reads a call's parameters from a multipart form, a url-encoded
// form or a JSON body; objects stay JSON text, as the Bot API takes them.
func readParams(r *http.Request) (params, error) {
	p := params{}
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/json"):
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return nil, err
		}
		for k, v := range m {
			switch v := v.(type) {
			case string:
				p[k] = v
			case float64:
				p[k] = strconv.FormatFloat(v, 'f', -1, 64)
			case bool:
				p[k] = strconv.FormatBool(v)
			default:
				b, _ := json.Marshal(v)
				p[k] = string(b)
			}
		}
	case strings.HasPrefix(ct, "multipart/form-data"):
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			if errors.Is(err, io.EOF) || strings.Contains(err.Error(), "EOF") {
				return p, nil // a method without parameters sends an empty form
			}
			return nil, err
		}
		for k, v := range r.MultipartForm.Value {
			p[k] = v[0]
		}
	default:
		if err := r.ParseForm(); err != nil {
			return nil, err
		}
		for k, v := range r.Form {
			p[k] = v[0]
		}
	}
	return p, nil
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	if !ok {
		http.NotFound(w, r)
		return
	}
	token, method, _ := strings.Cut(rest, "/")
	if token != s.Token {
		fail(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	p, err := readParams(r)
	if err != nil {
		fail(w, http.StatusBadRequest, "Bad Request: can't parse request")
		return
	}
	s.mu.Lock()
	s.calls[method]++
	s.mu.Unlock()
	switch method {
	case "getMe":
		reply(w, map[string]any{"id": 7000001, "is_bot": true, "first_name": "slakeeper", "username": s.Username})
	case "getUpdates":
		s.getUpdates(w, r, p)
	case "sendMessage":
		s.sendMessage(w, p)
	case "sendDocument":
		s.sendDocument(w, r, p)
	case "editMessageText":
		s.editMessageText(w, p)
	case "answerCallbackQuery":
		s.answerCallbackQuery(w, p)
	case "setMyCommands":
		s.setMyCommands(w, p)
	case "setWebhook", "deleteWebhook":
		s.mu.Lock()
		s.webhook = map[string]string(p)
		s.mu.Unlock()
		reply(w, true)
	default:
		fail(w, http.StatusNotFound, "Not Found: method not found")
	}
}

// Calls counts the calls of a method with the right token.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// RateLimit answers the next n sends with 429 and retry_after.
func (s *Server) RateLimit(n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limitNext, s.limitFor = n, int(retryAfter/time.Second)
}

func (s *Server) limited(w http.ResponseWriter) bool {
	if s.limitNext == 0 {
		return false
	}
	s.limitNext--
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	json.NewEncoder(w).Encode(map[string]any{"ok": false, "error_code": 429,
		"description": fmt.Sprintf("Too Many Requests: retry after %d", s.limitFor), "parameters": map[string]any{"retry_after": s.limitFor}})
	return true
}

var (
	tagRe    = regexp.MustCompile(`^<(/?)([a-z-]+)((?:\s+[a-z-]+="[^"<>]*")*)\s*>`)
	allowed  = map[string]bool{"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true, "s": true, "strike": true, "del": true, "a": true, "code": true, "pre": true, "tg-spoiler": true, "blockquote": true}
	entityRe = regexp.MustCompile(`^&(lt|gt|amp|quot|#[0-9]+);`)
)

// parseHTML checks Telegram's HTML: only its tags, balanced, and every "<"
// and "&" part of a tag or an entity. It returns the visible text.
func parseHTML(s string) (string, error) {
	var out strings.Builder
	var stack []string
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			m := tagRe.FindStringSubmatch(s[i:])
			if m == nil || !allowed[m[2]] {
				return "", fmt.Errorf("can't parse entities: unsupported start tag at byte offset %d", i)
			}
			if m[1] == "/" {
				if len(stack) == 0 || stack[len(stack)-1] != m[2] {
					return "", fmt.Errorf("can't parse entities: unmatched end tag at byte offset %d", i)
				}
				stack = stack[:len(stack)-1]
			} else {
				stack = append(stack, m[2])
			}
			i += len(m[0])
		case '&':
			m := entityRe.FindString(s[i:])
			if m == "" {
				return "", fmt.Errorf("can't parse entities: unsupported entity at byte offset %d", i)
			}
			out.WriteString(html.UnescapeString(m))
			i += len(m)
		case '>':
			return "", fmt.Errorf("can't parse entities: unexpected end of tag at byte offset %d", i)
		default:
			out.WriteByte(s[i])
			i++
		}
	}
	if len(stack) > 0 {
		return "", fmt.Errorf("can't parse entities: can't find end tag corresponding to start tag %s", stack[0])
	}
	return out.String(), nil
}

// checkText validates a text and its keyboard as sendMessage and
// editMessageText do.
func checkText(p params) (plain string, kb [][]Button, desc string) {
	text := p["text"]
	if strings.TrimSpace(text) == "" {
		return "", nil, "Bad Request: message text is empty"
	}
	plain = text
	if p["parse_mode"] == "HTML" {
		var err error
		if plain, err = parseHTML(text); err != nil {
			return "", nil, "Bad Request: " + err.Error()
		}
	}
	if utf8.RuneCountInString(plain) > 4096 {
		return "", nil, "Bad Request: message is too long"
	}
	if m := p["reply_markup"]; m != "" {
		var markup struct {
			InlineKeyboard [][]Button `json:"inline_keyboard"`
		}
		if err := json.Unmarshal([]byte(m), &markup); err != nil {
			return "", nil, "Bad Request: can't parse reply keyboard markup JSON object"
		}
		for _, row := range markup.InlineKeyboard {
			for _, b := range row {
				if b.Text == "" || len(b.Data) == 0 || len(b.Data) > 64 {
					return "", nil, "Bad Request: BUTTON_DATA_INVALID"
				}
			}
		}
		kb = markup.InlineKeyboard
	}
	return plain, kb, ""
}

func (s *Server) find(chat int64, id int) *Message {
	for _, m := range s.messages {
		if m.ChatID == chat && m.ID == id {
			return m
		}
	}
	return nil
}

func (s *Server) sendMessage(w http.ResponseWriter, p params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.limited(w) {
		return
	}
	chat := p.int64("chat_id")
	if !s.chats[chat] {
		fail(w, http.StatusBadRequest, "Bad Request: chat not found")
		return
	}
	plain, kb, desc := checkText(p)
	if desc != "" {
		fail(w, http.StatusBadRequest, desc)
		return
	}
	m := &Message{ChatID: chat, Topic: p.int("message_thread_id"), FromBot: true, Text: p["text"], Plain: plain, Keyboard: kb, ParseMode: p["parse_mode"]}
	if rp := p["reply_parameters"]; rp != "" {
		var r struct {
			MessageID int  `json:"message_id"`
			Allow     bool `json:"allow_sending_without_reply"`
		}
		json.Unmarshal([]byte(rp), &r)
		if s.find(chat, r.MessageID) == nil && !r.Allow {
			fail(w, http.StatusBadRequest, "Bad Request: message to be replied not found")
			return
		}
		m.ReplyTo = r.MessageID
	}
	s.add(m)
	reply(w, s.wire(m))
}

// sendDocument takes a file uploaded as multipart/form-data, with an
// optional caption of at most 1024 characters.
func (s *Server) sendDocument(w http.ResponseWriter, r *http.Request, p params) {
	var doc *Document
	if r.MultipartForm != nil {
		if fhs := r.MultipartForm.File["document"]; len(fhs) == 1 {
			f, err := fhs[0].Open()
			if err == nil {
				data, _ := io.ReadAll(f)
				f.Close()
				doc = &Document{Name: fhs[0].Filename, Data: data}
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.limited(w) {
		return
	}
	chat := p.int64("chat_id")
	if !s.chats[chat] {
		fail(w, http.StatusBadRequest, "Bad Request: chat not found")
		return
	}
	if doc == nil || len(doc.Data) == 0 {
		fail(w, http.StatusBadRequest, "Bad Request: there is no document in the request")
		return
	}
	caption := p["caption"]
	if p["parse_mode"] == "HTML" {
		var err error
		if caption, err = parseHTML(caption); err != nil {
			fail(w, http.StatusBadRequest, "Bad Request: "+err.Error())
			return
		}
	}
	if utf8.RuneCountInString(caption) > 1024 {
		fail(w, http.StatusBadRequest, "Bad Request: message caption is too long")
		return
	}
	m := &Message{ChatID: chat, Topic: p.int("message_thread_id"), FromBot: true, Text: p["caption"], Plain: caption, Document: doc}
	s.add(m)
	reply(w, s.wire(m))
}

// add numbers a message in its chat and keeps it.
func (s *Server) add(m *Message) {
	s.nextMsg[m.ChatID]++
	m.ID = s.nextMsg[m.ChatID]
	s.messages = append(s.messages, m)
}

func (s *Server) wire(m *Message) map[string]any {
	out := map[string]any{"message_id": m.ID, "date": 1764032400, "chat": map[string]any{"id": m.ChatID, "type": "supergroup"}, "text": m.Plain}
	if m.FromBot {
		out["from"] = map[string]any{"id": 7000001, "is_bot": true, "first_name": "slakeeper", "username": s.Username}
	}
	if m.Topic != 0 {
		out["message_thread_id"], out["is_topic_message"] = m.Topic, true
	}
	return out
}

func (s *Server) editMessageText(w http.ResponseWriter, p params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.limited(w) {
		return
	}
	chat := p.int64("chat_id")
	if !s.chats[chat] {
		fail(w, http.StatusBadRequest, "Bad Request: chat not found")
		return
	}
	m := s.find(chat, p.int("message_id"))
	if m == nil || !m.FromBot {
		fail(w, http.StatusBadRequest, "Bad Request: message to edit not found")
		return
	}
	plain, kb, desc := checkText(p)
	if desc != "" {
		fail(w, http.StatusBadRequest, desc)
		return
	}
	kbJSON, _ := json.Marshal(kb)
	oldJSON, _ := json.Marshal(m.Keyboard)
	if p["text"] == m.Text && string(kbJSON) == string(oldJSON) {
		fail(w, http.StatusBadRequest, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
		return
	}
	m.Text, m.Plain, m.Keyboard = p["text"], plain, kb
	m.Edits++
	reply(w, s.wire(m))
}

func (s *Server) answerCallbackQuery(w http.ResponseWriter, p params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := p["callback_query_id"]
	if !s.queries[id] {
		fail(w, http.StatusBadRequest, "Bad Request: query is too old and response timeout expired or query ID is invalid")
		return
	}
	if utf8.RuneCountInString(p["text"]) > 200 {
		fail(w, http.StatusBadRequest, "Bad Request: MESSAGE_TOO_LONG")
		return
	}
	delete(s.queries, id)
	s.answers = append(s.answers, Answer{QueryID: id, Text: p["text"], Alert: p["show_alert"] == "true"})
	reply(w, true)
}

var commandRe = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

func (s *Server) setMyCommands(w http.ResponseWriter, p params) {
	var cmds []map[string]string
	if err := json.Unmarshal([]byte(p["commands"]), &cmds); err != nil || len(cmds) == 0 || len(cmds) > 100 {
		fail(w, http.StatusBadRequest, "Bad Request: BOT_COMMANDS_TOO_MUCH")
		return
	}
	for _, c := range cmds {
		if !commandRe.MatchString(c["command"]) {
			fail(w, http.StatusBadRequest, "Bad Request: BOT_COMMAND_INVALID")
			return
		}
		if n := utf8.RuneCountInString(c["description"]); n == 0 || n > 256 {
			fail(w, http.StatusBadRequest, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
			return
		}
	}
	s.mu.Lock()
	s.commands[p["language_code"]] = cmds
	s.mu.Unlock()
	reply(w, true)
}

// Commands returns the command menu registered for a language ("" for the
// default).
func (s *Server) Commands(lang string) []map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commands[lang]
}

// Webhook returns the last setWebhook or deleteWebhook parameters.
func (s *Server) Webhook() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhook
}

func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, p params) {
	offset := p.int64("offset")
	timeout := min(time.Duration(p.int("timeout"))*time.Second, 300*time.Millisecond)
	deadline := time.Now().Add(timeout)
	for {
		s.mu.Lock()
		var out []map[string]any
		var keep []map[string]any
		for _, u := range s.updates {
			id := u["update_id"].(int64)
			if offset > 0 && id < offset {
				continue // confirmed by the offset
			}
			keep = append(keep, u)
			out = append(out, u)
		}
		s.updates = keep
		s.mu.Unlock()
		if len(out) > 0 || time.Now().After(deadline) {
			if out == nil {
				out = []map[string]any{}
			}
			reply(w, out)
			return
		}
		select {
		case <-s.arrived:
		case <-time.After(time.Until(deadline)):
		case <-r.Context().Done():
			return
		}
	}
}

func (s *Server) push(u map[string]any) int64 {
	s.nextUpd++
	u["update_id"] = s.nextUpd
	s.updates = append(s.updates, u)
	select {
	case s.arrived <- struct{}{}:
	default:
	}
	return s.nextUpd
}

// Pending reports how many updates are not yet confirmed by an offset.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.updates)
}

// Say is a person writing in a group (replying to a message when replyTo
// is not 0, in a forum topic when topic is not 0). It returns the update
// (for webhook tests) and the message's id.
func (s *Server) Say(chat, from int64, name, text string, replyTo, topic int) (map[string]any, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextMsg[chat]++
	m := &Message{ChatID: chat, ID: s.nextMsg[chat], Topic: topic, ReplyTo: replyTo, Text: text, Plain: text}
	s.messages = append(s.messages, m)
	wm := map[string]any{"message_id": m.ID, "date": 1764032400, "text": text,
		"chat": map[string]any{"id": chat, "type": "supergroup", "title": "group"},
		"from": map[string]any{"id": from, "is_bot": false, "first_name": name}}
	if topic != 0 {
		wm["message_thread_id"], wm["is_topic_message"] = topic, true
	}
	if replyTo != 0 {
		if r := s.find(chat, replyTo); r != nil {
			wm["reply_to_message"] = s.wire(r)
		}
	} else if topic != 0 {
		wm["reply_to_message"] = map[string]any{"message_id": topic, "date": 1, "chat": map[string]any{"id": chat, "type": "supergroup"}}
	}
	if strings.HasPrefix(text, "/") {
		word, _, _ := strings.Cut(text, " ")
		wm["entities"] = []map[string]any{{"type": "bot_command", "offset": 0, "length": utf8.RuneCountInString(word)}}
	}
	u := map[string]any{"message": wm}
	s.push(u)
	return u, m.ID
}

// Telegram's fake senders: an anonymous group admin, and the service
// account that forwards a linked channel's posts into its discussion group.
const (
	GroupAnonymousBot int64 = 1087968824
	ServiceTelegram   int64 = 777000
)

// SayAnonymous is an anonymous admin of a group writing in it: as the Bot
// API sends it, from is the fake user GroupAnonymousBot (a bot) and
// sender_chat is the group itself, with its title. It returns the update
// and the message's id.
func (s *Server) SayAnonymous(chat int64, title, text string) (map[string]any, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.person(chat, text)
	group := map[string]any{"id": chat, "type": "supergroup", "title": title}
	u := map[string]any{"message": map[string]any{"message_id": id, "date": 1764032400, "text": text, "chat": group,
		"sender_chat": group,
		"from":        map[string]any{"id": GroupAnonymousBot, "is_bot": true, "first_name": "Group", "username": "GroupAnonymousBot"}}}
	s.push(u)
	return u, id
}

// AutoForward is a post of a channel that Telegram forwards by itself into
// the channel's discussion group: from is the service account Telegram
// (777000), sender_chat the channel, and is_automatic_forward is true. It
// returns the update and the message's id in the group.
func (s *Server) AutoForward(group, channel int64, text string) (map[string]any, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.person(group, text)
	ch := map[string]any{"id": channel, "type": "channel", "title": "channel"}
	u := map[string]any{"message": map[string]any{"message_id": id, "date": 1764032400, "text": text,
		"chat":        map[string]any{"id": group, "type": "supergroup", "title": "group"},
		"sender_chat": ch, "is_automatic_forward": true,
		"forward_origin": map[string]any{"type": "channel", "date": 1764032300, "chat": ch, "message_id": 9},
		"from":           map[string]any{"id": ServiceTelegram, "is_bot": false, "first_name": "Telegram"}}}
	s.push(u)
	return u, id
}

// person keeps a message someone (not the bot) wrote in a chat and returns
// its id.
func (s *Server) person(chat int64, text string) int {
	s.nextMsg[chat]++
	m := &Message{ChatID: chat, ID: s.nextMsg[chat], Text: text, Plain: text}
	s.messages = append(s.messages, m)
	return m.ID
}

// Press is a person pressing an inline button of a bot message. It returns
// the update and the callback query's id.
func (s *Server) Press(chat int64, messageID int, from int64, name, data string) (map[string]any, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg := map[string]any{"message_id": messageID, "date": 1, "chat": map[string]any{"id": chat, "type": "supergroup"}}
	if m := s.find(chat, messageID); m != nil {
		msg = s.wire(m)
	}
	return s.press(from, name, data, "message", msg)
}

// PressOld is a person pressing a button of a bot message older than 48
// hours: Telegram no longer gives the bot its content, and the callback
// query's message is an InaccessibleMessage (its chat and id, date 0).
func (s *Server) PressOld(chat int64, messageID int, from int64, name, data string) (map[string]any, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.press(from, name, data, "message",
		map[string]any{"message_id": messageID, "date": 0, "chat": map[string]any{"id": chat, "type": "supergroup"}})
}

// PressInline is a person pressing a button of a message sent via the bot
// in inline mode: the callback query has inline_message_id and no message.
func (s *Server) PressInline(inlineMessageID string, from int64, name, data string) (map[string]any, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.press(from, name, data, "inline_message_id", inlineMessageID)
}

// press queues a callback query whose origin (message or
// inline_message_id) is where, and makes it answerable once.
func (s *Server) press(from int64, name, data, where string, origin any) (map[string]any, string) {
	s.nextQuery++
	id := fmt.Sprintf("q%d", s.nextQuery)
	s.queries[id] = true
	u := map[string]any{"callback_query": map[string]any{"id": id, "data": data, "chat_instance": "ci",
		"from": map[string]any{"id": from, "is_bot": false, "first_name": name}, where: origin}}
	s.push(u)
	return u, id
}

// Messages returns copies of the bot's and people's messages in a chat.
func (s *Server) Messages(chat int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if m.ChatID == chat {
			out = append(out, *m)
		}
	}
	return out
}

// BotMessages returns the bot's messages in a chat.
func (s *Server) BotMessages(chat int64) []Message {
	var out []Message
	for _, m := range s.Messages(chat) {
		if m.FromBot {
			out = append(out, m)
		}
	}
	return out
}

// Answers returns the answered callback queries.
func (s *Server) Answers() []Answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Answer(nil), s.answers...)
}
