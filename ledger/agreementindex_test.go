package ledger

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/synth"
	"github.com/agreement-ledger/ledger/projections"
	"github.com/nats-io/nats.go/jetstream"
)

// TestAgreementIndexAnswersAsTheReadModel checks that an index of one
// agreement's messages, which answers queries about it while the read model
// loads, gives the loaded read model's answers: state at many valid and
// known-at times, history, timeline and diff, on generated agreements with
// retroactive amendments, retractions and closings, and on an agreement
// whose subject holds messages the ledger did not write.
func TestAgreementIndexAnswersAsTheReadModel(t *testing.T) {
	ctx := context.Background()
	l, err := Open(ctx, Config{DataDir: t.TempDir(), SnapshotEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	g := synth.New(5)
	g.Retroactive, g.Retract, g.Close, g.Declare = 200, 40, 5, 30
	as := g.Many(6, 40)
	for _, a := range as {
		if _, err := l.Append(ctx, []*events.Amendment{a}, AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	names := g.Agreements()
	// Foreign messages on an agreement's subject: not JSON, and a valid
	// amendment that does not chain to the agreement's head.
	js, err := jetstream.New(l.Conn())
	if err != nil {
		t.Fatal(err)
	}
	stray := g.Next(names[0])
	data, err := events.Encode(stray, events.Hash{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range [][]byte{[]byte("not json"), data} {
		if _, err := js.Publish(ctx, l.cfg.Subject+"."+names[0], d); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if len(l.Foreign()) != 2 {
		t.Fatalf("the read model skipped %d messages, want 2", len(l.Foreign()))
	}
	same := func(what string, loaded, alone any, err1, err2 error) {
		t.Helper()
		a, _ := json.Marshal(loaded)
		b, _ := json.Marshal(alone)
		if string(a) != string(b) || (err1 == nil) != (err2 == nil) {
			t.Fatalf("%s differs:\nread model %s (%v)\nagreement  %s (%v)", what, a, err1, b, err2)
		}
	}
	lo, hi := as[0].Effective, as[len(as)-1].Effective
	recs, _ := read(l, func(ix *projections.Index) ([]*events.Record, error) { return ix.Records(), nil })
	compared := 0
	for _, name := range append(names, "no-such-agreement") {
		ix, _, err := l.agreementIndex(name)
		if err != nil {
			t.Fatal(err)
		}
		h1, e1 := l.History(name)
		h2, e2 := ix.History(name)
		same("history of "+name, h1, h2, e1, e2)
		for i := range 12 {
			at := lo.Add(time.Duration(i) * hi.Sub(lo) / 11)
			knownAt := time.Time{}
			if i%3 == 1 {
				knownAt = recs[i*len(recs)/12].Recorded
			}
			s1, e1 := l.State(name, at, knownAt)
			s2, e2 := ix.State(name, at, knownAt)
			same("state of "+name, s1, s2, e1, e2)
			t1, e1 := l.Timeline(name, knownAt)
			t2, e2 := ix.Timeline(name, knownAt)
			same("timeline of "+name, t1, t2, e1, e2)
			d1, e1 := l.Diff(name, lo, at, knownAt)
			d2, e2 := ix.Diff(name, lo, at, knownAt)
			same("diff of "+name, d1, d2, e1, e2)
			compared++
		}
	}
	t.Logf("%d agreements compared at %d times each", len(names)+1, compared/(len(names)+1))
}

// TestWhileLoading holds a reopened ledger's read model in its loading
// state: queries about one agreement are answered, and as the loaded read
// model answers them; an append waits for the load; a ledger closed while
// loading opens again whole.
func TestWhileLoading(t *testing.T) {
	ctx := context.Background()
	cfg := Config{DataDir: t.TempDir(), SnapshotEvery: 1}
	l, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	g := synth.New(9)
	g.Retroactive = 150
	as := g.Many(3, 30)
	if _, err := l.Append(ctx, as, AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	names := g.Agreements()
	at := as[len(as)-1].Effective
	want := map[string]string{}
	for _, name := range names {
		s, err := l.State(name, at, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		want[name] = jsonOf(t, s)
	}
	l.Close() // writes a snapshot

	release := make(chan struct{})
	holdLoad = func(ctx context.Context) {
		select {
		case <-release:
		case <-ctx.Done():
		}
	}
	defer func() { holdLoad = nil }()
	l, err = Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !l.Status().Loading {
		t.Fatal("the read model is not loading")
	}
	for _, name := range names {
		answered := make(chan string, 1)
		go func() {
			s, err := l.State(name, at, time.Time{})
			if err != nil {
				t.Error(err)
			}
			answered <- jsonOf(t, s)
		}()
		select {
		case got := <-answered:
			if got != want[name] {
				t.Errorf("state of %s while loading:\n%s\nwant\n%s", name, got, want[name])
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no state of %s while the read model was loading", name)
		}
	}
	appended := make(chan error, 1)
	go func() {
		_, err := l.Append(ctx, []*events.Amendment{g.Next(names[0])}, AppendOptions{})
		appended <- err
	}()
	select {
	case err := <-appended:
		t.Fatalf("an append returned while the read model was loading (err %v)", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if err := <-appended; err != nil {
		t.Fatal(err)
	}
	if l.Status().Loading {
		t.Fatal("still loading after an append returned")
	}
	l.Close()

	// Closed while loading, then opened again.
	release = make(chan struct{})
	l, err = Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	holdLoad = nil
	l, err = Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if n := l.Status().Amendments; n != len(as)+1 {
		t.Errorf("%d amendments after the restarts, want %d", n, len(as)+1)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A lazy ledger (a short command's) answers a question about one agreement
// from that agreement's messages and does not load the read model for it;
// a question across agreements loads it, and answers as an eager ledger.
func TestLazyLoadsOnlyWhatIsAsked(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, err := Open(ctx, Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	g := synth.New(8)
	g.Parties = 3
	if _, err := l.Append(ctx, g.Many(5, 30), AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	name := g.Agreements()[0]
	at := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	want, err := l.State(name, at, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	wantConflicts, err := l.Conflicts(at, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()

	lazy, err := Open(ctx, Config{DataDir: dir, Lazy: true})
	if err != nil {
		t.Fatal(err)
	}
	defer lazy.Close()
	got, err := lazy.State(name, at, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := jsonOf(t, want), jsonOf(t, got); a != b {
		t.Fatalf("lazy state differs:\n%s\n%s", b, a)
	}
	time.Sleep(50 * time.Millisecond)
	if !lazy.Status().Loading || lazy.Status().Amendments != 0 {
		t.Fatalf("a question about one agreement loaded the read model: %+v", lazy.Status())
	}
	gotConflicts, err := lazy.Conflicts(at, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := jsonOf(t, wantConflicts), jsonOf(t, gotConflicts); a != b {
		t.Fatalf("lazy conflicts differ:\n%s\n%s", b, a)
	}
	if s := lazy.Status(); s.Loading || s.Amendments != 150 {
		t.Fatalf("after a question across agreements: %+v, want loaded with 150 amendments", s)
	}
}
