package projections

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/oklog/ulid/v2"
)

// Index is the read model: every recorded amendment, grouped by agreement,
// with each agreement folded into a view of everything recorded so far.
// Add extends it one record at a time, in stream order.
//
// Queries may run concurrently with each other, and with Validate,
// Introduces, Preview and WhatIf, which try amendments on live views and
// restore them under the index's own lock; Add must not run concurrently
// with anything (the ledger holds its write lock).
type Index struct {
	mu         sync.RWMutex
	agreements map[string]*agreement
	byID       idTable
	all        []*events.Record // every record, in stream order
	// Known-at is a prefix of all: while recorded times do not decrease
	// (the stream's timestamps), cut searches them; once one does, times
	// holds every recorded time made non-decreasing.
	times     []time.Time
	grants    *grantIndex
	kviews    viewCache
	unsettled []*agreement // agreements with records not folded yet (see settle)
	kept      *Kept        // the batch a writer holds applied, if any
	deferred  bool         // Add files records for Fold (see Defer)
	calendar  calendarCache

	// byParty lists, for each party, the agreements a record opens naming
	// it (in any version, retracted or not): where a rights check looks
	// for what the party holds or granted.
	byParty map[string][]*agreement
}

// agreement is one agreement's records and its current view.
type agreement struct {
	name      string
	records   []*events.Record             // in sequence order
	retracted map[ulid.ULID]*events.Record // retracted id → the record that retracted it; nil until one is
	problems  []Anomaly                    // retractions that could not apply
	named     []string                     // the parties it is listed under in Index.byParty
	v         *view                        // everything recorded; its grants are in the grant index
	// Records not folded into v yet, and records they retract (see settle).
	pending, drop []*events.Record
}

// retract notes that by retracted the amendment id.
func (a *agreement) retract(id ulid.ULID, by *events.Record) {
	if a.retracted == nil {
		a.retracted = map[ulid.ULID]*events.Record{}
	}
	a.retracted[id] = by
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{
		agreements: map[string]*agreement{},
		grants:     newGrantIndex(),
		byParty:    map[string][]*agreement{},
	}
}

// Len is the number of records in the index.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.all)
}

// Records returns every record in stream order. Records do not change once
// added; the slice must not be modified.
func (ix *Index) Records() []*events.Record {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.all[:len(ix.all):len(ix.all)]
}

// LastSeq is the stream sequence of the last record added, or 0.
func (ix *Index) LastSeq() uint64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.lastSeq()
}

func (ix *Index) lastSeq() uint64 {
	if len(ix.all) == 0 {
		return 0
	}
	return ix.all[len(ix.all)-1].Seq
}

// Lookup returns the record of amendment id, or nil.
func (ix *Index) Lookup(id ulid.ULID) *events.Record {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.byID.get(id)
}

// Head returns the last record of an agreement, or nil.
func (ix *Index) Head(agreement string) *events.Record {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	a := ix.agreements[agreement]
	if a == nil || len(a.records) == 0 {
		return nil
	}
	return a.records[len(a.records)-1]
}

// Add adds the next record of the stream. Records must come in increasing
// sequence and carry ids not seen before; Add sets r.Version. A record that
// does not apply to its agreement's history is kept (it is part of the log)
// but skipped by the fold, and reported by Anomalies.
func (ix *Index) Add(r *events.Record) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if r.Seq <= ix.lastSeq() {
		return fmt.Errorf("projections: record %s has sequence %d, not after %d", r.ID, r.Seq, ix.lastSeq())
	}
	if old := ix.byID.get(r.ID); old != nil {
		return fmt.Errorf("projections: amendment id %s at sequence %d was already recorded at sequence %d", r.ID, r.Seq, old.Seq)
	}
	if k := ix.kept; k != nil {
		if ix.addKept(r) {
			return nil
		}
		if k.trials[r.Agreement] != nil {
			// Another writer got in first: the held batch's write fails.
			ix.abort(k)
		}
	}
	a := ix.agreements[r.Agreement]
	if a == nil {
		a = &agreement{name: r.Agreement}
		a.v = ix.liveView(a)
		ix.agreements[r.Agreement] = a
	}
	r.Version = uint64(len(a.records) + 1)
	var drop []*events.Record
	for i, c := range r.Changes {
		if c.Op != events.Retract {
			continue
		}
		if err := ix.retractable(a, c.Of().Target); err != "" {
			a.problems = append(a.problems, Anomaly{Amendment: r.ID.String(), Problem: fmt.Sprintf("changes[%d].amendment: %s", i, err)})
			continue
		}
		a.retract(c.Of().Target, r)
		drop = append(drop, ix.byID.get(c.Of().Target))
	}
	a.records = append(a.records, r)
	ix.nameParties(a, r)
	ix.byID.put(r)
	ix.all = append(ix.all, r)
	ix.addTime(r.Recorded)
	v := a.v
	if !ix.deferred && a.pending == nil && drop == nil && (len(v.folded) == 0 || foldOrder(v.folded[len(v.folded)-1], r) < 0) {
		v.push(r, nil) // the usual case: r takes effect after everything else
		return nil
	}
	if a.pending == nil {
		ix.unsettled = append(ix.unsettled, a)
	}
	a.pending = append(a.pending, r)
	a.drop = append(a.drop, drop...)
	return nil
}

// nameParties lists a under the parties r opens it with.
func (ix *Index) nameParties(a *agreement, r *events.Record) {
	for _, c := range r.Changes {
		if c.Op != events.Open {
			continue
		}
		ps := c.Of().Parties
		if a.named == nil && distinct(ps) {
			// Its first open (as a rule): named shares its parties
			// (clipped: an append copies).
			a.named = slices.Clip(ps)
			for _, p := range ps {
				ix.byParty[p] = append(ix.byParty[p], a)
			}
			continue
		}
		for _, p := range ps {
			if !slices.Contains(a.named, p) {
				a.named = append(a.named, p)
				ix.byParty[p] = append(ix.byParty[p], a)
			}
		}
	}
}

// distinct reports whether no string is in ss twice.
func distinct(ss []string) bool {
	for i, s := range ss {
		if slices.Contains(ss[:i], s) {
			return false
		}
	}
	return true
}

// liveView returns an empty view of a whose grants go to the grant index.
func (ix *Index) liveView(a *agreement) *view {
	v := newView(a.name)
	v.gi, v.own = ix.grants, a
	return v
}

// A record that sorts before the last of its agreement (a retroactive one),
// or a retraction, is not folded when added but when the agreement is next
// read (settle): records added meanwhile, as when the read model replays the
// stream, are folded in together. The view is rolled back to where they
// change history and the rest folded again, when that rest is at most
// window(n) of the view's n records; otherwise the agreement is folded again
// from scratch, which is then as cheap.
var (
	windowMin = 256 // records
	windowPct = 80  // percent of the agreement's records
)

func window(n int) int { return max(windowMin, n*windowPct/100) }

// read takes the read lock for a query, having folded the records added
// since the last one (but for those filed for Fold).
func (ix *Index) read() (unlock func()) {
	ix.mu.RLock()
	for len(ix.unsettled) > 0 && !ix.deferred {
		ix.mu.RUnlock()
		ix.mu.Lock()
		ix.settle()
		ix.mu.Unlock()
		ix.mu.RLock()
	}
	return ix.mu.RUnlock
}

// settle folds every agreement's pending records into its view.
func (ix *Index) settle() {
	for i, a := range ix.unsettled {
		ix.settleOne(a)
		ix.unsettled[i] = nil
	}
	ix.unsettled = ix.unsettled[:0]
}

func (ix *Index) settleOne(a *agreement) {
	v := a.v
	n := len(v.folded)
	p := min(v.earliest(a.pending), v.earliest(a.drop))
	gone := func(r *events.Record) bool { return slices.Contains(a.drop, r) }
	if len(a.drop) > 8 {
		set := make(map[*events.Record]bool, len(a.drop))
		for _, t := range a.drop {
			set[t] = true
		}
		gone = func(r *events.Record) bool { return set[r] }
	}
	if n-p > window(n) {
		ix.refold(a)
	} else {
		rest := make([]*events.Record, 0, n-p+len(a.pending))
		for _, r := range v.folded[p:] {
			if !gone(r) {
				rest = append(rest, r)
			}
		}
		for _, r := range a.pending {
			if !gone(r) {
				rest = append(rest, r)
			}
		}
		slices.SortStableFunc(rest, foldOrder)
		done := v.reusing()
		v.rollback(p)
		for _, r := range rest {
			v.push(r, nil)
		}
		done()
	}
	a.pending, a.drop = nil, nil
}

// refold folds a's visible records into a new live view.
func (ix *Index) refold(a *agreement) {
	ix.grants.leave(a.v)
	a.v.gi = nil
	recs := a.visible(math.MaxUint64)
	v := ix.liveView(a)
	v.folded = make([]*events.Record, 0, len(recs))
	for _, r := range recs {
		v.push(r, nil)
	}
	a.v = v
}

// addTime notes the recorded time of the record just added.
func (ix *Index) addTime(t time.Time) {
	n := len(ix.all) - 1
	if ix.times == nil {
		if n == 0 || !t.Before(ix.all[n-1].Recorded) {
			return
		}
		ix.times = make([]time.Time, n, 2*n)
		for i, r := range ix.all[:n] {
			ix.times[i] = r.Recorded
		}
	}
	if t.Before(ix.times[n-1]) {
		t = ix.times[n-1]
	}
	ix.times = append(ix.times, t)
}

// retractable says why target cannot be retracted in a, or "".
func (ix *Index) retractable(a *agreement, target ulid.ULID) string {
	t := ix.byID.get(target)
	switch {
	case t == nil:
		return fmt.Sprintf("no amendment %s has been recorded", target)
	case t.Agreement != a.name:
		return fmt.Sprintf("amendment %s belongs to agreement %s; retract it there", target, t.Agreement)
	case a.retracted[target] != nil:
		return fmt.Sprintf("amendment %s was already retracted by %s", target, a.retracted[target].ID)
	case isRetraction(t.Amendment):
		return fmt.Sprintf("amendment %s is a retraction; retractions cannot be retracted (append the retracted content again instead)", target)
	}
	return ""
}

func isRetraction(a *events.Amendment) bool {
	return slices.ContainsFunc(a.Changes, func(c events.Change) bool { return c.Op == events.Retract })
}

// visible returns the records of a recorded at or before sequence cut and not
// retracted by then, in fold order.
func (a *agreement) visible(cut uint64) []*events.Record {
	out := make([]*events.Record, 0, a.versionAt(cut))
	for _, r := range a.records {
		if r.Seq > cut {
			break
		}
		if by := a.retracted[r.ID]; by != nil && by.Seq <= cut {
			continue
		}
		out = append(out, r)
	}
	slices.SortStableFunc(out, foldOrder)
	return out
}

// versionAt is the agreement's version as known at sequence cut.
func (a *agreement) versionAt(cut uint64) uint64 {
	if n := len(a.records); n == 0 || a.records[n-1].Seq <= cut {
		return uint64(n)
	}
	n := sort.Search(len(a.records), func(i int) bool { return a.records[i].Seq > cut })
	return uint64(n)
}

// viewAt is the agreement as known at sequence cut, and the record before
// which that view's fold stops (nil: it does not). When what was visible at
// cut is a prefix, in fold order, of what is visible now (nothing recorded
// after cut takes effect before something recorded by then, and nothing
// visible then has been retracted since), the view as known at cut is the
// current view folded up to that prefix's end: the answer reads the current
// view with that bound. Otherwise it is folded from the records visible at
// cut (and cached).
func (ix *Index) viewAt(a *agreement, cut uint64) (*view, *events.Record) {
	if len(a.records) == 0 || cut >= a.records[len(a.records)-1].Seq && !ix.held(a) {
		return a.v, nil
	}
	n := a.versionAt(cut)
	visible := int(n)
	for _, by := range a.retracted {
		if by.Seq <= cut {
			visible--
		}
	}
	if j := a.v.prefix(cut); j == visible {
		if j == len(a.v.folded) {
			return a.v, nil
		}
		return a.v, a.v.folded[j]
	}
	return ix.kviews.get(a, n, func() *view { return foldAll(a.name, a.visible(cut)) }), nil
}

// fullViewAt is the agreement as known at sequence cut, folded: the current
// view, or one folded from the records visible at cut (and cached).
func (ix *Index) fullViewAt(a *agreement, cut uint64) *view {
	if len(a.records) == 0 || cut >= a.records[len(a.records)-1].Seq && !ix.held(a) {
		return a.v
	}
	n := a.versionAt(cut)
	return ix.kviews.get(a, n, func() *view { return foldAll(a.name, a.visible(cut)) })
}

// cut turns a known-at time into the last stream sequence recorded by then;
// zero means everything (what was added: not a batch held tentatively).
func (ix *Index) cut(knownAt time.Time) uint64 {
	if knownAt.IsZero() {
		if ix.kept != nil {
			return ix.lastSeq()
		}
		return math.MaxUint64
	}
	var i int
	if ix.times != nil {
		i = sort.Search(len(ix.times), func(i int) bool { return ix.times[i].After(knownAt) })
	} else {
		i = sort.Search(len(ix.all), func(i int) bool { return ix.all[i].Recorded.After(knownAt) })
	}
	if i == 0 {
		return 0
	}
	return ix.all[i-1].Seq
}

// find returns the agreement name as known at cut, or a NotFound error.
func (ix *Index) find(name string, cut uint64, knownAt time.Time) (*agreement, error) {
	a := ix.agreements[name]
	if a == nil {
		return nil, &events.Error{Kind: events.NotFound, Message: fmt.Sprintf("no agreement %s%s", name, ix.similar(name))}
	}
	if a.versionAt(cut) == 0 {
		return nil, &events.Error{Kind: events.NotFound, Message: fmt.Sprintf("agreement %s had not been recorded yet at %s (its first amendment was recorded %s)", name, events.FormatTime(knownAt), events.FormatTime(a.records[0].Recorded))}
	}
	return a, nil
}

func (ix *Index) similar(name string) string {
	var close []string
	for n := range ix.agreements {
		if strings.Contains(n, name) || strings.Contains(name, n) {
			close = append(close, n)
		}
	}
	slices.Sort(close)
	if len(close) == 0 || len(close) > 5 {
		return ""
	}
	return " (did you mean " + strings.Join(close, ", ") + "?)"
}

// State returns what agreement said at valid time at, as known at knownAt
// (zero: everything recorded).
func (ix *Index) State(agreement string, at, knownAt time.Time) (*State, error) {
	defer ix.read()()
	return ix.state(agreement, at, knownAt)
}

func (ix *Index) state(agreement string, at, knownAt time.Time) (*State, error) {
	cut := ix.cut(knownAt)
	a, err := ix.find(agreement, cut, knownAt)
	if err != nil {
		return nil, err
	}
	v, bound := ix.viewAt(a, cut)
	s := v.stateAt(at, bound)
	s.KnownAt = knownAt
	s.Version = a.versionAt(cut)
	return s, nil
}

// Summary describes an agreement in a listing.
type Summary struct {
	Agreement string    `json:"agreement"`
	Title     string    `json:"title"`
	Parties   []string  `json:"parties"`
	Status    string    `json:"status"`
	Version   uint64    `json:"version"`
	Opened    time.Time `json:"-"`
	Closed    time.Time `json:"-"`
	Damaged   *Damage   `json:"damaged,omitempty"`
}

// Agreements lists every agreement with its status at valid time at.
func (ix *Index) Agreements(at time.Time) []Summary {
	defer ix.read()()
	out := make([]Summary, 0, len(ix.agreements))
	cut := ix.cut(time.Time{})
	for _, a := range ix.agreements {
		v, bound := ix.viewAt(a, cut)
		s := Summary{Agreement: a.name, Status: v.status(at, bound), Version: uint64(len(a.records))}
		if o := v.openedBefore(bound); o != nil {
			s.Title, s.Parties, s.Opened = v.title, v.parties, o.Effective
		}
		s.Parties = nonNil(s.Parties)
		if c := v.closedBefore(bound); c != nil {
			s.Closed = c.Effective
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(x, y Summary) int { return strings.Compare(x.Agreement, y.Agreement) })
	return out
}

// History is an agreement's amendments in the order they were recorded.
type History struct {
	Agreement  string  `json:"agreement"`
	Amendments []Entry `json:"amendments"`
	Damaged    *Damage `json:"damaged,omitempty"`
}

// Entry is one amendment in an agreement's history.
type Entry struct {
	*events.Record
	RetractedBy string // id of the amendment that retracted it, or ""
}

// MarshalJSON writes {"id","version","seq","recorded","effective","summary",…}.
func (e Entry) MarshalJSON() ([]byte, error) {
	ops := make([]events.Op, len(e.Changes))
	for i, c := range e.Changes {
		ops[i] = c.Op
	}
	m := map[string]any{
		"id":           e.ID.String(),
		"version":      e.Version,
		"seq":          e.Seq,
		"recorded":     e.Recorded.UTC().Format(time.RFC3339Nano),
		"effective":    events.FormatTime(e.Effective),
		"signed":       timeOrNull(e.Signed),
		"summary":      e.Summary,
		"ops":          ops,
		"retracted_by": nonEmptyOrNull(e.RetractedBy),
		"hash":         e.Hash,
	}
	if e.Source != nil {
		m["source"] = e.Source
	}
	return json.Marshal(m)
}

// History returns an agreement's amendments in the order they were recorded.
func (ix *Index) History(agreement string) (*History, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	a, err := ix.find(agreement, math.MaxUint64, time.Time{})
	if err != nil {
		return nil, err
	}
	h := &History{Agreement: agreement, Amendments: make([]Entry, len(a.records))}
	for i, r := range a.records {
		h.Amendments[i] = Entry{Record: r}
		if by := a.retracted[r.ID]; by != nil {
			h.Amendments[i].RetractedBy = by.ID.String()
		}
	}
	return h, nil
}

// Full writes h's amendments as the ledger stores them — each its canonical
// JSON, id included, without the stream's "v" and "prev" — in recording
// order: as JSON Lines, or as a JSON array of one amendment a line. Either
// is input an append takes, and appended to a store that has none of them
// they are stored as they were, byte for byte: the same ids, bodies and
// hashes (the chain's first prev is zero wherever it starts).
func (h *History) Full(array bool) []byte {
	var b []byte
	if array {
		b = append(b, "[\n"...)
	}
	for i, e := range h.Amendments {
		if array && i > 0 {
			b = append(b, ",\n"...)
		}
		line, _ := e.Amendment.MarshalJSON() // it cannot fail
		b = append(b, line...)
		if !array {
			b = append(b, '\n')
		}
	}
	if array {
		b = append(b, "\n]\n"...)
	}
	return b
}

// Anomalies lists the amendments of an agreement that its fold skipped.
func (ix *Index) Anomalies(agreement string) []Anomaly {
	defer ix.read()()
	a := ix.agreements[agreement]
	if a == nil {
		return nil
	}
	return append(slices.Clone(a.problems), a.v.notes.problems...)
}
