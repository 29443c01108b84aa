package projections_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/projections"
)

// TestKnownAtAmendmentReadsBack: every answer with a known_at echoes the
// amendment it was given as, as known_at_amendment, and reads it back; an
// answer whose known_at was not given as an amendment has no such member.
func TestKnownAtAmendmentReadsBack(t *testing.T) {
	recs := seedRecords()
	ix := index(t, recs)
	deal := recs[1] // the Amazon deal
	ref := projections.RefOf(deal)
	if ref.ID != deal.ID.String() || ref.Agreement != "openai-amazon" || ref.Version != 1 {
		t.Fatalf("RefOf(the Amazon deal) = %+v", ref)
	}
	k, a, at, from, to := deal.Recorded, "microsoft-openai", day(t, "2027-01-01"), day(t, "2026-01-01"), day(t, "2032-01-01")
	scope := &events.Scope{Products: []string{"frontier"}, Channels: []string{"api"}}
	must := func(v any, err error) any {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	answers := map[string]any{
		"state":     must(ix.State(a, at, k)),
		"timeline":  must(ix.Timeline(a, k)),
		"diff":      must(ix.Diff(a, from, at, k)),
		"conflicts": ix.Conflicts(at, k),
		"avails":    must(ix.Avails(projections.AvailsQuery{Scope: scope, From: from, To: to, KnownAt: k})),
		"holdings":  must(ix.Holdings(projections.HoldingsQuery{Holder: "microsoft", From: from, To: to, KnownAt: k})),
		"calendar":  must(ix.Calendar(projections.CalendarQuery{From: from, To: to, KnownAt: k})),
	}
	check := ix.Check(projections.RightsQuery{Party: "amazon", Scope: scope, At: at, KnownAt: k})
	answers["check"] = &check
	// Each answer has the field; reflection reads it, so that a new answer
	// needs only its line above.
	echoed := func(v any) *projections.AmendmentRef {
		f := reflect.ValueOf(v).Elem().FieldByName("KnownAtAmendment")
		if !f.IsValid() {
			t.Fatalf("%T is not an answer with a known_at", v)
		}
		return f.Interface().(*projections.AmendmentRef)
	}
	for name, v := range answers {
		plain, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(plain, []byte("known_at_amendment")) {
			t.Errorf("%s: known_at given as a time names an amendment: %s", name, plain)
		}
		projections.EchoKnownAt(v, nil) // a time: nothing to echo
		if echoed(v) != nil {
			t.Errorf("%s: echoes an amendment for none", name)
		}
		projections.EchoKnownAt(v, ref)
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if want := `"known_at_amendment":{"id":"` + ref.ID + `","agreement":"openai-amazon","version":1}`; !bytes.Contains(b, []byte(want)) {
			t.Errorf("%s does not echo %s: %s", name, want, b)
		}
		got := newOf(v)
		if err := json.Unmarshal(b, got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r := echoed(got); r == nil || *r != *ref {
			t.Errorf("%s read back echoes %+v, want %+v", name, r, ref)
		}
	}
}

// newOf is a new zero answer of v's type.
func newOf(v any) any { return reflect.New(reflect.TypeOf(v).Elem()).Interface() }
