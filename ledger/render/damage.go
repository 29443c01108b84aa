package render

import (
	"io"

	"github.com/agreement-ledger/ledger/projections"
)

// Damaged writes a warning line for each damaged agreement an answer
// rests on: the answer that follows comes from its intact prefix.
func Damaged(w io.Writer, ds []projections.Damage) error {
	p := &printer{w: w}
	for _, d := range ds {
		if d.Version > 1 {
			p.f("DAMAGED  %s: the store cannot read its history from version %d (stream sequence %d) on; this answer counts only versions 1-%d\n", d.Agreement, d.Version, d.Seq, d.Version-1)
		} else {
			p.f("DAMAGED  %s: the store cannot read its history (stream sequence %d on); this answer leaves it out\n", d.Agreement, d.Seq)
		}
		p.f("         %s; see ledger verify and the README's \"Recovering a damaged store\"\n", d.Problem)
	}
	if len(ds) > 0 {
		p.ln()
	}
	return p.err
}
