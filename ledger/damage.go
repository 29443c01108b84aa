package ledger

import (
	"fmt"
	"slices"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/projections"
)

// Telling a damaged store from messages published around the ledger.
//
// A message that does not chain to its agreement's head is skipped as
// foreign: someone published it around the ledger (a copy with another
// prev, garbage), and the ledger's own chain is intact beside it. A damaged
// store looks different: the ledger's own messages are missing or
// unreadable, so the ledger's later messages do not chain to what the read
// model has. Two pieces of evidence tell them apart:
//
//   - a hole: on a stream that holds only the agreements' subjects, every
//     sequence is an agreement's message, and the file store skips a
//     message it cannot read (its checksum fails) without a word: its
//     StreamInfo still counts it, no Lost, no deleted sequence (nats-server
//     2.15, with the block's index intact). A sequence never delivered
//     between the agreement's head and a message that does not chain is
//     the missing link;
//   - a continuing chain: a later message chains to a skipped well-formed
//     amendment of the same agreement. The ledger never writes on top of a
//     message it skipped, so the skipped one was its own.
//
// The agreement is then damaged from the version after its head: answers
// come from the intact prefix only when asked for (AllowDamaged), and
// appends to it are refused, until the store is recovered (README,
// "Recovering a damaged store").

// SeqRange is a range of stream sequences, both ends included.
type SeqRange struct {
	First uint64 `json:"first"`
	Last  uint64 `json:"last"`
}

func (r SeqRange) String() string {
	if r.First == r.Last {
		return fmt.Sprintf("%d", r.First)
	}
	return fmt.Sprintf("%d-%d", r.First, r.Last)
}

// offChain is a well-formed amendment skipped because it did not chain.
type offChain struct {
	agreement string
	seq       uint64
}

// damageFinder holds the evidence of damage seen so far while messages are
// read in stream order.
type damageFinder struct {
	// dense: the stream holds only the agreements' subjects, so a sequence
	// not delivered is a message that could not be read.
	dense   bool
	holes   []SeqRange
	outside map[events.Hash]offChain
	damaged map[string]*projections.Damage
	// firstHole, when set, finds the first unreadable sequence in
	// [from, to] by asking the stream: for a reader of one agreement's
	// subject, which sees no holes of its own.
	firstHole func(from, to uint64) uint64
}

func newDamageFinder(dense bool) *damageFinder {
	return &damageFinder{dense: dense, outside: map[events.Hash]offChain{}, damaged: map[string]*projections.Damage{}}
}

// seen notes that seq was delivered right after prev: what lies between
// is unreadable, on a dense stream.
func (f *damageFinder) seen(prev, seq uint64) {
	if f.dense && seq > prev+1 {
		f.holes = append(f.holes, SeqRange{prev + 1, seq - 1})
	}
}

// hole returns the first unreadable sequence in [from, to], or 0.
func (f *damageFinder) hole(from, to uint64) uint64 {
	if from > to || !f.dense {
		return 0
	}
	if f.firstHole != nil {
		return f.firstHole(from, to)
	}
	for _, h := range f.holes {
		if h.Last >= from && h.First <= to {
			return max(h.First, from)
		}
	}
	return 0
}

// broken classifies r, a well-formed amendment whose stored bytes chain to
// prev rather than to its agreement's head (at headVersion and headSeq; 0
// and 0 for an agreement not yet seen). It returns the damage it proves,
// or nil: then r is foreign, and noted in case a later message chains to
// it. dropped is the sequences of the agreement's messages skipped before
// as foreign that the damage shows were the ledger's own.
func (f *damageFinder) broken(r *events.Record, prev events.Hash, headVersion, headSeq uint64) (d *projections.Damage, dropped []uint64) {
	version := headVersion + 1
	if seq := f.hole(headSeq+1, r.Seq-1); seq != 0 {
		d = &projections.Damage{Agreement: r.Agreement, Version: version, Seq: seq, LastSeq: r.Seq,
			Problem: fmt.Sprintf("stream sequence %d cannot be read, and the agreement's next message (sequence %d) chains to what it held", seq, r.Seq)}
	} else if o, ok := f.outside[prev]; ok && o.agreement == r.Agreement {
		first := o.seq
		for _, x := range f.outside {
			if x.agreement == r.Agreement && x.seq > headSeq {
				first = min(first, x.seq)
			}
		}
		d = &projections.Damage{Agreement: r.Agreement, Version: version, Seq: first, LastSeq: r.Seq,
			Problem: fmt.Sprintf("the agreement's messages from sequence %d on chain to one another but not to version %d: a message before them is missing", first, version-1)}
	} else {
		f.outside[r.Hash] = offChain{r.Agreement, r.Seq}
		return nil, nil
	}
	for h, x := range f.outside {
		if x.agreement == r.Agreement && x.seq > headSeq {
			dropped = append(dropped, x.seq)
			delete(f.outside, h)
		}
	}
	slices.Sort(dropped)
	d.Beyond = len(dropped) + 1
	f.damaged[r.Agreement] = d
	return d, dropped
}

// beyond notes a message of a damaged agreement after the damage, and
// reports whether the agreement is damaged.
func (f *damageFinder) beyond(agreement string, seq uint64) bool {
	d := f.damaged[agreement]
	if d == nil {
		return false
	}
	d.LastSeq = seq
	d.Beyond++
	return true
}

// list returns the damaged agreements, by name.
func (f *damageFinder) list() []projections.Damage {
	out := make([]projections.Damage, 0, len(f.damaged))
	for _, d := range f.damaged {
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b projections.Damage) int {
		switch {
		case a.Agreement < b.Agreement:
			return -1
		case a.Agreement > b.Agreement:
			return 1
		}
		return 0
	})
	return out
}

// unattributed returns the holes no damaged agreement accounts for.
func (f *damageFinder) unattributed() []SeqRange {
	var out []SeqRange
	for _, h := range f.holes {
		claimed := false
		for _, d := range f.damaged {
			if d.Seq >= h.First && d.Seq <= h.Last {
				claimed = true
			}
		}
		if !claimed {
			out = append(out, h)
		}
	}
	return out
}

// damagedError is the error of a question about, or an append to, a
// damaged agreement.
func damagedError(d *projections.Damage) error {
	return &events.Error{Kind: events.Damaged, Message: damageMessage(d)}
}

func damageMessage(d *projections.Damage) string {
	prefix := "nothing of it can be read"
	if d.Version > 1 {
		prefix = fmt.Sprintf("ask with --allow-damaged, or allow_damaged=true over HTTP, for what versions 1-%d say", d.Version-1)
	}
	return fmt.Sprintf("agreement %s is damaged from version %d (stream sequence %d): %s; an answer would rest on a broken chain (%s); recover the store as the README's \"Recovering a damaged store\" says",
		d.Agreement, d.Version, d.Seq, d.Problem, prefix)
}
