package projections

import "github.com/agreement-ledger/ledger/events"

// AmendmentRef names a recorded amendment: its id, and its agreement and
// version there.
type AmendmentRef struct {
	ID        string `json:"id"`
	Agreement string `json:"agreement"`
	Version   uint64 `json:"version"`
}

// An answer counts what was recorded by a known-at time, which may be
// given as an amendment's id ("as known when it was recorded"). The answer
// then echoes which amendment that was, beside its known_at, as
// "known_at_amendment".

// knownAtEcho is an answer with a known-at.
type knownAtEcho interface{ echoKnownAt(*AmendmentRef) }

// EchoKnownAt records in answer v, if it is an answer with a known-at,
// that its known-at was given as amendment a (nil: as a time, or not at
// all).
func EchoKnownAt(v any, a *AmendmentRef) {
	if e, ok := v.(knownAtEcho); ok && a != nil {
		e.echoKnownAt(a)
	}
}

func (s *State) echoKnownAt(a *AmendmentRef)          { s.KnownAtAmendment = a }
func (t *Timeline) echoKnownAt(a *AmendmentRef)       { t.KnownAtAmendment = a }
func (d *Diff) echoKnownAt(a *AmendmentRef)           { d.KnownAtAmendment = a }
func (r *ConflictReport) echoKnownAt(a *AmendmentRef) { r.KnownAtAmendment = a }
func (av *Avails) echoKnownAt(a *AmendmentRef)        { av.KnownAtAmendment = a }
func (h *Holdings) echoKnownAt(a *AmendmentRef)       { h.KnownAtAmendment = a }
func (c *Calendar) echoKnownAt(a *AmendmentRef)       { c.KnownAtAmendment = a }
func (r *Rights) echoKnownAt(a *AmendmentRef)         { r.KnownAtAmendment = a }

// RefOf names the recorded amendment r.
func RefOf(r *events.Record) *AmendmentRef {
	return &AmendmentRef{ID: r.ID.String(), Agreement: r.Agreement, Version: r.Version}
}
