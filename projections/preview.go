package projections

import (
	"fmt"
	"iter"
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
}

// restore returns a live view the trial changed to what it was.
func (t *trial) restore() {
	if !t.live {
		return
	}
	t.v.watch = nil
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
		t.recs = append(t.recs, &events.Record{Amendment: a, Seq: next, Recorded: time.Now()})
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
		for _, r := range v.skipped {
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

// introducedBy returns the conflicts the trials introduce (those of the
// agreements in own: a batch checked after prior ones reports only what its
// own agreements add). Only a grant a trial made or changed can meet another
// where it did not before, so only those are compared with the other grants
// of their grantor, after the trials and, to tell a new conflict from an old
// one, before them. A live trial's view noted what the trial did to its
// grants (watching); a trial on a view of its own is compared whole.
func (ix *Index) introducedBy(ps *pools, trials []*trial, own map[string]bool) []Conflict {
	var changed, old []grant
	clauses := map[string][]string{} // agreement → ids of its changed clauses
	for _, t := range trials {
		if !own[t.name] || t.v == nil {
			continue
		}
		a := ps.agreement(t.name)
		for _, x := range ps.made(t) {
			changed = append(changed, ix.trialGrant(a, x, nil))
			if !slices.Contains(clauses[t.name], x.line.id) {
				clauses[t.name] = append(clauses[t.name], x.line.id)
			}
		}
	}
	after := ps.meeting(changed, 1, nil)
	if len(after) == 0 {
		return []Conflict{}
	}
	// Conflicts before the trials matter only between clauses that conflict
	// after them.
	partners := map[[2]string]bool{}
	for _, c := range after {
		for _, p := range c.Clauses {
			partners[[2]string{p.Agreement, p.Clause}] = true
		}
	}
	// The grants of the changed clauses, before the trials.
	for _, t := range trials {
		ids := clauses[t.name]
		if len(ids) == 0 {
			continue
		}
		a := ps.agreement(t.name)
		switch {
		case t.live:
			for x, w := range t.v.watch {
				if w.existed && slices.Contains(ids, x.line.id) {
					old = append(old, ix.trialGrant(a, x, &w.before))
				}
			}
			for _, id := range ids {
				l := t.v.clauses[id]
				if l == nil {
					continue
				}
				for x := l.current; x != nil; x = x.prev {
					if x.clause.ExclusiveGrant() && t.v.watch[x] == nil {
						old = append(old, ix.trialGrant(a, x, nil))
					}
				}
			}
		case t.before != nil:
			for _, x := range t.before.grants {
				if slices.Contains(ids, x.line.id) {
					old = append(old, ix.trialGrant(a, x, nil))
				}
			}
		}
	}
	return introduced(ps.meeting(old, 0, partners), after)
}

// introducedByEach returns the conflicts each group of amendments
// introduces (owner[i] is the group of as[i]; each group's agreements are
// its own), as if the groups were tried one after another: a group sees
// the groups before it done and those after it not begun.
func (ix *Index) introducedByEach(ps *pools, trials []*trial, as []*events.Amendment, owner []int, n int) [][]Conflict {
	groupOf := map[*trial]int{}
	own := make([]map[string]bool, n)
	for i, a := range as {
		g := owner[i]
		if own[g] == nil {
			own[g] = map[string]bool{}
		}
		own[g][a.Agreement] = true
		groupOf[ps.trials[a.Agreement]] = g
	}
	out := make([][]Conflict, n)
	for g := range n {
		ps.tried = func(t *trial, side int) bool { return groupOf[t] < g || side == 1 && groupOf[t] == g }
		out[g] = ix.introducedBy(ps, trials, own[g])
	}
	ps.tried = nil
	return out
}

// pools finds, for a grantor, its exclusive grants before (0) and after (1)
// the trials: the grant index's, where a live trial's agreement is in the
// index as the trial left it (its view noted what each grant was before),
// and a trial on a view of its own is not in the index at all.
type pools struct {
	ix     *Index
	trials map[string]*trial
	// What the index does not hold, by grantor: grants live trials dropped
	// (before them), and the grants of trials on views of their own
	// (before and after them).
	extra map[string][]extraGrant
	names map[string]*agreement
	// tried says whether a side sees trial t done; nil: on side 1. (Groups
	// checked together see the trials of the groups before them done.)
	tried func(t *trial, side int) bool
}

type extraGrant struct {
	grant
	t     *trial
	tried bool // the grant is there once t is done, not before
}

func newPools(ix *Index, trials []*trial) *pools {
	ps := &pools{ix: ix, trials: map[string]*trial{}, extra: map[string][]extraGrant{}}
	add := func(t *trial, tried bool, g grant) {
		ps.extra[g.x.clause.Grantor] = append(ps.extra[g.x.clause.Grantor], extraGrant{g, t, tried})
	}
	for _, t := range trials {
		ps.trials[t.name] = t
		a := ps.agreement(t.name)
		switch {
		case t.live:
			for x, w := range t.v.watch {
				if w.existed && !w.alive {
					add(t, false, ix.trialGrant(a, x, &w.before))
				}
			}
		case t.v != nil:
			if t.before != nil {
				for _, x := range t.before.grants {
					add(t, false, ix.trialGrant(a, x, nil))
				}
			}
			for _, x := range t.v.grants {
				add(t, true, ix.trialGrant(a, x, nil))
			}
		}
	}
	return ps
}

func (ps *pools) done(t *trial, side int) bool {
	if ps.tried == nil {
		return side == 1
	}
	return ps.tried(t, side)
}

// agreement is the index's agreement name, or a stand-in for a new one.
func (ps *pools) agreement(name string) *agreement {
	if a := ps.ix.agreements[name]; a != nil {
		return a
	}
	if ps.names == nil {
		ps.names = map[string]*agreement{}
	}
	if ps.names[name] == nil {
		ps.names[name] = &agreement{name: name}
	}
	return ps.names[name]
}

// made lists the grants a trial made or changed: those its live view noted,
// or every grant of a view of its own.
func (ps *pools) made(t *trial) []*version {
	if !t.live {
		return t.v.grants
	}
	// A retroactive amendment takes back the later records and folds them
	// again: their grants are made again, as new versions. One made again
	// as it was (the same record, clause and interval) has not changed.
	type madeBy struct {
		line   string
		by     *events.Record
		clause *events.Clause
	}
	dropped := map[madeBy]interval{}
	for x, w := range t.v.watch {
		if w.existed && !w.alive {
			dropped[madeBy{x.line.id, x.by, x.clause}] = w.before
		}
	}
	var out []*version
	for x, w := range t.v.watch {
		if !w.alive {
			continue
		}
		var now interval
		now.lo, now.hi, now.ok = x.interval()
		if w.existed && w.before.equal(now) {
			continue
		}
		if before, ok := dropped[madeBy{x.line.id, x.by, x.clause}]; ok && !w.existed && before.equal(now) {
			continue
		}
		out = append(out, x)
	}
	return out
}

// of yields the exclusive grants of grantor before (side 0) or after (side
// 1) the trials. It walks the grant index's list: a grantor may hold
// thousands of versions, and a trial compares one or two grants with them.
func (ps *pools) of(grantor string, side int) iter.Seq[grant] {
	return func(yield func(grant) bool) {
		ix := ps.ix
		for _, kind := range [2]events.Kind{events.License, events.Exclusivity} {
			k, ok := ix.grants.byKey[grantKey{grantor, kind}]
			if !ok {
				continue
			}
			for i := ix.grants.heads[k]; i >= 0; i = ix.grants.es[i].next {
				e := &ix.grants.es[i]
				g := grant{a: e.a, x: e.x, mask: e.mask, key: -1, holder: -1}
				t := ps.trials[e.a.name]
				switch {
				case t != nil && !t.live:
					continue // the trial's own view holds its grants (see extra)
				case t != nil && !ps.done(t, side):
					if w := t.v.watch[e.x]; w != nil {
						if !w.existed {
							continue
						}
						g.span = &w.before
					}
				}
				if !yield(g) {
					return
				}
			}
		}
		for _, e := range ps.extra[grantor] {
			if e.tried == ps.done(e.t, side) && !yield(e.grant) {
				return
			}
		}
	}
}

// meeting returns the conflicts of each grant in subjects with the other
// grants of its grantor, before (side 0) or after (side 1) the trials; with
// only set, with those of the clauses it holds (agreement, clause id).
func (ps *pools) meeting(subjects []grant, side int, only map[[2]string]bool) []Conflict {
	var out []Conflict
	// A grantor met by many subjects has its grants gathered once (those
	// of the clauses in only, when it is set).
	pos := make(map[*version]int, len(subjects))
	met := map[string]int{}
	for i, g := range subjects {
		pos[g.x] = i
		met[g.x.clause.Grantor]++
	}
	gathered := map[string][]grant{}
	for i, x := range subjects {
		grantor := x.x.clause.Grantor
		others := ps.of(grantor, side)
		if only != nil || met[grantor] > 8 {
			gs, ok := gathered[grantor]
			if !ok {
				for y := range others {
					if only == nil || only[[2]string{y.a.name, y.x.clause.ID}] {
						gs = append(gs, y)
					}
				}
				gathered[grantor] = gs
			}
			others = slices.Values(gs)
		}
		for y := range others {
			if j, ok := pos[y.x]; ok && j <= i || y.x.line == x.x.line {
				// itself, a pair already compared from the other side, or
				// another version of its clause (they follow each other)
				continue
			}
			if c, ok := conflict(x, y); ok {
				out = append(out, c)
			}
		}
	}
	return out
}

// trialGrant is grant version x of agreement a as a trial compares it:
// with its scope mask, no grant-index key or holder, and its interval
// before the trial when span is set.
func (ix *Index) trialGrant(a *agreement, x *version, span *interval) grant {
	return grant{a: a, x: x, mask: ix.maskOf(x), key: -1, holder: -1, span: span}
}

// maskOf is the scope mask of a grant version: the grant index's, when the
// version is in it.
func (ix *Index) maskOf(x *version) uint64 {
	if p, ok := ix.grants.pos[x]; ok {
		return ix.grants.es[p].mask
	}
	return ix.grants.mask(x.clause.Scope, false)
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
	pv.Conflicts = ix.introducedBy(newPools(ix, trials), trials, own)
	return pv, nil
}
