package ledger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/seed"
	"github.com/agreement-ledger/ledger/events/synth"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/ledgertest"
	"github.com/agreement-ledger/ledger/projections"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/oklog/ulid/v2"
)

// questionDates are the valid times the seed's questions are asked at.
var questionDates = []string{"2019-01-01", "2025-01-01", "2026-03-01", "2026-05-01", "2027-01-01", "2031-06-01", "2032-06-01", "2033-06-01"}

// answers collects everything the ledger answers about the seed, as JSON.
func answers(t *testing.T, l *ledgertest.Ledger) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, name := range []string{"microsoft-openai", "openai-amazon"} {
		for _, at := range questionDates {
			out["state "+name+" "+at] = ledgertest.JSON(t, l.StateAt(name, at))
		}
		tl, err := l.Timeline(name, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		out["timeline "+name] = ledgertest.JSON(t, tl)
		h, err := l.History(name)
		if err != nil {
			t.Fatal(err)
		}
		out["history "+name] = ledgertest.JSON(t, h)
	}
	for _, at := range questionDates {
		out["conflicts "+at] = ledgertest.JSON(t, l.ConflictsAt(at))
	}
	return out
}

func TestSeedThroughTheStoreMatchesThePureProjections(t *testing.T) {
	l := ledgertest.New(t)
	l.Given(seed.Amendments())
	ix := projections.NewIndex()
	for i, a := range seed.Amendments() {
		if err := ix.Add(&events.Record{Amendment: a, Seq: uint64(i + 1), Recorded: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"microsoft-openai", "openai-amazon"} {
		for _, at := range questionDates {
			pure, err := ix.State(name, l.Time(at), time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := ledgertest.JSON(t, l.StateAt(name, at)), ledgertest.JSON(t, pure); got != want {
				t.Errorf("state of %s at %s through the store differs from the pure fold:\n got %s\nwant %s", name, at, got, want)
			}
		}
	}
	for _, at := range questionDates {
		if got, want := ledgertest.JSON(t, l.ConflictsAt(at)), ledgertest.JSON(t, ix.Conflicts(l.Time(at), time.Time{}).Conflicts); got != want {
			t.Errorf("conflicts at %s differ:\n got %s\nwant %s", at, got, want)
		}
	}
	// The questions of DESIGN §7 the store must answer.
	if !l.InForce("microsoft-openai", "ip-license", "2026-03-01").Exclusive || l.InForce("microsoft-openai", "ip-license", "2026-05-01").Exclusive {
		t.Error("the licence should be exclusive before the renegotiation and not after")
	}
	if cs := l.ConflictsAt("2026-03-01"); len(cs) == 0 || len(l.ConflictsAt("2027-01-01")) != 0 {
		t.Errorf("conflicts: %d in March 2026 (want some), %d in 2027 (want none)", len(cs), len(l.ConflictsAt("2027-01-01")))
	}
	l.InForce("microsoft-openai", "ip-license", "2032-06-01")
	l.NotInForce("microsoft-openai", "ip-license", "2033-01-01")
}

func TestRestartGivesIdenticalAnswers(t *testing.T) {
	for _, snapshots := range []bool{true, false} {
		name := "with snapshot"
		every := 1
		if !snapshots {
			name, every = "without snapshot", -1
		}
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			l := ledgertest.New(t, ledger.Config{SnapshotEvery: every, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			l.Given(seed.Amendments())
			before := answers(t, l)
			l.Restart()
			// Answers while the read model loads come from the stream.
			during := answers(t, l)
			if err := l.Ready(context.Background()); err != nil {
				t.Fatal(err)
			}
			if loaded := strings.Contains(logs.String(), "loaded the read-model snapshot"); loaded != snapshots {
				t.Errorf("snapshot loaded: %v, want %v; log:\n%s", loaded, snapshots, logs.String())
			}
			after := answers(t, l)
			for k, v := range before {
				if after[k] != v || during[k] != v {
					t.Errorf("%s changed across a restart:\nbefore %s\nloading %s\n after %s", k, v, during[k], after[k])
				}
			}
			l.Given(obligationFor("openai-amazon", 1))
			if l.StateAt("openai-amazon", "2027-01-01").Clause("o-1") == nil {
				t.Error("an append after the restart is not visible")
			}
		})
	}
}

func obligationFor(agreement string, n int) string {
	r := strings.NewReplacer(`"deal"`, `"`+agreement+`"`, `"acme","beneficiary":"globex"`, `"openai","beneficiary":"amazon"`, "2026-02-01", "2026-03-01")
	return r.Replace(obligation(n))
}

func TestCorruptSnapshotIsIgnored(t *testing.T) {
	corruptions := map[string]func(good []byte) []byte{
		"not a snapshot": func([]byte) []byte { return []byte("not a snapshot") },
		"truncated":      func(good []byte) []byte { return good[:len(good)*2/3] },
		"trailing bytes": func(good []byte) []byte { return append(good, 0) },
		"other version": func(good []byte) []byte {
			// The version follows the first line.
			bad := bytes.Clone(good)
			bad[bytes.IndexByte(bad, '\n')+1] = 99
			return bad
		},
		"format 2 (the stream's messages)": func(good []byte) []byte {
			bad := bytes.Clone(good)
			bad[bytes.IndexByte(bad, '\n')+1] = 2
			return bad
		},
		"a byte flipped": func(good []byte) []byte {
			bad := bytes.Clone(good)
			bad[len(bad)/2] ^= 0x20
			return bad
		},
	}
	for name, corrupt := range corruptions {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			cfg := ledger.Config{SnapshotEvery: 1, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			l := ledgertest.New(t, cfg)
			l.Given(seed.Amendments())
			before := answers(t, l)
			l.Restart() // writes a snapshot on close
			js, err := jetstream.New(l.Conn())
			if err != nil {
				t.Fatal(err)
			}
			store, err := js.ObjectStore(context.Background(), "LEDGER_SNAPSHOTS")
			if err != nil {
				t.Fatal(err)
			}
			good, err := store.GetBytes(context.Background(), "read-model")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := store.PutBytes(context.Background(), "read-model", corrupt(good)); err != nil {
				t.Fatal(err)
			}
			l.Close()
			logs.Reset()
			ledgertest.Reopen(t, l)
			after := answers(t, l)
			for k, v := range before {
				if after[k] != v {
					t.Errorf("%s differs after a corrupt snapshot", k)
				}
			}
			if !strings.Contains(logs.String(), "ignoring the read-model snapshot") || strings.Contains(logs.String(), "loaded the read-model snapshot") {
				t.Errorf("the corrupt snapshot was not ignored with a warning:\n%s", logs.String())
			}
		})
	}
}

func TestIdempotentByID(t *testing.T) {
	l := ledgertest.New(t, ledger.Config{DuplicateWindow: time.Second})
	l.Given(openDeal)
	first := l.Given(obligation(1))
	id := first.Appended[0].ID
	withID := strings.Replace(obligation(1), `{"agreement"`, `{"id":"`+id+`","agreement"`, 1)
	check := func(when string) {
		t.Helper()
		res, err := l.When(withID)
		if err != nil {
			t.Fatalf("%s: re-append: %v", when, err)
		}
		if a := res.Appended[0]; !a.Duplicate || a.Version != 2 || a.ID != id {
			t.Fatalf("%s: re-append answered %+v, want the original version 2 as a duplicate", when, a)
		}
		h, _ := l.History("deal")
		if len(h.Amendments) != 2 {
			t.Fatalf("%s: %d amendments stored, want 2", when, len(h.Amendments))
		}
	}
	check("at once")
	l.Restart()
	check("after a restart")
	time.Sleep(1500 * time.Millisecond) // past JetStream's duplicate window
	check("after the duplicate window")
	other := strings.Replace(withID, "deliver lot 1", "deliver lot 99", 1)
	_, err := l.When(other)
	l.IsError(err, events.Invalid, "id")
	if !strings.Contains(err.Error(), "different content") {
		t.Errorf("error does not say the content differs: %v", err)
	}
}

func TestTamperingIsReportedAndSkipped(t *testing.T) {
	var logs bytes.Buffer
	l := ledgertest.New(t, ledger.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	l.Given(seed.Amendments())
	l.Given(openDeal, obligation(1))
	h, _ := l.History("deal")
	// A copy of a real amendment with its prev altered, published around the ledger.
	data, err := events.Encode(h.Amendments[1].Amendment, events.Hash{1})
	if err != nil {
		t.Fatal(err)
	}
	publish := func(subject string, data []byte) {
		t.Helper()
		js, _ := jetstream.New(l.Conn())
		if _, err := js.Publish(context.Background(), subject, data); err != nil {
			t.Fatal(err)
		}
	}
	publish("ledger.agreement.deal", data)
	publish("ledger.agreement.openai-amazon", []byte("garbage {"))
	if err := l.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	rep, err := l.Verify(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || len(rep.Broken) != 2 {
		t.Fatalf("verify: ok=%v broken=%+v, want two broken links", rep.OK, rep.Broken)
	}
	for _, b := range rep.Broken {
		switch b.Agreement {
		case "deal":
			if b.Version != 3 || b.Found != (events.Hash{1}).String() || b.Expected != h.Amendments[1].Hash.String() {
				t.Errorf("deal break: %+v", b)
			}
		case "openai-amazon":
			if b.Version != 2 || !strings.Contains(b.Problem, "not a ledger amendment") {
				t.Errorf("openai-amazon break: %+v", b)
			}
		default:
			t.Errorf("unexpected break %+v", b)
		}
	}
	if n := len(l.Foreign()); n != 2 || !strings.Contains(logs.String(), "skipped a message") {
		t.Errorf("read model skipped %d messages (want 2); log:\n%s", n, logs.String())
	}
	// Queries still answer and appends continue on both agreements.
	l.InForce("deal", "o-1", "2026-03-01")
	l.Given(obligation(2), obligationFor("openai-amazon", 3))
	l.InForce("deal", "o-2", "2026-03-01")
	l.Restart()
	l.InForce("openai-amazon", "o-3", "2026-03-01")
	if rep, _ := l.Verify(context.Background(), nil); len(rep.Broken) != 2 || rep.Amendments != 7 {
		t.Errorf("after more appends: %d broken, %d amendments; want 2 and 7", len(rep.Broken), rep.Amendments)
	}
}

func TestExportedHeadsDetectRewrites(t *testing.T) {
	l := ledgertest.New(t)
	l.Given(seed.Amendments())
	rep, err := l.Verify(context.Background(), nil)
	if err != nil || !rep.OK {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	heads := slices.Clone(rep.Heads)
	if rep, _ := l.Verify(context.Background(), heads); !rep.OK {
		t.Fatalf("verify against its own heads: %+v", rep.Broken)
	}
	heads[0].Hash[0] ^= 1
	heads = append(heads, ledger.Head{Agreement: "gone", Version: 3}, ledger.Head{Agreement: heads[1].Agreement})
	rep, _ = l.Verify(context.Background(), heads)
	if rep.OK || len(rep.Broken) != 3 || rep.Checked != len(heads) {
		t.Fatalf("verify against altered heads: %+v", rep.Broken)
	}
	b, _ := json.Marshal(rep)
	if !strings.Contains(string(b), "rewritten") || !strings.Contains(string(b), "missing") {
		t.Errorf("report does not say rewritten and missing: %s", b)
	}
}

func TestRefusesUnsafeStream(t *testing.T) {
	l := ledgertest.New(t, ledger.Config{Listen: "127.0.0.1:-1"})
	js, _ := jetstream.New(l.Conn())
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "LOOSE", Subjects: []string{"loose.agreement.*"}, MaxAge: time.Hour}); err != nil {
		t.Fatal(err)
	}
	_, err := ledger.Open(context.Background(), ledger.Config{URL: l.ClientURL(), Stream: "LOOSE", Subject: "loose.agreement"})
	if err == nil || !strings.Contains(err.Error(), "deny_delete") || !strings.Contains(err.Error(), "max_age") {
		t.Fatalf("opening an unsafe stream: %v; want a refusal naming deny_delete and max_age", err)
	}
}

// A ledger closed while it loads its read model closes at once: a short
// command (a verify, one query) often ends while its snapshot is being
// read. Reading an object does not notice a cancelled context, and Close
// used to wait four timeouts for it.
func TestCloseWhileLoading(t *testing.T) {
	cfg := ledger.Config{DataDir: t.TempDir(), Timeout: 2 * time.Second}
	l := ledgertest.New(t, cfg)
	if _, err := l.Append(context.Background(), synth.New(1).Many(50, 40), ledger.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	l.Close() // writes the snapshot
	for i := range 30 {
		start := time.Now()
		l, err := ledger.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(i%10) * time.Millisecond) // somewhere in the load
		l.Close()
		// Four timeouts (8 s) when it waited; well under one now.
		if took := time.Since(start); took > cfg.Timeout {
			t.Fatalf("open %d: opening and closing took %s", i, took)
		}
	}
}

// TestCheckNeedsProductAndChannel: a rights check without a product and a
// channel asks nothing (it would always be allowed), so the ledger refuses
// it naming the one missing, for every caller (HTTP, NATS service, Go).
func TestCheckNeedsProductAndChannel(t *testing.T) {
	l := ledgertest.New(t)
	l.Given(seed.Amendments())
	at := l.Time("2026-03-15")
	for _, c := range []struct {
		scope *events.Scope
		field string
	}{
		{nil, "product"},
		{&events.Scope{Channels: []string{"api"}}, "product"},
		{&events.Scope{Products: []string{"frontier"}, Territories: []string{"us"}}, "channel"},
	} {
		_, err := l.Check(projections.RightsQuery{Party: "amazon", Scope: c.scope, At: at})
		l.IsError(err, events.BadParameter, c.field)
	}
	r, err := l.Check(projections.RightsQuery{Party: "amazon", Scope: &events.Scope{Products: []string{"frontier"}, Channels: []string{"api"}}, At: at})
	if err != nil || r.Allowed {
		t.Errorf("amazon, frontier by API in March 2026: %+v %v; want denied", r, err)
	}
}

// TestMessagesDescribeThemselves: every message the ledger writes says what
// it is in its headers — application/json, the schema version, and the chain
// hash, equal to its body's prev (absent, as prev is, on an agreement's first
// message); the body is the canonical bytes, unchanged. A message written
// as the ledger did before, without them, still reads and verifies; one
// whose headers contradict its body is reported by verify.
func TestMessagesDescribeThemselves(t *testing.T) {
	l := ledgertest.New(t)
	l.Given(openDeal, obligation(1))
	ctx := context.Background()
	js, _ := jetstream.New(l.Conn())
	st, err := js.Stream(ctx, "LEDGER")
	if err != nil {
		t.Fatal(err)
	}
	h, _ := l.History("deal")
	for i, e := range h.Amendments {
		m, err := st.GetMsg(ctx, e.Seq)
		if err != nil {
			t.Fatal(err)
		}
		_, prev, err := events.DecodeStored(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := events.Encode(e.Amendment, prev)
		if !bytes.Equal(m.Data, want) {
			t.Errorf("version %d: the body is not the canonical encoding:\n%s\n%s", i+1, m.Data, want)
		}
		if m.Header.Get("Content-Type") != "application/json" || m.Header.Get(ledger.HeaderSchema) != "1" {
			t.Errorf("version %d: headers %v", i+1, m.Header)
		}
		wantPrev := ""
		if i > 0 {
			wantPrev = h.Amendments[i-1].Hash.String()
		}
		if got := m.Header.Get(ledger.HeaderPrev); got != wantPrev || (i > 0 && got != prev.String()) {
			t.Errorf("version %d: %s %q, want %q (the body's prev %s)", i+1, ledger.HeaderPrev, got, wantPrev, prev)
		}
	}

	// As the ledger published before: the canonical body, its id, nothing else.
	old := l.Amendments(obligation(2))[0]
	old.ID = ulid.Make()
	data, err := events.Encode(old, h.Amendments[1].Hash)
	if err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg("ledger.agreement.deal")
	m.Data = data
	m.Header.Set(jetstream.MsgIDHeader, old.ID.String())
	if _, err := js.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := l.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	l.InForce("deal", "o-2", "2026-03-01")
	if rep, err := l.Verify(ctx, nil); err != nil || !rep.OK || rep.Amendments != 3 {
		t.Fatalf("verify with a message without headers: %+v %v", rep, err)
	}
	l.Restart()
	l.InForce("deal", "o-2", "2026-03-01")
	l.Given(obligation(3)) // chains on, with headers again
	l.InForce("deal", "o-3", "2026-03-01")

	// Headers that contradict the body: the chain holds, verify says so.
	js, _ = jetstream.New(l.Conn()) // the restarted ledger's connection
	h, _ = l.History("deal")
	forged := l.Amendments(obligation(4))[0]
	forged.ID = ulid.Make()
	data, _ = events.Encode(forged, h.Amendments[len(h.Amendments)-1].Hash)
	m = nats.NewMsg("ledger.agreement.deal")
	m.Data = data
	m.Header.Set(ledger.HeaderSchema, "1")
	m.Header.Set(ledger.HeaderPrev, events.Hash{7}.String())
	if _, err := js.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := l.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := l.Verify(ctx, nil)
	if err != nil || rep.OK || len(rep.Broken) != 1 || rep.Broken[0].Version != 5 || !strings.Contains(rep.Broken[0].Problem, ledger.HeaderPrev) || rep.Amendments != 5 {
		t.Errorf("verify with a contradicting header: %+v %v", rep, err)
	}
}
