package projections

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/oklog/ulid/v2"
)

// The answers read back from the documents their MarshalJSON writes, for a
// client of the ledger over the network (ledger/client): what it reads
// writes the same document again. A document holds less than some answers
// do, and so does what is read from it: a history's entries carry only the
// ops of their changes, a state's clauses come grouped by kind, a calendar
// entry's clause has only the values the entry shows.

// docTime reads a time as FormatTime (or RFC 3339) writes it.
func docTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date or an RFC 3339 time", s)
	}
	return t.UTC(), nil
}

// docTimes reads times into their places; a nil string (JSON null) is the
// zero time, as timeOrNull writes it.
func docTimes(into map[*time.Time]*string) error {
	for t, s := range into {
		if s == nil {
			*t = time.Time{}
			continue
		}
		var err error
		if *t, err = docTime(*s); err != nil {
			return err
		}
	}
	return nil
}

// UnmarshalJSON reads {"condition","amendment","at"}.
func (d *Declared) UnmarshalJSON(b []byte) error {
	type plain Declared
	aux := struct {
		*plain
		At string `json:"at"`
	}{plain: (*plain)(d)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	return docTimes(map[*time.Time]*string{&d.At: &aux.At})
}

// UnmarshalJSON reads the state document. Its clauses are listed group by
// group, in the order of events.Kinds.
func (s *State) UnmarshalJSON(b []byte) error {
	var aux struct {
		Agreement  string     `json:"agreement"`
		At         string     `json:"at"`
		KnownAt    *string    `json:"known_at"`
		Version    uint64     `json:"version"`
		Title      string     `json:"title"`
		Status     string     `json:"status"`
		Opened     *string    `json:"opened"`
		Closed     *string    `json:"closed"`
		Parties    []string   `json:"parties"`
		Conditions []Declared `json:"conditions"`
		Damaged    *Damage    `json:"damaged"`

		KnownAtAmendment *AmendmentRef `json:"known_at_amendment"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	var groups map[string]json.RawMessage
	if err := json.Unmarshal(b, &groups); err != nil {
		return err
	}
	*s = State{Agreement: aux.Agreement, KnownAtAmendment: aux.KnownAtAmendment, Version: aux.Version, Title: aux.Title, Status: aux.Status, Parties: aux.Parties, Conditions: aux.Conditions, Damaged: aux.Damaged}
	if err := docTimes(map[*time.Time]*string{&s.At: &aux.At, &s.KnownAt: aux.KnownAt, &s.Opened: aux.Opened, &s.Closed: aux.Closed}); err != nil {
		return err
	}
	for _, k := range events.Kinds {
		raw, ok := groups[events.Spec(k).Group]
		if !ok {
			continue
		}
		var cs []*ClauseState
		if err := json.Unmarshal(raw, &cs); err != nil {
			return fmt.Errorf("%s: %w", events.Spec(k).Group, err)
		}
		s.Clauses = append(s.Clauses, cs...)
	}
	return nil
}

// UnmarshalJSON reads a clause in force: its input fields, and what the
// state adds (since, start, end, amendments; a revenue share's accrual; an
// investment's funding).
func (c *ClauseState) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	take := func(name string, into any) error {
		raw, ok := m[name]
		if !ok {
			return nil
		}
		delete(m, name)
		if err := json.Unmarshal(raw, into); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	var since, start string
	var end *string
	*c = ClauseState{}
	err := take("since", &since)
	if err == nil {
		err = take("start", &start)
	}
	if err == nil {
		err = take("end", &end)
	}
	if err == nil {
		err = take("amendments", &c.Amendments)
	}
	if err != nil {
		return err
	}
	if err := docTimes(map[*time.Time]*string{&c.Since: &since, &c.Start: &start, &c.End: end}); err != nil {
		return err
	}
	if _, ok := m["accrued"]; ok {
		c.Accrual = &Accrual{}
		for name, into := range map[string]any{"accrued": &c.Accrual.Accrued, "cap_remaining": &c.Accrual.CapRemaining, "reports": &c.Accrual.Reports, "why": &c.Accrual.Why,
			"uncapped": &c.Accrual.Uncapped, "capped_at": &c.Accrual.CappedAt} {
			if err := take(name, into); err != nil {
				return err
			}
		}
	}
	if _, ok := m["committed"]; ok {
		// An investment's tranches with their funding; committed and funded
		// are their totals (see Totals).
		if err := take("tranches", &c.Tranches); err != nil {
			return err
		}
		delete(m, "committed")
		delete(m, "funded")
		clause := make([]events.Tranche, len(c.Tranches))
		for i, t := range c.Tranches {
			clause[i] = t.Tranche
		}
		m["tranches"], _ = json.Marshal(clause)
	}
	rest, err := json.Marshal(m)
	if err != nil {
		return err
	}
	c.Clause = &events.Clause{}
	return json.Unmarshal(rest, c.Clause)
}

// UnmarshalJSON reads {"amendment","at","op"}.
func (c *CapReached) UnmarshalJSON(b []byte) error {
	var aux struct {
		Amendment *string   `json:"amendment"`
		At        string    `json:"at"`
		Op        events.Op `json:"op"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*c = CapReached{Op: aux.Op}
	if aux.Amendment != nil {
		c.Amendment = *aux.Amendment
	}
	return docTimes(map[*time.Time]*string{&c.At: &aux.At})
}

// UnmarshalJSON reads {"amendment","at","period","base"}.
func (r *Reported) UnmarshalJSON(b []byte) error {
	var aux struct {
		Amendment *string       `json:"amendment"`
		At        string        `json:"at"`
		Period    events.Period `json:"period"`
		Base      events.Money  `json:"base"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*r = Reported{Period: aux.Period, Base: aux.Base}
	if aux.Amendment != nil {
		r.Amendment = *aux.Amendment
	}
	return docTimes(map[*time.Time]*string{&r.At: &aux.At})
}

// UnmarshalJSON reads a tranche as TrancheState.MarshalJSON writes it.
func (t *TrancheState) UnmarshalJSON(b []byte) error {
	var aux struct {
		events.Tranche
		Funded *string `json:"funded"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*t = TrancheState{Tranche: aux.Tranche}
	return docTimes(map[*time.Time]*string{&t.Funded: aux.Funded})
}

// UnmarshalJSON reads a scope; one that limits nothing is nil, as in a
// clause.
func (s *scopeJSON) UnmarshalJSON(b []byte) error {
	var sc events.Scope
	if err := json.Unmarshal(b, &sc); err != nil {
		return err
	}
	s.Scope = nil
	if !sc.IsAll() {
		s.Scope = &sc
	}
	return nil
}

// UnmarshalJSON reads {"grantor","scope","from","until","clauses":[…]}.
func (c *Conflict) UnmarshalJSON(b []byte) error {
	var aux struct {
		Grantor string    `json:"grantor"`
		Scope   scopeJSON `json:"scope"`
		From    string    `json:"from"`
		Until   *string   `json:"until"`
		Clauses [2]Party  `json:"clauses"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*c = Conflict{Grantor: aux.Grantor, Scope: aux.Scope.Scope, Clauses: aux.Clauses}
	return docTimes(map[*time.Time]*string{&c.From: &aux.From, &c.Until: aux.Until})
}

// UnmarshalJSON reads {"at","known_at","conflicts"} and "damaged".
func (r *ConflictReport) UnmarshalJSON(b []byte) error {
	var aux struct {
		At        string     `json:"at"`
		KnownAt   *string    `json:"known_at"`
		Conflicts []Conflict `json:"conflicts"`
		Damaged   []Damage   `json:"damaged"`

		KnownAtAmendment *AmendmentRef `json:"known_at_amendment"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*r = ConflictReport{KnownAtAmendment: aux.KnownAtAmendment, Conflicts: aux.Conflicts, Damaged: aux.Damaged}
	return docTimes(map[*time.Time]*string{&r.At: &aux.At, &r.KnownAt: aux.KnownAt})
}

// UnmarshalJSON reads {"verdict","allowed","ignore_basis","basis","blocking","decided_by"}
// and "damaged".
func (r *Rights) UnmarshalJSON(b []byte) error {
	var aux struct {
		Verdict     Verdict       `json:"verdict"`
		Allowed     bool          `json:"allowed"`
		IgnoreBasis bool          `json:"ignore_basis"`
		Basis       []Decision    `json:"basis"`
		Blocking    []Decision    `json:"blocking"`
		DecidedBy   []Decision    `json:"decided_by"`
		Damaged     []Damage      `json:"damaged"`
		At          *string       `json:"at"`
		KnownAt     *string       `json:"known_at"`
		Amendment   *AmendmentRef `json:"known_at_amendment"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*r = Rights{Verdict: aux.Verdict, Allowed: aux.Allowed, IgnoreBasis: aux.IgnoreBasis, Basis: aux.Basis, Blocking: aux.Blocking,
		DecidedBy: aux.DecidedBy, Damaged: aux.Damaged, KnownAtAmendment: aux.Amendment}
	return docTimes(map[*time.Time]*string{&r.At: aux.At, &r.KnownAt: aux.KnownAt})
}

// UnmarshalJSON reads a history; each entry is of its agreement.
func (h *History) UnmarshalJSON(b []byte) error {
	type plain History
	if err := json.Unmarshal(b, (*plain)(h)); err != nil {
		return err
	}
	for _, e := range h.Amendments {
		e.Agreement = h.Agreement
	}
	return nil
}

// UnmarshalJSON reads an entry of a history: the amendment's envelope and
// where it was recorded. Its changes are known by their ops alone.
func (e *Entry) UnmarshalJSON(b []byte) error {
	var aux struct {
		ID          ulid.ULID      `json:"id"`
		Version     uint64         `json:"version"`
		Seq         uint64         `json:"seq"`
		Recorded    string         `json:"recorded"`
		Effective   string         `json:"effective"`
		Signed      *string        `json:"signed"`
		Summary     string         `json:"summary"`
		Ops         []events.Op    `json:"ops"`
		RetractedBy *string        `json:"retracted_by"`
		Hash        events.Hash    `json:"hash"`
		Source      *events.Source `json:"source"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	a := &events.Amendment{ID: aux.ID, Summary: aux.Summary, Source: aux.Source, Changes: make([]events.Change, len(aux.Ops))}
	for i, op := range aux.Ops {
		a.Changes[i].Op = op
	}
	r := &events.Record{Amendment: a, Seq: aux.Seq, Version: aux.Version, Hash: aux.Hash}
	*e = Entry{Record: r}
	if aux.RetractedBy != nil {
		e.RetractedBy = *aux.RetractedBy
	}
	return docTimes(map[*time.Time]*string{&r.Recorded: &aux.Recorded, &a.Effective: &aux.Effective, &a.Signed: aux.Signed})
}

// UnmarshalJSON reads {"amendment","op","at"}.
func (e *Edge) UnmarshalJSON(b []byte) error {
	type plain Edge
	aux := struct {
		*plain
		At string `json:"at"`
	}{plain: (*plain)(e)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	return docTimes(map[*time.Time]*string{&e.At: &aux.At})
}

// UnmarshalJSON reads a segment. Its fields are plain JSON values until
// the clause they belong to types them (see ClauseLife).
func (s *Segment) UnmarshalJSON(b []byte) error {
	type plain Segment
	aux := struct {
		*plain
		From  string  `json:"from"`
		Until *string `json:"until"`
	}{plain: (*plain)(s)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	return docTimes(map[*time.Time]*string{&s.From: &aux.From, &s.Until: aux.Until})
}

// UnmarshalJSON reads a clause's bars, its segments' fields typed as the
// clause's own fields are (money, rates, scopes, terms).
func (l *ClauseLife) UnmarshalJSON(b []byte) error {
	type plain ClauseLife
	if err := json.Unmarshal(b, (*plain)(l)); err != nil {
		return err
	}
	for i, seg := range l.Segments {
		fields := make(map[string]any, len(seg.Fields)+2)
		for k, v := range seg.Fields {
			fields[k] = v
		}
		fields["id"], fields["kind"] = l.ID, l.Kind
		raw, err := json.Marshal(fields)
		if err != nil {
			return err
		}
		var c events.Clause
		if err := json.Unmarshal(raw, &c); err != nil {
			return fmt.Errorf("segment %d of %s: %w", i, l.ID, err)
		}
		l.Segments[i].Fields = c.Fields()
	}
	return nil
}

// UnmarshalJSON reads an amendment on the time axis.
func (m *Marker) UnmarshalJSON(b []byte) error {
	type plain Marker
	aux := struct {
		*plain
		Effective string `json:"effective"`
		Recorded  string `json:"recorded"`
	}{plain: (*plain)(m)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	return docTimes(map[*time.Time]*string{&m.Effective: &aux.Effective, &m.Recorded: &aux.Recorded})
}

// UnmarshalJSON reads a timeline; its span is the document's from and until.
func (t *Timeline) UnmarshalJSON(b []byte) error {
	type plain Timeline
	aux := struct {
		*plain
		KnownAt *string `json:"known_at"`
		Opened  *string `json:"opened"`
		Closed  *string `json:"closed"`
		From    *string `json:"from"`
		Until   *string `json:"until"`
	}{plain: (*plain)(t)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	return docTimes(map[*time.Time]*string{&t.KnownAt: aux.KnownAt, &t.Opened: aux.Opened, &t.Closed: aux.Closed, &t.Span[0]: aux.From, &t.Span[1]: aux.Until})
}

// UnmarshalJSON reads a diff. Changed fields keep the plain JSON values
// the diff compares (see fieldChanges).
func (d *Diff) UnmarshalJSON(b []byte) error {
	type plain Diff
	aux := struct {
		*plain
		From    string  `json:"from"`
		To      string  `json:"to"`
		KnownAt *string `json:"known_at"`
	}{plain: (*plain)(d)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	return docTimes(map[*time.Time]*string{&d.From: &aux.From, &d.To: &aux.To, &d.KnownAt: aux.KnownAt})
}

// UnmarshalJSON reads the avails document. An interval lists the clauses
// that decide it (its basis and blocking clauses), which the answer keeps
// once each and finds through the period the interval starts with (see
// Avails): read back, each interval is a period of its own, of the clauses
// it lists, so that Rights and MarshalJSON give them again.
func (av *Avails) UnmarshalJSON(b []byte) error {
	var aux struct {
		Scope       scopeJSON `json:"scope"`
		Party       *string   `json:"party"`
		From        string    `json:"from"`
		To          string    `json:"to"`
		KnownAt     *string   `json:"known_at"`
		IgnoreBasis bool      `json:"ignore_basis"`
		Parties     []struct {
			Party     string `json:"party"`
			Intervals []struct {
				From     string     `json:"from"`
				Until    string     `json:"until"`
				Verdict  Verdict    `json:"verdict"`
				Basis    []Decision `json:"basis"`
				Blocking []Decision `json:"blocking"`
			} `json:"intervals"`
		} `json:"parties"`
		Damaged []Damage `json:"damaged"`

		KnownAtAmendment *AmendmentRef `json:"known_at_amendment"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*av = Avails{Scope: aux.Scope.Scope, IgnoreBasis: aux.IgnoreBasis, KnownAtAmendment: aux.KnownAtAmendment, Damaged: aux.Damaged, Parties: make([]PartyAvails, len(aux.Parties))}
	if aux.Party != nil {
		av.Party = *aux.Party
	}
	if err := docTimes(map[*time.Time]*string{&av.From: &aux.From, &av.To: &aux.To, &av.KnownAt: aux.KnownAt}); err != nil {
		return err
	}
	known := map[string]int32{} // a blocking clause's index by its document
	// clause adds what Rights asks of a clause: whom it names (whose basis
	// it is, whom it binds).
	clause := func(d Decision, basis bool, span interval) int32 {
		d.Binds = false
		av.clauses = append(av.clauses, d)
		av.clause = append(av.clause, &events.Clause{ID: d.Clause, Kind: d.Kind, Grantor: d.Grantor, Holder: d.Holder, Sole: d.Sole, Scope: d.Scope.Scope})
		av.basis = append(av.basis, basis)
		av.span = append(av.span, span)
		return int32(len(av.clauses) - 1)
	}
	av.own = map[string][]int32{}
	for i, p := range aux.Parties {
		ivs := make([]Avail, len(p.Intervals))
		for j, iv := range p.Intervals {
			per := period{active: make([]int32, 0, len(iv.Blocking))}
			if err := docTimes(map[*time.Time]*string{&per.from: &iv.From, &per.until: &iv.Until}); err != nil {
				return err
			}
			for _, d := range iv.Blocking {
				key, err := json.Marshal(d)
				if err != nil {
					return err
				}
				c, ok := known[string(key)]
				if !ok {
					c = clause(d, false, interval{})
					known[string(key)] = c
				}
				per.active = append(per.active, c)
			}
			for _, d := range iv.Basis { // a basis of the party's, in force in this interval
				av.own[p.Party] = append(av.own[p.Party], clause(d, true, interval{per.from, per.until, true}))
			}
			ivs[j] = Avail{From: per.from, Until: per.until, Verdict: iv.Verdict, first: int32(len(av.periods))}
			av.periods = append(av.periods, per)
		}
		av.Parties[i] = PartyAvails{Party: p.Party, Intervals: ivs}
	}
	return nil
}

// UnmarshalJSON reads {"holder","scope","from","to","known_at","intervals"}
// and "damaged".
func (h *Holdings) UnmarshalJSON(b []byte) error {
	var aux struct {
		Holder    string    `json:"holder"`
		Scope     scopeJSON `json:"scope"`
		From      string    `json:"from"`
		To        string    `json:"to"`
		KnownAt   *string   `json:"known_at"`
		Intervals []struct {
			From  string    `json:"from"`
			Until string    `json:"until"`
			Holds []Holding `json:"holds"`
		} `json:"intervals"`
		Damaged []Damage `json:"damaged"`

		KnownAtAmendment *AmendmentRef `json:"known_at_amendment"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*h = Holdings{Holder: aux.Holder, Scope: aux.Scope.Scope, KnownAtAmendment: aux.KnownAtAmendment, Damaged: aux.Damaged, Intervals: make([]HeldInterval, len(aux.Intervals))}
	for i, iv := range aux.Intervals {
		h.Intervals[i].Holds = iv.Holds
		if err := docTimes(map[*time.Time]*string{&h.Intervals[i].From: &iv.From, &h.Intervals[i].Until: &iv.Until}); err != nil {
			return err
		}
	}
	return docTimes(map[*time.Time]*string{&h.From: &aux.From, &h.To: &aux.To, &h.KnownAt: aux.KnownAt})
}

// UnmarshalJSON reads {"agreement","from","to","known_at","entries","standing"}
// and "damaged".
func (c *Calendar) UnmarshalJSON(b []byte) error {
	var aux struct {
		Agreement *string         `json:"agreement"`
		From      string          `json:"from"`
		To        string          `json:"to"`
		KnownAt   *string         `json:"known_at"`
		Entries   []CalendarEntry `json:"entries"`
		Standing  []CalendarEntry `json:"standing"`
		Damaged   []Damage        `json:"damaged"`

		KnownAtAmendment *AmendmentRef `json:"known_at_amendment"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*c = Calendar{KnownAtAmendment: aux.KnownAtAmendment, Entries: aux.Entries, Standing: aux.Standing, Damaged: aux.Damaged}
	if aux.Agreement != nil {
		c.Agreement = *aux.Agreement
	}
	return docTimes(map[*time.Time]*string{&c.From: &aux.From, &c.To: &aux.To, &c.KnownAt: aux.KnownAt})
}

// UnmarshalJSON reads a calendar entry. What the document says of the
// clause and the amendment behind it is all the entry has of them (a
// clause of those values alone), and its uid is kept as written: the
// document does not hold what it was derived from.
func (e *CalendarEntry) UnmarshalJSON(b []byte) error {
	var aux struct {
		At         string        `json:"at"`
		Agreement  string        `json:"agreement"`
		Clause     string        `json:"clause"`
		ClauseKind events.Kind   `json:"clause_kind"`
		Kind       EntryKind     `json:"kind"`
		Cause      *string       `json:"cause"`
		Amendment  *ulid.ULID    `json:"amendment"`
		UID        string        `json:"uid"`
		Condition  string        `json:"condition"`
		Tranche    string        `json:"tranche"`
		Why        string        `json:"why"`
		Amount     *events.Money `json:"amount"`
		Accrued    *events.Money `json:"accrued"`
		Remaining  *events.Money `json:"cap_remaining"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	code := slices.Index(kindOfCode[:], aux.Kind)
	if code < 0 {
		return fmt.Errorf("%q is not a kind of calendar entry", aux.Kind)
	}
	cause := 0 // causeNone: a term's own start or end ("term"), or a standing entry (null)
	if aux.Cause != nil && *aux.Cause != "term" {
		if cause = slices.Index(causeNames[:], *aux.Cause); cause <= 0 {
			return fmt.Errorf("%q is not a cause of a calendar entry", *aux.Cause)
		}
	}
	at, err := docTime(aux.At)
	if err != nil {
		return err
	}
	cl := &events.Clause{ID: aux.Clause, Kind: aux.ClauseKind, Amount: aux.Amount}
	rec := &events.Record{Amendment: &events.Amendment{Agreement: aux.Agreement}}
	if aux.Amendment != nil {
		rec.ID = *aux.Amendment
	}
	*e = CalendarEntry{clause: cl, rec: rec, kind: entryCode(code), cause: entryCause(cause)}
	e.at, e.ns = exact(at)
	switch e.kind {
	case codeTrancheUnfunded:
		cl.Amount = nil
		cl.Tranches = []events.Tranche{{ID: aux.Tranche, Condition: aux.Condition}}
		if aux.Amount != nil {
			cl.Tranches[0].Amount = *aux.Amount
		}
	case codeCap80, codeCapReached, codeCapUnknown:
		cl.Amount, cl.Cap = nil, aux.Amount
	}
	if e.kind == codeEndsOn || e.cause == causeDeclare {
		cl.Term = &events.Term{EndsOn: aux.Condition}
	}
	if aux.Accrued != nil || aux.Remaining != nil || aux.Why != "" || aux.UID != "" {
		e.more = &entryMore{accrued: aux.Accrued, remaining: aux.Remaining, why: aux.Why, uid: aux.UID}
	}
	return nil
}
