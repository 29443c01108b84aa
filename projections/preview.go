package projections

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/oklog/ulid/v2"
)

// Preview is what appending a batch of amendments would do: how each
// changes its agreement's state at the time it takes effect, and which
// conflicts the batch introduces (the ledger records them anyway: it records
// what was signed).
type Preview struct {
	Effects   []Effect   `json:"effects"`
	Conflicts []Conflict `json:"conflicts"`
	// Invalidated lists recorded amendments that would no longer apply
	// (WhatIf only: Preview refuses such a batch).
	Invalidated []Anomaly `json:"invalidated,omitempty"`
}

// Effect is one amendment's change to its agreement's state at its effective time.
type Effect struct {
	Amendment string `json:"amendment"`
	Agreement string `json:"agreement"`
	Version   uint64 `json:"version"`
	Diff      *Diff  `json:"diff"`
}

// Validate checks amendments against the history they would join: the
// checks that need history (clause ids unknown or reused, an agreement
// opened twice or not yet open, parties not in the agreement, changes to a
// closed agreement, retractions of unknown amendments), and that every
// amendment already recorded still applies after them (a retroactive
// amendment or a retraction can break a later one). All problems are
// reported at once, each with the path of the input it is at.
func (ix *Index) Validate(as []*events.Amendment) error {
	_, err := ix.preview(nil, as, 0)
	return err
}

// Introduces checks amendments as Validate does, after prior ones already
// checked (a writer gathering several requests into one commit checks each
// after those before it), and returns the conflicts they would introduce.
func (ix *Index) Introduces(prior, as []*events.Amendment) ([]Conflict, error) {
	pv, err := ix.preview(prior, as, wantConflicts)
	if err != nil {
		return nil, err
	}
	return pv.Conflicts, nil
}

// Preview checks amendments as Validate does and returns what appending them
// would change, without changing the index.
func (ix *Index) Preview(as []*events.Amendment) (*Preview, error) {
	return ix.preview(nil, as, wantConflicts|wantEffects)
}

// What a preview computes besides checking.
const (
	wantConflicts = 1 << iota
	wantEffects
)

// trial is one agreement's part of a batch, applied to a view for a while.
type trial struct {
	name   string
	recs   []*events.Record
	paths  []string
	v      *view            // the view with the batch applied
	live   bool             // v is the agreement's own view, to restore:
	keep   int              // roll it back to this many records
	rest   []*events.Record // and fold these again
	done   func()           // ends the view's reusing
	before *view            // the view without the batch (nil for a new agreement)
	states []*State
	prior  []bool // recs[i] is a prior amendment: no effect is reported for it
}

// restore returns a live view the trial changed to what it was.
func (t *trial) restore() {
	if !t.live {
		return
	}
	t.v.rollback(t.keep)
	for _, r := range t.rest {
		t.v.push(r, nil)
	}
	t.done()
	t.live = false
}

func (ix *Index) preview(prior, as []*events.Amendment, want int) (*Preview, error) {
	// Trying amendments changes live views for a while: no query may read
	// them meanwhile.
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.settle()
	effects := want&wantEffects != 0
	var p events.Problems
	prefix := func(i int) string {
		if i < 0 {
			return "(earlier input)"
		}
		if len(as) > 1 {
			return fmt.Sprintf("[%d]", i)
		}
		return ""
	}
	seen := map[ulid.ULID]int{}
	var trials []*trial
	byName := map[string]*trial{}
	next := ix.lastSeq()
	all := append(slices.Clone(prior), as...)
	for k, a := range all {
		i := k - len(prior)
		if a.ID != (ulid.ULID{}) {
			if j, dup := seen[a.ID]; dup {
				p.Add(join(prefix(i), "id"), "amendment %s appears twice in the input (also at [%d])", a.ID, j)
				continue
			}
			seen[a.ID] = i
			if r := ix.byID.get(a.ID); r != nil {
				p.Add(join(prefix(i), "id"), "amendment %s is already recorded (in %s, version %d)", a.ID, r.Agreement, r.Version)
				continue
			}
		}
		t := byName[a.Agreement]
		if t == nil {
			t = &trial{name: a.Agreement}
			byName[a.Agreement] = t
			trials = append(trials, t)
		}
		next++
		t.recs = append(t.recs, &events.Record{Amendment: a, Seq: next, Recorded: time.Now()})
		t.paths = append(t.paths, prefix(i))
		t.prior = append(t.prior, i < 0)
	}
	if err := p.Err("invalid amendment"); err != nil {
		return nil, err
	}
	for _, t := range trials {
		if a := ix.agreements[t.name]; a != nil {
			t.before = a.v
		}
	}
	var before map[string][]grant
	if want&wantConflicts != 0 {
		before = ix.frozen(trials, false)
	}
	defer func() {
		for _, t := range trials {
			t.restore()
		}
	}()
	for _, t := range trials {
		ix.try(t, effects, &p)
	}
	if err := p.Err("invalid amendment"); err != nil {
		return nil, err
	}
	pv := &Preview{Effects: []Effect{}, Conflicts: []Conflict{}}
	if want&wantConflicts != 0 {
		own := map[string]bool{}
		for _, a := range as {
			own[a.Agreement] = true
		}
		pv.Conflicts = ix.introducedBy(before, ix.frozen(trials, true), own)
	}
	if !effects {
		return pv, nil
	}
	for _, t := range trials {
		for i, r := range t.recs {
			if t.prior[i] {
				continue
			}
			after := t.v.stateAt(r.Effective, nil)
			d := diffStates(t.states[i], after)
			pv.Effects = append(pv.Effects, Effect{Amendment: idString(r.ID), Agreement: t.name, Version: r.Version, Diff: d})
		}
	}
	return pv, nil
}

func idString(id ulid.ULID) string {
	if id == (ulid.ULID{}) {
		return ""
	}
	return id.String()
}

// try applies one agreement's part of a batch, strictly, recording problems.
//
// The batch's records and those after the first of them in fold order (less
// any it retracts) are folded strictly on the history before them, as Add
// will fold them; a recorded amendment that no longer applies is blamed on
// the batch. When that tail is within the window the agreement's own view
// is rolled back to where the batch changes it, and restored afterwards
// (trial.restore); otherwise the history is folded again into a new view.
func (ix *Index) try(t *trial, effects bool, p *events.Problems) {
	a := ix.agreements[t.name]
	version := uint64(0)
	if a != nil {
		version = uint64(len(a.records))
	}
	retracts := map[ulid.ULID]int{}
	for i, r := range t.recs {
		version++
		r.Version = version
		for j, c := range r.Changes {
			if c.Op != events.Retract {
				continue
			}
			path := join(t.paths[i], fmt.Sprintf("changes[%d].amendment", j))
			if a == nil {
				p.Add(path, "no amendment %s has been recorded in %s", c.Target, t.name)
				continue
			}
			if why := ix.retractable(a, c.Target); why != "" {
				p.Add(path, "%s", why)
				continue
			}
			if k, dup := retracts[c.Target]; dup {
				p.Add(path, "amendment %s is retracted twice in this input (also at %s)", c.Target, t.paths[k])
				continue
			}
			retracts[c.Target] = i
		}
	}
	if effects {
		for _, r := range t.recs {
			if t.before != nil {
				t.states = append(t.states, t.before.stateAt(r.Effective, nil))
			} else {
				t.states = append(t.states, newView(t.name).stateAt(r.Effective, nil))
			}
		}
	}
	if p.Len() > 0 {
		return
	}
	newIdx := make(map[*events.Record]int, len(t.recs))
	for i, r := range t.recs {
		newIdx[r] = i
	}
	var recs []*events.Record
	skipped := map[*events.Record]bool{}
	if a == nil {
		t.v = newView(t.name)
		recs = slices.Clone(t.recs)
	} else {
		v := a.v
		n := len(v.folded)
		from := n
		for _, r := range t.recs {
			i, _ := v.position(r)
			from = min(from, i)
		}
		for id := range retracts {
			i, _ := v.position(ix.byID.get(id))
			from = min(from, i)
		}
		if n-from <= window(n) {
			t.v, t.live, t.keep, t.rest = v, true, from, slices.Clone(v.folded[from:])
		} else {
			t.v, from = newView(t.name), 0
		}
		for _, r := range v.folded[from:] {
			if _, gone := retracts[r.ID]; !gone {
				recs = append(recs, r)
			}
		}
		recs = append(recs, t.recs...)
		for _, r := range v.skipped {
			skipped[r] = true
		}
		if t.live {
			t.done = v.reusing()
			v.rollback(from)
		}
	}
	slices.SortStableFunc(recs, foldOrder)
	for _, r := range recs {
		var local events.Problems
		if i, isNew := newIdx[r]; isNew {
			if !t.v.push(r, &local) {
				addAll(p, t.paths[i], local)
				return
			}
			continue
		}
		if skipped[r] {
			t.v.push(r, nil)
			continue
		}
		if !t.v.push(r, &local) {
			blame, what := t.paths[0], "effective"
			for i, nr := range t.recs {
				if isRetraction(nr.Amendment) {
					blame, what = t.paths[i], "changes"
					break
				}
				if foldOrder(nr, r) < 0 {
					blame = t.paths[i]
					break
				}
			}
			p.Add(join(blame, what), "would make amendment %s (version %d, effective %s) invalid: %s", r.ID, r.Version, day(r.Effective), local.List()[0].Error())
			return
		}
	}
}

func addAll(p *events.Problems, prefix string, local events.Problems) {
	for _, e := range local.List() {
		p.Add(join(prefix, e.Path), "%s", e.Message)
	}
}

// frozen returns the exclusive grants of the trials' agreements (after the
// batch or before it), by agreement, with their intervals as they are now: a
// live trial changes its agreement's view in place. Their scope masks are
// left for meeting to fill in, for the few grants it compares.
func (ix *Index) frozen(trials []*trial, after bool) map[string][]grant {
	out := map[string][]grant{}
	for _, t := range trials {
		v := t.before
		if after {
			v = t.v
		}
		if v == nil {
			continue
		}
		a := ix.agreements[t.name]
		if a == nil {
			a = &agreement{name: t.name}
		}
		gs := make([]grant, len(v.grants))
		spans := make([]interval, len(v.grants))
		for i, x := range v.grants {
			s := &spans[i]
			s.lo, s.hi, s.ok = x.interval()
			gs[i] = grant{a: a, x: x, mask: ^uint64(0), key: -1, holder: -1, span: s}
		}
		out[t.name] = gs
	}
	return out
}

// introducedBy returns the conflicts a batch introduces, given the grants of
// its agreements before and after it (see frozen). Only a grant the batch
// made or changed can meet another where it did not before, so only those
// grants of the agreements in own are compared with the others; the pairs
// they were in before are compared too, to tell a new conflict from an old
// one. (A batch checked after prior ones reports only what its own
// agreements add.)
func (ix *Index) introducedBy(before, after map[string][]grant, own map[string]bool) []Conflict {
	was := map[*version]*interval{}
	for _, gs := range before {
		for _, g := range gs {
			was[g.x] = g.span
		}
	}
	var changed []grant
	clauses := map[[2]string]bool{}
	for name, gs := range after {
		if !own[name] {
			continue
		}
		for _, g := range gs {
			// A version folded again is a new one: it is compared again,
			// and introduced drops the conflicts it already had.
			if s := was[g.x]; s != nil && s.equal(*g.span) {
				continue
			}
			changed = append(changed, g)
			clauses[[2]string{name, g.x.line.id}] = true
		}
	}
	if len(changed) == 0 {
		return []Conflict{}
	}
	var old []grant
	for name, gs := range before {
		for _, g := range gs {
			if clauses[[2]string{name, g.x.line.id}] {
				old = append(old, g)
			}
		}
	}
	return introduced(ix.meeting(before, old), ix.meeting(after, changed))
}

// maskOf is the scope mask of a grant version: the grant index's, when the
// version is in it.
func (ix *Index) maskOf(x *version) uint64 {
	if p, ok := ix.grants.pos[x]; ok {
		return ix.grants.es[p].mask
	}
	return ix.grants.mask(x.clause.Scope, false)
}

// meeting returns the conflicts of each grant in subjects (some of grants)
// with the other grants of its grantor: those in grants, and those of the
// agreements not in grants in the grant index.
func (ix *Index) meeting(grants map[string][]grant, subjects []grant) []Conflict {
	var out []Conflict
	if len(subjects) == 0 {
		return out
	}
	pos := make(map[*version]int, len(subjects))
	grantors := map[string]bool{}
	for i, g := range subjects {
		pos[g.x] = i
		grantors[g.x.clause.Grantor] = true
	}
	mine := map[string][]grant{}
	for _, gs := range grants {
		for _, g := range gs {
			if grantors[g.x.clause.Grantor] {
				g.mask = ix.maskOf(g.x)
				mine[g.x.clause.Grantor] = append(mine[g.x.clause.Grantor], g)
			}
		}
	}
	others := map[string][]grant{}
	for g := range grantors {
		for _, kind := range [2]events.Kind{events.License, events.Exclusivity} {
			k, ok := ix.grants.byKey[grantKey{g, kind}]
			if !ok {
				continue
			}
			for i := ix.grants.heads[k]; i >= 0; i = ix.grants.es[i].next {
				if e := &ix.grants.es[i]; grants[e.a.name] == nil {
					others[g] = append(others[g], grant{a: e.a, x: e.x, mask: e.mask, key: -1, holder: -1})
				}
			}
		}
	}
	for i, x := range subjects {
		x.mask = ix.maskOf(x.x)
		g := x.x.clause.Grantor
		for _, y := range mine[g] {
			if j, ok := pos[y.x]; ok && j <= i {
				continue // itself, or a pair already compared from the other side
			}
			if c, ok := conflict(x, y); ok {
				out = append(out, c)
			}
		}
		for _, y := range others[g] {
			if c, ok := conflict(x, y); ok {
				out = append(out, c)
			}
		}
	}
	return out
}

// introduced returns the conflicts in after not in before: new pairs of
// grants, or pairs that now conflict over a window not covered before.
func introduced(before, after []Conflict) []Conflict {
	key := func(c Conflict) [4]string {
		return [4]string{c.Clauses[0].Agreement, c.Clauses[0].Clause, c.Clauses[1].Agreement, c.Clauses[1].Clause}
	}
	was := map[[4]string][]Conflict{}
	for _, c := range before {
		was[key(c)] = append(was[key(c)], c)
	}
	out := []Conflict{}
	for _, c := range after {
		covered := slices.ContainsFunc(was[key(c)], func(b Conflict) bool {
			return !c.From.Before(b.From) && (b.Until.IsZero() || !c.Until.IsZero() && !c.Until.After(b.Until))
		})
		if !covered {
			out = append(out, c)
		}
	}
	sortConflicts(out)
	return out
}

// WhatIf answers a counterfactual: what if these amendments had been
// recorded in the history as known at knownAt (zero: everything)? Unlike
// Preview it does not refuse a batch that breaks later recorded amendments:
// it skips those and lists them in Invalidated. The hypothetical amendments
// themselves must apply. Conflicts are found against the grants recorded now.
func (ix *Index) WhatIf(as []*events.Amendment, knownAt time.Time) (*Preview, error) {
	defer ix.read()()
	cut := ix.cut(knownAt)
	var p events.Problems
	var trials []*trial
	byName := map[string]*trial{}
	seq := uint64(math.MaxUint64 / 2)
	for i, a := range as {
		t := byName[a.Agreement]
		if t == nil {
			t = &trial{name: a.Agreement}
			byName[a.Agreement] = t
			trials = append(trials, t)
		}
		seq++
		t.recs = append(t.recs, &events.Record{Amendment: a, Seq: seq, Recorded: time.Now()})
		path := ""
		if len(as) > 1 {
			path = fmt.Sprintf("[%d]", i)
		}
		t.paths = append(t.paths, path)
	}
	pv := &Preview{Effects: []Effect{}}
	for _, t := range trials {
		a := ix.agreements[t.name]
		var base []*events.Record
		version := uint64(0)
		t.before = newView(t.name)
		if a != nil && a.versionAt(cut) > 0 {
			t.before = ix.fullViewAt(a, cut)
			base = t.before.folded
			version = a.versionAt(cut)
		}
		drop := map[ulid.ULID]bool{}
		for i, r := range t.recs {
			version++
			r.Version = version
			t.states = append(t.states, t.before.stateAt(r.Effective, nil))
			for j, c := range r.Changes {
				if c.Op == events.Retract {
					if !slices.ContainsFunc(base, func(b *events.Record) bool { return b.ID == c.Target }) {
						p.Add(join(t.paths[i], fmt.Sprintf("changes[%d].amendment", j)), "no amendment %s is visible in %s", c.Target, t.name)
					}
					drop[c.Target] = true
				}
			}
		}
		isNew := map[*events.Record]int{}
		for i, r := range t.recs {
			isNew[r] = i
		}
		recs := slices.DeleteFunc(slices.Clone(base), func(r *events.Record) bool { return drop[r.ID] })
		recs = append(recs, t.recs...)
		slices.SortStableFunc(recs, foldOrder)
		t.v = newView(t.name)
		for _, r := range recs {
			if i, ok := isNew[r]; ok {
				var local events.Problems
				if !t.v.push(r, &local) {
					addAll(&p, t.paths[i], local)
				}
				continue
			}
			var local events.Problems
			if !t.v.push(r, &local) {
				pv.Invalidated = append(pv.Invalidated, Anomaly{Amendment: r.ID.String(), Problem: local.List()[0].Error()})
			}
		}
	}
	if err := p.Err("invalid hypothetical amendment"); err != nil {
		return nil, err
	}
	for _, t := range trials {
		for i, r := range t.recs {
			pv.Effects = append(pv.Effects, Effect{Amendment: idString(r.ID), Agreement: t.name, Version: r.Version, Diff: diffStates(t.states[i], t.v.stateAt(r.Effective, nil))})
		}
	}
	own := map[string]bool{}
	for _, t := range trials {
		own[t.name] = true
	}
	pv.Conflicts = ix.introducedBy(ix.frozen(trials, false), ix.frozen(trials, true), own)
	return pv, nil
}
