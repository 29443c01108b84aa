package projections

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/oklog/ulid/v2"
)

// Index is the read model: every recorded amendment, grouped by agreement,
// with each agreement folded into a view of everything recorded so far.
// Add extends it one record at a time, in stream order.
//
// An Index is not safe for concurrent use: the ledger guards it with a
// read-write lock, and queries never modify it.
type Index struct {
	agreements map[string]*agreement
	byID       map[ulid.ULID]*events.Record
	all        []*events.Record // every record, in stream order
	times      []time.Time      // recorded times, made non-decreasing so known-at is a prefix
	grants     map[string]map[*agreement][]*version
}

// agreement is one agreement's records and its current view.
type agreement struct {
	name      string
	records   []*events.Record             // in sequence order
	retracted map[ulid.ULID]*events.Record // retracted id → the record that retracted it
	problems  []Anomaly                    // retractions that could not apply
	fold      fold                         // fold.v is the view of everything recorded
	grantors  map[string]bool              // grantors this agreement is indexed under
	indexed   struct {
		v *view
		n int
	} // what the grant index holds
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{
		agreements: map[string]*agreement{},
		byID:       map[ulid.ULID]*events.Record{},
		grants:     map[string]map[*agreement][]*version{},
	}
}

// Len is the number of records in the index.
func (ix *Index) Len() int { return len(ix.all) }

// Records returns every record in stream order. Records do not change once
// added; the slice must not be modified.
func (ix *Index) Records() []*events.Record { return ix.all[:len(ix.all):len(ix.all)] }

// LastSeq is the stream sequence of the last record added, or 0.
func (ix *Index) LastSeq() uint64 {
	if len(ix.all) == 0 {
		return 0
	}
	return ix.all[len(ix.all)-1].Seq
}

// Lookup returns the record of amendment id, or nil.
func (ix *Index) Lookup(id ulid.ULID) *events.Record { return ix.byID[id] }

// Head returns the last record of an agreement, or nil.
func (ix *Index) Head(agreement string) *events.Record {
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
	if r.Seq <= ix.LastSeq() {
		return fmt.Errorf("projections: record %s has sequence %d, not after %d", r.ID, r.Seq, ix.LastSeq())
	}
	if old := ix.byID[r.ID]; old != nil {
		return fmt.Errorf("projections: amendment id %s at sequence %d was already recorded at sequence %d", r.ID, r.Seq, old.Seq)
	}
	a := ix.agreements[r.Agreement]
	if a == nil {
		a = &agreement{name: r.Agreement, retracted: map[ulid.ULID]*events.Record{}, fold: fold{v: newView(r.Agreement)}}
		ix.agreements[r.Agreement] = a
	}
	r.Version = uint64(len(a.records) + 1)
	refold := false
	for i, c := range r.Changes {
		if c.Op != events.Retract {
			continue
		}
		if err := ix.retractable(a, c.Target); err != "" {
			a.problems = append(a.problems, Anomaly{Amendment: r.ID.String(), Problem: fmt.Sprintf("changes[%d].amendment: %s", i, err)})
			continue
		}
		a.retracted[c.Target] = r
		refold = true
	}
	a.records = append(a.records, r)
	ix.byID[r.ID] = r
	ix.all = append(ix.all, r)
	t := r.Recorded
	if n := len(ix.times); n > 0 && t.Before(ix.times[n-1]) {
		t = ix.times[n-1]
	}
	ix.times = append(ix.times, t)

	v := a.fold.v
	extend := !refold && (len(v.records) == 0 || foldOrder(v.records[len(v.records)-1], r) < 0)
	for _, s := range v.skipped {
		if foldOrder(r, s) < 0 {
			extend = false // r may make a record skipped after it apply: fold them again
		}
	}
	if extend {
		a.fold.add(r, nil)
		a.fold.commit()
	} else {
		a.fold = fold{v: foldAll(a.name, a.visible(math.MaxUint64))}
	}
	ix.indexGrants(a)
	return nil
}

// retractable says why target cannot be retracted in a, or "".
func (ix *Index) retractable(a *agreement, target ulid.ULID) string {
	t := ix.byID[target]
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
	out := make([]*events.Record, 0, len(a.records))
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
	n := sort.Search(len(a.records), func(i int) bool { return a.records[i].Seq > cut })
	return uint64(n)
}

// viewAt is the agreement as known at sequence cut.
func (a *agreement) viewAt(cut uint64) *view {
	if len(a.records) == 0 || cut >= a.records[len(a.records)-1].Seq {
		return a.fold.v
	}
	return foldAll(a.name, a.visible(cut))
}

// cut turns a known-at time into the last stream sequence recorded by then;
// zero means everything.
func (ix *Index) cut(knownAt time.Time) uint64 {
	if knownAt.IsZero() {
		return math.MaxUint64
	}
	i := sort.Search(len(ix.times), func(i int) bool { return ix.times[i].After(knownAt) })
	if i == 0 {
		return 0
	}
	return ix.all[i-1].Seq
}

// indexGrants keeps the grant index in step with a's view.
func (ix *Index) indexGrants(a *agreement) {
	v := a.fold.v
	if a.indexed.v == v && a.indexed.n == len(v.grants) {
		return
	}
	if a.indexed.v == v && a.indexed.n < len(v.grants) {
		// the view was extended: index only its new grants
		for _, x := range v.grants[a.indexed.n:] {
			ix.indexGrant(a, x)
		}
		a.indexed.n = len(v.grants)
		return
	}
	for g := range a.grantors {
		delete(ix.grants[g], a)
		if len(ix.grants[g]) == 0 {
			delete(ix.grants, g)
		}
	}
	a.grantors = map[string]bool{}
	for _, x := range v.grants {
		ix.indexGrant(a, x)
	}
	a.indexed.v, a.indexed.n = v, len(v.grants)
}

func (ix *Index) indexGrant(a *agreement, x *version) {
	g := x.clause.Grantor
	if ix.grants[g] == nil {
		ix.grants[g] = map[*agreement][]*version{}
	}
	ix.grants[g][a] = append(ix.grants[g][a], x)
	a.grantors[g] = true
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
	cut := ix.cut(knownAt)
	a, err := ix.find(agreement, cut, knownAt)
	if err != nil {
		return nil, err
	}
	s := a.viewAt(cut).stateAt(at)
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
}

// Agreements lists every agreement with its status at valid time at.
func (ix *Index) Agreements(at time.Time) []Summary {
	out := make([]Summary, 0, len(ix.agreements))
	for _, a := range ix.agreements {
		v := a.fold.v
		s := Summary{Agreement: a.name, Title: v.title, Parties: nonNil(v.parties), Status: v.status(at), Version: uint64(len(a.records))}
		if v.opened != nil {
			s.Opened = v.opened.at
		}
		if v.closed != nil {
			s.Closed = v.closed.at
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

// Anomalies lists the amendments of an agreement that its fold skipped.
func (ix *Index) Anomalies(agreement string) []Anomaly {
	a := ix.agreements[agreement]
	if a == nil {
		return nil
	}
	return append(slices.Clone(a.problems), a.fold.v.problems...)
}
