package projections_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/projections"
)

// The history the validation cases are checked against. Amendment n has id
// testID(n): $1 … $5 in acme, $6 in other, $7 and $8 in done.
const validationHistory = `[
{"agreement": "acme", "effective": "2020-01-01", "changes": [
	{"op": "open", "title": "Acme–Beta", "parties": ["acme", "beta"]},
	{"op": "add", "clause": {"id": "lic", "kind": "license", "licensor": "acme", "licensee": "beta", "subject": "s"}},
	{"op": "add", "clause": {"id": "exc", "kind": "exclusivity", "grantor": "acme", "holder": "beta", "scope": {"channels": ["api"]}}},
	{"op": "add", "clause": {"id": "rs", "kind": "revenue_share", "payer": "beta", "payee": "acme", "rate": "0.1", "cap": {"amount": "1000", "currency": "USD"}}},
	{"op": "add", "clause": {"id": "rs2", "kind": "revenue_share", "payer": "beta", "payee": "acme", "rate": "0.1"}},
	{"op": "add", "clause": {"id": "rs3", "kind": "revenue_share", "payer": "beta", "payee": "acme", "rate": "0.1", "cap": {"undisclosed": true, "currency": "USD"}}},
	{"op": "add", "clause": {"id": "inv", "kind": "investment", "investor": "beta", "investee": "acme", "tranches": [
		{"id": "t1", "amount": {"amount": "10", "currency": "USD"}}, {"id": "t2", "amount": {"amount": "20", "currency": "USD"}}]}},
	{"op": "add", "clause": {"id": "old", "kind": "obligation", "obligor": "acme", "beneficiary": "beta", "what": "w"}},
	{"op": "add", "clause": {"id": "until-ipo", "kind": "obligation", "obligor": "acme", "beneficiary": "beta", "what": "w", "term": {"ends_on": "ipo"}}}]},
{"agreement": "acme", "effective": "2020-06-01", "changes": [
	{"op": "fund", "clause": "inv", "tranche": "t1"},
	{"op": "report", "clause": "rs2", "period": {"start": "2020-01-01", "end": "2020-06-01"}, "base": {"amount": "100", "currency": "USD"}},
	{"op": "end", "clause": "old"},
	{"op": "declare", "condition": "ipo"}]},
{"agreement": "acme", "effective": "2021-01-01", "changes": [{"op": "amend", "clause": "rs", "set": {"note": "renewed"}}]},
{"agreement": "acme", "effective": "2021-02-01", "changes": [{"op": "add", "clause": {"id": "tmp", "kind": "obligation", "obligor": "acme", "beneficiary": "beta", "what": "w"}}]},
{"agreement": "acme", "effective": "2021-03-01", "changes": [{"op": "retract", "amendment": "$4"}]},
{"agreement": "other", "effective": "2020-01-01", "changes": [{"op": "open", "title": "Other", "parties": ["x", "y"]}]},
{"agreement": "done", "effective": "2020-01-01", "changes": [{"op": "open", "title": "Done", "parties": ["acme", "beta"]}]},
{"agreement": "done", "effective": "2021-01-01", "changes": [{"op": "close"}]}
]`

// amendment is one new amendment of acme effective 2022-01-01 with the given changes.
func amendment(changes string) string {
	return `{"agreement": "acme", "effective": "2022-01-01", "changes": [` + changes + `]}`
}

func obligation(id, extra string) string {
	return `{"op": "add", "clause": {"id": "` + id + `", "kind": "obligation", "obligor": "acme", "beneficiary": "beta", "what": "w"` + extra + `}}`
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		input string // one amendment, or a JSON array of them
		path  string // "" for valid input
		msg   string
	}{
		{"clause id unknown", amendment(`{"op": "amend", "clause": "nope", "set": {"note": "n"}}`), "changes[0].clause", "no clause nope in acme"},
		{"clause id reused", amendment(obligation("lic", "")), "changes[0].clause.id", "clause lic already exists"},
		{"id of an ended clause reused", amendment(obligation("old", "")), "changes[0].clause.id", "clause old already exists"},
		{"open twice", amendment(`{"op": "open", "title": "again", "parties": ["acme", "beta"]}`), "changes[0].op", "already open"},
		{"changes before open", `{"agreement": "acme", "effective": "2019-06-01", "changes": [` + obligation("early", "") + `]}`, "changes[0].op", "is not open at 2019-06-01"},
		{"new agreement without open", `{"agreement": "fresh", "effective": "2022-01-01", "changes": [` + obligation("o", "") + `]}`, "changes[0].op", "its first amendment must open it"},
		{"licensee not a party", amendment(`{"op": "add", "clause": {"id": "n", "kind": "license", "licensor": "acme", "licensee": "zed", "subject": "s"}}`), "changes[0].clause.licensee", "zed is not a party to acme"},
		{"grantor not a party", amendment(`{"op": "add", "clause": {"id": "n", "kind": "exclusivity", "grantor": "zed", "holder": "beta"}}`), "changes[0].clause.grantor", "zed is not a party to acme"},
		{"payer not a party", amendment(`{"op": "add", "clause": {"id": "n", "kind": "revenue_share", "payer": "zed", "payee": "acme", "rate": "0.1"}}`), "changes[0].clause.payer", "zed is not a party"},
		{"beneficiary not a party", amendment(`{"op": "add", "clause": {"id": "n", "kind": "commitment", "obligor": "acme", "beneficiary": "zed", "what": "w", "amount": {"amount": "1", "currency": "USD"}}}`), "changes[0].clause.beneficiary", "zed is not a party"},
		{"investor not a party", amendment(`{"op": "add", "clause": {"id": "n", "kind": "investment", "investor": "zed", "investee": "acme", "tranches": [{"id": "a", "amount": {"amount": "1", "currency": "USD"}}]}}`), "changes[0].clause.investor", "zed is not a party"},
		{"right holder not a party", amendment(`{"op": "add", "clause": {"id": "n", "kind": "right", "holder": "zed", "grantor": "acme", "right": "r"}}`), "changes[0].clause.holder", "zed is not a party"},
		{"obligor not a party", amendment(`{"op": "add", "clause": {"id": "n", "kind": "obligation", "obligor": "zed", "beneficiary": "beta", "what": "w"}}`), "changes[0].clause.obligor", "zed is not a party"},
		{"amend to a holder not a party", amendment(`{"op": "amend", "clause": "exc", "set": {"holder": "zed"}}`), "changes[0].set.holder", "zed is not a party"},
		{"changes to a closed agreement", `{"agreement": "done", "effective": "2022-01-01", "changes": [` + obligation("o", "") + `]}`, "changes[0].op", "was closed 2021-01-01"},
		{"amend of an ended clause", amendment(`{"op": "amend", "clause": "old", "set": {"what": "v"}}`), "changes[0].clause", "clause old ended 2020-06-01"},
		{"amend of a clause ended by a condition", amendment(`{"op": "amend", "clause": "until-ipo", "set": {"what": "v"}}`), "changes[0].clause", "ended when ipo was declared"},
		{"amend of a field the kind does not have", amendment(`{"op": "amend", "clause": "exc", "set": {"exclusive": true}}`), "changes[0].set.exclusive", "is not a field of an exclusivity clause"},
		{"amend clearing a required field", amendment(`{"op": "amend", "clause": "rs", "set": {"rate": null}}`), "changes[0].set.rate", "is required for a revenue share clause and cannot be cleared"},
		{"amend clearing a party", amendment(`{"op": "amend", "clause": "lic", "set": {"licensee": null}}`), "changes[0].set.licensee", "cannot be cleared"},
		{"amend of a term ending before the clause's start", amendment(`{"op": "amend", "clause": "lic", "set": {"term": {"end": "2019-06-01"}}}`), "changes[0].set.term.end", "must be after the term's start (2020-01-01)"},
		{"end twice", amendment(`{"op": "end", "clause": "old"}`), "changes[0].clause", "clause old ended"},
		{"end unknown", amendment(`{"op": "end", "clause": "nope"}`), "changes[0].clause", "no clause nope"},
		{"declare twice", amendment(`{"op": "declare", "condition": "ipo"}`), "changes[0].condition", "ipo was already declared 2020-06-01"},
		{"add ending on a declared condition", amendment(obligation("n", `, "term": {"ends_on": "ipo"}`)), "changes[0].clause.term.ends_on", "ipo was already declared"},
		{"amend to end on a declared condition", amendment(`{"op": "amend", "clause": "lic", "set": {"term": {"ends_on": "ipo"}}}`), "changes[0].set.term.ends_on", "ipo was already declared"},
		{"report on a non-revenue-share", amendment(`{"op": "report", "clause": "lic", "period": {"start": "2021-01-01", "end": "2022-01-01"}, "base": {"amount": "1", "currency": "USD"}}`), "changes[0].clause", "clause lic is license, not a revenue share"},
		{"report on an unknown clause", amendment(`{"op": "report", "clause": "nope", "period": {"start": "2021-01-01", "end": "2022-01-01"}, "base": {"amount": "1", "currency": "USD"}}`), "changes[0].clause", "no clause nope"},
		{"report in another currency than the cap", amendment(`{"op": "report", "clause": "rs", "period": {"start": "2021-01-01", "end": "2022-01-01"}, "base": {"amount": "1", "currency": "EUR"}}`), "changes[0].base.currency", "the cap of rs is in USD"},
		{"report in another currency than an undisclosed cap", amendment(`{"op": "report", "clause": "rs3", "period": {"start": "2021-01-01", "end": "2022-01-01"}, "base": {"amount": "1", "currency": "EUR"}}`), "changes[0].base.currency", "the cap of rs3 is in USD"},
		{"report in another currency than earlier reports", amendment(`{"op": "report", "clause": "rs2", "period": {"start": "2021-01-01", "end": "2022-01-01"}, "base": {"amount": "1", "currency": "EUR"}}`), "changes[0].base.currency", "earlier reports under rs2 are in USD"},
		{"fund an unknown tranche", amendment(`{"op": "fund", "clause": "inv", "tranche": "t9"}`), "changes[0].tranche", "investment inv has no tranche t9 (its tranches: t1, t2)"},
		{"fund twice", amendment(`{"op": "fund", "clause": "inv", "tranche": "t1"}`), "changes[0].tranche", "tranche t1 of inv was already funded 2020-06-01"},
		{"fund a non-investment", amendment(`{"op": "fund", "clause": "rs", "tranche": "t1"}`), "changes[0].clause", "not an investment"},
		{"retract an unknown amendment", amendment(`{"op": "retract", "amendment": "` + testID(99).String() + `"}`), "changes[0].amendment", "no amendment " + testID(99).String() + " has been recorded"},
		{"retract a retracted amendment", amendment(`{"op": "retract", "amendment": "$4"}`), "changes[0].amendment", "was already retracted by $5"},
		{"retract a retraction", amendment(`{"op": "retract", "amendment": "$5"}`), "changes[0].amendment", "is a retraction"},
		{"retract an amendment of another agreement", amendment(`{"op": "retract", "amendment": "$6"}`), "changes[0].amendment", "belongs to agreement other"},
		{"retract from a new agreement", `{"agreement": "fresh", "effective": "2022-01-01", "changes": [{"op": "open", "title": "t", "parties": ["a", "b"]}, {"op": "retract", "amendment": "$1"}]}`, "changes[1].amendment", "no amendment $1 has been recorded in fresh"},
		{"retract the same amendment twice in a batch", `[` + amendment(`{"op": "retract", "amendment": "$3"}`) + `, ` + amendment(`{"op": "retract", "amendment": "$3"}`) + `]`, "[1].changes[0].amendment", "retracted twice in this input"},
		{"retroactive end invalidating a later amend", `{"agreement": "acme", "effective": "2020-09-01", "changes": [{"op": "end", "clause": "rs"}]}`, "effective", "would make amendment $3 (version 3, effective 2021-01-01) invalid: changes[0].clause: clause rs ended 2020-09-01"},
		{"retroactive open invalidating the first", `{"agreement": "acme", "effective": "2019-01-01", "changes": [{"op": "open", "title": "t", "parties": ["acme", "beta"]}]}`, "effective", "would make amendment $1"},
		{"retraction invalidating later amendments", amendment(`{"op": "retract", "amendment": "$1"}`), "changes", "would make amendment $2"},
		{"duplicate ids in a batch", `[{"id": "` + testID(50).String() + `", "agreement": "acme", "effective": "2022-01-01", "changes": [` + obligation("a", "") + `]},
			{"id": "` + testID(50).String() + `", "agreement": "acme", "effective": "2022-01-02", "changes": [` + obligation("b", "") + `]}]`, "[1].id", "appears twice in the input (also at [0])"},
		{"an id already recorded", `{"id": "$2", "agreement": "acme", "effective": "2022-01-01", "changes": [` + obligation("a", "") + `]}`, "id", "is already recorded (in acme, version 2)"},
		{"error in the second amendment of a batch", `[` + amendment(obligation("a", "")) + `, ` + amendment(`{"op": "amend", "clause": "nope", "set": {"note": "n"}}`) + `]`, "[1].changes[0].clause", "no clause nope"},
		{"error in the second change of an amendment", amendment(obligation("a", "") + `, {"op": "end", "clause": "b"}`), "changes[1].clause", "no clause b"},
		{"a batch whose second amendment comes first in effective time", `[{"agreement": "acme", "effective": "2023-01-01", "changes": [` + obligation("late", "") + `]},
			{"agreement": "acme", "effective": "2022-01-01", "changes": [{"op": "amend", "clause": "late", "set": {"what": "v"}}]}]`, "[1].changes[0].clause", "no clause late"},

		{"valid: an amendment at the present", amendment(obligation("a", "") + `, {"op": "amend", "clause": "rs", "set": {"cap": null}}`), "", ""},
		{"valid: retroactive, breaking nothing", `{"agreement": "acme", "effective": "2020-03-01", "changes": [` + obligation("back", "") + `]}`, "", ""},
		{"valid: a retraction breaking nothing", amendment(`{"op": "retract", "amendment": "$3"}`), "", ""},
		{"valid: a new agreement", `{"agreement": "fresh", "effective": "2022-01-01", "changes": [{"op": "open", "title": "t", "parties": ["a", "b"]}, {"op": "add", "clause": {"id": "o", "kind": "obligation", "obligor": "a", "beneficiary": "b", "what": "w"}}]}`, "", ""},
		{"valid: a batch applied in effective order", `[{"agreement": "acme", "effective": "2023-01-01", "changes": [{"op": "amend", "clause": "early", "set": {"what": "v"}}]},
			{"agreement": "acme", "effective": "2022-01-01", "changes": [` + obligation("early", "") + `]}]`, "", ""},
		{"valid: a batch across agreements", `[` + amendment(obligation("a", "")) + `, {"agreement": "other", "effective": "2022-01-01", "changes": [{"op": "add", "clause": {"id": "o", "kind": "obligation", "obligor": "x", "beneficiary": "y", "what": "w"}}]}]`, "", ""},
	}
	invalid := 0
	for _, tt := range tests {
		if tt.path != "" {
			invalid++
		}
	}
	if invalid < 25 {
		t.Fatalf("%d invalid cases, want at least 25", invalid)
	}
	recs := records(decode(t, 1, substitute(validationHistory)), lag(0))
	ix := index(t, recs)
	times := []string{"2019-06-01", "2020-03-01", "2020-09-01", "2021-06-01", "2022-01-01", "2023-06-01"}
	before := snapshot(t, ix, times...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := decode(t, 100, substitute(tt.input))
			for _, check := range []struct {
				name string
				run  func() error
			}{
				{"Validate", func() error { return ix.Validate(as) }},
				{"Preview", func() error { _, err := ix.Preview(as); return err }},
			} {
				err := check.run()
				if after := snapshot(t, ix, times...); after != before {
					t.Fatalf("%s changed the index", check.name)
				}
				if tt.path == "" {
					if err != nil {
						t.Fatalf("%s: %v", check.name, err)
					}
					continue
				}
				var e *events.Error
				if !errors.As(err, &e) {
					t.Fatalf("%s returned %v (%T), want an *events.Error", check.name, err, err)
				}
				if e.Kind != events.Invalid {
					t.Errorf("%s: kind %s, want invalid", check.name, e.Kind)
				}
				msg := substitute(tt.msg)
				if len(e.Fields) == 0 || e.Fields[0].Path != tt.path || !strings.Contains(e.Fields[0].Message, msg) {
					t.Errorf("%s: got %q\nwant the first problem at %s containing %q", check.name, e.Fields, tt.path, msg)
				}
			}
		})
	}
	if ix.Len() != len(recs) {
		t.Errorf("Len() = %d after validating, want %d", ix.Len(), len(recs))
	}
}

// TestValidateThenAdd checks that what Validate accepts applies once added:
// the fold skips nothing and the state reflects it.
func TestValidateThenAdd(t *testing.T) {
	recs := records(decode(t, 1, substitute(validationHistory)), lag(0))
	ix := index(t, recs)
	as := decode(t, 100, `[{"agreement": "acme", "effective": "2023-01-01", "changes": [{"op": "amend", "clause": "early", "set": {"what": "v"}}]},
		{"agreement": "acme", "effective": "2022-01-01", "changes": [`+obligation("early", "")+`]}]`)
	if err := ix.Validate(as); err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if err := ix.Add(&events.Record{Amendment: a, Seq: ix.LastSeq() + 1, Recorded: day(t, "2024-01-01")}); err != nil {
			t.Fatal(err)
		}
	}
	if an := ix.Anomalies("acme"); len(an) > 0 {
		t.Fatalf("validated amendments did not apply: %v", an)
	}
	s := state(t, ix, "acme", "2023-06-01", "")
	if c := s.Clause("early"); c == nil || c.What != "v" {
		t.Errorf("early = %+v, want what v", c)
	}
	var _ = projections.Anomaly{}
}
