// Package console is the terminal adapter: one person at a keyboard plays
// customers and engineers, sees what the bot posts, and moves a manual clock
// forward to watch deadlines pass. The bot's messages reach the terminal
// through the same outbox and dispatcher as on the chat platforms.
package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/commands"
	"github.com/slakeeper/slakeeper/sla"
)

// Runtime is what the console needs of the runtime besides the router.
type Runtime interface {
	// Step fires the timers and calendar posts due now and delivers the
	// outbox (through Console.Send).
	Step(ctx context.Context) error
	// ThreadOf is the thread incident id is discussed in, in a chat.
	ThreadOf(ctx context.Context, id int64, platform, chatID string) (thread string, ok bool, err error)
}

// Console runs the terminal session. It is also the chat.Sender for the
// console platform.
type Console struct {
	// Handler takes what is typed: the router.
	Handler chat.Handler
	// Runtime moves the bot along after each line.
	Runtime Runtime
	Dir     *sla.Directory
	Clock   *chat.ManualClock
	Out     io.Writer
	// Echo repeats each input line after the prompt, for input that is not a
	// terminal, so that a transcript reads like a session.
	Echo bool

	mu     sync.Mutex
	as     sla.Person
	chat   string
	thread string
	seq    int
	run    string
}

// Send prints a message the bot posts. It implements chat.Sender.
func (c *Console) Send(_ context.Context, m chat.Outbound) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	where := "#" + m.ChatID
	if m.ThreadID != "" && m.IncidentID != 0 {
		where += fmt.Sprintf(" ↳ #%d", m.IncidentID)
	} else if m.ThreadID != "" {
		where += " ↳ thread"
	}
	text := m.Text
	if f := m.File; f != nil {
		// A terminal shows a text file and names any other.
		text = fmt.Sprintf("📎 %s (%s, %d bytes)", f.Name, f.Type, len(f.Data))
		if strings.HasPrefix(f.Type, "text/") {
			text += "\n" + strings.TrimRight(string(f.Data), "\n")
		}
	}
	for i := len(m.Mentions) - 1; i >= 0; i-- {
		name := m.Mentions[i]
		if p, ok := c.Dir.Person(name); ok {
			name = p.Name
		}
		text = "@" + name + " " + text
	}
	if m.Card != nil && len(m.Card.Actions) > 0 {
		// The card's buttons, with the command each runs: typing it is
		// pressing it.
		var bs []string
		for _, a := range m.Card.Actions {
			if line, ok := chat.ActionCommand(a.ID, strconv.FormatInt(m.Card.IncidentID, 10)); ok {
				if a.ID == "restore" {
					line = "/restore " + strconv.FormatInt(m.Card.IncidentID, 10) + " …"
				}
				bs = append(bs, "["+a.Label+" = "+line+"]")
			}
		}
		text += "\n" + strings.Join(bs, " ")
	}
	arrow := "→"
	if m.EditRef != "" {
		arrow = "✎" // the card, edited in place on platforms that can
		where += " card"
	}
	fmt.Fprintf(c.Out, "  bot %s [%s] %s\n", arrow, where, indent(text))
	if m.EditRef != "" {
		return m.EditRef, nil
	}
	c.seq++
	return fmt.Sprintf("console-%s-%d", c.run, c.seq), nil
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n        ") }

// Run reads lines from in until it ends or ctx is cancelled.
func (c *Console) Run(ctx context.Context, in io.Reader) error {
	c.run = strconv.FormatInt(c.Clock.Now().UnixNano(), 36)
	dir := c.Dir
	if p, ok := dir.FindPerson("li"); ok {
		c.switchTo(p)
	} else if ps := dir.People(); len(ps) > 0 {
		c.switchTo(ps[0])
	}
	fmt.Fprintln(c.Out, help)
	c.status()
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for {
		fmt.Fprintf(c.Out, "%s@%s%s> ", c.as.Name, c.chat, c.threadLabel())
		if !sc.Scan() {
			fmt.Fprintln(c.Out)
			return sc.Err()
		}
		line := strings.TrimSpace(sc.Text())
		if c.Echo {
			fmt.Fprintln(c.Out, line)
		}
		if line == "" {
			continue
		}
		if quit := c.line(ctx, line); quit {
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

const help = `slakeeper console — play customers and engineers; the bot answers here.
  /as <person>       speak as someone (/who lists them)
  /in <channel>      move to a channel (/where lists them)
  /thread <id>       speak inside incident <id>'s thread; /thread alone leaves it
  /advance <dur>     move the clock forward, e.g. /advance 25m: due reminders and escalations fire
  /now  /who  /where  /quit
Anything else is a chat message or a bot command (/help lists them).`

func (c *Console) threadLabel() string {
	if c.thread == "" {
		return ""
	}
	return "↳thread"
}

func (c *Console) switchTo(p sla.Person) {
	c.as, c.thread = p, ""
	dir := c.Dir
	kind, cust := sla.ChannelEngineering, ""
	if p.Role == sla.RoleCustomer {
		kind, cust = sla.ChannelCustomer, p.CustomerID
	}
	for _, ch := range dir.Channels(kind, cust) {
		if ch.Platform == chat.PlatformConsole {
			c.chat = ch.ChatID
			return
		}
	}
}

func (c *Console) status() {
	fmt.Fprintf(c.Out, "  (you are %s [%s], in #%s; clock %s)\n", c.as.Name, c.as.Role, c.chat,
		c.Clock.Now().In(c.Dir.Zone).Format("2006-01-02 15:04 MST"))
}

// line handles one input line; it reports whether to quit.
func (c *Console) line(ctx context.Context, line string) bool {
	word, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	dir := c.Dir
	switch word {
	case "/quit", "/exit":
		return true
	case "/now":
		c.status()
		return false
	case "/who":
		for _, p := range dir.People() {
			who := string(p.Role)
			if p.CustomerID != "" {
				who += " of " + p.CustomerID
			}
			fmt.Fprintf(c.Out, "  %-8s %s (%s, %s)\n", p.ID, p.Name, who, p.Lang)
		}
		return false
	case "/where":
		for _, k := range []sla.ChannelKind{sla.ChannelCustomer, sla.ChannelEngineering, sla.ChannelManagers} {
			for _, ch := range dir.Channels(k, "") {
				if ch.Platform == chat.PlatformConsole {
					fmt.Fprintf(c.Out, "  #%-8s %s %s\n", ch.ChatID, ch.Kind, ch.CustomerID)
				}
			}
		}
		return false
	case "/as":
		p, ok := dir.FindPerson(rest)
		if !ok {
			fmt.Fprintf(c.Out, "  no person %q; /who lists them\n", rest)
			return false
		}
		c.switchTo(p)
		c.status()
		return false
	case "/in":
		ch, ok := dir.Channel(chat.PlatformConsole, strings.TrimPrefix(rest, "#"))
		if !ok {
			fmt.Fprintf(c.Out, "  no channel %q; /where lists them\n", rest)
			return false
		}
		c.chat, c.thread = ch.ChatID, ""
		return false
	case "/thread":
		c.enterThread(ctx, rest)
		return false
	case "/advance":
		d, err := commands.ParseDuration(rest)
		if err != nil || d <= 0 {
			fmt.Fprintf(c.Out, "  say how far, e.g. /advance 30m or /advance 2h\n")
			return false
		}
		c.Clock.Advance(d)
		c.status()
		c.flush(ctx)
		return false
	}
	c.seq++
	in := chat.Inbound{Platform: chat.PlatformConsole, ChatID: c.chat, ThreadID: c.thread,
		MessageID: fmt.Sprintf("%s-%d", c.run, c.seq), UserID: c.as.ID, UserName: c.as.Name, Text: line,
		InBand: true} // the terminal shows a command's answer under it
	replies, err := c.Handler.Handle(ctx, in)
	if err != nil {
		fmt.Fprintf(c.Out, "  error: %v\n", err)
	}
	for _, r := range replies {
		fmt.Fprintf(c.Out, "  bot (to you): %s\n", indent(r.Text))
	}
	c.flush(ctx)
	return false
}

func (c *Console) enterThread(ctx context.Context, arg string) {
	if arg == "" {
		c.thread = ""
		return
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(arg, "#"), 10, 64)
	if err != nil {
		fmt.Fprintf(c.Out, "  /thread takes an incident number\n")
		return
	}
	thread, ok, err := c.Runtime.ThreadOf(ctx, id, chat.PlatformConsole, c.chat)
	if err != nil {
		fmt.Fprintf(c.Out, "  error: %v\n", err)
		return
	}
	if ok {
		c.thread = thread
		return
	}
	fmt.Fprintf(c.Out, "  incident #%d has no thread in #%s\n", id, c.chat)
}

// flush fires the timers due now and delivers the outbox through the
// dispatcher.
func (c *Console) flush(ctx context.Context) {
	if err := c.Runtime.Step(ctx); err != nil {
		fmt.Fprintf(c.Out, "  error: %v\n", err)
	}
}
