package projections

import (
	"iter"
	"slices"

	"github.com/agreement-ledger/ledger/events"
)

// The conflicts a batch introduces: only a grant a trial made or changed can
// meet another where it did not before, so only those are compared, with
// the grants of their grantor after the trials and, to tell a new conflict
// from an old one, before them. The pools of grants on each side are the
// grant index's, as the trials leave it, plus what it does not hold.

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
			if !slices.Contains(clauses[t.name], x.clause.ID) {
				clauses[t.name] = append(clauses[t.name], x.clause.ID)
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
			for x, w := range t.v.notes.watch {
				if w.existed && slices.Contains(ids, x.clause.ID) {
					old = append(old, ix.trialGrant(a, x, &w.before))
				}
			}
			for _, id := range ids {
				l := t.v.clause(id)
				if l == nil {
					continue
				}
				for x := l.current; x != nil; x = x.prev {
					if x.clause.ExclusiveGrant() && t.v.notes.watch[x] == nil {
						old = append(old, ix.trialGrant(a, x, nil))
					}
				}
			}
		case t.before != nil:
			for _, x := range t.before.grants {
				if slices.Contains(ids, x.clause.ID) {
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
			for x, w := range t.v.notes.watch {
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
	for x, w := range t.v.notes.watch {
		if w.existed && !w.alive {
			dropped[madeBy{x.clause.ID, x.by, x.clause}] = w.before
		}
	}
	var out []*version
	for x, w := range t.v.notes.watch {
		if !w.alive {
			continue
		}
		var now interval
		now.lo, now.hi, now.ok = x.interval()
		if w.existed && w.before.equal(now) {
			continue
		}
		if before, ok := dropped[madeBy{x.clause.ID, x.by, x.clause}]; ok && !w.existed && before.equal(now) {
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
		for _, kind := range events.GrantKinds {
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
					if w := t.v.notes.watch[e.x]; w != nil {
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
