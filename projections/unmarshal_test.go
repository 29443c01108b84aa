package projections_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/synth"
	"github.com/agreement-ledger/ledger/projections"
)

// readBack marshals v, reads the document into a new value of v's type,
// and checks that it writes the same bytes. It returns what was read.
func readBack[T any](t *testing.T, what string, v *T) *T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	got := new(T)
	if err := json.Unmarshal(b, got); err != nil {
		t.Fatalf("%s: reading back: %v\n%s", what, err, b)
	}
	again, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, again) {
		t.Fatalf("%s: read back and written again:\n%s\nwas\n%s", what, again, b)
	}
	return got
}

// TestAnswersReadBack: every kind of answer, on the seed history and on
// generated ones, at many valid and known-at times, read back from its
// document writes the same document again; what is read is typed as the
// answer was (a segment's money is an *events.Money, not a map).
func TestAnswersReadBack(t *testing.T) {
	g := synth.New(3)
	generated := records(g.Many(25, 40), lag(6*time.Hour))
	var next []*events.Amendment
	for _, a := range g.Agreements()[:5] {
		next = append(next, g.Next(a))
	}
	for _, h := range []struct {
		name string
		recs []*events.Record
		next []*events.Amendment // to preview
	}{
		{"seed", seedRecords(), nil},
		{"generated", generated, next},
	} {
		t.Run(h.name, func(t *testing.T) {
			ix := index(t, h.recs)
			first, last := h.recs[0].Effective, h.recs[len(h.recs)-1].Recorded
			var times []time.Time
			for i := 0; i <= 12; i++ {
				times = append(times, first.Add(time.Duration(i)*last.Sub(first)/10))
			}
			knowns := []time.Time{{}, h.recs[len(h.recs)/2].Recorded}
			counts := map[string]int{}
			for _, s := range ix.Agreements(time.Time{}) {
				a := s.Agreement
				hist, err := ix.History(a)
				if err != nil {
					t.Fatal(err)
				}
				back := readBack(t, "history of "+a, hist)
				if back.Amendments[0].Agreement != a || back.Amendments[0].ID != hist.Amendments[0].ID {
					t.Fatalf("history of %s read back: %+v", a, back.Amendments[0].Record)
				}
				counts["history"]++
				for _, k := range knowns {
					tl, err := ix.Timeline(a, k)
					if err != nil {
						t.Fatal(err)
					}
					sameFieldTypes(t, tl, readBack(t, "timeline of "+a, tl))
					counts["timeline"]++
					for i, at := range times {
						st, err := ix.State(a, at, k)
						if err != nil {
							t.Fatal(err)
						}
						back := readBack(t, fmt.Sprintf("state of %s at %s", a, at), st)
						for _, c := range st.Clauses {
							if c.Accrual != nil {
								counts["accrual"]++
							}
							if c.Tranches != nil {
								counts["tranches"]++
							}
							if b := back.Clause(c.ID); b == nil || b.Kind != c.Kind || b.Since != c.Since || (c.Accrual == nil) != (b.Accrual == nil) || len(b.Tranches) != len(c.Tranches) {
								t.Fatalf("state of %s at %s: clause %s read back as %+v", a, at, c.ID, b)
							}
						}
						counts["state"]++
						if i > 0 {
							d, err := ix.Diff(a, times[i-1], at, k)
							if err != nil {
								t.Fatal(err)
							}
							readBack(t, fmt.Sprintf("diff of %s to %s", a, at), d)
							counts["diff"]++
						}
					}
				}
			}
			var scopes []*events.Scope // of the conflicts, one value per dimension, to ask avails of
			var holders []string       // of the conflicting clauses, to ask holdings of
			for _, k := range knowns {
				for _, at := range times {
					rep := ix.Conflicts(at, k)
					readBack(t, fmt.Sprintf("conflicts at %s", at), rep)
					counts["conflicts"]++
					counts["conflict"] += len(rep.Conflicts)
					for _, c := range rep.Conflicts {
						scopes = appendScope(scopes, c.Scope)
						for _, p := range c.Clauses {
							if !slices.Contains(holders, p.Holder) {
								holders = append(holders, p.Holder)
							}
							q := projections.RightsQuery{Party: p.Holder, Scope: c.Scope, At: at, KnownAt: k}
							r := ix.Check(q)
							readBack(t, "rights of "+p.Holder, &r)
							counts["check"]++
						}
					}
				}
			}
			window := projections.CalendarQuery{From: times[0], To: times[len(times)-1]}
			for _, k := range knowns {
				window.KnownAt = k
				for _, a := range append([]string{""}, agreementNames(ix)...) {
					q := window
					q.Agreement = a
					c, err := ix.Calendar(q)
					if err != nil {
						t.Fatal(err)
					}
					back := readBack(t, "calendar of "+a, c)
					if len(c.Entries) > 0 && (back.Entries[0].UID() != c.Entries[0].UID() || !back.Entries[0].At().Equal(c.Entries[0].At())) {
						t.Fatalf("calendar of %s: the first entry read back as %+v", a, back.Entries[0])
					}
					counts["calendar"]++
					for _, e := range append(c.Entries, c.Standing...) {
						counts[string(e.Kind())]++
					}
				}
				for _, sc := range scopes {
					aq := projections.AvailsQuery{Scope: sc, From: window.From, To: window.To, KnownAt: k}
					av, err := ix.Avails(aq)
					if err != nil {
						t.Fatal(err)
					}
					back := readBack(t, fmt.Sprintf("avails of %v", sc), av)
					for i, p := range av.Parties {
						for j, iv := range p.Intervals {
							counts[string(iv.Verdict)]++
							want, got := av.Rights(p.Party, iv), back.Rights(p.Party, back.Parties[i].Intervals[j])
							if jsonText(t, want) != jsonText(t, got) {
								t.Fatalf("avails of %v: %s's interval %d decided by %s read back, %s before", sc, p.Party, j, jsonText(t, got), jsonText(t, want))
							}
						}
					}
					counts["avails"]++
					counts["party"] += len(av.Parties)
					for _, holder := range holders {
						hs, err := ix.Holdings(projections.HoldingsQuery{Holder: holder, Scope: sc, From: window.From, To: window.To, KnownAt: k})
						if err != nil {
							t.Fatal(err)
						}
						readBack(t, "holdings of "+holder, hs)
						counts["holdings"]++
						for _, iv := range hs.Intervals {
							counts["held"] += len(iv.Holds)
						}
					}
				}
			}
			if h.next != nil {
				p, err := ix.WhatIf(h.next, time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				readBack(t, "a preview", p)
				counts["effect"] += len(p.Effects)
			}
			t.Logf("read back: %v", counts)
			if counts["state"] == 0 || counts["diff"] == 0 || counts["conflict"] == 0 || counts["check"] == 0 || counts["accrual"] == 0 || counts["tranches"] == 0 ||
				counts[string(projections.EntryStarts)] == 0 || counts[string(projections.EntryEnds)] == 0 || counts["party"] <= counts["avails"] || counts[string(projections.VerdictAllowed)] == 0 || counts[string(projections.VerdictDenied)] == 0 || counts["held"] == 0 {
				t.Fatalf("too little tried: %v", counts)
			}
		})
	}
}

// TestDamagedAnswersReadBack: an answer that rests on a damaged history
// says so in its document, and what is read back says so too.
func TestDamagedAnswersReadBack(t *testing.T) {
	ix := index(t, seedRecords())
	dmg := projections.Damage{Agreement: "microsoft-openai", Version: 3, Seq: 7, LastSeq: 9, Beyond: 1, Problem: "sequence 7 cannot be read"}
	one := func(what string, d *projections.Damage) {
		t.Helper()
		if d == nil || *d != dmg {
			t.Errorf("%s read back damaged %+v, want %+v", what, d, dmg)
		}
	}
	all := func(what string, ds []projections.Damage) {
		t.Helper()
		if len(ds) != 1 || ds[0] != dmg {
			t.Errorf("%s read back damaged %+v, want [%+v]", what, ds, dmg)
		}
	}
	a, at, from, to := "microsoft-openai", day(t, "2027-01-01"), day(t, "2026-01-01"), day(t, "2032-01-01")
	st, err := ix.State(a, at, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	st.Damaged = &dmg
	one("a state", readBack(t, "a damaged state", st).Damaged)
	hist, err := ix.History(a)
	if err != nil {
		t.Fatal(err)
	}
	hist.Damaged = &dmg
	one("a history", readBack(t, "a damaged history", hist).Damaged)
	tl, err := ix.Timeline(a, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	tl.Damaged = &dmg
	one("a timeline", readBack(t, "a damaged timeline", tl).Damaged)
	d, err := ix.Diff(a, from, at, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	d.Damaged = &dmg
	one("a diff", readBack(t, "a damaged diff", d).Damaged)
	sums := ix.Agreements(at)
	sums[0].Damaged = &dmg
	one("a summary", readBack(t, "a damaged summary", &sums[0]).Damaged)

	rep := ix.Conflicts(at, time.Time{})
	rep.Damaged = []projections.Damage{dmg}
	all("conflicts", readBack(t, "damaged conflicts", rep).Damaged)
	scope := &events.Scope{Products: []string{"frontier"}, Channels: []string{"api"}}
	r := ix.Check(projections.RightsQuery{Party: "amazon", Scope: scope, At: at})
	r.Damaged = []projections.Damage{dmg}
	all("a check", readBack(t, "a damaged check", &r).Damaged)
	av, err := ix.Avails(projections.AvailsQuery{Scope: scope, From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	av.Damaged = []projections.Damage{dmg}
	all("avails", readBack(t, "damaged avails", av).Damaged)
	hs, err := ix.Holdings(projections.HoldingsQuery{Holder: "microsoft", From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	hs.Damaged = []projections.Damage{dmg}
	all("holdings", readBack(t, "damaged holdings", hs).Damaged)
	c, err := ix.Calendar(projections.CalendarQuery{From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	c.Damaged = []projections.Damage{dmg}
	all("a calendar", readBack(t, "a damaged calendar", c).Damaged)
}

// agreementNames are the index's agreements.
func agreementNames(ix *projections.Index) []string {
	var out []string
	for _, s := range ix.Agreements(time.Time{}) {
		out = append(out, s.Agreement)
	}
	return out
}

// appendScope adds sc, cut to its first value in each dimension (as avails
// are asked), to scopes unless it is there.
func appendScope(scopes []*events.Scope, sc *events.Scope) []*events.Scope {
	if sc == nil {
		return scopes
	}
	one := &events.Scope{}
	for i, into := range []*[]string{&one.Products, &one.Channels, &one.Platforms, &one.Territories} {
		if vs := sc.Dim(i); len(vs) > 0 {
			*into = vs[:1]
		}
	}
	for _, s := range scopes {
		if reflect.DeepEqual(s, one) {
			return scopes
		}
	}
	return append(scopes, one)
}

// sameFieldTypes checks that the segments read back hold their fields in
// the Go types the timeline has.
func sameFieldTypes(t *testing.T, want, got *projections.Timeline) {
	t.Helper()
	for i, c := range want.Clauses {
		for j, s := range c.Segments {
			for name, v := range s.Fields {
				g := got.Clauses[i].Segments[j].Fields[name]
				if reflect.TypeOf(g) != reflect.TypeOf(v) {
					t.Fatalf("%s segment %d: %s is a %T read back, a %T in the timeline", c.ID, j, name, g, v)
				}
			}
		}
	}
}

// TestAnswersRefuseBadDocuments: a document that is not the answer's is an
// error, not a zero answer.
func TestAnswersRefuseBadDocuments(t *testing.T) {
	for _, c := range []struct {
		into any
		doc  string
	}{
		{new(projections.State), `{"agreement":"a","at":"yesterday"}`},
		{new(projections.State), `{"agreement":"a","at":"2026-01-01","licenses":[{"id":"x","kind":"license","since":"2026-01-01","start":"2026-01-01"}]}`},
		{new(projections.ConflictReport), `{"at":"2026-01-01","conflicts":[{"from":"soon"}]}`},
		{new(projections.Timeline), `{"clauses":[{"id":"x","kind":"license","segments":[{"from":"2026-01-01","fields":{"rate":"2"}}]}]}`},
		{new(projections.History), `{"agreement":"a","amendments":[{"id":"not-an-id"}]}`},
	} {
		if err := json.Unmarshal([]byte(c.doc), c.into); err == nil {
			t.Errorf("%s read into %T without an error", c.doc, c.into)
		}
	}
}
