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
	_, _, _, err := ix.preview(nil, as, 0, nil, false)
	return err
}

// Introduces checks amendments as Validate does, after prior ones already
// checked (a writer gathering several requests into one commit checks each
// after those before it), and returns the conflicts they would introduce.
func (ix *Index) Introduces(prior, as []*events.Amendment) ([]Conflict, error) {
	pv, _, _, err := ix.preview(prior, as, wantConflicts, nil, false)
	if err != nil {
		return nil, err
	}
	return pv.Conflicts, nil
}

// IntroducesEach checks groups of amendments in order, each as Introduces
// checks it after the groups before it that pass, and returns for each the
// conflicts it introduces or why it does not pass. Groups on agreements of
// their own are tried together, once, when they all pass: a writer that
// gathered n concurrent appends tries n groups, not n²/2.
func (ix *Index) IntroducesEach(groups [][]*events.Amendment) ([][]Conflict, []error) {
	cs, errs, _ := ix.introducesEach(groups, false)
	return cs, errs
}

// Hold checks groups as IntroducesEach does and keeps those that pass
// applied to their agreements' views (see Kept), for a writer about to
// write them; it holds nothing when none passes.
func (ix *Index) Hold(groups [][]*events.Amendment) ([][]Conflict, []error, *Kept) {
	return ix.introducesEach(groups, true)
}

// Keep checks amendments as Validate does and keeps them applied (see Kept).
func (ix *Index) Keep(as []*events.Amendment) (*Kept, error) {
	_, _, k, err := ix.preview(nil, as, 0, nil, true)
	return k, err
}

func (ix *Index) introducesEach(groups [][]*events.Amendment, keep bool) ([][]Conflict, []error, *Kept) {
	errs := make([]error, len(groups))
	var as []*events.Amendment
	var owner []int
	names := map[string]int{}
	apart := true
	for i, g := range groups {
		for _, a := range g {
			if j, ok := names[a.Agreement]; ok && j != i {
				apart = false
			}
			names[a.Agreement] = i
			as = append(as, a)
			owner = append(owner, i)
		}
	}
	if apart && len(as) > 0 {
		if _, cs, k, err := ix.preview(nil, as, wantConflicts, owner, keep); err == nil {
			for len(cs) < len(groups) {
				cs = append(cs, []Conflict{}) // empty groups at the end
			}
			return cs, errs, k
		}
	}
	cs := make([][]Conflict, len(groups))
	var prior []*events.Amendment
	for i, g := range groups {
		if cs[i], errs[i] = ix.Introduces(prior, g); errs[i] == nil {
			prior = append(prior, g...)
		}
	}
	if !keep || len(prior) == 0 {
		return cs, errs, nil
	}
	// Those that pass were each checked after the ones before them:
	// together they pass.
	k, err := ix.Keep(prior)
	if err != nil {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	return cs, errs, k
}

// Preview checks amendments as Validate does and returns what appending them
// would change, without changing the index.
func (ix *Index) Preview(as []*events.Amendment) (*Preview, error) {
	pv, _, _, err := ix.preview(nil, as, wantConflicts|wantEffects, nil, false)
	return pv, err
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
	watch  bool             // note what the batch does to the live view's grants
	before *view            // the view without the batch (nil for a new agreement)
	states []*State
	prior  []bool // recs[i] is a prior amendment: no effect is reported for it
	left   int    // held (see Kept): records not added yet
}

// restore returns a live view the trial changed to what it was.
func (t *trial) restore() {
	if !t.live {
		return
	}
	t.v.stopWatching()
	t.v.rollback(t.keep)
	for _, r := range t.rest {
		t.v.push(r, nil)
	}
	t.done()
	t.live = false
}

// preview tries prior and then as, and reports what as does. With owner
// set, as is groups of amendments on agreements of their own (owner[i] is
// the group of as[i]), checked in order: their conflicts come by group,
// and Preview.Conflicts is not set.
func (ix *Index) preview(prior, as []*events.Amendment, want int, owner []int, keep bool) (*Preview, [][]Conflict, *Kept, error) {
	// Trying amendments changes live views for a while: no query may read
	// them meanwhile. A batch held tentatively is resolved first.
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.waitUnheld()
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
	next := uint64(keptSeq)
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
		// Not recorded yet: the stream gives a kept record its time (Add).
		t.recs = append(t.recs, &events.Record{Amendment: a, Seq: next})
		t.paths = append(t.paths, prefix(i))
		t.prior = append(t.prior, i < 0)
	}
	if err := p.Err("invalid amendment"); err != nil {
		return nil, nil, nil, err
	}
	for _, t := range trials {
		if a := ix.agreements[t.name]; a != nil {
			t.before = a.v
		}
	}
	for _, t := range trials {
		t.watch = want&wantConflicts != 0
	}
	var kept *Kept
	defer func() {
		if kept == nil {
			for _, t := range trials {
				t.restore()
			}
		}
	}()
	for _, t := range trials {
		ix.try(t, effects, &p)
	}
	if err := p.Err("invalid amendment"); err != nil {
		return nil, nil, nil, err
	}
	pv := &Preview{Effects: []Effect{}, Conflicts: []Conflict{}}
	var byGroup [][]Conflict
	if want&wantConflicts != 0 {
		ps := newPools(ix, trials)
		if owner == nil {
			own := map[string]bool{}
			for _, a := range as {
				own[a.Agreement] = true
			}
			// An agreement only prior amendments change is, before as,
			// as they leave it.
			onlyPrior := map[*trial]bool{}
			for _, t := range trials {
				onlyPrior[t] = !slices.Contains(t.prior, false)
			}
			ps.tried = func(t *trial, side int) bool { return side == 1 || onlyPrior[t] }
			pv.Conflicts = ix.introducedBy(ps, trials, own)
		} else {
			byGroup = ix.introducedByEach(ps, trials, as, owner, owner[len(owner)-1]+1)
		}
	}
	if keep {
		kept = ix.hold(trials)
	}
	if !effects {
		return pv, byGroup, kept, nil
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
	return pv, byGroup, kept, nil
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
				p.Add(path, "no amendment %s has been recorded in %s", c.Of().Target, t.name)
				continue
			}
			if why := ix.retractable(a, c.Of().Target); why != "" {
				p.Add(path, "%s", why)
				continue
			}
			if k, dup := retracts[c.Of().Target]; dup {
				p.Add(path, "amendment %s is retracted twice in this input (also at %s)", c.Of().Target, t.paths[k])
				continue
			}
			retracts[c.Of().Target] = i
		}
	}
	if effects {
		for _, r := range t.recs {
			v := t.before
			if v == nil {
				v = newView(t.name)
			}
			s := v.stateAt(r.Effective, nil)
			s.pin() // the trial changes the view it was read from
			t.states = append(t.states, s)
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
		from := v.earliest(t.recs)
		for id := range retracts {
			from = min(from, v.earliest([]*events.Record{ix.byID.get(id)}))
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
		for _, r := range v.notes.skipped {
			skipped[r] = true
		}
		if t.live {
			t.done = v.reusing()
			if t.watch {
				v.watching()
			}
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

// WhatIf answers a counterfactual: what if these amendments had been
// recorded in the history as known at knownAt (zero: everything)? Unlike
// Preview it does not refuse a batch that breaks later recorded amendments:
// it skips those and lists them in Invalidated. The hypothetical amendments
// themselves must apply. Conflicts are found against the grants recorded now.
func (ix *Index) WhatIf(as []*events.Amendment, knownAt time.Time) (*Preview, error) {
	defer ix.readUnheld()()
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
		t.recs = append(t.recs, &events.Record{Amendment: a, Seq: seq}) // never recorded
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
			s := t.before.stateAt(r.Effective, nil)
			s.pin() // the trial may change the view it was read from
			t.states = append(t.states, s)
			for j, c := range r.Changes {
				if c.Op == events.Retract {
					if !slices.ContainsFunc(base, func(b *events.Record) bool { return b.ID == c.Of().Target }) {
						p.Add(join(t.paths[i], fmt.Sprintf("changes[%d].amendment", j)), "no amendment %s is visible in %s", c.Of().Target, t.name)
					}
					drop[c.Of().Target] = true
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
	pv.Conflicts = ix.introducedBy(newPools(ix, trials), trials, own)
	return pv, nil
}
