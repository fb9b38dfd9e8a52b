package bot

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/slakeeper/slakeeper/sla/classify"
	"github.com/slakeeper/slakeeper/storage"
)

// Classifier is the model intake reads customers' messages with: trained
// on the shipped corpus and on this deployment's corrections (every triage
// decision, severity change and not-a-fault outcome), and trained again
// when enough new corrections have accumulated. Until its first training
// it answers with the shipped model.
type Classifier struct {
	Store *storage.Store
	Log   *slog.Logger
	// RetrainAfter is how many new corrections start a training (default 20).
	RetrainAfter int

	model   atomic.Pointer[classify.Model]
	pending atomic.Int64
	wake    chan struct{}
}

// NewClassifier returns a classifier learning from the store's corrections.
func NewClassifier(store *storage.Store, log *slog.Logger) *Classifier {
	return &Classifier{Store: store, Log: log, RetrainAfter: 20, wake: make(chan struct{}, 1)}
}

// Model is the model in use.
func (c *Classifier) Model() *classify.Model {
	if c != nil {
		if m := c.model.Load(); m != nil {
			return m
		}
	}
	return classify.Default()
}

// Use puts a model in use (Retrain does; tests give their own).
func (c *Classifier) Use(m *classify.Model) { c.model.Store(m) }

// Classify reads one message.
func (c *Classifier) Classify(text string) classify.Result { return c.Model().Classify(text) }

// Retrain trains a model on the shipped corpus and every stored correction
// (a correction of a text in the corpus wins) and puts it in use.
func (c *Classifier) Retrain(ctx context.Context) error {
	corpus, err := classify.Corpus("train")
	if err != nil {
		return err
	}
	fixes, err := c.Store.ClassifierExamples(ctx)
	if err != nil {
		return err
	}
	c.pending.Store(0)
	for _, f := range fixes {
		corpus = append(corpus, classify.Example{Label: f.Label, Text: f.Body})
	}
	start := time.Now()
	m := classify.Train(corpus, classify.Options{})
	c.Use(m)
	// Training is a burst of short-lived allocations (about 190 MB over
	// two seconds): give the memory back rather than keep it resident.
	debug.FreeOSMemory()
	c.Log.InfoContext(ctx, "classifier trained", "examples", m.Examples(), "corrections", len(fixes),
		"took", time.Since(start).Round(time.Millisecond))
	return nil
}

// Corrected counts corrections committed; enough of them wake Run.
func (c *Classifier) Corrected(n int) {
	if c == nil || n == 0 {
		return
	}
	if c.pending.Add(int64(n)) >= int64(max(c.RetrainAfter, 1)) {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

// Run trains whenever corrections have accumulated (and at once if no
// model was trained yet), until ctx ends. A failed training keeps the model
// in use and is logged.
func (c *Classifier) Run(ctx context.Context) {
	trained := c.model.Load() != nil
	for {
		if !trained {
			if err := c.Retrain(ctx); err != nil && ctx.Err() == nil {
				c.Log.ErrorContext(ctx, "classifier not trained; the previous model stays in use", "err", err)
			}
		}
		trained = false
		select {
		case <-ctx.Done():
			return
		case <-c.wake:
		}
	}
}
