package classify

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
)

// verdicts in the order of a confusion matrix's columns.
var verdicts = [4]Verdict{VerdictCore, VerdictNoncore, VerdictTriage, VerdictNotFault}

// Report is how a model did on labelled messages: the confusion matrix of
// labels (rows: core, noncore, none) against verdicts (columns: core,
// noncore, triage, notfault).
type Report struct {
	Confusion [nclass][4]int
	// Misses are the messages whose verdict differs from their label, for a
	// person to read.
	Misses []Miss
}

// Miss is one message the model got wrong (or triaged).
type Miss struct {
	Label  Label
	Result Result
	Text   string
}

func verdictIndex(v Verdict) int {
	for i, x := range verdicts {
		if x == v {
			return i
		}
	}
	return 3
}

// correct reports whether a verdict is right for a label; triage is never
// right, so that it costs accuracy.
func correct(l Label, v Verdict) bool {
	switch l {
	case LabelCore:
		return v == VerdictCore
	case LabelNoncore:
		return v == VerdictNoncore
	}
	return v == VerdictNotFault
}

// Add counts one message.
func (r *Report) Add(l Label, res Result, text string) {
	i, ok := labelIndex(l)
	if !ok {
		return
	}
	r.Confusion[i][verdictIndex(res.Verdict)]++
	if !correct(l, res.Verdict) {
		r.Misses = append(r.Misses, Miss{Label: l, Result: res, Text: text})
	}
}

// Merge adds another report's counts.
func (r *Report) Merge(o Report) {
	for i := range r.Confusion {
		for j := range r.Confusion[i] {
			r.Confusion[i][j] += o.Confusion[i][j]
		}
	}
	r.Misses = append(r.Misses, o.Misses...)
}

// N is the number of messages counted.
func (r Report) N() int {
	n := 0
	for i := range r.Confusion {
		n += r.row(i)
	}
	return n
}

func (r Report) row(i int) int {
	n := 0
	for _, v := range r.Confusion[i] {
		n += v
	}
	return n
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Accuracy is the share of messages whose verdict is their label; a
// triaged message counts as wrong.
func (r Report) Accuracy() float64 {
	c := r.Confusion
	return ratio(c[0][0]+c[1][1]+c[2][3], r.N())
}

// FaultRecall is the share of faults (core or noncore) that open an
// incident or go to triage: that are not dropped as chatter.
func (r Report) FaultRecall() float64 {
	c := r.Confusion
	return ratio(r.row(0)+r.row(1)-c[0][3]-c[1][3], r.row(0)+r.row(1))
}

// FaultPrecision is the share of messages that open an incident (not
// triage) that are faults.
func (r Report) FaultPrecision() float64 {
	c := r.Confusion
	opened := c[0][0] + c[0][1] + c[1][0] + c[1][1] + c[2][0] + c[2][1]
	return ratio(opened-c[2][0]-c[2][1], opened)
}

// Recall is the share of messages with a label that got that verdict.
func (r Report) Recall(l Label) float64 {
	i, _ := labelIndex(l)
	return ratio(r.Confusion[i][verdictIndex(Verdict(map[Label]Verdict{LabelCore: VerdictCore,
		LabelNoncore: VerdictNoncore, LabelNone: VerdictNotFault}[l]))], r.row(i))
}

// TriageRate is the share of messages sent to triage.
func (r Report) TriageRate() float64 {
	c := r.Confusion
	return ratio(c[0][2]+c[1][2]+c[2][2], r.N())
}

// String renders the figures and the confusion matrix as text.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "messages          %d\n", r.N())
	fmt.Fprintf(&b, "accuracy          %.3f   (triage counts as wrong)\n", r.Accuracy())
	fmt.Fprintf(&b, "fault recall      %.3f   (faults that open an incident or go to triage)\n", r.FaultRecall())
	fmt.Fprintf(&b, "fault precision   %.3f   (incidents opened that are faults)\n", r.FaultPrecision())
	fmt.Fprintf(&b, "triage rate       %.3f\n", r.TriageRate())
	fmt.Fprintf(&b, "recall core       %.3f\n", r.Recall(LabelCore))
	fmt.Fprintf(&b, "recall noncore    %.3f\n", r.Recall(LabelNoncore))
	fmt.Fprintf(&b, "recall none       %.3f\n", r.Recall(LabelNone))
	fmt.Fprintf(&b, "\nlabel \\ verdict   core  noncore  triage  notfault\n")
	for i, l := range labels {
		c := r.Confusion[i]
		fmt.Fprintf(&b, "%-16s %5d  %7d  %6d  %8d\n", l, c[0], c[1], c[2], c[3])
	}
	return b.String()
}

// Evaluate classifies every example with m.
func Evaluate(m *Model, examples []Example) Report {
	var r Report
	for _, e := range examples {
		r.Add(e.Label, m.Classify(e.Text), e.Text)
	}
	return r
}

// CrossValidate trains k models, each on all folds but one, and evaluates
// each on the fold it did not see; the folds are stratified by label and
// drawn with seed.
func CrossValidate(examples []Example, k int, opt Options, seed uint64) Report {
	byLabel := map[Label][]Example{}
	for _, e := range examples {
		byLabel[e.Label] = append(byLabel[e.Label], e)
	}
	folds := make([][]Example, k)
	rng := rand.New(rand.NewPCG(seed, 7))
	ls := make([]Label, 0, len(byLabel))
	for l := range byLabel {
		ls = append(ls, l)
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i] < ls[j] })
	n := 0
	for _, l := range ls {
		es := byLabel[l]
		rng.Shuffle(len(es), func(i, j int) { es[i], es[j] = es[j], es[i] })
		for _, e := range es {
			folds[n%k] = append(folds[n%k], e)
			n++
		}
	}
	var total Report
	for i := range folds {
		var train []Example
		for j := range folds {
			if j != i {
				train = append(train, folds[j]...)
			}
		}
		total.Merge(Evaluate(Train(train, opt), folds[i]))
	}
	return total
}

// ParseTSV reads labelled messages, one per line: "label<TAB>text". Blank
// lines and lines starting with "#" are skipped; a line with an unknown
// label is an error naming it.
func ParseTSV(r io.Reader) ([]Example, error) {
	var out []Example
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		l, text, ok := strings.Cut(line, "\t")
		if !ok {
			return out, fmt.Errorf("line %d: want label<TAB>text", n)
		}
		label, ok := ParseLabel(l)
		if !ok {
			return out, fmt.Errorf("line %d: unknown label %q: use core, noncore or none", n, l)
		}
		out = append(out, Example{Label: label, Text: text})
	}
	return out, sc.Err()
}
