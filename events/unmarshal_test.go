package events_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/seed"
	"github.com/agreement-ledger/ledger/events/synth"
)

// TestValuesReadBack: every clause of the seed history and of generated
// ones, and its money, rate, scope and term, read back from its JSON is
// what it was and writes the same bytes again.
func TestValuesReadBack(t *testing.T) {
	as := append(seed.Amendments(), synth.New(7).Many(40, 30)...)
	var clauses int
	for _, a := range as {
		for _, c := range a.Changes {
			if c.Clause == nil {
				continue
			}
			clauses++
			roundTrip(t, c.Clause, new(events.Clause))
			for _, v := range []struct {
				given bool
				val   any
				into  any
			}{
				{c.Clause.Cap != nil, c.Clause.Cap, new(events.Money)},
				{c.Clause.Amount != nil, c.Clause.Amount, new(events.Money)},
				{c.Clause.Rate != nil, c.Clause.Rate, new(events.Rate)},
				{c.Clause.Scope != nil, c.Clause.Scope, new(events.Scope)},
				{c.Clause.Term != nil, c.Clause.Term, new(events.Term)},
			} {
				if v.given {
					roundTrip(t, v.val, v.into)
				}
			}
		}
	}
	if clauses < 100 {
		t.Fatalf("only %d clauses tried", clauses)
	}
}

// roundTrip marshals v, reads it into into, and checks both.
func roundTrip(t *testing.T, v, into any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, into); err != nil {
		t.Fatalf("reading back %s: %v", b, err)
	}
	// What MarshalJSON writes is canonical (every field, decimals
	// normalised): the same bytes are the same value.
	again, _ := json.Marshal(into)
	if !bytes.Equal(b, again) {
		t.Fatalf("read back and written again:\n%s\nwas\n%s", again, b)
	}
}

// TestValuesRefuseWhatInputRefuses: a value input would refuse is refused
// when read back, with the field named.
func TestValuesRefuseWhatInputRefuses(t *testing.T) {
	for _, c := range []struct {
		into  any
		json  string
		field string
	}{
		{new(events.Money), `{"amount":"-1","currency":"USD"}`, "amount"},
		{new(events.Money), `{"amount":"1","currency":"XXQ"}`, "currency"},
		{new(events.Rate), `"1.5"`, ""},
		{new(events.Scope), `{"products":["Not A Slug"]}`, "products[0]"},
		{new(events.Term), `{"start":"2027-01-01","end":"2026-01-01"}`, "end"},
		{new(events.Clause), `{"id":"x","kind":"exclusivity","grantor":"a","holder":"a"}`, "holder"},
		{new(events.Clause), `{"id":"x","kind":"nothing"}`, "kind"},
		{new(events.Hash), `"abc"`, ""},
	} {
		err := json.Unmarshal([]byte(c.json), c.into)
		var e *events.Error
		if !errors.As(err, &e) || e.Kind != events.Invalid {
			t.Errorf("%s into %T: %v, want an invalid error", c.json, c.into, err)
			continue
		}
		if c.field != "" && e.Field() != c.field {
			t.Errorf("%s into %T: field %q, want %q (%v)", c.json, c.into, e.Field(), c.field, err)
		}
	}
	var h events.Hash
	want := events.Sum([]byte("x"))
	if err := json.Unmarshal([]byte(`"`+want.String()+`"`), &h); err != nil || h != want {
		t.Errorf("hash read back as %s, %v", h, err)
	}
}
