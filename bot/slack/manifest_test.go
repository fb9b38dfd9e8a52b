package slack_test

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/slakeeper/slakeeper/bot/slack"
	"github.com/slakeeper/slakeeper/commands"
)

// The app manifest registers every command, the umbrella, the events and
// the interactivity the adapter relies on.
func TestManifestMatchesTheCommands(t *testing.T) {
	b, err := os.ReadFile("../../examples/slack-manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Features struct {
			Shortcuts []struct {
				Name        string `yaml:"name"`
				Type        string `yaml:"type"`
				CallbackID  string `yaml:"callback_id"`
				Description string `yaml:"description"`
			} `yaml:"shortcuts"`
			SlashCommands []struct {
				Command string `yaml:"command"`
				URL     string `yaml:"url"`
			} `yaml:"slash_commands"`
		} `yaml:"features"`
		OAuth struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
		Settings struct {
			Events struct {
				URL    string   `yaml:"request_url"`
				Events []string `yaml:"bot_events"`
			} `yaml:"event_subscriptions"`
			Interactivity struct {
				Enabled bool   `yaml:"is_enabled"`
				URL     string `yaml:"request_url"`
			} `yaml:"interactivity"`
			SocketMode bool `yaml:"socket_mode_enabled"`
		} `yaml:"settings"`
	}
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, c := range m.Features.SlashCommands {
		have[c.Command] = true
		if !strings.HasSuffix(c.URL, "/slack/commands") {
			t.Errorf("%s posts to %s", c.Command, c.URL)
		}
	}
	for _, d := range append(commands.Defs, commands.Def{Name: commands.Umbrella}) {
		switch {
		case slackBuiltIn[d.Name] && have["/"+d.Name]:
			t.Errorf("/%s is Slack's own command: reach it as /%s %s", d.Name, commands.Umbrella, d.Name)
		case !slackBuiltIn[d.Name] && !have["/"+d.Name]:
			t.Errorf("the manifest lacks /%s", d.Name)
		}
	}
	if !have["/"+commands.Umbrella] {
		t.Fatalf("the manifest lacks the umbrella /%s", commands.Umbrella)
	}
	// The message shortcut is how to act inside a thread (slash commands do
	// not run there); the schema's limits hold.
	found := false
	for _, sc := range m.Features.Shortcuts {
		if utf8.RuneCountInString(sc.Name) > 24 || utf8.RuneCountInString(sc.Description) > 150 || sc.Type != "message" && sc.Type != "global" {
			t.Errorf("shortcut %+v breaks the manifest schema's limits", sc)
		}
		found = found || sc.Type == "message" && sc.CallbackID == slack.ShortcutID
	}
	if !found {
		t.Errorf("the manifest lacks the message shortcut %q", slack.ShortcutID)
	}
	scopes := strings.Join(m.OAuth.Scopes.Bot, " ")
	for _, s := range []string{"chat:write", "commands", "channels:history", "groups:history"} {
		if !strings.Contains(scopes, s) {
			t.Errorf("missing scope %s", s)
		}
	}
	if !strings.HasSuffix(m.Settings.Events.URL, "/slack/events") || !strings.HasSuffix(m.Settings.Interactivity.URL, "/slack/interactions") ||
		!m.Settings.Interactivity.Enabled || !m.Settings.SocketMode || len(m.Settings.Events.Events) == 0 {
		t.Errorf("settings %+v", m.Settings)
	}
}

// slackBuiltIn are Slack's own slash commands: an app cannot take them
// over, so slakeeper's commands of those names are reached through the
// umbrella (/sla status).
var slackBuiltIn = map[string]bool{"status": true, "away": true, "active": true, "dnd": true, "invite": true,
	"remind": true, "msg": true, "dm": true, "who": true, "me": true, "shrug": true, "topic": true, "leave": true,
	"join": true, "archive": true, "collapse": true, "expand": true, "feed": true, "search": true, "mute": true,
	"rename": true, "open": true, "prefs": true, "shortcuts": true, "feedback": true, "apps": true, "remove": true}
