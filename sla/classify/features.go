package classify

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// A feature is one fact about a message that the model weighs: a Chinese
// character n-gram ("h2:宕机"), an English word or word pair ("w:down",
// "b:not_down"), a character n-gram of an English word for typos
// ("c:unav"), or a cue from the lexicons below ("L:outage"), which carry
// what the corpus cannot show often enough: negation, breadth, impact,
// resolution, questions, the past and the hypothetical.
type feature struct {
	name   string
	phrase string // the words of the message behind it, for the evidence
}

// normalize folds full-width forms to ASCII, lower-cases, and turns the
// line-break mark of the corpus into a space.
func normalize(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	for _, r := range text {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
			r -= 0xFEE0
		case r == 0x3000 || r == '⏎' || r == '\u00a0':
			r = ' '
		case r == '。' || r == '、':
			r = ','
		case r == utf8.RuneError:
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

// tokens splits normalised text into runs: Chinese runs (han characters)
// and English words (letters, digits, apostrophes, dots and dashes inside a
// word). Anything else separates runs; a clause break ("，", ".", "!")
// is kept as the token "|" so that word pairs do not cross it.
type token struct {
	text string
	han  bool
}

func tokenize(norm string) []token {
	var out []token
	var cur []rune
	curHan := false
	flush := func() {
		if len(cur) > 0 {
			w := string(cur)
			if !curHan {
				w = strings.Trim(w, "'.-_")
			}
			if w != "" {
				out = append(out, token{text: w, han: curHan})
			}
			cur = cur[:0]
		}
	}
	for _, r := range norm {
		switch {
		case isHan(r):
			if !curHan {
				flush()
			}
			curHan = true
			cur = append(cur, r)
		case unicode.IsLetter(r) || unicode.IsDigit(r) || ((r == '\'' || r == '’' || r == '.' || r == '-' || r == '_') && len(cur) > 0 && !curHan):
			if curHan {
				flush()
			}
			curHan = false
			if r == '’' {
				r = '\''
			}
			cur = append(cur, r)
		default:
			flush()
			if strings.ContainsRune(",;:!?，；：！？()（）[]【】", r) {
				if len(out) > 0 && out[len(out)-1].text != "|" {
					out = append(out, token{text: "|"})
				}
			}
		}
	}
	flush()
	return out
}

// stem is a light English stemmer: it folds the common inflections
// (failing, failed, fails → fail) so that a word seen in one form counts
// in the others.
func stem(w string) string {
	w = strings.TrimSuffix(strings.TrimSuffix(w, "'s"), "'")
	if strings.IndexFunc(w, unicode.IsDigit) >= 0 {
		return digitShape(w)
	}
	n := len(w)
	switch {
	case n > 5 && strings.HasSuffix(w, "ing"):
		w = w[:n-3]
	case n > 4 && strings.HasSuffix(w, "ied"):
		w = w[:n-3] + "y"
	case n > 4 && strings.HasSuffix(w, "ies"):
		w = w[:n-3] + "y"
	case n > 4 && strings.HasSuffix(w, "ed"):
		w = w[:n-2]
	case n > 4 && strings.HasSuffix(w, "es") && strings.ContainsAny(w[n-3:n-2], "sxhz"):
		w = w[:n-2]
	case n > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us"):
		w = w[:n-1]
	}
	// "stopped" → "stopp" → "stop"
	if n := len(w); n > 3 && w[n-1] == w[n-2] && !strings.ContainsAny(w[n-1:], "aeiouls") {
		w = w[:n-1]
	}
	return w
}

// digitShape keeps the letters of a token with digits and folds the digits,
// so that "ora-01555", "ora-00942" share a feature, while the HTTP status
// classes stay apart ("5xx").
func digitShape(w string) string {
	if len(w) == 3 && w[1] >= '0' && w[1] <= '9' && w[2] >= '0' && w[2] <= '9' {
		switch w[0] {
		case '5':
			return "#5xx"
		case '4':
			return "#4xx"
		}
	}
	var b strings.Builder
	prevDigit := false
	for _, r := range w {
		if unicode.IsDigit(r) {
			if !prevDigit {
				b.WriteByte('0')
			}
			prevDigit = true
			continue
		}
		prevDigit = false
		b.WriteRune(r)
	}
	return b.String()
}

// extract returns the features of a message, each once.
func extract(text string) []feature {
	fs, _ := extractCues(text)
	return fs
}

// extractCues is extract, with the lexicon's cues of the text (which
// FollowUp reads again).
func extractCues(text string) ([]feature, []cue) {
	norm := normalize(text)
	toks := tokenize(norm)
	seen := map[string]bool{}
	var out []feature
	add := func(name, phrase string) {
		if !seen[name] {
			seen[name] = true
			out = append(out, feature{name: name, phrase: phrase})
		}
	}
	var words []string // stems of English words, "|" at clause breaks
	for _, t := range toks {
		switch {
		case t.text == "|":
			words = append(words, "|")
		case t.han:
			rs := []rune(t.text)
			for i := range rs {
				add("h1:"+string(rs[i]), string(rs[i]))
				if i+1 < len(rs) {
					add("h2:"+string(rs[i:i+2]), string(rs[i:i+2]))
				}
				if i+2 < len(rs) {
					add("h3:"+string(rs[i:i+3]), string(rs[i:i+3]))
				}
			}
			words = append(words, "|")
		default:
			s := stem(t.text)
			add("w:"+s, t.text)
			words = append(words, s)
			if len(t.text) >= 5 && !strings.HasPrefix(s, "#") {
				g := "^" + t.text + "$"
				rs := []rune(g)
				for i := 0; i+4 <= len(rs); i++ {
					add("c:"+string(rs[i:i+4]), t.text)
				}
			}
		}
	}
	for i := 0; i+1 < len(words); i++ {
		if words[i] != "|" && words[i+1] != "|" {
			add("b:"+words[i]+"_"+words[i+1], words[i]+" "+words[i+1])
		}
	}
	// A report that opens with a verb in the past tense ("Rebuilt the
	// table…", "Restarted the NM…") says what was done.
	for _, t := range toks {
		if t.text == "|" {
			continue
		}
		if !t.han && len(t.text) > 4 && strings.HasSuffix(t.text, "ed") {
			add("L:starts_past", t.text)
		}
		break
	}
	cues := lexiconCues(norm)
	for _, c := range cues {
		add("L:"+c.name, c.phrase)
	}
	for _, c := range combine(cues, norm) {
		add("X:"+c.name, c.phrase)
	}
	n := utf8.RuneCountInString(strings.TrimSpace(norm))
	switch {
	case n <= 4:
		add("len:tiny", "")
	case n <= 15:
		add("len:short", "")
	case n <= 60:
		add("len:mid", "")
	default:
		add("len:long", "")
	}
	if strings.ContainsAny(norm, "?？") {
		add("p:question", "?")
	}
	if strings.Contains(norm, "!") || strings.Contains(norm, "！") {
		add("p:bang", "!")
	}
	add("bias", "")
	return out, cues
}
