package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/seed"
	"github.com/agreement-ledger/ledger/events/synth"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/client"
	"github.com/agreement-ledger/ledger/ledger/ledgertest"
	"github.com/agreement-ledger/ledger/ledger/service"
	"github.com/agreement-ledger/ledger/projections"
	"github.com/nats-io/nats.go"
	"github.com/oklog/ulid/v2"
)

// remote is a ledger served by the service, and a client of it on a
// connection of its own.
func remote(t *testing.T, opts client.Options) (*ledgertest.Ledger, *client.Client, *nats.Conn) {
	t.Helper()
	l := ledgertest.New(t, ledger.Config{Listen: "127.0.0.1:-1", SnapshotEvery: -1})
	c, nc := serve(t, l, opts)
	return l, c, nc
}

// serve starts the service on l and returns a client of it on a
// connection of its own.
func serve(t *testing.T, l *ledgertest.Ledger, opts client.Options) (*client.Client, *nats.Conn) {
	t.Helper()
	s, err := service.Start(l.Conn(), l.Ledger, service.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	nc, err := nats.Connect(l.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return client.New(nc, opts), nc
}

func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("%s through the client:\n%s\nfrom the ledger:\n%s", what, g, w)
	}
}

func day(s string) time.Time {
	t, err := events.ParseTime(s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestClientAnswersAsTheLedger: each method answers what the ledger's own
// method answers, in the ledger's types, on the seed history and on a
// generated one.
func TestClientAnswersAsTheLedger(t *testing.T) {
	l, c, _ := remote(t, client.Options{})
	l.Given(seed.Amendments())
	l.Given(synth.New(11).Many(8, 25))
	ctx := context.Background()
	list, err := l.Agreements(day("2030-01-01"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Agreements(ctx, day("2030-01-01"))
	if err != nil || !reflect.DeepEqual(got, list) {
		t.Errorf("agreements through the client: %+v %v\nfrom the ledger: %+v", got, err, list)
	}
	h, _ := l.History("openai-amazon")
	known := h.Amendments[0].Recorded
	for _, s := range list {
		a := s.Agreement
		for _, k := range []time.Time{{}, known} {
			for _, at := range []string{"2026-03-15", "2027-01-01", "2031-06-30", "2040-01-01"} {
				want, werr := l.State(a, day(at), k)
				got, err := c.State(ctx, a, day(at), k)
				if werr != nil {
					if events.KindOf(err) != events.KindOf(werr) || err.Error() != werr.Error() {
						t.Errorf("state of %s at %s: %v; the ledger: %v", a, at, err, werr)
					}
					continue
				}
				if err != nil {
					t.Fatalf("state of %s at %s: %v", a, at, err)
				}
				sameJSON(t, "state of "+a+" at "+at, got, want)
				for _, cs := range want.Clauses {
					if g := got.Clause(cs.ID); g == nil || !reflect.DeepEqual(g.Amendments, cs.Amendments) || g.Since != cs.Since {
						t.Errorf("state of %s at %s: clause %s through the client: %+v", a, at, cs.ID, g)
					}
				}
			}
			if want, err := l.Timeline(a, k); err == nil {
				got, err := c.Timeline(ctx, a, k)
				if err != nil {
					t.Fatal(err)
				}
				sameJSON(t, "timeline of "+a, got, want)
			}
			if want, err := l.Diff(a, day("2026-03-15"), day("2031-06-30"), k); err == nil {
				got, err := c.Diff(ctx, a, day("2026-03-15"), day("2031-06-30"), k)
				if err != nil {
					t.Fatal(err)
				}
				sameJSON(t, "diff of "+a, got, want)
			}
		}
		want, _ := l.History(a)
		got, err := c.History(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		sameJSON(t, "history of "+a, got, want)
		if got.Amendments[0].Agreement != a || got.Amendments[0].ID != want.Amendments[0].ID || !got.Amendments[0].Recorded.Equal(want.Amendments[0].Recorded) {
			t.Errorf("history of %s: the first entry through the client: %+v", a, got.Amendments[0].Record)
		}
	}
	for _, at := range []string{"2026-03-15", "2027-01-01"} {
		want, _ := l.Conflicts(day(at), time.Time{})
		got, err := c.Conflicts(ctx, day(at), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		sameJSON(t, "conflicts at "+at, got, want)
		for _, q := range []projections.RightsQuery{
			{Party: "amazon", Scope: &events.Scope{Products: []string{"frontier"}, Channels: []string{"api"}}, At: day(at)},
			{Party: "amazon", Scope: &events.Scope{Products: []string{"chat"}, Channels: []string{"web"}}, At: day(at)},
			{Party: "amazon", Scope: &events.Scope{Products: []string{"chat"}, Channels: []string{"web"}}, At: day(at), IgnoreBasis: true},
		} {
			wr, _ := l.Check(q)
			gr, err := c.Check(ctx, q)
			if err != nil || gr.Allowed != wr.Allowed || gr.Verdict != wr.Verdict || gr.IgnoreBasis != q.IgnoreBasis {
				t.Fatalf("check at %s: %+v %v, the ledger: %+v", at, gr, err, wr)
			}
			sameJSON(t, "check at "+at, gr, wr)
		}
	}
	from, to := day("2019-01-01"), day("2033-01-01")
	for _, k := range []time.Time{{}, known} {
		for _, sc := range []*events.Scope{
			{Products: []string{"frontier"}, Channels: []string{"api"}},
			{Products: []string{"frontier"}, Channels: []string{"api"}, Territories: []string{"eu"}},
		} {
			for _, party := range []string{"", "amazon"} {
				q := projections.AvailsQuery{Scope: sc, Party: party, From: from, To: to, KnownAt: k, IgnoreBasis: party == "amazon" && k.IsZero()}
				want, err := l.Avails(q)
				if err != nil {
					t.Fatal(err)
				}
				got, err := c.Avails(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				sameJSON(t, "avails of "+party, got, want)
			}
		}
		for _, holder := range []string{"microsoft", "amazon", "nobody"} {
			q := projections.HoldingsQuery{Holder: holder, From: from, To: to, KnownAt: k}
			want, err := l.Holdings(q)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Holdings(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, "holdings of "+holder, got, want)
		}
		for _, a := range append([]string{""}, list[0].Agreement, list[len(list)-1].Agreement) {
			q := projections.CalendarQuery{Agreement: a, From: from, To: to, KnownAt: k}
			want, werr := l.Calendar(q)
			got, err := c.Calendar(ctx, q)
			if werr != nil || err != nil {
				if events.KindOf(err) != events.KindOf(werr) {
					t.Errorf("calendar of %q: %v; the ledger: %v", a, err, werr)
				}
				continue
			}
			sameJSON(t, "calendar of "+a, got, want)
			if len(want.Entries) > 0 && got.Entries[0].UID() != want.Entries[0].UID() {
				t.Errorf("calendar of %q: the first entry's uid %s, the ledger's %s", a, got.Entries[0].UID(), want.Entries[0].UID())
			}
		}
	}
	wv, _ := l.Verify(ctx, nil)
	gv, err := c.Verify(ctx, wv.Heads)
	if err != nil || !gv.OK || gv.Checked != len(wv.Heads) {
		t.Fatalf("verify through the client: %+v %v", gv, err)
	}
	gv.Checked = 0
	sameJSON(t, "verify", gv, wv)
}

// TestClientErrorsHaveTheLedgersKinds: what fails through the client fails
// as it does on the ledger: the same kind, the same message, the same
// fields.
func TestClientErrorsHaveTheLedgersKinds(t *testing.T) {
	l, c, _ := remote(t, client.Options{})
	l.Given(seed.Amendments())
	ctx := context.Background()
	two := uint64(7)
	for _, tc := range []struct {
		name   string
		ledger func() error
		client func() error
		kind   events.ErrorKind
	}{
		{"an unknown agreement",
			func() error { _, err := l.State("nobody", day("2027-01-01"), time.Time{}); return err },
			func() error { _, err := c.State(ctx, "nobody", day("2027-01-01"), time.Time{}); return err },
			events.NotFound},
		{"a history of nothing",
			func() error { _, err := l.History("nobody"); return err },
			func() error { _, err := c.History(ctx, "nobody"); return err },
			events.NotFound},
		{"invalid amendments",
			func() error {
				_, err := l.Append(ctx, l.Amendments(`{"agreement":"openai-amazon","effective":"2027-01-01","changes":[{"op":"end","clause":"nothing"}]}`), ledger.AppendOptions{})
				return err
			},
			func() error {
				_, err := c.Append(ctx, l.Amendments(`{"agreement":"openai-amazon","effective":"2027-01-01","changes":[{"op":"end","clause":"nothing"}]}`), ledger.AppendOptions{})
				return err
			},
			events.Invalid},
		{"a stale expected version",
			func() error {
				_, err := l.Append(ctx, l.Amendments(`{"agreement":"openai-amazon","effective":"2027-01-01","changes":[{"op":"fund","clause":"amazon-investment","tranche":"initial"}]}`), ledger.AppendOptions{ExpectVersion: &two})
				return err
			},
			func() error {
				_, err := c.Append(ctx, l.Amendments(`{"agreement":"openai-amazon","effective":"2027-01-01","changes":[{"op":"fund","clause":"amazon-investment","tranche":"initial"}]}`), ledger.AppendOptions{ExpectVersion: &two})
				return err
			},
			events.Conflict},
	} {
		want, got := tc.ledger(), tc.client()
		var we, ge *events.Error
		if !errors.As(want, &we) || !errors.As(got, &ge) {
			t.Fatalf("%s: the ledger's error %#v, the client's %#v", tc.name, want, got)
		}
		if ge.Kind != tc.kind || we.Kind != tc.kind || got.Error() != want.Error() || !reflect.DeepEqual(ge.Fields, we.Fields) {
			t.Errorf("%s: through the client %s %q %v; the ledger %s %q %v", tc.name, ge.Kind, got, ge.Fields, we.Kind, want, we.Fields)
		}
	}
	// What the service cannot be asked is refused before it is sent.
	_, err := c.Check(ctx, projections.RightsQuery{Party: "amazon", Scope: &events.Scope{Products: []string{"frontier", "gpt"}}})
	if events.KindOf(err) != events.Invalid {
		t.Errorf("a check of two products: %v", err)
	}
	_, err = c.Append(ctx, nil, ledger.AppendOptions{})
	if events.KindOf(err) != events.Invalid {
		t.Errorf("an append of nothing: %v", err)
	}
	big := l.Amendments(`{"agreement":"big","effective":"2026-01-01","changes":[{"op":"open","title":"Big","parties":["acme","globex"]}]}`)
	for i := range 2000 {
		big = append(big, l.Amendments(strings.ReplaceAll(`{"agreement":"big","effective":"2026-02-01","changes":[{"op":"add","clause":{"id":"o-N","kind":"obligation","obligor":"acme","beneficiary":"globex","what":"`+strings.Repeat("x", 400)+`"}}]}`, "N", strconv.Itoa(i)))...)
	}
	if _, err := c.Append(ctx, big, ledger.AppendOptions{}); events.KindOf(err) != events.TooLarge {
		t.Errorf("an append over the NATS payload limit: %v", err)
	}
	if _, err := l.History("big"); events.KindOf(err) != events.NotFound {
		t.Errorf("the append over the limit wrote something: %v", err)
	}
}

// TestClientAllowsDamaged: a question about a damaged agreement fails as
// on the ledger, with a damaged error, unless AllowDamaged is among its
// options; then it is answered as the ledger answers it, marked damaged.
func TestClientAllowsDamaged(t *testing.T) {
	l := ledgertest.Damaged(t, ledger.Config{Listen: "127.0.0.1:-1", SnapshotEvery: -1})
	c, _ := serve(t, l, client.Options{})
	ctx := context.Background()
	at, from := day("2027-01-01"), day("2026-01-15")
	cal := projections.CalendarQuery{Agreement: "deal", From: day("2026-01-01"), To: day("2028-01-01")}
	for _, q := range []struct {
		name   string
		ledger func(...ledger.QueryOption) (any, error)
		client func(...ledger.QueryOption) (any, error)
	}{
		{"state",
			func(o ...ledger.QueryOption) (any, error) { return l.State("deal", at, time.Time{}, o...) },
			func(o ...ledger.QueryOption) (any, error) { return c.State(ctx, "deal", at, time.Time{}, o...) }},
		{"history",
			func(o ...ledger.QueryOption) (any, error) { return l.History("deal", o...) },
			func(o ...ledger.QueryOption) (any, error) { return c.History(ctx, "deal", o...) }},
		{"timeline",
			func(o ...ledger.QueryOption) (any, error) { return l.Timeline("deal", time.Time{}, o...) },
			func(o ...ledger.QueryOption) (any, error) { return c.Timeline(ctx, "deal", time.Time{}, o...) }},
		{"diff",
			func(o ...ledger.QueryOption) (any, error) { return l.Diff("deal", from, at, time.Time{}, o...) },
			func(o ...ledger.QueryOption) (any, error) { return c.Diff(ctx, "deal", from, at, time.Time{}, o...) }},
		{"calendar",
			func(o ...ledger.QueryOption) (any, error) { return l.Calendar(cal, o...) },
			func(o ...ledger.QueryOption) (any, error) { return c.Calendar(ctx, cal, o...) }},
	} {
		_, werr := q.ledger()
		_, err := q.client()
		if events.KindOf(werr) != events.Damaged || events.KindOf(err) != events.Damaged || err.Error() != werr.Error() {
			t.Errorf("%s of the damaged agreement through the client: %v; the ledger: %v", q.name, err, werr)
		}
		want, werr := q.ledger(ledger.AllowDamaged())
		got, err := q.client(ledger.AllowDamaged())
		if werr != nil || err != nil {
			t.Fatalf("%s allowed damaged: %v; the ledger: %v", q.name, err, werr)
		}
		sameJSON(t, q.name+" allowed damaged", got, want)
		if b, _ := json.Marshal(got); !strings.Contains(string(b), `"damaged":{"agreement":"deal"`) && !strings.Contains(string(b), `"damaged":[{"agreement":"deal"`) {
			t.Errorf("%s allowed damaged is not marked damaged: %s", q.name, b)
		}
	}
	// Across agreements, the damaged one is taken with its intact prefix,
	// and listed.
	q := projections.AvailsQuery{Scope: &events.Scope{Products: []string{"lots"}, Channels: []string{"api"}}, From: day("2026-01-01"), To: day("2028-01-01")}
	want, _ := l.Avails(q)
	got, err := c.Avails(ctx, q)
	if err != nil || len(got.Damaged) != 1 || got.Damaged[0] != want.Damaged[0] {
		t.Fatalf("avails on the damaged store: %+v %v; the ledger: %+v", got, err, want)
	}
	sameJSON(t, "avails on the damaged store", got, want)
}

// TestClientAppendIsSafeToRepeat: an append gives its amendments ids
// before sending them, so sending the same amendments again (after a
// timeout, say) records nothing twice.
func TestClientAppendIsSafeToRepeat(t *testing.T) {
	l, c, _ := remote(t, client.Options{})
	ctx := context.Background()
	as := l.Amendments(`{"agreement":"deal","effective":"2026-01-01","changes":[{"op":"open","title":"Deal","parties":["acme","globex"]}]}`,
		`{"agreement":"deal","effective":"2026-02-01","changes":[{"op":"add","clause":{"id":"o-1","kind":"obligation","obligor":"acme","beneficiary":"globex","what":"deliver"}}]}`)
	dry, err := c.Append(ctx, as, ledger.AppendOptions{DryRun: true})
	if err != nil || !dry.DryRun || len(dry.Effects) != 2 {
		t.Fatalf("dry run: %+v %v", dry, err)
	}
	if _, err := l.History("deal"); events.KindOf(err) != events.NotFound {
		t.Fatalf("the dry run wrote: %v", err)
	}
	first, err := c.Append(ctx, as, ledger.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range as {
		if a.ID == (ulid.ULID{}) || first.Appended[i].ID != a.ID.String() || first.Appended[i].Duplicate {
			t.Fatalf("amendment %d: id %s, appended %+v", i, a.ID, first.Appended[i])
		}
	}
	again, err := c.Append(ctx, as, ledger.AppendOptions{})
	if err != nil || !again.Appended[0].Duplicate || !again.Appended[1].Duplicate {
		t.Fatalf("the same amendments again: %+v %v", again, err)
	}
	if h, _ := l.History("deal"); len(h.Amendments) != 2 {
		t.Fatalf("recorded %d amendments, want 2", len(h.Amendments))
	}
}

// TestNoServiceIsAClearError: with nobody serving, a request fails soon,
// saying so.
func TestNoServiceIsAClearError(t *testing.T) {
	l := ledgertest.New(t, ledger.Config{Listen: "127.0.0.1:-1"})
	nc, err := nats.Connect(l.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := client.New(nc, client.Options{Attempts: 2})
	start := time.Now()
	_, err = c.State(context.Background(), "deal", time.Time{}, time.Time{})
	if events.KindOf(err) != events.Internal || !strings.Contains(err.Error(), "no instance is serving") || time.Since(start) > 5*time.Second {
		t.Fatalf("with no service: %v after %s", err, time.Since(start))
	}
}
