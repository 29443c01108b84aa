package ledger

import "github.com/agreement-ledger/ledger/projections"

// Avails answers when, over a window of valid time, parties may offer
// something (the rights check as a function of time). Damaged agreements
// take part with their intact prefixes, and are listed.
func (l *Ledger) Avails(q projections.AvailsQuery) (*projections.Avails, error) {
	return read(l, func(ix *projections.Index) (*projections.Avails, error) {
		av, err := ix.Avails(q)
		if err == nil {
			av.Damaged, _ = l.rm.damages()
		}
		return av, err
	})
}

// Holdings answers what a party holds exclusively over a window, as
// Avails does.
func (l *Ledger) Holdings(q projections.HoldingsQuery) (*projections.Holdings, error) {
	return read(l, func(ix *projections.Index) (*projections.Holdings, error) {
		h, err := ix.Holdings(q)
		if err == nil {
			h.Damaged, _ = l.rm.damages()
		}
		return h, err
	})
}

// Calendar lists what falls due over a window: of one agreement (answered
// while the read model loads, from that agreement's messages; a damaged
// one is an error unless the options allow it), or of every one, damaged
// agreements with their intact prefixes, listed.
func (l *Ledger) Calendar(q projections.CalendarQuery, opts ...QueryOption) (*projections.Calendar, error) {
	ask := func(ix *projections.Index) (*projections.Calendar, error) { return ix.Calendar(q) }
	if q.Agreement != "" {
		c, dmg, err := readAgreement(l, q.Agreement, opts, ask)
		if err == nil && dmg != nil {
			c.Damaged = []projections.Damage{*dmg}
		}
		return c, err
	}
	return read(l, func(ix *projections.Index) (*projections.Calendar, error) {
		c, err := ask(ix)
		if err == nil {
			c.Damaged, _ = l.rm.damages()
		}
		return c, err
	})
}
