// Package fakeslack is a fake Slack for tests and benchmarks: a Web API
// (auth.test, chat.postMessage, chat.update, the three steps of a file
// upload, apps.connections.open) that
// checks what Slack checks — the token, that the channel exists, message and
// Block Kit limits — a Socket Mode WebSocket, response_url endpoints (which
// can be held, as a slow Slack would), and rate limiting on demand.
package fakeslack

import (
	"crypto/hmac"
	"crypto/sha256"
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
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// Message is a message as the fake Slack holds it.
type Message struct {
	Channel   string
	TS        string
	ThreadTS  string
	Broadcast bool
	Text      string
	Blocks    []map[string]any
	Edits     int
	// Files are the files shared with the message (uploads).
	Files []File
}

// File is an uploaded file.
type File struct {
	ID, Name, Title string
	Data            []byte
}

// Server is the fake Slack.
type Server struct {
	*httptest.Server
	BotToken string
	AppToken string

	mu        sync.Mutex
	channels  map[string]bool
	messages  []*Message
	responses []map[string]any
	seq       int
	limitNext int // answer this many posts with 429
	limitFor  int // seconds, the Retry-After
	failNext  int // answer this many posts with 500
	calls     map[string]int
	sockets   []*websocket.Conn
	acks      map[string]json.RawMessage
	said      []*Message // people's messages, for thread_ts checks
	uploads   map[string]*upload

	writeMu sync.Mutex // a WebSocket takes one writer at a time
	// changed is closed and replaced whenever a response or an ack
	// arrives, a client connects, or a response_url request starts or
	// stops waiting.
	changed chan struct{}
	hold    chan struct{} // while not nil, response_url requests wait for it to close
	held    int           // response_url requests waiting

	// Slack's special limit of chat.postMessage: about one message a second
	// per channel, with bursts (ChannelLimit).
	perChannel time.Duration
	burst      int
	buckets    map[string]*bucket
	limited    int       // posts answered 429
	quietUntil time.Time // the latest Retry-After given
	impatient  int       // posts that came before it
}

// bucket is one channel's allowance.
type bucket struct {
	tokens float64
	last   time.Time
}

// upload is a file between files.getUploadURLExternal and
// files.completeUploadExternal.
type upload struct {
	name   string
	length int
	data   []byte
	done   bool
}

// New starts a fake Slack that knows the given channels.
func New(botToken, appToken string, channels ...string) *Server {
	s := &Server{BotToken: botToken, AppToken: appToken, channels: map[string]bool{}, calls: map[string]int{}, acks: map[string]json.RawMessage{},
		uploads: map[string]*upload{}, buckets: map[string]*bucket{}, changed: make(chan struct{})}
	for _, c := range channels {
		s.channels[c] = true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/auth.test", s.authed(func(w http.ResponseWriter, r *http.Request) {
		reply(w, map[string]any{"ok": true, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1", "user": "slakeeper"})
	}))
	mux.HandleFunc("POST /api/chat.postMessage", s.authed(s.post))
	mux.HandleFunc("POST /api/chat.update", s.authed(s.update))
	mux.HandleFunc("POST /api/files.getUploadURLExternal", s.authed(s.uploadURL))
	mux.HandleFunc("POST /upload/{id}", s.upload)
	mux.HandleFunc("POST /api/files.completeUploadExternal", s.authed(s.completeUpload))
	mux.HandleFunc("POST /api/apps.connections.open", s.openSocket)
	mux.HandleFunc("GET /socket", s.socket)
	mux.HandleFunc("POST /response/{id}", s.response)
	s.Server = httptest.NewServer(mux)
	return s
}

// Close releases the response_url requests being held and stops the
// server.
func (s *Server) Close() {
	s.ReleaseResponses()
	s.Server.Close()
}

// response is a response_url: a JSON message (Slack takes JSON there) that
// answers a command or a click, recorded unless the request gives up while
// the endpoint is held.
func (s *Server) response(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	if blocks, ok := body["blocks"]; ok {
		// An ephemeral answer with blocks is held to the same Block Kit
		// rules as a posted message.
		raw, _ := json.Marshal(blocks)
		text, _ := body["text"].(string)
		if _, bad := checkMessage(text, string(raw)); bad != "" {
			http.Error(w, bad, http.StatusBadRequest)
			return
		}
	}
	body["_id"] = r.PathValue("id")
	s.mu.Lock()
	if hold := s.hold; hold != nil {
		s.held++
		s.notify()
		s.mu.Unlock()
		var gone bool
		select {
		case <-hold:
		case <-r.Context().Done():
			gone = true
		}
		s.mu.Lock()
		s.held--
		s.notify()
		if gone {
			s.mu.Unlock()
			return
		}
	}
	s.responses = append(s.responses, body)
	s.notify()
	s.mu.Unlock()
	w.Write([]byte("ok"))
}

// notify wakes the waiters; s.mu is held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitFor waits up to timeout for cond, checked with s.mu held, to be true.
func (s *Server) waitFor(timeout time.Duration, cond func() bool) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		s.mu.Lock()
		ok, changed := cond(), s.changed
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-changed:
		case <-t.C:
			return false
		}
	}
}

// HoldResponses makes response_url requests wait, as a slow or hung Slack
// would, until ReleaseResponses; a request that gives up meanwhile is not
// recorded.
func (s *Server) HoldResponses() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold == nil {
		s.hold = make(chan struct{})
	}
}

// ReleaseResponses lets the held response_url requests through and stops
// holding new ones.
func (s *Server) ReleaseResponses() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold != nil {
		close(s.hold)
		s.hold = nil
	}
}

// WaitHeld waits up to timeout for n response_url requests to be held, and
// reports whether they are.
func (s *Server) WaitHeld(n int, timeout time.Duration) bool {
	return s.waitFor(timeout, func() bool { return s.held >= n })
}

// WaitResponse waits up to timeout for an answer posted to the
// response_url of id (see ResponseURL) and returns the first one.
func (s *Server) WaitResponse(id string, timeout time.Duration) (map[string]any, bool) {
	var got map[string]any
	ok := s.waitFor(timeout, func() bool {
		for _, r := range s.responses {
			if r["_id"] == id {
				got = r
				return true
			}
		}
		return false
	})
	return got, ok
}

// APIURL is the Web API base URL to give the adapter.
func (s *Server) APIURL() string { return s.URL + "/api/" }

// ResponseURL returns a response_url for a command or a click.
func (s *Server) ResponseURL(id string) string { return s.URL + "/response/" + id }

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, code string) { reply(w, map[string]any{"ok": false, "error": code}) }

// authed checks the bot token, from the form or the Authorization header,
// as Slack does.
func (s *Server) authed(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			fail(w, "invalid_form_data")
			return
		}
		tok := r.PostForm.Get("token")
		if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
			tok = strings.TrimPrefix(h, "Bearer ")
		}
		if tok == "" {
			fail(w, "not_authed")
			return
		}
		if tok != s.BotToken {
			fail(w, "invalid_auth")
			return
		}
		s.mu.Lock()
		s.calls[r.URL.Path]++
		s.mu.Unlock()
		next(w, r)
	}
}

// Calls reports how often a Web API method was called with a valid token.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls["/api/"+method]
}

// RateLimit answers the next n posts with 429 and Retry-After.
func (s *Server) RateLimit(n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limitNext, s.limitFor = n, int(retryAfter/time.Second)
}

// ChannelLimit makes chat.postMessage keep Slack's per-channel limit: one
// message every every, with bursts of burst; a post over it is answered 429
// with a Retry-After of the time until the channel has room again.
func (s *Server) ChannelLimit(every time.Duration, burst int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.perChannel, s.burst = every, burst
}

// Limited is how many posts were answered 429.
func (s *Server) Limited() int { s.mu.Lock(); defer s.mu.Unlock(); return s.limited }

// Impatient is how many posts came while a Retry-After given earlier had
// not run out, as Slack counts a client that does not honour it.
func (s *Server) Impatient() int { s.mu.Lock(); defer s.mu.Unlock(); return s.impatient }

// tooMany answers 429 with a Retry-After of at least after (whole seconds,
// as Slack gives it).
func (s *Server) tooMany(w http.ResponseWriter, after time.Duration) {
	secs := int((after + time.Second - 1) / time.Second)
	s.limited++
	if until := time.Now().Add(time.Duration(secs) * time.Second); until.After(s.quietUntil) {
		s.quietUntil = until
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	w.WriteHeader(http.StatusTooManyRequests)
}

// overLimit spends a token of the channel's bucket, or says how long until
// there is one.
func (s *Server) overLimit(ch string, now time.Time) (time.Duration, bool) {
	if s.perChannel <= 0 {
		return 0, false
	}
	b, ok := s.buckets[ch]
	if !ok {
		b = &bucket{tokens: float64(s.burst), last: now}
		s.buckets[ch] = b
	}
	b.tokens = min(float64(s.burst), b.tokens+float64(now.Sub(b.last))/float64(s.perChannel))
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, false
	}
	return time.Duration((1 - b.tokens) * float64(s.perChannel)), true
}

// FailNext answers the next n posts with 500.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = n
}

// checkMessage applies Slack's limits to text and blocks.
func checkMessage(text, blocksJSON string) ([]map[string]any, string) {
	if text == "" && blocksJSON == "" {
		return nil, "no_text"
	}
	if utf8.RuneCountInString(text) > 40000 {
		return nil, "msg_too_long"
	}
	if blocksJSON == "" {
		return nil, ""
	}
	var blocks []map[string]any
	if err := json.Unmarshal([]byte(blocksJSON), &blocks); err != nil {
		return nil, "invalid_blocks_format"
	}
	if len(blocks) > 50 {
		return nil, "invalid_blocks"
	}
	textLen := func(v any) int {
		m, _ := v.(map[string]any)
		t, _ := m["text"].(string)
		return utf8.RuneCountInString(t)
	}
	for _, b := range blocks {
		switch b["type"] {
		case "header":
			if textLen(b["text"]) == 0 || textLen(b["text"]) > 150 {
				return nil, "invalid_blocks"
			}
		case "section":
			if b["text"] == nil && b["fields"] == nil {
				return nil, "invalid_blocks"
			}
			if b["text"] != nil && textLen(b["text"]) > 3000 {
				return nil, "invalid_blocks"
			}
			fields, _ := b["fields"].([]any)
			if len(fields) > 10 {
				return nil, "invalid_blocks"
			}
			for _, f := range fields {
				if textLen(f) > 2000 {
					return nil, "invalid_blocks"
				}
			}
		case "actions":
			els, _ := b["elements"].([]any)
			if len(els) == 0 || len(els) > 25 {
				return nil, "invalid_blocks"
			}
			for _, e := range els {
				m, _ := e.(map[string]any)
				id, _ := m["action_id"].(string)
				if m["type"] != "button" || textLen(m["text"]) > 75 || id == "" || len(id) > 255 {
					return nil, "invalid_blocks"
				}
			}
		case "context", "divider":
		default:
			return nil, "invalid_blocks"
		}
	}
	return blocks, ""
}

func (s *Server) post(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if now.Before(s.quietUntil) {
		s.impatient++
	}
	if s.limitNext > 0 {
		s.limitNext--
		s.tooMany(w, time.Duration(s.limitFor)*time.Second)
		return
	}
	if s.failNext > 0 {
		s.failNext--
		http.Error(w, "<html>oops</html>", http.StatusInternalServerError)
		return
	}
	ch := r.PostForm.Get("channel")
	if !s.channels[ch] {
		fail(w, "channel_not_found")
		return
	}
	if wait, over := s.overLimit(ch, now); over {
		s.tooMany(w, wait)
		return
	}
	blocks, code := checkMessage(r.PostForm.Get("text"), r.PostForm.Get("blocks"))
	if code != "" {
		fail(w, code)
		return
	}
	thread := r.PostForm.Get("thread_ts")
	if thread != "" && s.find(ch, thread) == nil {
		fail(w, "thread_not_found")
		return
	}
	s.seq++
	m := &Message{Channel: ch, TS: fmt.Sprintf("1700000000.%06d", s.seq), ThreadTS: thread,
		Broadcast: r.PostForm.Get("reply_broadcast") == "true", Text: r.PostForm.Get("text"), Blocks: blocks}
	s.messages = append(s.messages, m)
	reply(w, map[string]any{"ok": true, "channel": ch, "ts": m.TS})
}

func (s *Server) find(ch, ts string) *Message {
	for _, m := range append(s.messages, s.said...) {
		if m.Channel == ch && m.TS == ts {
			return m
		}
	}
	return nil
}

func (s *Server) update(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ts := r.PostForm.Get("channel"), r.PostForm.Get("ts")
	if !s.channels[ch] {
		fail(w, "channel_not_found")
		return
	}
	m := s.find(ch, ts)
	if m == nil {
		fail(w, "message_not_found")
		return
	}
	blocks, code := checkMessage(r.PostForm.Get("text"), r.PostForm.Get("blocks"))
	if code != "" {
		fail(w, code)
		return
	}
	m.Text, m.Blocks = r.PostForm.Get("text"), blocks
	m.Edits++
	reply(w, map[string]any{"ok": true, "channel": ch, "ts": ts, "text": m.Text})
}

// Messages returns copies of the messages in a channel ("" for all), in
// order.
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if channel == "" || m.Channel == channel {
			out = append(out, *m)
		}
	}
	return out
}

// Said records a message a person wrote (it arrives as an event, not
// through the Web API), so that the bot may reply in its thread.
func (s *Server) Said(channel, ts, user, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.said = append(s.said, &Message{Channel: channel, TS: ts, Text: text})
}

// Responses returns what was posted to response_urls.
func (s *Server) Responses() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.responses...)
}

// Sign returns the headers Slack sends with a request: the timestamp and
// the v0 signature of the body.
func Sign(secret string, body []byte, at time.Time) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	return h
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func (s *Server) openSocket(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.AppToken || s.AppToken == "" {
		fail(w, "invalid_auth")
		return
	}
	reply(w, map[string]any{"ok": true, "url": "ws" + strings.TrimPrefix(s.URL, "http") + "/socket"})
}

func (s *Server) socket(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	// Hello first: after it, Deliver is the connection's only writer.
	c.WriteJSON(map[string]any{"type": "hello", "num_connections": 1, "connection_info": map[string]any{"app_id": "A1"}})
	s.mu.Lock()
	s.sockets = append(s.sockets, c)
	s.notify()
	s.mu.Unlock()
	for {
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if err := c.ReadJSON(&ack); err != nil {
			return
		}
		s.mu.Lock()
		if ack.Payload == nil {
			ack.Payload = json.RawMessage("null")
		}
		s.acks[ack.EnvelopeID] = ack.Payload
		s.notify()
		s.mu.Unlock()
	}
}

// Push sends a Socket Mode envelope (type events_api, slash_commands or
// interactive) to the connected client and waits up to timeout for its
// acknowledgement, which it returns (nil if none came).
func (s *Server) Push(typ, envelopeID string, payload any, timeout time.Duration) (json.RawMessage, bool) {
	if err := s.Deliver(typ, envelopeID, payload, timeout); err != nil {
		return nil, false
	}
	return s.Acked(envelopeID, timeout)
}

// Deliver sends a Socket Mode envelope to the connected client, waiting up
// to timeout for one to connect, and does not wait for its
// acknowledgement. Deliveries may run concurrently.
func (s *Server) Deliver(typ, envelopeID string, payload any, timeout time.Duration) error {
	var c *websocket.Conn
	if !s.waitFor(timeout, func() bool {
		if len(s.sockets) > 0 {
			c = s.sockets[len(s.sockets)-1]
		}
		return c != nil
	}) {
		return fmt.Errorf("fakeslack: no Socket Mode client connected")
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return c.WriteJSON(map[string]any{"type": typ, "envelope_id": envelopeID, "payload": json.RawMessage(b),
		"accepts_response_payload": typ != "events_api"})
}

// Acked waits up to timeout for the acknowledgement of an envelope and
// returns its payload ("null" if it had none).
func (s *Server) Acked(envelopeID string, timeout time.Duration) (json.RawMessage, bool) {
	var p json.RawMessage
	ok := s.waitFor(timeout, func() bool {
		var ok bool
		p, ok = s.acks[envelopeID]
		return ok
	})
	return p, ok
}

// uploadURL is files.getUploadURLExternal: a file name and its length in,
// an upload URL and a file id out.
func (s *Server) uploadURL(w http.ResponseWriter, r *http.Request) {
	name := r.PostForm.Get("filename")
	n, err := strconv.Atoi(r.PostForm.Get("length"))
	if name == "" || err != nil || n <= 0 {
		fail(w, "invalid_arguments")
		return
	}
	if n > 1<<20 {
		fail(w, "file_too_large") // our own bound; Slack's is 1 GB
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	id := fmt.Sprintf("F%06d", s.seq)
	s.uploads[id] = &upload{name: name, length: n}
	reply(w, map[string]any{"ok": true, "upload_url": s.URL + "/upload/" + id, "file_id": id})
}

// upload receives the file's bytes (a multipart form, as the client sends
// them); their length must be the one announced.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	f, _, err := r.FormFile("file")
	if err != nil {
		http.Error(w, "no file", http.StatusBadRequest)
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 1<<20+1))
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.uploads[r.PathValue("id")]
	if !ok || len(data) != u.length {
		http.Error(w, "unknown upload or wrong length", http.StatusBadRequest)
		return
	}
	u.data = data
	w.Write([]byte("OK - " + strconv.Itoa(len(data))))
}

// completeUpload is files.completeUploadExternal: the uploaded files are
// shared in a channel (and thread) as one message.
func (s *Server) completeUpload(w http.ResponseWriter, r *http.Request) {
	var files []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal([]byte(r.PostForm.Get("files")), &files); err != nil || len(files) == 0 {
		fail(w, "invalid_arguments")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := r.PostForm.Get("channel_id")
	if !s.channels[ch] {
		fail(w, "channel_not_found")
		return
	}
	thread := r.PostForm.Get("thread_ts")
	if thread != "" && s.find(ch, thread) == nil {
		fail(w, "thread_not_found")
		return
	}
	s.seq++
	m := &Message{Channel: ch, TS: fmt.Sprintf("1700000000.%06d", s.seq), ThreadTS: thread, Text: r.PostForm.Get("initial_comment")}
	var out []map[string]any
	for _, f := range files {
		u, ok := s.uploads[f.ID]
		if !ok || u.data == nil || u.done {
			fail(w, "file_not_found")
			return
		}
		u.done = true
		m.Files = append(m.Files, File{ID: f.ID, Name: u.name, Title: f.Title, Data: u.data})
		out = append(out, map[string]any{"id": f.ID, "title": f.Title})
	}
	s.messages = append(s.messages, m)
	reply(w, map[string]any{"ok": true, "files": out})
}
