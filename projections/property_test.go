package projections_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/synth"
	"github.com/agreement-ledger/ledger/projections"
	"github.com/oklog/ulid/v2"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

// Properties of the index over random valid histories. A history is drawn by
// the synth generator with every choice taken from the property test's
// source (rapid, or fuzz bytes), so that a failing history shrinks: several
// agreements over a small pool of parties and products (so exclusive grants
// conflict), every op, retroactive amendments, retractions, declarations
// and closes, recorded at increasing times with ties.

// failer is what the properties need of *testing.T and *rapid.T.
type failer interface {
	Helper()
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
}

// rapidSource draws the generator's choices from rapid. rapid favours small
// numbers, which would skew the generator's odds (a 5% chance drawn as
// IntN(1000) < 50 would come up far more often), so each draw is hashed into
// a uniform choice; zero, where shrinking goes, stays the first choice.
type rapidSource struct{ t *rapid.T }

func (s rapidSource) IntN(n int) int {
	if n <= 1 {
		return 0
	}
	return int(mix64(rapid.Uint64().Draw(s.t, "choice")) % uint64(n))
}

func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// byteSource draws choices from fuzz input; when it runs out every choice is 0.
type byteSource struct{ b []byte }

func (s *byteSource) IntN(n int) int {
	if n <= 1 {
		return 0
	}
	var v int
	for range 2 {
		v <<= 8
		if len(s.b) > 0 {
			v |= int(s.b[0])
			s.b = s.b[1:]
		}
	}
	return v % n
}

// history is a generated history and the index built from it.
type history struct {
	recs   []*events.Record
	names  []string // agreements
	ix     *projections.Index
	valid  []time.Time // valid times worth asking about
	known  []time.Time // transaction times worth asking about (zero: everything)
	scopes []*events.Scope
}

var (
	propParties  = []string{"party-0001", "party-0002", "party-0003", "party-0004", "party-0005"}
	propProducts = []string{"product-001", "product-002", "product-003"}
	propChannels = []string{"api", "consumer", "enterprise", "marketplace", "mobile", "web"}
)

// generate draws a valid history of at most size amendments. Each amendment
// must pass Index.Validate against the history before it; then it is added,
// and the agreement it touched must fold incrementally to what a fold from
// scratch gives (property a, at every step).
func generate(f failer, src synth.Source, size int) *history {
	f.Helper()
	g := synth.NewFrom(src, 7)
	g.Retroactive, g.Retract, g.Declare, g.Close = 150, 60, 60, 15
	g.MinLive, g.MaxLive, g.MaxChanges = 2, 6, 3
	g.Parties, g.Products = len(propParties), len(propProducts)
	g.Step = 40 * 24 * time.Hour
	h := &history{ix: projections.NewIndex()}
	for i := range 1 + src.IntN(4) {
		h.names = append(h.names, fmt.Sprintf("deal-%d", i+1))
	}
	n := 1 + src.IntN(size)
	rec := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for len(h.recs) < n {
		var a *events.Amendment
		k := src.IntN(len(h.names))
		for try := range len(h.names) {
			if a = g.Next(h.names[(k+try)%len(h.names)]); a != nil {
				break
			}
		}
		if a == nil {
			break
		}
		if err := h.ix.Validate([]*events.Amendment{a}); err != nil {
			b, _ := json.Marshal(a)
			f.Fatalf("generated amendment %d does not validate: %v\n%s", len(h.recs), err, b)
		}
		rec = rec.Add(time.Duration(src.IntN(3)) * 12 * time.Hour)
		r := &events.Record{Amendment: a, Seq: uint64(len(h.recs) + 1), Recorded: rec}
		// A writer holds what it checked applied until the stream hands it
		// back (projections.Kept): meanwhile queries answer as before it, and
		// whether it is then added or aborted, the index is as if added.
		if hold := src.IntN(3); hold > 0 {
			times := []time.Time{a.Effective, h.recs0(a).Effective}
			answers := func() []any {
				var out []any
				for _, t := range times {
					out = append(out, stateOrErr(h.ix, a.Agreement, t, time.Time{}), h.ix.Conflicts(t, time.Time{}), h.ix.Agreements(t))
					for _, p := range propParties {
						out = append(out, h.ix.Check(projections.RightsQuery{Party: p, Scope: &events.Scope{Products: propProducts[:1]}, At: t}))
					}
					av, err := projections.AvailsThroughIndex(h.ix, projections.AvailsQuery{Scope: &events.Scope{Products: propProducts[:1]}, From: t.AddDate(-1, 0, 0), To: t.AddDate(1, 0, 0)})
					out = append(out, av, err)
				}
				tl, err := h.ix.Timeline(a.Agreement, time.Time{})
				return append(out, tl, events.KindOf(err))
			}
			before := answers()
			_, errs, k := h.ix.Hold([][]*events.Amendment{{a}})
			if errs[0] != nil || k == nil {
				f.Fatalf("Hold: %v", errs[0])
			}
			same(f, fmt.Sprintf("answers about %s while amendment %d is held", a.Agreement, len(h.recs)), before, answers())
			if hold == 2 {
				k.Abort()
			}
		}
		if err := h.ix.Add(r); err != nil {
			f.Fatalf("Add: %v", err)
		}
		h.recs = append(h.recs, r)
		if an := h.ix.Anomalies(a.Agreement); len(an) > 0 {
			f.Fatalf("validated amendment %s did not apply: %v", a.ID, an)
		}
		for _, t := range []time.Time{a.Effective, h.recs[src.IntN(len(h.recs))].Effective.Add(time.Minute)} {
			s, err := h.ix.State(a.Agreement, t, time.Time{})
			if err != nil {
				f.Fatalf("State: %v", err)
			}
			same(f, fmt.Sprintf("(a) after amendment %d, %s at %s incrementally vs from scratch", len(h.recs), a.Agreement, t), projections.ScratchState(h.ix, a.Agreement, t), s)
		}
	}
	// the times worth asking about: each effective time, a minute before it,
	// the edges of terms, and before and after everything
	seen := map[time.Time]bool{}
	addT := func(t time.Time) {
		if !t.IsZero() && !seen[t] {
			seen[t] = true
			h.valid = append(h.valid, t)
		}
	}
	for _, r := range h.recs {
		addT(r.Effective)
		addT(r.Effective.Add(-time.Minute))
		for _, c := range r.Changes {
			if c.Clause != nil && c.Clause.Term != nil {
				addT(c.Clause.Term.Start)
				addT(c.Clause.Term.End)
			}
		}
	}
	addT(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
	addT(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
	slices.SortFunc(h.valid, time.Time.Compare)
	h.known = []time.Time{{}}
	for i, r := range h.recs {
		if i == 0 || !r.Recorded.Equal(h.recs[i-1].Recorded) {
			h.known = append(h.known, r.Recorded, r.Recorded.Add(-time.Second))
		}
	}
	// rights queries: a product and a channel, either of which may be "any"
	for range 4 {
		s := &events.Scope{}
		if src.IntN(4) > 0 {
			s.Products = []string{propProducts[src.IntN(len(propProducts))]}
		}
		if src.IntN(4) > 0 {
			s.Channels = []string{propChannels[src.IntN(len(propChannels))]}
		}
		h.scopes = append(h.scopes, s)
	}
	return h
}

// recs0 is a record worth asking about while a is held: the one before it,
// or a itself.
func (h *history) recs0(a *events.Amendment) *events.Amendment {
	if len(h.recs) > 0 {
		return h.recs[len(h.recs)-1].Amendment
	}
	return a
}

// pick chooses n of xs with src (with repeats).
func pick[T any](src synth.Source, xs []T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = xs[src.IntN(len(xs))]
	}
	return out
}

func jsonOf(f failer, v any) string {
	f.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		f.Fatalf("marshal %T: %v", v, err)
	}
	return string(b)
}

// same fails when want and got have different JSON forms, showing where.
func same(f failer, what string, want, got any) {
	f.Helper()
	w, g := jsonOf(f, want), jsonOf(f, got)
	if w == g {
		return
	}
	var pw, pg any
	_ = json.Unmarshal([]byte(w), &pw)
	_ = json.Unmarshal([]byte(g), &pg)
	d := jsonDiff("", pw, pg)
	if len(d) > 15 {
		d = d[:15]
	}
	f.Fatalf("%s: differ (want → got):\n  %s", what, strings.Join(d, "\n  "))
}

// stateOrErr is a state, or the kind of error asking for it gave.
func stateOrErr(ix *projections.Index, agreement string, t, k time.Time) any {
	s, err := ix.State(agreement, t, k)
	if err != nil {
		return "error: " + string(events.KindOf(err))
	}
	return s
}

// (a) The incremental index answers what an index folded from scratch does,
// everywhere: states, timelines, conflicts.
func propIncremental(f failer, src synth.Source, h *history) {
	f.Helper()
	scratch := projections.NewIndex()
	for _, r := range h.recs {
		if err := scratch.Add(r); err != nil {
			f.Fatalf("Add: %v", err)
		}
	}
	scratch.RefoldAll()
	for _, t := range pick(src, h.valid, 8) {
		for _, name := range h.names {
			same(f, fmt.Sprintf("(a) %s at %s", name, t), stateOrErr(scratch, name, t, time.Time{}), stateOrErr(h.ix, name, t, time.Time{}))
		}
		same(f, fmt.Sprintf("(a) conflicts at %s", t), scratch.Conflicts(t, time.Time{}), h.ix.Conflicts(t, time.Time{}))
		same(f, fmt.Sprintf("(a) avails from %s, the bases in the grant index", t), availsOrErr(scratch, t, time.Time{}), availsOrErr(h.ix, t, time.Time{}))
	}
	for _, name := range h.names {
		if a, err := scratch.Timeline(name, time.Time{}); err == nil {
			b, _ := h.ix.Timeline(name, time.Time{})
			same(f, "(a) timeline of "+name, a, b)
		}
	}
}

// availsOrErr is every party's avails of the first product over the year
// from t, as known at k, the bases found in the grant index; or the error.
func availsOrErr(ix *projections.Index, t, k time.Time) any {
	av, err := projections.AvailsThroughIndex(ix, projections.AvailsQuery{Scope: &events.Scope{Products: propProducts[:1]}, From: t, To: t.AddDate(1, 0, 0), KnownAt: k})
	if err != nil {
		return err.Error()
	}
	return av
}

// (g) An index that loads a history in bulk (Defer, Add, Fold), after
// records added one at a time as a snapshot's are followed by the stream's,
// answers what the index built one amendment at a time does, at any (T, K).
func propLoaded(f failer, src synth.Source, h *history) {
	f.Helper()
	ix := projections.NewIndex()
	k := src.IntN(len(h.recs) + 1)
	for i, r := range h.recs {
		if i == k {
			ix.Defer()
		}
		c := *r
		if err := ix.Add(&c); err != nil {
			f.Fatalf("Add: %v", err)
		}
	}
	ix.Fold()
	for _, kt := range pick(src, h.known, 3) {
		for _, t := range pick(src, h.valid, 4) {
			for _, name := range h.names {
				same(f, fmt.Sprintf("(g) %s at %s known at %s", name, t, kt), stateOrErr(h.ix, name, t, kt), stateOrErr(ix, name, t, kt))
			}
			same(f, fmt.Sprintf("(g) conflicts at %s known at %s", t, kt), h.ix.Conflicts(t, kt), ix.Conflicts(t, kt))
			same(f, fmt.Sprintf("(g) avails from %s known at %s, the bases in the grant index", t, kt), availsOrErr(h.ix, t, kt), availsOrErr(ix, t, kt))
		}
		for _, name := range h.names {
			a, errA := h.ix.Timeline(name, kt)
			b, errB := ix.Timeline(name, kt)
			same(f, "(g) timeline of "+name, []any{a, events.KindOf(errA)}, []any{b, events.KindOf(errB)})
		}
	}
}

// (b) Amendments effective after T do not change the state at T.
func propFuture(f failer, src synth.Source, h *history) {
	f.Helper()
	for _, t := range pick(src, h.valid, 4) {
		past := projections.NewIndex()
		for _, r := range h.recs {
			if r.Effective.After(t) && !isRetraction(r) {
				continue
			}
			if err := past.Add(r); err != nil {
				f.Fatalf("Add: %v", err)
			}
		}
		for _, name := range h.names {
			full, err := h.ix.State(name, t, time.Time{})
			if err != nil || full.Status == "not_open" {
				continue
			}
			cut, err := past.State(name, t, time.Time{})
			if err != nil {
				f.Fatalf("(b) %s at %s without later amendments: %v", name, t, err)
			}
			full.Version, cut.Version = 0, 0
			same(f, fmt.Sprintf("(b) %s at %s without the amendments effective after it", name, t), cut, full)
		}
		// A conflict's window reaches past T: later amendments may only cut
		// it short.
		was, is := past.Conflicts(t, time.Time{}), h.ix.Conflicts(t, time.Time{})
		if len(was.Conflicts) == len(is.Conflicts) {
			for i := range is.Conflicts {
				a, b := &was.Conflicts[i], &is.Conflicts[i]
				if !b.Until.IsZero() && !a.Until.IsZero() && b.Until.After(a.Until) || b.Until.IsZero() && !a.Until.IsZero() {
					f.Fatalf("(b) conflict %v at %s ends %s, later than %s without the amendments after it", b.Clauses, t, b.Until, a.Until)
				}
				a.Until, b.Until = time.Time{}, time.Time{}
			}
		}
		same(f, fmt.Sprintf("(b) conflicts at %s", t), was, is)
	}
}

func isRetraction(r *events.Record) bool {
	return slices.ContainsFunc(r.Changes, func(c events.Change) bool { return c.Op == events.Retract })
}

// (c) What is known at K is what an index of the records recorded by K says.
func propKnownAt(f failer, src synth.Source, h *history) {
	f.Helper()
	for _, k := range pick(src, h.known, 4) {
		then := projections.NewIndex()
		for _, r := range h.recs {
			if k.IsZero() || !r.Recorded.After(k) {
				if err := then.Add(r); err != nil {
					f.Fatalf("Add: %v", err)
				}
			}
		}
		for _, t := range pick(src, h.valid, 5) {
			for _, name := range h.names {
				same(f, fmt.Sprintf("(c) %s at %s known at %s", name, t, k), stateOrErr(then, name, t, k), stateOrErr(h.ix, name, t, k))
			}
			same(f, fmt.Sprintf("(c) conflicts at %s known at %s", t, k), then.Conflicts(t, k), h.ix.Conflicts(t, k))
			q := projections.RightsQuery{Party: propParties[src.IntN(len(propParties))], Scope: h.scopes[src.IntN(len(h.scopes))], At: t, KnownAt: k}
			same(f, fmt.Sprintf("(c) check %+v", q), then.Check(q), h.ix.Check(q))
		}
		for _, name := range h.names {
			a, errA := then.Timeline(name, k)
			b, errB := h.ix.Timeline(name, k)
			if (errA == nil) != (errB == nil) {
				f.Fatalf("(c) timeline of %s known at %s: %v vs %v", name, k, errA, errB)
			}
			if errA == nil {
				same(f, fmt.Sprintf("(c) timeline of %s known at %s", name, k), a, b)
			}
		}
	}
}

// grantsAt lists the exclusive grants in force at (t, k) across agreements,
// read from their states.
type grantIn struct {
	agreement string
	c         *projections.ClauseState
}

func grantsAt(h *history, t, k time.Time) []grantIn {
	return slices.DeleteFunc(clausesAt(h, t, k), func(g grantIn) bool { return !g.c.ExclusiveGrant() })
}

// (d) Conflicts are exactly the pairs of exclusive grants of a kind, in force,
// from one grantor to two holders, whose scopes meet: each once, sides in
// order, whatever the order the agreements were recorded in.
func propConflicts(f failer, src synth.Source, h *history) {
	f.Helper()
	type pair [4]string
	for _, t := range pick(src, h.valid, 6) {
		k := h.known[src.IntN(len(h.known))]
		r := h.ix.Conflicts(t, k)
		got := map[pair]projections.Conflict{}
		for _, c := range r.Conflicts {
			a, b := c.Clauses[0], c.Clauses[1]
			key := pair{a.Agreement, a.Clause, b.Agreement, b.Clause}
			if _, dup := got[key]; dup {
				f.Fatalf("(d) conflict %v reported twice at %s", key, t)
			}
			got[key] = c
			if cmp.Or(strings.Compare(a.Agreement, b.Agreement), strings.Compare(a.Clause, b.Clause)) >= 0 {
				f.Fatalf("(d) conflict sides out of order: %v", key)
			}
			if c.From.After(t) || !c.Until.IsZero() && !c.Until.After(t) {
				f.Fatalf("(d) conflict %v at %s has window [%s, %s)", key, t, c.From, c.Until)
			}
		}
		want := map[pair]*events.Scope{}
		gs := grantsAt(h, t, k)
		for i, x := range gs {
			for _, y := range gs[i+1:] {
				if x.c.Grantor != y.c.Grantor || x.c.Holder == y.c.Holder || x.c.Kind != y.c.Kind {
					continue
				}
				scope, ok := x.c.Scope.Intersect(y.c.Scope)
				if !ok {
					continue
				}
				a, b := x, y
				if cmp.Or(strings.Compare(a.agreement, b.agreement), strings.Compare(a.c.ID, b.c.ID)) > 0 {
					a, b = b, a
				}
				want[pair{a.agreement, a.c.ID, b.agreement, b.c.ID}] = scope
			}
		}
		if len(got) != len(want) {
			f.Fatalf("(d) at %s known at %s: %d conflicts, want %d:\n%s", t, k, len(got), len(want), jsonOf(f, r))
		}
		for key, scope := range want {
			c, ok := got[key]
			if !ok {
				f.Fatalf("(d) at %s: conflict %v not reported", t, key)
			}
			same(f, fmt.Sprintf("(d) scope of %v", key), scope, c.Scope)
		}
	}
	// The same histories recorded with the agreements in another order.
	swapped := slices.Clone(h.recs)
	slices.SortStableFunc(swapped, func(a, b *events.Record) int { return strings.Compare(b.Agreement, a.Agreement) })
	other := projections.NewIndex()
	for i, r := range swapped {
		c := *r
		c.Seq, c.Recorded = uint64(i+1), time.Time{}
		if err := other.Add(&c); err != nil {
			f.Fatalf("Add: %v", err)
		}
	}
	for _, t := range pick(src, h.valid, 4) {
		same(f, fmt.Sprintf("(d) conflicts at %s, agreements recorded in another order", t), h.ix.Conflicts(t, time.Time{}), other.Conflicts(t, time.Time{}))
	}
}

// clausesAt lists every clause in force at (t, k) across agreements, read
// from their states.
func clausesAt(h *history, t, k time.Time) []grantIn {
	var out []grantIn
	for _, name := range h.names {
		s, err := h.ix.State(name, t, k)
		if err != nil {
			continue
		}
		for _, c := range s.Clauses {
			out = append(out, grantIn{name, c})
		}
	}
	return out
}

// (e) A rights check is denied exactly when an exclusivity in force that
// meets the query is held by someone else (and does not leave its sole
// grantor free); otherwise allowed exactly when a licence, exclusivity or
// right in force that the party holds or granted covers all of the query,
// and no_basis when none does. It names exactly those clauses, and its
// answer with ignore_basis differs only in allowed: then allowed exactly
// when nothing blocks. Verdicts and clauses agree: allowed has a basis and
// nothing blocking, denied something blocking, no_basis neither.
func propCheck(f failer, src synth.Source, h *history) {
	f.Helper()
	for _, t := range pick(src, h.valid, 6) {
		k := h.known[src.IntN(len(h.known))]
		cs := clausesAt(h, t, k)
		for _, party := range propParties {
			scope := h.scopes[src.IntN(len(h.scopes))]
			var blocking, basis []string
			for _, g := range cs {
				c := g.c
				id := g.agreement + "/" + c.ID
				if _, ok := c.Scope.Intersect(scope); ok && c.Kind == events.Exclusivity && c.Holder != party && !(c.Sole && c.Grantor == party) {
					blocking = append(blocking, id)
				}
				if (c.Kind == events.License || c.Kind == events.Exclusivity || c.Kind == events.Right) && (c.Holder == party || c.Grantor == party) && covers(c.Scope, scope) {
					basis = append(basis, id)
				}
			}
			slices.Sort(blocking)
			slices.Sort(basis)
			want := projections.VerdictNoBasis
			switch {
			case len(blocking) > 0:
				want = projections.VerdictDenied
			case len(basis) > 0:
				want = projections.VerdictAllowed
			}
			q := projections.RightsQuery{Party: party, Scope: scope, At: t, KnownAt: k}
			r := h.ix.Check(q)
			what := fmt.Sprintf("(e) %s may offer %v at %s known at %s", party, scope, t, k)
			ids := func(ds []projections.Decision, binds bool) []string {
				var out []string
				for _, d := range ds {
					if d.Binds != binds {
						f.Fatalf("%s: %s/%s with binds %v", what, d.Agreement, d.Clause, d.Binds)
					}
					if _, ok := d.Scope.Intersect(scope); !ok {
						f.Fatalf("%s: %s/%s does not meet the query", what, d.Agreement, d.Clause)
					}
					out = append(out, d.Agreement+"/"+d.Clause)
				}
				slices.Sort(out)
				return out
			}
			gotBlocking, gotBasis := ids(r.Blocking, true), ids(r.Basis, false)
			if r.Verdict != want || !slices.Equal(gotBlocking, blocking) || !slices.Equal(gotBasis, basis) || r.Allowed != (want == projections.VerdictAllowed) {
				f.Fatalf("%s: %s (allowed %v), basis %v, blocking %v; want %s, basis %v, blocking %v",
					what, r.Verdict, r.Allowed, gotBasis, gotBlocking, want, basis, blocking)
			}
			switch decided := jsonOf(f, r.DecidedBy); {
			case r.Verdict == projections.VerdictAllowed && (len(r.Basis) == 0 || len(r.Blocking) > 0 || decided != jsonOf(f, r.Basis)),
				r.Verdict == projections.VerdictDenied && (len(r.Blocking) == 0 || decided != jsonOf(f, r.Blocking)),
				r.Verdict == projections.VerdictNoBasis && (len(r.Basis) > 0 || len(r.Blocking) > 0 || len(r.DecidedBy) > 0):
				f.Fatalf("%s: verdict and clauses disagree: %s", what, jsonOf(f, r))
			}
			q.IgnoreBasis = true
			free := h.ix.Check(q)
			if free.Allowed != (len(blocking) == 0) || !free.IgnoreBasis {
				f.Fatalf("%s, ignoring the basis: allowed %v, want %v", what, free.Allowed, len(blocking) == 0)
			}
			free.Allowed, free.IgnoreBasis = r.Allowed, false
			same(f, what+", ignoring the basis but for allowed", r, free)
		}
	}
}

// covers is events.Scope.Covers, written out: in each dimension s is
// everything, or o names values all of which s has.
func covers(s, o *events.Scope) bool {
	for d := range events.Dimensions {
		for _, v := range o.Dim(d) {
			if s.Dim(d) != nil && !slices.Contains(s.Dim(d), v) {
				return false
			}
		}
		if s.Dim(d) != nil && o.Dim(d) == nil {
			return false
		}
	}
	return true
}

// (f) The clauses in force at T, found by the index's binary search and
// checkpoints, are those whose timeline bars (drawn from every version,
// without the index) cover T, with the same values.
func propTimeline(f failer, src synth.Source, h *history) {
	f.Helper()
	for _, k := range pick(src, h.known, 3) {
		for _, name := range h.names {
			tl, err := h.ix.Timeline(name, k)
			if err != nil {
				continue
			}
			for _, t := range pick(src, h.valid, 6) {
				want := map[string]map[string]any{}
				for _, c := range tl.Clauses {
					for _, s := range c.Segments {
						if !s.From.After(t) && (s.Until.IsZero() || s.Until.After(t)) {
							if want[c.ID] != nil {
								f.Fatalf("(f) %s: two bars of %s cover %s", name, c.ID, t)
							}
							want[c.ID] = s.Fields
						}
					}
				}
				s, err := h.ix.State(name, t, k)
				if err != nil {
					f.Fatalf("(f) State: %v", err)
				}
				if s.Status != "open" {
					continue
				}
				got := map[string]map[string]any{}
				for _, c := range s.Clauses {
					got[c.ID] = c.Fields()
				}
				same(f, fmt.Sprintf("(f) %s in force at %s known at %s, by state and by timeline", name, t, k), want, got)
			}
		}
	}
}

// (h) A diff's money is the states' at its two times, as known at one
// time: for each revenue share in force at the later one, the reports it
// lists are the report changes of that clause in the history visible then
// and effective in the window — as many as the later state counts beyond
// the earlier when the share is in force at both — accrued and what
// remains under the cap are the states', changed by their difference; a
// cap reached is the later state's capped_at, after the earlier time; for
// each investment, the tranches funded are those funded in the later state
// and not the earlier, and the funded totals are the states'. A clause the
// diff leaves out had nothing of these move. And in every state a capped
// share's capped_at is there exactly when it stands at its cap, holds at
// the time it names and not just before, and uncapped is never less than
// accrued.
func propMoney(f failer, src synth.Source, h *history) {
	f.Helper()
	for range 8 {
		k := h.known[src.IntN(len(h.known))]
		from, to := h.valid[src.IntN(len(h.valid))], h.valid[src.IntN(len(h.valid))]
		for _, name := range h.names {
			d, err := h.ix.Diff(name, from, to, k)
			if err != nil {
				continue // not recorded by k
			}
			a, errA := h.ix.State(name, from, k)
			b, errB := h.ix.State(name, to, k)
			if errA != nil || errB != nil {
				f.Fatalf("(h) states of %s: %v, %v", name, errA, errB)
			}
			where := fmt.Sprintf("(h) diff of %s from %s to %s known at %s", name, from, to, k)
			accruals := map[string]projections.AccrualChange{}
			for _, ac := range d.Accruals {
				if _, dup := accruals[ac.ID]; dup || b.Clause(ac.ID) == nil {
					f.Fatalf("%s: accrual of %s twice, or not in force at the later time", where, ac.ID)
				}
				accruals[ac.ID] = ac
			}
			funding := map[string]projections.FundingChange{}
			for _, fc := range d.Funding {
				if _, dup := funding[fc.ID]; dup || b.Clause(fc.ID) == nil {
					f.Fatalf("%s: funding of %s twice, or not in force at the later time", where, fc.ID)
				}
				funding[fc.ID] = fc
			}
			for _, c := range b.Clauses {
				old := a.Clause(c.ID)
				switch c.Kind {
				case events.RevenueShare:
					checkAccrual(f, where+" "+c.ID, h, name, old, c, accruals[c.ID], from, to, k)
				case events.Investment:
					checkFunding(f, where+" "+c.ID, old, c, funding[c.ID])
				}
			}
			for _, s := range []*projections.State{a, b} {
				checkCapped(f, h, name, s, k)
			}
		}
	}
}

// diffOf is to − from, when both are disclosed amounts of one currency.
func diffOf(from, to *events.Money) *decimal.Decimal {
	if from == nil || to == nil || from.Undisclosed || to.Undisclosed || from.Currency != to.Currency {
		return nil
	}
	d := to.Amount.Sub(from.Amount)
	return &d
}

func checkMoneyChange(f failer, what string, got projections.MoneyChange, from, to *events.Money) {
	f.Helper()
	same(f, what, projections.MoneyChange{From: from, To: to, Change: diffOf(from, to)}, got)
	if want := diffOf(from, to); want != nil && !got.Change.Equal(*want) {
		f.Fatalf("%s: change %s, want %s", what, got.Change, want)
	}
}

func moved(d *decimal.Decimal) bool { return d != nil && !d.IsZero() }

// reportsIn lists the report changes of clause id of agreement name visible
// as known at k (recorded by then, and not retracted by then) and effective
// in (from, to], as "id base period".
func reportsIn(h *history, name, id string, from, to, k time.Time) []string {
	known := func(r *events.Record) bool { return k.IsZero() || !r.Recorded.After(k) }
	retracted := map[ulid.ULID]bool{}
	for _, r := range h.recs {
		for _, c := range r.Changes {
			if c.Op == events.Retract && known(r) {
				retracted[c.Of().Target] = true
			}
		}
	}
	var out []string
	for _, r := range h.recs {
		if r.Agreement != name || !known(r) || retracted[r.ID] || !r.Effective.After(from) || r.Effective.After(to) {
			continue
		}
		for _, c := range r.Changes {
			if c.Op == events.Report && c.ClauseID == id {
				out = append(out, reportKey(r.ID.String(), *c.Of().Base, c.Of().Period))
			}
		}
	}
	slices.Sort(out)
	return out
}

func reportKey(id string, base events.Money, per events.Period) string {
	return id + " " + base.String() + " " + per.Start.String() + ".." + per.End.String()
}

func checkAccrual(f failer, where string, h *history, name string, old, c *projections.ClauseState, got projections.AccrualChange, from, to, k time.Time) {
	f.Helper()
	var was projections.Accrual
	if old != nil && old.Accrual != nil {
		was = *old.Accrual
	}
	now := *c.Accrual
	var reports []string
	for _, r := range got.Reports {
		reports = append(reports, reportKey(r.Amendment, r.Base, r.Period))
		if !r.At.After(from) || r.At.After(to) {
			f.Fatalf("%s: report %s effective %s, outside the window", where, r.Amendment, r.At)
		}
	}
	slices.Sort(reports)
	want := reportsIn(h, name, c.ID, from, to, k)
	if !slices.Equal(reports, want) {
		f.Fatalf("%s: reports\n  %v\nwant the history's\n  %v", where, reports, want)
	}
	if old != nil && from.Before(to) && len(reports) != now.Reports-was.Reports {
		f.Fatalf("%s: %d reports listed, the states count %d and %d", where, len(reports), was.Reports, now.Reports)
	}
	// The cap is reached in the window when the later state's capped_at is
	// after from; when the share is in force at both times, exactly when
	// the earlier state's is not the same.
	var reached *projections.CapReached
	if r := now.CappedAt; r != nil && r.At.After(from) {
		reached = r
	}
	if old != nil && from.Before(to) && (reached != nil) != (now.CappedAt != nil && (was.CappedAt == nil || !sameReach(*was.CappedAt, *now.CappedAt))) {
		f.Fatalf("%s: capped at %v then, %v now", where, was.CappedAt, now.CappedAt)
	}
	movedAny := len(want) > 0 || reached != nil || moved(diffOf(was.Accrued, now.Accrued)) || moved(diffOf(was.CapRemaining, now.CapRemaining))
	if got.ID == "" {
		if movedAny {
			f.Fatalf("%s: left out of the diff, but it moved: reports %v, accrued %v → %v, cap remaining %v → %v, capped at %v → %v",
				where, want, was.Accrued, now.Accrued, was.CapRemaining, now.CapRemaining, was.CappedAt, now.CappedAt)
		}
		return
	}
	if !movedAny {
		f.Fatalf("%s: in the diff, but nothing moved: %s", where, jsonOf(f, got))
	}
	checkMoneyChange(f, where+" accrued", got.Accrued, was.Accrued, now.Accrued)
	checkMoneyChange(f, where+" cap remaining", got.CapRemaining, was.CapRemaining, now.CapRemaining)
	same(f, where+" cap reached", reached, got.CapReached)
}

// sameReach reports whether a and b name the same reaching of a cap.
func sameReach(a, b projections.CapReached) bool {
	return a.Amendment == b.Amendment && a.At.Equal(b.At) && a.Op == b.Op
}

func checkFunding(f failer, where string, old, c *projections.ClauseState, got projections.FundingChange) {
	f.Helper()
	wasFunded := map[string]bool{}
	var was *events.Money
	if old != nil {
		for _, t := range old.Tranches {
			wasFunded[t.ID] = !t.Funded.IsZero()
		}
		_, was = old.Totals()
	}
	_, now := c.Totals()
	want := []projections.TrancheState{}
	for _, t := range c.Tranches {
		if !t.Funded.IsZero() && !wasFunded[t.ID] {
			want = append(want, t)
		}
	}
	movedAny := len(want) > 0 || moved(diffOf(was, now))
	if got.ID == "" {
		if movedAny {
			f.Fatalf("%s: left out of the diff, but it moved: tranches %v, funded %v → %v", where, want, was, now)
		}
		return
	}
	if !movedAny {
		f.Fatalf("%s: in the diff, but nothing moved: %s", where, jsonOf(f, got))
	}
	same(f, where+" tranches funded", want, got.Tranches)
	checkMoneyChange(f, where+" funded", got.Funded, was, now)
}

// checkCapped checks what a state says its capped shares' caps cost.
func checkCapped(f failer, h *history, name string, s *projections.State, k time.Time) {
	f.Helper()
	for _, c := range s.Clauses {
		if !c.HasCap() {
			if c.Accrual != nil && (c.Accrual.Uncapped != nil || c.Accrual.CappedAt != nil) {
				f.Fatalf("(h) %s at %s: %s has no cap, but uncapped %v, capped at %v", name, s.At, c.ID, c.Accrual.Uncapped, c.Accrual.CappedAt)
			}
			continue
		}
		where := fmt.Sprintf("(h) %s at %s known at %s: %s", name, s.At, k, c.ID)
		a := c.Accrual
		atCap := !c.Cap.Undisclosed && a.CapRemaining != nil && !a.CapRemaining.Amount.IsPositive()
		if (a.CappedAt != nil) != atCap {
			f.Fatalf("%s: capped at %v, cap remaining %v", where, a.CappedAt, a.CapRemaining)
		}
		if a.Uncapped != nil && a.Accrued != nil && a.Uncapped.Amount.LessThan(a.Accrued.Amount) {
			f.Fatalf("%s: uncapped %v is less than accrued %v", where, a.Uncapped, a.Accrued)
		}
		r := a.CappedAt
		if r == nil {
			continue
		}
		if r.At.After(s.At) {
			f.Fatalf("%s: capped at %s, after the state's time", where, r.At)
		}
		// It holds at the time it names, and not just before.
		for _, t := range []time.Time{r.At, r.At.Add(-time.Nanosecond)} {
			then, err := h.ix.State(name, t, k)
			if err != nil {
				f.Fatalf("%s: state at %s: %v", where, t, err)
			}
			tc := then.Clause(c.ID)
			if tc == nil {
				continue // not in force then
			}
			holds := tc.Accrual.CappedAt != nil && sameReach(*tc.Accrual.CappedAt, *r)
			if holds != t.Equal(r.At) {
				f.Fatalf("%s: capped at %s by %s, but at %s capped at %v", where, r.At, r.Amendment, t, tc.Accrual.CappedAt)
			}
		}
	}
}

func checkAll(f failer, src synth.Source, size int) {
	f.Helper()
	h := generate(f, src, size)
	propTimeline(f, src, h)
	propIncremental(f, src, h)
	propLoaded(f, src, h)
	propFuture(f, src, h)
	propKnownAt(f, src, h)
	propConflicts(f, src, h)
	propCheck(f, src, h)
	propMoney(f, src, h)
}

func TestProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { checkAll(t, rapidSource{t}, 40) })
}

// TestPropertiesLong runs fewer, longer histories drawn from a PRNG.
func TestPropertiesLong(t *testing.T) {
	for seed := range int64(8) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			checkAll(t, pcg(seed), 150)
		})
	}
}

func pcg(seed int64) synth.Source { return &randSource{state: uint64(seed)*0x9e3779b97f4a7c15 + 1} }

// randSource is a small deterministic PRNG (splitmix64).
type randSource struct{ state uint64 }

func (r *randSource) IntN(n int) int {
	r.state += 0x9e3779b97f4a7c15
	return int(mix64(r.state) % uint64(n))
}

// FuzzFold turns fuzz input into a valid history and checks that nothing
// panics and that the index built one record at a time answers what a fold
// from scratch does (property a), and what is known at K (property c).
func FuzzFold(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("a history of several amendments across agreements"))
	f.Add([]byte{0xff, 0xff, 0x10, 0x00, 0x03, 0x80, 0x7f, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a})
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &byteSource{b: data}
		h := generate(t, src, 60)
		propIncremental(t, src, h)
		propKnownAt(t, src, h)
	})
}
