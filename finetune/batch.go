package finetune

import (
	"iter"
	"math/bits"
)

// IgnoreIndex marks a target position that carries no loss, as PyTorch's
// cross_entropy(ignore_index=-100) expects.
const IgnoreIndex = -100

// Sequence is one encoded example (see Encode).
type Sequence struct {
	IDs  []int32
	Mask []bool
}

// Batch is a right-padded micro-batch in row-major [Rows, Cols] layout.
// Inputs[r][c] = ids[c] of the r-th sequence and Targets[r][c] = ids[c+1]
// where that token is trained, IgnoreIndex elsewhere (padding, prompt). Padding
// comes after each sequence's tokens, so causal attention alone keeps real
// positions from attending to it; no attention mask is needed. Cols is the
// longest row (dynamic padding), at most the Batcher's seqLen.
type Batch struct {
	Rows, Cols int
	Inputs     []int32
	Targets    []int32
	Tokens     int   // number of targets that are not IgnoreIndex
	Index      []int // the sequences' indices in the Batcher's input
}

// Position is a place in the endless stream of batches: epoch and batch
// index within it. Checkpoints store the position of the next batch.
type Position struct {
	Epoch int `json:"epoch"`
	Batch int `json:"batch"`
}

// Batcher cuts sequences into batches, shuffled deterministically per epoch
// from the seed. Safe for concurrent use (it is read-only after creation).
type Batcher struct {
	seqs      []Sequence
	batchSize int
	seqLen    int
	seed      int64
	pad       int32
}

// Batches returns a Batcher over seqs. seqLen is the model input length: a
// sequence of n tokens yields n-1 (input, target) pairs and is cut to
// seqLen+1 tokens, so Encode with maxLen = seqLen+1. pad fills inputs past
// each sequence's end (any valid id: its targets are ignored). The last batch
// of an epoch may have fewer rows.
func Batches(seqs []Sequence, batchSize, seqLen int, seed int64, pad int32) *Batcher {
	return &Batcher{seqs: seqs, batchSize: max(batchSize, 1), seqLen: max(seqLen, 1), seed: seed, pad: pad}
}

// Len is the number of batches per epoch.
func (b *Batcher) Len() int { return (len(b.seqs) + b.batchSize - 1) / b.batchSize }

// Order is the shuffled order of sequence indices for an epoch: a
// Fisher–Yates shuffle driven by SplitMix64 seeded from (seed, epoch), stable
// across Go versions and platforms.
func (b *Batcher) Order(epoch int) []int {
	order := make([]int, len(b.seqs))
	for i := range order {
		order[i] = i
	}
	state := mix64(uint64(b.seed)) ^ mix64(uint64(epoch)+0x9e3779b97f4a7c15)
	for i := len(order) - 1; i > 0; i-- {
		state += 0x9e3779b97f4a7c15
		j := int(uniform(mix64(state), uint64(i+1)))
		order[i], order[j] = order[j], order[i]
	}
	return order
}

// At builds batch i (0 ≤ i < Len()) of an epoch.
func (b *Batcher) At(epoch, i int) Batch {
	order := b.Order(epoch)
	lo, hi := i*b.batchSize, min((i+1)*b.batchSize, len(order))
	return b.build(order[lo:hi])
}

// From yields batches endlessly, epoch after epoch, starting at pos. The
// position yielded with each batch is its own; the next batch's is the resume
// point to store in a checkpoint.
func (b *Batcher) From(pos Position) iter.Seq2[Position, Batch] {
	return func(yield func(Position, Batch) bool) {
		if b.Len() == 0 {
			return
		}
		for epoch := pos.Epoch; ; epoch++ {
			order := b.Order(epoch)
			start := 0
			if epoch == pos.Epoch {
				start = pos.Batch
			}
			for i := start; i < b.Len(); i++ {
				lo, hi := i*b.batchSize, min((i+1)*b.batchSize, len(order))
				if !yield(Position{epoch, i}, b.build(order[lo:hi])) {
					return
				}
			}
		}
	}
}

// Next returns the position after p.
func (b *Batcher) Next(p Position) Position {
	if p.Batch+1 >= b.Len() {
		return Position{Epoch: p.Epoch + 1}
	}
	return Position{Epoch: p.Epoch, Batch: p.Batch + 1}
}

func (b *Batcher) build(idx []int) Batch {
	cols := 1
	for _, i := range idx {
		cols = max(cols, min(len(b.seqs[i].IDs)-1, b.seqLen))
	}
	bt := Batch{Rows: len(idx), Cols: cols, Index: append([]int(nil), idx...)}
	bt.Inputs = make([]int32, bt.Rows*cols)
	bt.Targets = make([]int32, bt.Rows*cols)
	for r, i := range idx {
		s := b.seqs[i]
		n := min(len(s.IDs)-1, b.seqLen)
		row := r * cols
		for c := range cols {
			bt.Inputs[row+c] = b.pad
			bt.Targets[row+c] = IgnoreIndex
			if c < n {
				bt.Inputs[row+c] = s.IDs[c]
				if c+1 < len(s.Mask) && s.Mask[c+1] {
					bt.Targets[row+c] = s.IDs[c+1]
					bt.Tokens++
				}
			}
		}
	}
	return bt
}

// IsEval reports whether example index belongs to the held-out split: a
// SplitMix64 hash of (seed, index) mapped to [0, 1) is below fraction. The
// split is stable whatever else is in the file, and about fraction of the
// examples land in it.
func IsEval(index int, fraction float64, seed int64) bool {
	if fraction <= 0 {
		return false
	}
	h := mix64(mix64(uint64(seed)^0x5851f42d4c957f2d) + uint64(index))
	return float64(h>>11)/(1<<53) < fraction
}

// mix64 is the SplitMix64 finaliser.
func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// uniform maps a random 64-bit value to [0, n) by Lemire's multiply-shift
// (bias at most n/2^64, negligible).
func uniform(x, n uint64) uint64 {
	hi, _ := bits.Mul64(x, n)
	return hi
}
