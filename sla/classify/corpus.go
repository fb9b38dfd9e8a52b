package classify

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"sync"
)

// The shipped corpus: corpus/train is what the shipped model learns from;
// corpus/heldout is never trained on and only measures the model
// (docs/classifier.md). Each file is "label<TAB>text" lines.
//
//go:embed corpus
var corpusFS embed.FS

// Corpus returns the shipped examples of a split, "train" or "heldout", in
// file order.
func Corpus(split string) ([]Example, error) {
	dir := "corpus/" + split
	entries, err := fs.ReadDir(corpusFS, dir)
	if err != nil {
		return nil, fmt.Errorf("corpus %s: %w", split, err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	var out []Example
	for _, n := range names {
		b, err := corpusFS.ReadFile(dir + "/" + n)
		if err != nil {
			return nil, err
		}
		es, err := ParseTSV(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("corpus %s/%s: %w", split, n, err)
		}
		out = append(out, es...)
	}
	return out, nil
}

var (
	defaultOnce  sync.Once
	defaultModel *Model
)

// Default is the model trained on the shipped training corpus alone,
// trained once per process.
func Default() *Model {
	defaultOnce.Do(func() {
		es, err := Corpus("train")
		if err != nil {
			panic(err) // the corpus is embedded: a broken one fails every test
		}
		defaultModel = Train(es, Options{})
	})
	return defaultModel
}
