package classify

import (
	"math"
	"math/rand/v2"
	"strings"
)

// Example is a labelled message.
type Example struct {
	Label Label
	Text  string
}

// Options tune training. The zero value means the defaults.
type Options struct {
	Epochs       int     // passes over the data (default 15)
	LearningRate float64 // AdaGrad's step (default 0.4)
	L2           float64 // weight decay per update of a feature (default 1e-4)
	// FaultWeight multiplies the loss of a fault example (default 1.6): a
	// fault taken for chatter costs more than chatter taken for a fault.
	FaultWeight float64
	MinCount    int // a feature seen in fewer examples is dropped (default 1)
	Seed        uint64
	Thresholds  Thresholds // default DefaultThresholds
}

func (o Options) withDefaults() Options {
	if o.Epochs == 0 {
		o.Epochs = 15
	}
	if o.LearningRate == 0 {
		o.LearningRate = 0.4
	}
	if o.L2 == 0 {
		o.L2 = 1e-4
	}
	if o.FaultWeight == 0 {
		o.FaultWeight = 1.6
	}
	if o.MinCount == 0 {
		o.MinCount = 1
	}
	if o.Thresholds == (Thresholds{}) {
		o.Thresholds = DefaultThresholds
	}
	return o
}

// Train fits a model to the examples. It is deterministic: the same
// examples and options give the same model. Examples with an unknown label
// or no text are skipped; a text given twice counts once, with its last
// label (a later correction wins).
func Train(examples []Example, opt Options) *Model {
	opt = opt.withDefaults()
	last := map[string]int{}
	var uniq []Example
	for _, e := range examples {
		if _, ok := labelIndex(e.Label); !ok || strings.TrimSpace(e.Text) == "" {
			continue
		}
		if i, ok := last[e.Text]; ok {
			uniq[i].Label = e.Label
			continue
		}
		last[e.Text] = len(uniq)
		uniq = append(uniq, e)
	}

	// Every example's features as indexes into the vocabulary, built in one
	// pass (the feature strings of the corpus are never all held at once);
	// features seen in fewer than MinCount examples are dropped after.
	m := &Model{index: map[string]int32{}, thresholds: opt.Thresholds, examples: len(uniq)}
	type row struct {
		idx []int32
		x   float64
		y   int
		w   float64
	}
	rows := make([]row, len(uniq))
	var count []int32
	for i, e := range uniq {
		fs := extract(e.Text)
		y, _ := labelIndex(e.Label)
		r := row{y: y, x: scale(len(fs)), w: 1, idx: make([]int32, 0, len(fs))}
		if y != 2 {
			r.w = opt.FaultWeight
		}
		for _, f := range fs {
			j, ok := m.index[f.name]
			if !ok {
				j = int32(len(count))
				m.index[f.name] = j
				count = append(count, 0)
			}
			count[j]++
			r.idx = append(r.idx, j)
		}
		rows[i] = r
	}
	if opt.MinCount > 1 {
		keep := make([]int32, len(count))
		n := int32(0)
		for j, c := range count {
			keep[j] = -1
			if int(c) >= opt.MinCount {
				keep[j], n = n, n+1
			}
		}
		for f, j := range m.index {
			if keep[j] < 0 {
				delete(m.index, f)
			} else {
				m.index[f] = keep[j]
			}
		}
		for i := range rows {
			kept := rows[i].idx[:0]
			for _, j := range rows[i].idx {
				if keep[j] >= 0 {
					kept = append(kept, keep[j])
				}
			}
			rows[i].idx = kept
		}
		count = count[:n]
	}
	m.w = make([][nclass]float32, len(count))

	// Multinomial logistic regression by stochastic gradient descent with
	// AdaGrad steps, in float64, stored as float32.
	w := make([][nclass]float64, len(m.w))
	g2 := make([][nclass]float64, len(m.w))
	var b, bg2 [nclass]float64
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x51a4ee9e))
	const eps = 1e-8
	for epoch := 0; epoch < opt.Epochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			r := rows[i]
			var s [nclass]float64
			s = b
			for _, j := range r.idx {
				for c := range s {
					s[c] += w[j][c] * r.x
				}
			}
			p := softmax(s)
			for c := 0; c < nclass; c++ {
				g := p[c]
				if c == r.y {
					g -= 1
				}
				g *= r.w
				bg2[c] += g * g
				b[c] -= opt.LearningRate * g / (math.Sqrt(bg2[c]) + eps)
				for _, j := range r.idx {
					gj := g*r.x + opt.L2*w[j][c]
					g2[j][c] += gj * gj
					w[j][c] -= opt.LearningRate * gj / (math.Sqrt(g2[j][c]) + eps)
				}
			}
		}
	}
	for j := range w {
		for c := range w[j] {
			m.w[j][c] = float32(w[j][c])
		}
	}
	for c := range b {
		m.bias[c] = float32(b[c])
	}
	return m
}
