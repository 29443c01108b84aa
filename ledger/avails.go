package ledger

import "github.com/agreement-ledger/ledger/projections"

// Avails answers when, over a window of valid time, parties may offer
// something (the rights check as a function of time).
func (l *Ledger) Avails(q projections.AvailsQuery) (*projections.Avails, error) {
	return read(l, func(ix *projections.Index) (*projections.Avails, error) { return ix.Avails(q) })
}

// Holdings answers what a party holds exclusively over a window.
func (l *Ledger) Holdings(q projections.HoldingsQuery) (*projections.Holdings, error) {
	return read(l, func(ix *projections.Index) (*projections.Holdings, error) { return ix.Holdings(q) })
}

// Calendar lists what falls due over a window: of one agreement (answered
// while the read model loads, from that agreement's messages), or of every
// one.
func (l *Ledger) Calendar(q projections.CalendarQuery) (*projections.Calendar, error) {
	ask := func(ix *projections.Index) (*projections.Calendar, error) { return ix.Calendar(q) }
	if q.Agreement != "" {
		return readAgreement(l, q.Agreement, ask)
	}
	return read(l, ask)
}
