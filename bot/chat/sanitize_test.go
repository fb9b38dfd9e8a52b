package chat

import (
	"testing"
	"unicode/utf8"
)

func TestSanitize(t *testing.T) {
	for _, c := range []struct {
		in, want string
		changed  bool
	}{
		{"集群宕机了", "集群宕机了", false},
		{"集群\x00宕机了", "集群宕机了", true},
		{"tab\there\nline\r\n", "tab\there\nline\r\n", false},
		{"bell\a esc\x1b del\x7f", "bell esc del", true},
		{"bad \xff\xfe bytes", "bad  bytes", true},
		{"half \xe5\x9b", "half ", true},
		{"non\uFFFEchar\uFFFF \U0001FFFF \uFDD0", "nonchar  ", true},
		{"replacement \uFFFD kept", "replacement \uFFFD kept", false},
		{"emoji 🔥 kept", "emoji 🔥 kept", false},
		{"", "", false},
	} {
		got, changed := Sanitize(c.in)
		if got != c.want || changed != c.changed {
			t.Errorf("Sanitize(%q) = %q, %v; want %q, %v", c.in, got, changed, c.want, c.changed)
		}
	}
}

func TestExcerpt(t *testing.T) {
	if got := Excerpt([]byte("集群\x00宕机了"), 7); got != "集群…" {
		t.Fatalf("excerpt %q", got)
	}
	if got := Excerpt([]byte("short"), 100); got != "short" {
		t.Fatalf("excerpt %q", got)
	}
}

func FuzzSanitize(f *testing.F) {
	f.Add("集群\x00宕机了")
	f.Add("\xff\ufffe\t")
	f.Fuzz(func(t *testing.T, s string) {
		got, changed := Sanitize(s)
		if !utf8.ValidString(got) {
			t.Fatalf("%q: invalid UTF-8 %q", s, got)
		}
		for _, r := range got {
			if bad(r) {
				t.Fatalf("%q: kept %U", s, r)
			}
		}
		if again, ch := Sanitize(got); again != got || ch {
			t.Fatalf("%q: not idempotent", s)
		}
		if changed != (got != s) {
			t.Fatalf("%q: changed %v", s, changed)
		}
	})
}
