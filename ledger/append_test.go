package ledger_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/synth"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/ledgertest"
)

const openDeal = `{"agreement":"deal","effective":"2026-01-01","changes":[{"op":"open","title":"Deal","parties":["acme","globex"]}]}`

// obligation returns an amendment adding obligation n to agreement deal.
func obligation(n int) string {
	return fmt.Sprintf(`{"agreement":"deal","effective":"2026-02-01","changes":[{"op":"add","clause":{"id":"o-%d","kind":"obligation","obligor":"acme","beneficiary":"globex","what":"deliver lot %d"}}]}`, n, n)
}

func TestConcurrentAppendsWithoutExpectedVersion(t *testing.T) {
	l := ledgertest.New(t)
	l.Given(openDeal)
	const writers, each = 16, 100
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := l.When(obligation(w*each + i)); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("append failed: %v", err)
	}
	h, err := l.History("deal")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(h.Amendments), writers*each+1; got != want {
		t.Fatalf("history has %d amendments, want %d", got, want)
	}
	for i, e := range h.Amendments {
		if e.Version != uint64(i+1) {
			t.Fatalf("amendment %d has version %d: versions are not dense", i, e.Version)
		}
	}
	if n := len(l.StateAt("deal", "2026-03-01").Clauses); n != writers*each {
		t.Fatalf("%d obligations in force, want %d", n, writers*each)
	}
	rep, err := l.Verify(context.Background(), nil)
	if err != nil || !rep.OK || rep.Amendments != writers*each+1 {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
}

func TestConcurrentAppendsWithExpectedVersion(t *testing.T) {
	l := ledgertest.New(t)
	l.Given(openDeal)
	const writers, rounds = 16, 20
	for round := 0; round < rounds; round++ {
		version := uint64(round + 1)
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins, conflicts := 0, 0
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := l.Append(context.Background(), l.Amendments(obligation(round*writers+w)), ledger.AppendOptions{ExpectVersion: &version})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case events.KindOf(err) == events.Conflict:
					conflicts++
				default:
					t.Errorf("unexpected error: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins != 1 || conflicts != writers-1 {
			t.Fatalf("round %d: %d winners and %d conflicts, want 1 and %d", round, wins, conflicts, writers-1)
		}
	}
	h, _ := l.History("deal")
	if len(h.Amendments) != rounds+1 {
		t.Fatalf("history has %d amendments, want %d", len(h.Amendments), rounds+1)
	}
}

func TestExpectVersionOnNewAgreement(t *testing.T) {
	l := ledgertest.New(t)
	zero, one := uint64(0), uint64(1)
	if _, err := l.Append(context.Background(), l.Amendments(openDeal), ledger.AppendOptions{ExpectVersion: &one}); events.KindOf(err) != events.Conflict {
		t.Fatalf("expect 1 on a new agreement: %v, want a conflict", err)
	}
	if _, err := l.Append(context.Background(), l.Amendments(openDeal), ledger.AppendOptions{ExpectVersion: &zero}); err != nil {
		t.Fatalf("expect 0 on a new agreement: %v", err)
	}
}

func TestInvalidAppendWritesNothing(t *testing.T) {
	l := ledgertest.New(t)
	l.Given(openDeal)
	before := l.Status().Applied
	_, err := l.When(obligation(1), `{"agreement":"deal","effective":"2026-03-01","changes":[{"op":"end","clause":"nope"}]}`)
	l.IsError(err, events.Invalid, "[1].changes[0].clause")
	if err := l.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if after := l.Status().Applied; after != before {
		t.Fatalf("stream moved from %d to %d on invalid input", before, after)
	}
}

func decode(src string) ([]*events.Amendment, error) { return events.Decode([]byte(src)) }

// An amendment built in code is checked as if it had been decoded: a bad
// field is refused with its path, and nothing is written.
func TestCodeBuiltAmendmentIsChecked(t *testing.T) {
	l := ledgertest.New(t)
	l.Given(openDeal)
	before := l.Status().Applied
	good := l.Amendments(obligation(1))[0]
	bad := *l.Amendments(obligation(2))[0]
	bad.Changes = []events.Change{{Op: events.Add, Clause: &events.Clause{ID: "Bad Id", Kind: events.Obligation}}}
	_, err := l.When(good, &bad)
	l.IsError(err, events.Invalid, "[1].changes[0].clause.id")
	if after := l.Status().Applied; after != before {
		t.Fatalf("stream moved from %d to %d on invalid input", before, after)
	}
}

// What the read model takes from the writer without decoding is what it
// decodes from the stream: generated histories answer the same after a
// restart that reads everything back.
func TestWrittenAmendmentsReadBackTheSame(t *testing.T) {
	l := ledgertest.New(t, ledger.Config{SnapshotEvery: -1})
	as := synth.New(3).Many(20, 30)
	for i := 0; i < len(as); i += 50 {
		l.Given(as[i:min(i+50, len(as))])
	}
	answer := func() string {
		var b strings.Builder
		list, err := l.Agreements(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range list {
			h, err := l.History(s.Agreement)
			if err != nil {
				t.Fatal(err)
			}
			tl, err := l.Timeline(s.Agreement, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			b.WriteString(ledgertest.JSON(t, h) + ledgertest.JSON(t, tl))
		}
		return b.String()
	}
	before := answer()
	l.Restart()
	if after := answer(); after != before {
		t.Fatal("answers differ after reading the stream back")
	}
}

// Concurrent appends of colliding exclusive grants, each on an agreement of
// its own, are checked together in one commit: each append is told of its
// collision with the grant recorded before, and of each collision between
// two of them exactly one is told (the one committed after the other).
func TestConcurrentAppendsReportTheirConflicts(t *testing.T) {
	l := ledgertest.New(t)
	grant := func(agreement, holder string) string {
		return `{"agreement":"` + agreement + `","effective":"2026-01-01","changes":[
			{"op":"open","title":"` + agreement + `","parties":["acme","` + holder + `"]},
			{"op":"add","clause":{"id":"exc","kind":"exclusivity","grantor":"acme","holder":"` + holder + `","scope":{"products":["widget"]}}}]}`
	}
	l.Given(grant("base", "beta"))
	const writers = 8
	results := make([]*ledger.AppendResult, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			res, err := l.When(grant(fmt.Sprintf("grant-%d", w), fmt.Sprintf("holder-%d", w)))
			if err != nil {
				t.Error(err)
			}
			results[w] = res
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	told := map[string]int{}
	for w, res := range results {
		own := fmt.Sprintf("grant-%d", w)
		withBase := false
		for _, c := range res.Conflicts {
			a, b := c.Clauses[0].Agreement, c.Clauses[1].Agreement
			if a != own && b != own {
				t.Errorf("%s is told of %s/%s, a collision it has no part in", own, a, b)
			}
			withBase = withBase || a == "base" || b == "base"
			told[a+"/"+b]++
		}
		if !withBase {
			t.Errorf("%s is not told of its collision with base: %v", own, res.Conflicts)
		}
	}
	for i := range writers {
		for j := i + 1; j < writers; j++ {
			if n := told[fmt.Sprintf("grant-%d/grant-%d", i, j)]; n != 1 {
				t.Errorf("the collision of grant-%d and grant-%d is told %d times, want once", i, j, n)
			}
		}
	}
}

// TestGroupsDoNotWaitForNoOne: the commit loop waits up to GroupWindow for
// more appends to join a group only while an append in progress is not in
// it. Writers all in the group are committed at once: with a window of a
// minute, eight writers' forty appends take seconds, not minutes.
func TestGroupsDoNotWaitForNoOne(t *testing.T) {
	l := ledgertest.New(t, ledger.Config{DataDir: t.TempDir(), GroupWindow: time.Minute, SnapshotEvery: -1})
	l.Given(openDeal)
	const writers, each = 8, 5
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if _, err := l.When(obligation(w*each + i)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Fatalf("%d appends of %d concurrent writers took %s: groups waited out the window", writers*each, writers, took)
	}
	if h, _ := l.History("deal"); len(h.Amendments) != writers*each+1 {
		t.Fatalf("%d amendments recorded, want %d", len(h.Amendments), writers*each+1)
	}
}
