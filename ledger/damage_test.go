package ledger_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/ledgertest"
	"github.com/agreement-ledger/ledger/projections"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/oklog/ulid/v2"
)

const openOther = `{"agreement":"other","effective":"2026-01-01","changes":[{"op":"open","title":"Other","parties":["acme","globex"]}]}`

// damagedStore records an agreement of its own (sequence 1), then 50
// amendments to "deal" (sequences 2-51), closes the store and flips bytes
// in the middle of its message block, as the operator did. It
// returns the stream sequence that can no longer be read.
func damagedStore(t *testing.T, cfg ledger.Config) (*ledgertest.Ledger, uint64) {
	t.Helper()
	l := ledgertest.New(t, cfg)
	l.Given(openOther)
	l.Given(openDeal)
	for i := 1; i < 50; i++ {
		l.Given(obligation(i))
	}
	l.Close()
	ledgertest.FlipBlock(t, l.Dir(), "LEDGER", 16)
	ledgertest.Reopen(t, l)
	st, err := jetstream.New(l.Conn())
	if err != nil {
		t.Fatal(err)
	}
	s, err := st.Stream(context.Background(), "LEDGER")
	if err != nil {
		t.Fatal(err)
	}
	var bad uint64
	for seq := uint64(1); seq <= 51; seq++ {
		if _, err := s.GetMsg(context.Background(), seq); err != nil {
			if bad != 0 {
				t.Fatalf("sequences %d and %d unreadable; the test expects one", bad, seq)
			}
			bad = seq
		}
	}
	if bad < 3 || bad > 50 {
		t.Fatalf("the flipped bytes made sequence %d unreadable; the test expects one of deal's middle amendments", bad)
	}
	return l, bad
}

// damageAnswers is everything asked of the damaged store, as JSON.
func damageAnswers(t *testing.T, l *ledgertest.Ledger) map[string]string {
	t.Helper()
	out := map[string]string{}
	ask := func(name string, v any, err error) {
		if err != nil {
			v = map[string]any{"kind": events.KindOf(err), "error": err.Error()}
		}
		out[name] = ledgertest.JSON(t, v)
	}
	at := l.Time("2027-01-01")
	s, err := l.State("deal", at, time.Time{})
	ask("state", s, err)
	s, err = l.State("deal", at, time.Time{}, ledger.AllowDamaged())
	ask("state allowed", s, err)
	h, err := l.History("deal", ledger.AllowDamaged())
	ask("history allowed", h, err)
	tl, err := l.Timeline("deal", time.Time{}, ledger.AllowDamaged())
	ask("timeline allowed", tl, err)
	d, err := l.Diff("deal", l.Time("2026-01-15"), at, time.Time{}, ledger.AllowDamaged())
	ask("diff allowed", d, err)
	c, err := l.Conflicts(at, time.Time{})
	ask("conflicts", c, err)
	ss, err := l.Agreements(at)
	ask("agreements", ss, err)
	s, err = l.State("other", at, time.Time{})
	ask("other", s, err)
	from, to := l.Time("2026-01-01"), l.Time("2028-01-01")
	cal, err := l.Calendar(projections.CalendarQuery{Agreement: "deal", From: from, To: to})
	ask("calendar", cal, err)
	cal, err = l.Calendar(projections.CalendarQuery{Agreement: "deal", From: from, To: to}, ledger.AllowDamaged())
	ask("calendar allowed", cal, err)
	cal, err = l.Calendar(projections.CalendarQuery{From: from, To: to})
	ask("calendar of all", cal, err)
	av, err := l.Avails(projections.AvailsQuery{Scope: &events.Scope{Products: []string{"lots"}}, From: from, To: to})
	ask("avails", av, err)
	return out
}

// TestDamagedBlockIsNotAnsweredSilently is the case: bytes flipped
// in the middle of the stream's message block. nats-server 2.15 then
// skips the record it cannot read without a word (StreamInfo still counts
// it). The ledger used to answer version N-1 of the agreement as if it
// were whole, call its own later messages foreign and keep appending.
func TestDamagedBlockIsNotAnsweredSilently(t *testing.T) {
	l, bad := damagedStore(t, ledger.Config{SnapshotEvery: -1})
	version := bad - 1 // deal's version 1 is at sequence 2

	_, err := l.State("deal", l.Time("2027-01-01"), time.Time{})
	l.IsError(err, events.Damaged, "")
	if want := fmt.Sprintf("agreement deal is damaged from version %d (stream sequence %d)", version, bad); !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "Recovering a damaged store") {
		t.Errorf("the error does not say %q and where to recover:\n%v", want, err)
	}
	for name, err := range map[string]error{
		"history":  second(l.History("deal")),
		"timeline": second(l.Timeline("deal", time.Time{})),
		"diff":     second(l.Diff("deal", l.Time("2026-01-01"), l.Time("2027-01-01"), time.Time{})),
	} {
		if events.KindOf(err) != events.Damaged {
			t.Errorf("%s of the damaged agreement: %v, want a damaged error", name, err)
		}
	}

	// Allowed, the answer is the intact prefix, marked.
	s, err := l.State("deal", l.Time("2027-01-01"), time.Time{}, ledger.AllowDamaged())
	if err != nil {
		t.Fatal(err)
	}
	want := projections.Damage{Agreement: "deal", Version: version, Seq: bad, LastSeq: 51, Beyond: int(51 - bad)}
	if s.Damaged == nil || s.Version != version-1 || s.Damaged.Version != want.Version || s.Damaged.Seq != want.Seq || s.Damaged.LastSeq != want.LastSeq || s.Damaged.Beyond != want.Beyond {
		t.Errorf("state allowed: version %d, damaged %+v; want version %d and %+v", s.Version, s.Damaged, version-1, want)
	}
	if !strings.Contains(ledgertest.JSON(t, s), `"damaged":{"agreement":"deal"`) {
		t.Errorf("the state's JSON has no damaged marker: %s", ledgertest.JSON(t, s))
	}

	// Cross-agreement answers name it; the other agreement is whole.
	c, err := l.Conflicts(l.Time("2027-01-01"), time.Time{})
	if err != nil || len(c.Damaged) != 1 || c.Damaged[0].Agreement != "deal" {
		t.Errorf("conflicts: %+v %v; want deal listed as damaged", c, err)
	}
	r, err := l.Check(projections.RightsQuery{Party: "acme", Scope: &events.Scope{Products: []string{"frontier"}, Channels: []string{"api"}}, At: l.Time("2027-01-01")})
	if err != nil || len(r.Damaged) != 1 {
		t.Errorf("check: %+v %v; want deal listed as damaged", r, err)
	}
	if s := l.StateAt("other", "2027-01-01"); s.Damaged != nil || s.Version != 1 {
		t.Errorf("other: %+v", s)
	}

	// Verify names the damage and calls none of the ledger's messages foreign.
	rep, err := l.Verify(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || rep.Foreign != 0 || len(rep.Broken) != 0 || len(rep.Damaged) != 1 || rep.Damaged[0].Seq != bad || rep.Damaged[0].Version != version ||
		len(rep.Unreadable) != 1 || rep.Unreadable[0] != (ledger.SeqRange{First: bad, Last: bad}) || rep.Messages != 50 || rep.Amendments != int(version) {
		t.Errorf("verify: %s", ledgertest.JSON(t, rep))
	}
	if st := l.Status(); st.Foreign != 0 {
		t.Errorf("the read model calls %d of the ledger's messages foreign", st.Foreign)
	}

	// An append to it is refused with the same message, and writes nothing;
	// the other agreement takes appends.
	_, err = l.When(obligation(100))
	l.IsError(err, events.Damaged, "")
	if !strings.Contains(err.Error(), fmt.Sprintf("damaged from version %d", version)) {
		t.Errorf("append refused with %v", err)
	}
	if st := l.Status(); st.Applied != 51 {
		t.Errorf("the refused append wrote: the stream is at %d", st.Applied)
	}
	l.Given(strings.ReplaceAll(obligation(1), `"deal"`, `"other"`))
}

func second[T any](_ T, err error) error { return err }

// TestDamageAnswersAreTheSameHoweverLoaded: the damaged store answers the
// same after a replay, from a snapshot written before the damage (which
// covers the damaged message and so is not used), after a restart (the
// damaged read model writes no snapshot), and from one agreement's
// messages alone while the read model loads.
func TestDamageAnswersAreTheSameHoweverLoaded(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	// A snapshot is written on close, before the bytes are flipped.
	l, _ := damagedStore(t, ledger.Config{SnapshotEvery: 1, Logger: logger})
	dir := l.Dir()
	l.Close()
	open := func(cfg ledger.Config) *ledgertest.Ledger {
		cfg.DataDir, cfg.Logger = dir, logger
		logs.Reset()
		return ledgertest.New(t, cfg)
	}
	replay := open(ledger.Config{SnapshotEvery: -1})
	if err := replay.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := damageAnswers(t, replay)
	if !strings.Contains(want["state"], `"kind":"damaged"`) || !strings.Contains(want["conflicts"], `"damaged"`) || !strings.Contains(want["agreements"], `"damaged"`) ||
		!strings.Contains(want["calendar"], `"kind":"damaged"`) || !strings.Contains(want["calendar allowed"], `"damaged":[{"agreement":"deal"`) ||
		!strings.Contains(want["calendar of all"], `"damaged":[{"agreement":"deal"`) || !strings.Contains(want["avails"], `"damaged":[{"agreement":"deal"`) {
		t.Fatalf("the replayed store does not report the damage: %v", want)
	}
	replay.Close()
	compare := func(how string, got map[string]string) {
		t.Helper()
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s differs %s:\nreplay %s\n   got %s", k, how, v, got[k])
			}
		}
	}

	for _, how := range []string{"with the snapshot written before the damage", "after a restart"} {
		snap := open(ledger.Config{SnapshotEvery: 1})
		if err := snap.Ready(context.Background()); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(logs.String(), "loaded the read-model snapshot") {
			t.Errorf("%s: a snapshot was used on the damaged store:\n%s", how, logs.String())
		}
		compare(how, damageAnswers(t, snap))
		snap.Close()
	}

	// One agreement's questions, asked before the read model loads.
	lazy := open(ledger.Config{SnapshotEvery: -1, Lazy: true})
	at := lazy.Time("2027-01-01")
	_, err := lazy.State("deal", at, time.Time{})
	if got := ledgertest.JSON(t, map[string]any{"kind": events.KindOf(err), "error": fmt.Sprint(err)}); got != want["state"] {
		t.Errorf("state while loading:\n got %s\nwant %s", got, want["state"])
	}
	s, err := lazy.State("deal", at, time.Time{}, ledger.AllowDamaged())
	if err != nil || ledgertest.JSON(t, s) != want["state allowed"] {
		t.Errorf("state allowed while loading differs (%v)", err)
	}
	h, err := lazy.History("deal", ledger.AllowDamaged())
	if err != nil || ledgertest.JSON(t, h) != want["history allowed"] {
		t.Errorf("history allowed while loading differs (%v)", err)
	}
}

// TestContinuingChainShowsDamage: a message that does not chain is
// foreign, as long as nothing chains to it; a later message chaining to it
// shows the ledger wrote it, on a history the store lost. Here no sequence
// is missing (as when the lost message is gone from the stream's count
// too): only the chain tells.
func TestContinuingChainShowsDamage(t *testing.T) {
	l := ledgertest.New(t, ledger.Config{SnapshotEvery: -1})
	l.Given(openDeal, obligation(1))
	h, _ := l.History("deal")
	a2 := l.Amendments(obligation(2))[0]
	a3 := l.Amendments(obligation(3))[0]
	a2.ID, a3.ID = ulid.Make(), ulid.Make()
	// The ledger's version 3 and 4 as if version 3's predecessor were lost.
	lost := events.Hash{7}
	d3, _ := events.Encode(a2, lost)
	d4, _ := events.Encode(a3, events.Sum(d3))
	js, _ := jetstream.New(l.Conn())
	for _, d := range [][]byte{d3, d4} {
		if _, err := js.Publish(context.Background(), "ledger.agreement.deal", d); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err := l.State("deal", l.Time("2027-01-01"), time.Time{})
	l.IsError(err, events.Damaged, "")
	if want := fmt.Sprintf("damaged from version %d (stream sequence %d)", len(h.Amendments)+1, h.Amendments[1].Seq+1); !strings.Contains(err.Error(), want) {
		t.Errorf("%v; want %q", err, want)
	}
	if n := len(l.Foreign()); n != 0 {
		t.Errorf("%d messages called foreign", n)
	}
}
