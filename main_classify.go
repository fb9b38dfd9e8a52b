package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/slakeeper/slakeeper/sla/classify"
)

// runClassify is `slakeeper classify`: messages one per line on standard
// input, one JSON verdict per line out; with --eval FILE, the figures of
// the model on a labelled file ("label<TAB>text" lines).
func runClassify(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("classify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	eval := fs.String("eval", "", "a file of `label<TAB>text` lines (labels core, noncore, none): print accuracy, recall per class and the confusion matrix")
	misses := fs.Bool("misses", false, "with --eval, also list the messages the model got wrong or triaged")
	heldout := fs.Bool("heldout", false, "measure the shipped model on the shipped held-out split (never trained on)")
	folds := fs.Int("cv", 0, "cross-validate on the shipped training corpus with this many folds")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("classify: unexpected argument %q (messages come on standard input)", fs.Arg(0))
	}
	m := classify.Default()
	report := func(what string, r classify.Report) {
		fmt.Fprintf(stdout, "%s\nmodel: %d training examples; thresholds notfault ≥ %.2f, fault ≥ %.2f\n", what, m.Examples(),
			m.Thresholds().NotFault, m.Thresholds().Fault)
		fmt.Fprint(stdout, r.String())
		if *misses {
			fmt.Fprintln(stdout, "\nlabel\tverdict\treason\ttext")
			for _, x := range r.Misses {
				fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", x.Label, x.Result.Verdict, x.Result.Reason(), x.Text)
			}
		}
	}
	switch {
	case *folds == 1 || *folds < 0:
		return fmt.Errorf("classify --cv: want 2 folds or more, not %d", *folds)
	case *folds > 1:
		train, err := classify.Corpus("train")
		if err != nil {
			return err
		}
		report(fmt.Sprintf("%d-fold cross-validation on the training corpus (%d messages)", *folds, len(train)),
			classify.CrossValidate(train, *folds, classify.Options{}, 1))
		return nil
	case *heldout:
		held, err := classify.Corpus("heldout")
		if err != nil {
			return err
		}
		report(fmt.Sprintf("the held-out split (%d messages)", len(held)), classify.Evaluate(m, held))
		return nil
	}
	if *eval != "" {
		f, err := os.Open(*eval)
		if err != nil {
			return fmt.Errorf("classify --eval: %w", err)
		}
		defer f.Close()
		es, err := classify.ParseTSV(f)
		if err != nil {
			return fmt.Errorf("classify --eval %s: %w", *eval, err)
		}
		if len(es) == 0 {
			return fmt.Errorf("classify --eval %s: no labelled messages", *eval)
		}
		report(fmt.Sprintf("%s (%d messages)", *eval, len(es)), classify.Evaluate(m, es))
		return nil
	}
	in := bufio.NewScanner(stdin)
	in.Buffer(make([]byte, 64*1024), 1024*1024)
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for in.Scan() {
		text := strings.TrimRight(in.Text(), "\r")
		r := m.Classify(text)
		evidence := r.Evidence
		if evidence == nil {
			evidence = []string{}
		}
		if err := enc.Encode(verdictJSON{Text: text, Verdict: string(r.Verdict), Confidence: round(r.Confidence),
			Severity: string(r.Severity), Reason: r.Reason(), Evidence: evidence,
			Probs: map[string]float64{"core": round(r.Probs.Core), "noncore": round(r.Probs.Noncore), "none": round(r.Probs.None)}}); err != nil {
			return err
		}
	}
	return in.Err()
}

type verdictJSON struct {
	Text       string             `json:"text"`
	Verdict    string             `json:"verdict"`
	Confidence float64            `json:"confidence"`
	Severity   string             `json:"severity"`
	Reason     string             `json:"reason"`
	Evidence   []string           `json:"evidence"`
	Probs      map[string]float64 `json:"probs"`
}

func round(f float64) float64 { return math.Round(f*1000) / 1000 }
