// Package classify decides whether a customer's message reports a fault,
// and how severe it is: a multinomial logistic regression over Chinese
// character n-grams, English words, word pairs and character n-grams, and
// cues from bilingual lexicons (negation, breadth, impact, resolution,
// questions, the past and the hypothetical), trained on a labelled corpus
// shipped in this package (corpus/train) plus whatever a deployment's
// engineers decided since. It is pure: no I/O but the embedded corpus.
//
// Its verdicts are core, noncore and notfault, and triage when it is not
// confident whether the message is a fault: triage is the safety net that
// lets a fault never be dropped silently.
package classify

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/slakeeper/slakeeper/sla"
)

// Label is what a person says a message is: the corpus's and the
// engineers' answer.
type Label string

// Labels.
const (
	LabelCore    Label = "core"
	LabelNoncore Label = "noncore"
	LabelNone    Label = "none"
)

// labels in the model's class order.
var labels = [nclass]Label{LabelCore, LabelNoncore, LabelNone}

const nclass = 3

func labelIndex(l Label) (int, bool) {
	for i, x := range labels {
		if x == l {
			return i, true
		}
	}
	return 0, false
}

// ParseLabel accepts core, noncore and none (also "notfault").
func ParseLabel(s string) (Label, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "core":
		return LabelCore, true
	case "noncore", "non-core":
		return LabelNoncore, true
	case "none", "notfault", "not-a-fault":
		return LabelNone, true
	}
	return "", false
}

// LabelOf is the label a severity stands for.
func LabelOf(sev sla.Severity) Label {
	if sev == sla.SeverityCore {
		return LabelCore
	}
	return LabelNoncore
}

// Verdict is the classifier's decision about a message.
type Verdict string

// Verdicts.
const (
	VerdictCore     Verdict = "core"     // a core function is unavailable
	VerdictNoncore  Verdict = "noncore"  // a fault that leaves core functions working
	VerdictTriage   Verdict = "triage"   // not sure whether it is a fault: an engineer decides
	VerdictNotFault Verdict = "notfault" // not a fault report
)

// Severity maps a fault verdict to a severity; ok is false for triage and
// not-a-fault.
func (v Verdict) Severity() (sla.Severity, bool) {
	switch v {
	case VerdictCore:
		return sla.SeverityCore, true
	case VerdictNoncore:
		return sla.SeverityNoncore, true
	}
	return "", false
}

// Probs are the model's probabilities of the three labels.
type Probs struct {
	Core, Noncore, None float64
}

// Fault is the probability that the message reports a fault.
func (p Probs) Fault() float64 { return p.Core + p.Noncore }

// Result is a verdict with its confidence and the evidence behind it.
type Result struct {
	Verdict Verdict
	// Confidence is the probability of the verdict: of core, of noncore, of
	// not a fault; for triage, the probability that it is a fault.
	Confidence float64
	Probs      Probs
	// Severity is the more likely severity if the message is a fault; a
	// triaged message carries it until an engineer decides.
	Severity sla.Severity
	// Evidence are the words and cues that weighed most for the verdict.
	Evidence []string
	// read is what reading the message found that FollowUp needs again.
	read *reading
}

// reading is the lexicon's cues of a message, kept with its verdict.
type reading struct {
	text string
	cues []cue
}

// cuesOf returns the lexicon's cues of msg (normalized: norm), kept with
// the verdict when it is a verdict on msg.
func (r Result) cuesOf(msg, norm string) []cue {
	if r.read != nil && r.read.text == msg {
		return r.read.cues
	}
	return lexiconCues(norm)
}

// Reason is a one-line explanation for the timeline, the card and logs:
// "core 0.93: 宕机 · 所有 · outage+broad".
func (r Result) Reason() string {
	s := fmt.Sprintf("%s %.2f", r.Verdict, r.Confidence)
	if len(r.Evidence) > 0 {
		s += ": " + strings.Join(r.Evidence, " · ")
	}
	return s
}

// Thresholds turn probabilities into verdicts: not a fault only when the
// model is at least NotFault sure of it; a fault when it is at least Fault
// sure of that; triage in between.
type Thresholds struct {
	NotFault float64
	Fault    float64
}

// DefaultThresholds were chosen by cross-validation on the training corpus
// (docs/classifier.md): fault recall first, then as little triage as that
// allows. A fault must be the likelier reading to open an incident: a
// message the model finds more likely chatter, but not surely, is triaged.
var DefaultThresholds = Thresholds{NotFault: 0.78, Fault: 0.50}

// Model is a trained classifier. It is safe for concurrent use.
type Model struct {
	index      map[string]int32
	w          [][nclass]float32
	bias       [nclass]float32
	thresholds Thresholds
	examples   int
}

// Examples is the number of examples the model was trained on.
func (m *Model) Examples() int { return m.examples }

// Thresholds are the model's decision thresholds.
func (m *Model) Thresholds() Thresholds { return m.thresholds }

// WithThresholds returns a copy of the model deciding with t.
func (m *Model) WithThresholds(t Thresholds) *Model {
	c := *m
	c.thresholds = t
	return &c
}

// MaxLen bounds how much of a message is read, in bytes: a report says what
// matters early, and a pasted log must not cost more than a page.
const MaxLen = 4096

// Probabilities returns the model's probabilities for a message.
func (m *Model) Probabilities(text string) Probs {
	p, _, _, _ := m.score(text)
	return p
}

func (m *Model) score(text string) (Probs, []feature, []int32, []cue) {
	if len(text) > MaxLen {
		text = text[:MaxLen]
	}
	fs, cues := extractCues(text)
	idx := make([]int32, len(fs))
	n := 0
	for i, f := range fs {
		j, ok := m.index[f.name]
		if !ok {
			idx[i] = -1
			continue
		}
		idx[i] = j
		n++
	}
	x := scale(len(fs))
	var s [nclass]float64
	for c := range s {
		s[c] = float64(m.bias[c])
	}
	for _, j := range idx {
		if j < 0 {
			continue
		}
		for c := range s {
			s[c] += float64(m.w[j][c]) * x
		}
	}
	p := softmax(s)
	return Probs{Core: p[0], Noncore: p[1], None: p[2]}, fs, idx, cues
}

// scale is the value of each of n binary features: the vector has unit
// length, so that a long message does not outvote a short one by length.
func scale(n int) float64 {
	if n == 0 {
		return 0
	}
	return 1 / math.Sqrt(float64(n))
}

func softmax(s [nclass]float64) [nclass]float64 {
	mx := s[0]
	for _, v := range s[1:] {
		mx = math.Max(mx, v)
	}
	var sum float64
	var p [nclass]float64
	for c, v := range s {
		p[c] = math.Exp(v - mx)
		sum += p[c]
	}
	for c := range p {
		p[c] /= sum
	}
	return p
}

// Classify decides about one message.
func (m *Model) Classify(text string) Result {
	p, fs, idx, cues := m.score(text)
	r := Result{Probs: p, Severity: sla.SeverityNoncore}
	if len(text) <= MaxLen { // score read all of it
		r.read = &reading{text: text, cues: cues}
	}
	faultClass := 1
	if p.Core > p.Noncore {
		r.Severity, faultClass = sla.SeverityCore, 0
	}
	var for_, against int
	switch {
	case strings.TrimSpace(text) == "":
		r.Verdict, r.Confidence = VerdictNotFault, 1
		return r
	case p.None >= m.thresholds.NotFault:
		r.Verdict, r.Confidence = VerdictNotFault, p.None
		for_, against = 2, faultClass
	case p.Fault() >= m.thresholds.Fault:
		r.Verdict = Verdict(labels[faultClass])
		r.Confidence = math.Max(p.Core, p.Noncore)
		for_, against = faultClass, 2
		if faultClass == 0 {
			against = 1 // what made it core rather than non-core…
			if p.None > p.Noncore {
				against = 2 // …or a fault rather than chatter
			}
		}
	default:
		r.Verdict, r.Confidence = VerdictTriage, p.Fault()
		for_, against = faultClass, 2
	}
	r.Evidence = m.evidence(fs, idx, len(fs), for_, against)
	return r
}

// evidence names the features that pushed class for over class against
// the most, strongest first, each phrase once.
func (m *Model) evidence(fs []feature, idx []int32, n, for_, against int) []string {
	type contrib struct {
		what string
		v    float64
		cue  bool
	}
	var cs []contrib
	x := scale(n)
	for i, j := range idx {
		if j < 0 {
			continue
		}
		f := fs[i]
		v := (float64(m.w[j][for_]) - float64(m.w[j][against])) * x
		if v <= 0.05 {
			continue
		}
		what, cue := f.phrase, strings.HasPrefix(f.name, "L:") || strings.HasPrefix(f.name, "X:")
		if cue {
			what = f.name[2:]
			if f.phrase != "" {
				what += "(" + f.phrase + ")"
			}
		}
		if what == "" || strings.HasPrefix(f.name, "len:") || (!cue && stopWords[strings.ToLower(what)]) {
			continue
		}
		cs = append(cs, contrib{what, v, cue})
	}
	// Cues first (they read as reasons), then words and n-grams, each
	// phrase once: not a piece of one already named, nor a lone Chinese
	// character.
	sort.SliceStable(cs, func(a, b int) bool {
		if cs[a].cue != cs[b].cue {
			return cs[a].cue
		}
		return cs[a].v > cs[b].v
	})
	var out []string
	for _, c := range cs {
		if !c.cue && (utf8.RuneCountInString(c.what) < 2 || overlaps(out, c.what)) {
			continue
		}
		if overlaps(out, c.what) {
			continue
		}
		out = append(out, c.what)
		if len(out) == 4 {
			break
		}
	}
	return out
}

// stopWords weigh in the model but explain nothing to a reader.
var stopWords = map[string]bool{"a": true, "an": true, "the": true, "at": true, "on": true, "in": true, "to": true, "of": true,
	"is": true, "are": true, "be": true, "it": true, "its": true, "this": true, "that": true, "and": true, "or": true, "for": true,
	"with": true, "we": true, "you": true, "i": true, "my": true, "our": true, "your": true, "me": true, "us": true, "by": true,
	"from": true, "as": true, "was": true, "were": true, "has": true, "have": true, "had": true, "do": true, "does": true, "so": true,
	"的": true, "了": true, "是": true, "在": true, "我们": true, "这个": true, "那个": true}

// overlaps reports whether what is part of, or contains, a phrase already
// chosen.
func overlaps(chosen []string, what string) bool {
	for _, c := range chosen {
		if strings.Contains(c, what) || strings.Contains(what, c) {
			return true
		}
	}
	return false
}
