package chat_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/slakeeper/slakeeper/bot/chat"
)

func TestRegistry(t *testing.T) {
	on := func(getenv func(string) string) bool { return getenv("B_TOKEN") != "" }
	r := chat.NewRegistry(chat.Platform{Name: "alpha"}, chat.Platform{Name: "beta", Enabled: on,
		CheckUserID: func(id string) error {
			if !strings.HasPrefix(id, "b") {
				return errors.New("not a beta id")
			}
			return nil
		}})
	if got := strings.Join(r.Names(), ","); got != "alpha,beta" {
		t.Fatalf("names %q", got)
	}
	if _, ok := r.Lookup("beta"); !ok {
		t.Fatal("beta not found")
	}
	env := map[string]string{"B_TOKEN": "x"}
	if got := r.Enabled(func(k string) string { return env[k] }); len(got) != 1 || got[0].Name != "beta" {
		t.Fatalf("enabled %+v", got)
	}
	if got := r.Enabled(func(string) string { return "" }); len(got) != 0 {
		t.Fatalf("enabled without its variable: %+v", got)
	}
	for _, c := range []struct{ platform, id, want string }{
		{"alpha", "anything", ""},
		{"alpha", " ", "the alpha id is missing"},
		{"beta", "b1", ""},
		{"beta", "x1", "not a beta id"},
		{"gamma", "g1", `"gamma" is not a platform: use alpha or beta`},
	} {
		err := r.CheckUserID(c.platform, c.id)
		if (err == nil) != (c.want == "") || (err != nil && err.Error() != c.want) {
			t.Errorf("CheckUserID(%q, %q) = %v, want %q", c.platform, c.id, err, c.want)
		}
	}
	for _, bad := range [][]chat.Platform{{{Name: ""}}, {{Name: "Slack"}}, {{Name: "a"}, {Name: "a"}}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("registry of %+v accepted", bad)
				}
			}()
			chat.NewRegistry(bad...)
		}()
	}
}
