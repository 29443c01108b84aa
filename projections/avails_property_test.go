package projections_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/synth"
	"github.com/agreement-ledger/ledger/projections"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

// Properties of avails, holdings and the calendar over the random histories
// of property_test.go: each answer, read at a time T in its window, is what
// the point-in-time queries (Check, State) answer at T, as known at K.

// window draws [from, to) from the history's times worth asking about.
func (h *history) window(src synth.Source) (time.Time, time.Time) {
	from := h.valid[src.IntN(len(h.valid))]
	var later []time.Time
	for _, t := range h.valid {
		if t.After(from) {
			later = append(later, t)
		}
	}
	if len(later) == 0 {
		return from, from.AddDate(1, 0, 0)
	}
	return from, later[src.IntN(len(later))]
}

// inside draws n times in [from, to): the ends of the window, times worth
// asking about inside it, and times anywhere in it.
func (h *history) inside(src synth.Source, from, to time.Time, n int) []time.Time {
	ts := []time.Time{from, to.Add(-time.Nanosecond)}
	var in []time.Time
	for _, t := range h.valid {
		if !t.Before(from) && t.Before(to) {
			in = append(in, t, t.Add(-time.Nanosecond))
		}
	}
	for range n {
		if len(in) > 0 && src.IntN(2) == 0 {
			ts = append(ts, in[src.IntN(len(in))])
		} else {
			ts = append(ts, from.Add(to.Sub(from)/1000*time.Duration(src.IntN(1000))))
		}
	}
	return slices.DeleteFunc(ts, func(t time.Time) bool { return t.Before(from) || !t.Before(to) })
}

// propAvails: a party's intervals partition the window, neighbours differ
// in verdict or deciding clauses, and the interval holding any T answers
// what Check answers at T — for every party, listed or asked about alone —
// and every party an exclusive grant covering the query names at T is
// listed.
func propAvails(f failer, src synth.Source, h *history) {
	f.Helper()
	for range 3 {
		from, to := h.window(src)
		k := h.known[src.IntN(len(h.known))]
		scope := h.scopes[src.IntN(len(h.scopes))]
		q := projections.AvailsQuery{Scope: scope, From: from, To: to, KnownAt: k}
		av, err := h.ix.Avails(q)
		if err != nil {
			f.Fatalf("Avails(%+v): %v", q, err)
		}
		what := fmt.Sprintf("avails of %v over [%s, %s) known at %s", scope, from, to, k)
		// The bases of many parties are found in the grant index, of a few
		// through their agreements: the same.
		whole, err := projections.AvailsThroughIndex(h.ix, q)
		if err != nil {
			f.Fatalf("Avails(%+v) through the index: %v", q, err)
		}
		same(f, what+", the bases found through the agreements (want) and in the grant index", av, whole)
		listed := map[string]*projections.Avails{}
		for i, p := range av.Parties {
			if i > 0 && av.Parties[i-1].Party >= p.Party {
				f.Fatalf("%s: parties out of order: %s, %s", what, av.Parties[i-1].Party, p.Party)
			}
			listed[p.Party] = av
			for j, a := range p.Intervals {
				if j == 0 && !a.From.Equal(from) || j > 0 && !a.From.Equal(p.Intervals[j-1].Until) || !a.Until.After(a.From) ||
					j == len(p.Intervals)-1 && !a.Until.Equal(to) {
					f.Fatalf("%s: %s's intervals do not partition the window: %s", what, p.Party, jsonOf(f, av))
				}
				if j > 0 && jsonOf(f, av.Rights(p.Party, a)) == jsonOf(f, av.Rights(p.Party, p.Intervals[j-1])) {
					f.Fatalf("%s: %s's intervals %d and %d have the same answer: they should be one", what, p.Party, j-1, j)
				}
				if r := av.Rights(p.Party, a); a.Verdict != r.Verdict {
					f.Fatalf("%s: %s's interval %d has verdict %q, its answer %q", what, p.Party, j, a.Verdict, r.Verdict)
				}
			}
		}
		for _, party := range propParties {
			if listed[party] == nil {
				one, err := h.ix.Avails(projections.AvailsQuery{Scope: scope, Party: party, From: from, To: to, KnownAt: k})
				if err != nil {
					f.Fatalf("Avails for %s: %v", party, err)
				}
				listed[party] = one
			}
		}
		// The JSON document, as the command and the API write it.
		var doc struct {
			Parties []struct {
				Party     string
				Intervals []map[string]any
			}
		}
		if err := json.Unmarshal([]byte(jsonOf(f, av)), &doc); err != nil || len(doc.Parties) != len(av.Parties) {
			f.Fatalf("%s: the JSON document: %v", what, err)
		}
		for _, t := range h.inside(src, from, to, 6) {
			for party, a := range listed {
				iv, ok := a.At(party, t)
				if !ok {
					f.Fatalf("%s: no interval of %s holds %s", what, party, t)
				}
				want := h.ix.Check(projections.RightsQuery{Party: party, Scope: scope, At: t, KnownAt: k})
				// The check echoes its question; an interval's decision has none.
				want.At, want.KnownAt = time.Time{}, time.Time{}
				same(f, fmt.Sprintf("%s: %s at %s, by check (want) and by avails", what, party, t), want, a.Rights(party, iv))
				if a != av {
					continue
				}
				i := slices.IndexFunc(av.Parties, func(p projections.PartyAvails) bool { return p.Party == party })
				j := slices.IndexFunc(av.Parties[i].Intervals, func(x projections.Avail) bool { return x == iv })
				var wantDoc map[string]any
				_ = json.Unmarshal([]byte(jsonOf(f, want)), &wantDoc) // keys in the order a parsed document has them
				got := maps.Clone(doc.Parties[i].Intervals[j])
				delete(got, "from")
				delete(got, "until")
				got["ignore_basis"] = av.IgnoreBasis // said once, in the document's head
				same(f, fmt.Sprintf("%s: %s at %s, by check (want) and in the JSON document", what, party, t), wantDoc, got)
			}
			for _, g := range grantsAt(h, t, k) {
				if _, ok := g.c.Scope.Intersect(scope); !ok {
					continue
				}
				for _, p := range []string{g.c.Grantor, g.c.Holder} {
					if listed[p] != av {
						f.Fatalf("%s: %s, named by %s/%s in force at %s, is not listed", what, p, g.agreement, g.c.ID, t)
					}
				}
			}
		}
	}
}

// propHoldings: what a party holds exclusively at any T in the window is
// the exclusive grants in force at T that it holds, within the scope.
func propHoldings(f failer, src synth.Source, h *history) {
	f.Helper()
	for range 2 {
		from, to := h.window(src)
		k := h.known[src.IntN(len(h.known))]
		party := propParties[src.IntN(len(propParties))]
		var scope *events.Scope
		if src.IntN(2) == 0 {
			scope = h.scopes[src.IntN(len(h.scopes))]
		}
		hs, err := h.ix.Holdings(projections.HoldingsQuery{Holder: party, Scope: scope, From: from, To: to, KnownAt: k})
		if err != nil {
			f.Fatalf("Holdings: %v", err)
		}
		what := fmt.Sprintf("what %s holds within %v over [%s, %s) known at %s", party, scope, from, to, k)
		for j, iv := range hs.Intervals {
			if j == 0 && !iv.From.Equal(from) || j > 0 && !iv.From.Equal(hs.Intervals[j-1].Until) || j == len(hs.Intervals)-1 && !iv.Until.Equal(to) {
				f.Fatalf("%s: intervals do not partition the window: %s", what, jsonOf(f, hs))
			}
		}
		for _, t := range h.inside(src, from, to, 6) {
			var iv projections.HeldInterval
			for _, x := range hs.Intervals {
				if !t.Before(x.From) && t.Before(x.Until) {
					iv = x
				}
			}
			got := map[string]string{}
			for _, x := range iv.Holds {
				got[x.Agreement+"/"+x.Clause] = x.Where.Scope.String()
			}
			want := map[string]string{}
			for _, g := range grantsAt(h, t, k) {
				if where, ok := g.c.Scope.Intersect(scope); ok && g.c.Holder == party {
					want[g.agreement+"/"+g.c.ID] = where.String()
				}
			}
			same(f, fmt.Sprintf("%s: at %s, by states (want) and by holdings", what, t), want, got)
		}
	}
}

// inForce returns the clause id in force in a state (or an error string), or nil.
func clauseIn(s any, id string) *projections.ClauseState {
	if st, ok := s.(*projections.State); ok {
		return st.Clause(id)
	}
	return nil
}

// capLevel says whether a revenue share in force in state s has accrued 80 %
// of its cap, and all of it, as the state shows it.
func capLevel(s any, id string) (eighty, reached bool) {
	c := clauseIn(s, id)
	if c == nil || c.Cap == nil || c.Cap.Undisclosed || c.Accrual == nil || c.Accrual.CapRemaining == nil || c.Accrual.CapRemaining.Undisclosed {
		return false, false
	}
	rem := c.Accrual.CapRemaining.Amount
	return !rem.GreaterThan(c.Cap.Amount.Mul(decimal.New(2, -1))), !rem.IsPositive()
}

// propCalendar: every dated entry is checked against the states just before
// it and at it, every standing one against the state at its time; the
// clauses in force change only at a start or an end entry; and every
// clause that ends on a condition at the window's start is a standing risk.
func propCalendar(f failer, src synth.Source, h *history) {
	f.Helper()
	for range 2 {
		from, to := h.window(src)
		k := h.known[src.IntN(len(h.known))]
		q := projections.CalendarQuery{From: from, To: to, KnownAt: k}
		if src.IntN(2) == 0 {
			q.Agreement = h.names[src.IntN(len(h.names))]
		}
		cal, err := h.ix.Calendar(q)
		what := fmt.Sprintf("calendar of %q over [%s, %s) known at %s", q.Agreement, from, to, k)
		if err != nil {
			if s := stateOrErr(h.ix, q.Agreement, from, k); s != "error: not_found" {
				f.Fatalf("%s: %v, but the state is %v", what, err, s)
			}
			continue
		}
		changes := map[string][]time.Time{} // per agreement, where start or end entries are
		for i, e := range cal.Entries {
			if i > 0 && e.At().Before(cal.Entries[i-1].At()) || e.At().Before(from) || !e.At().Before(to) || !e.Kind().Dated() {
				f.Fatalf("%s: entry %d out of order or out of the window: %s", what, i, jsonOf(f, cal))
			}
			before, at := stateOrErr(h.ix, e.Agreement(), e.At().Add(-time.Nanosecond), k), stateOrErr(h.ix, e.Agreement(), e.At(), k)
			was, is := clauseIn(before, e.Clause()), clauseIn(at, e.Clause())
			bad := func(why string) {
				f.Fatalf("%s: %s %s %s at %s: %s\nbefore: %s\nat: %s", what, e.Agreement(), e.Clause(), e.Kind(), e.At(), why, jsonOf(f, before), jsonOf(f, at))
			}
			switch e.Kind() {
			case projections.EntryStarts:
				if was != nil || is == nil {
					bad("the clause should be in force at the entry and not just before")
				}
				changes[e.Agreement()] = append(changes[e.Agreement()], e.At())
			case projections.EntryEnds:
				if was == nil || is != nil {
					bad("the clause should be in force just before the entry and not at it")
				}
				changes[e.Agreement()] = append(changes[e.Agreement()], e.At())
			case projections.EntryCap80, projections.EntryCapReached:
				b80, bCap := capLevel(before, e.Clause())
				a80, aCap := capLevel(at, e.Clause())
				crossed := a80 && !b80
				if e.Kind() == projections.EntryCapReached {
					crossed = aCap && !bCap
				}
				if !crossed {
					bad("the cap remaining should cross the threshold here")
				}
				same(f, what+": cap remaining of "+e.Clause(), is.Accrual.CapRemaining, e.Remaining())
			}
		}
		for _, e := range cal.Standing {
			s := stateOrErr(h.ix, e.Agreement(), e.At(), k)
			c := clauseIn(s, e.Clause())
			ok := c != nil && !e.At().Before(from) && e.At().Before(to)
			switch {
			case !ok:
			case e.Kind() == projections.EntryEndsOn:
				ok = c.Term != nil && c.Term.EndsOn == e.Condition()
			case e.Kind() == projections.EntryCapUnknown:
				ok = c.Cap != nil && (c.Accrual.CapRemaining == nil || c.Accrual.CapRemaining.Undisclosed) && e.Why() != ""
			case e.Kind() == projections.EntryTrancheUnfunded:
				ok = slices.ContainsFunc(c.Tranches, func(tr projections.TrancheState) bool {
					return tr.ID == e.Tranche() && tr.Condition != "" && tr.Funded.IsZero()
				})
			default:
				ok = false
			}
			if !ok {
				f.Fatalf("%s: standing %s of %s/%s at %s does not hold in the state there: %s", what, e.Kind(), e.Agreement(), e.Clause(), e.At(), jsonOf(f, s))
			}
		}
		names := h.names
		if q.Agreement != "" {
			names = []string{q.Agreement}
		}
		for _, name := range names {
			ts := append([]time.Time{from}, changes[name]...)
			ts = append(slices.CompactFunc(ts, time.Time.Equal), to)
			for i := range len(ts) - 1 {
				a, b := stateOrErr(h.ix, name, ts[i], k), stateOrErr(h.ix, name, ts[i+1].Add(-time.Nanosecond), k)
				if sa, ok := a.(*projections.State); ok {
					sb := b.(*projections.State)
					same(f, fmt.Sprintf("%s: %s's clauses in force from %s to just before %s, with no entry between", what, name, ts[i], ts[i+1]), clauseIDs(sa), clauseIDs(sb))
				}
			}
			if s, ok := stateOrErr(h.ix, name, from, k).(*projections.State); ok {
				listed := func(kind projections.EntryKind, id string) bool {
					return slices.ContainsFunc(cal.Standing, func(e projections.CalendarEntry) bool {
						return e.Kind() == kind && e.Agreement() == name && e.Clause() == id && e.At().Equal(from)
					})
				}
				for _, c := range s.Clauses {
					if c.Term != nil && c.Term.EndsOn != "" && !listed(projections.EntryEndsOn, c.ID) {
						f.Fatalf("%s: %s/%s ends on %s at the window's start, and is not a standing risk", what, name, c.ID, c.Term.EndsOn)
					}
					if c.Cap != nil && (c.Accrual.CapRemaining == nil || c.Accrual.CapRemaining.Undisclosed) && !listed(projections.EntryCapUnknown, c.ID) {
						f.Fatalf("%s: %s/%s's cap remaining cannot be computed at the window's start (%s), and is not a standing risk", what, name, c.ID, c.Accrual.Why)
					}
				}
			}
		}
	}
}

// propCalendarCache: the calendar of every agreement, read from the cache
// the index keeps up to date as records are added, is the calendars of each
// agreement (gathered from its view) put together.
func propCalendarCache(f failer, src synth.Source, h *history) {
	f.Helper()
	ix := projections.NewIndex()
	for i, r := range h.recs {
		c := *r
		if err := ix.Add(&c); err != nil {
			f.Fatalf("Add: %v", err)
		}
		if src.IntN(4) > 0 && i < len(h.recs)-1 {
			continue
		}
		from, to := h.window(src)
		all, err := ix.Calendar(projections.CalendarQuery{From: from, To: to})
		if err != nil {
			f.Fatalf("Calendar: %v", err)
		}
		var want, got [2][]string
		for _, s := range ix.Agreements(time.Time{}) {
			one, err := ix.Calendar(projections.CalendarQuery{Agreement: s.Agreement, From: from, To: to})
			if err != nil {
				f.Fatalf("Calendar of %s: %v", s.Agreement, err)
			}
			for _, e := range one.Entries {
				want[0] = append(want[0], jsonOf(f, e))
			}
			for _, e := range one.Standing {
				want[1] = append(want[1], jsonOf(f, e))
			}
		}
		for k, es := range [2][]projections.CalendarEntry{all.Entries, all.Standing} {
			for _, e := range es {
				got[k] = append(got[k], jsonOf(f, e))
			}
			slices.Sort(want[k])
			slices.Sort(got[k])
		}
		same(f, fmt.Sprintf("calendar over [%s, %s) after %d records, from the cache and agreement by agreement (want)", from, to, i+1), want, got)
	}
}

func checkAvails(f failer, src synth.Source, size int) {
	f.Helper()
	h := generate(f, src, size)
	propAvails(f, src, h)
	propHoldings(f, src, h)
	propCalendar(f, src, h)
	propCalendarCache(f, src, h)
}

func TestAvailsProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { checkAvails(t, rapidSource{t}, 40) })
}

// TestAvailsPropertiesLong runs fewer, longer histories drawn from a PRNG.
func TestAvailsPropertiesLong(t *testing.T) {
	for seed := range int64(8) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			checkAvails(t, pcg(100+seed), 150)
		})
	}
}
