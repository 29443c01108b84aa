package projections_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/projections"
)

// Every op and clause kind, through Index: histories are added record by
// record, then asked for states (at T, as known at K), timelines and diffs.

// stateQ asks for the state of agreement "acme" (unless named) at at, as
// known at known, and checks the clauses in force and fields of the JSON
// document, named by dotted paths ("revenue_shares.id=rs.accrued.amount").
type stateQ struct {
	agreement string
	at, known string
	status    string
	inForce   []string // nil: not checked
	fields    map[string]any
}

// absent is a field value meaning "not in the document"; contains one
// meaning "a string containing this".
type (
	absentT  struct{}
	contains string
)

var absent absentT

// diffQ asks what changed between two times.
type diffQ struct {
	from, to     string
	added, ended []string
	changed      map[string][]string // clause id → fields changed
}

type opCase struct {
	name     string
	history  string   // a JSON array of amendments; "$n" stands for the id of the nth (from 1)
	recorded []string // when each was recorded; default: an hour after it takes effect
	states   []stateQ
	bars     map[string][]string // clause id → its timeline segments, "from..until opener→closer"
	diffs    []diffQ
}

const open = `{"agreement": "acme", "effective": "2020-01-01", "changes": [{"op": "open", "title": "Acme–Beta deal", "parties": ["acme", "beta", "gamma"]}`

var opCases = []opCase{
	{
		name:    "open",
		history: `[` + open + `]}]`,
		states: []stateQ{
			{at: "2019-12-31", status: "not_open", inForce: []string{}},
			{at: "2020-01-01", status: "open", inForce: []string{}, fields: map[string]any{
				"title": "Acme–Beta deal", "parties": []any{"acme", "beta", "gamma"}, "opened": "2020-01-01", "closed": nil, "version": 1.0,
			}},
		},
	},
	{
		name: "add every kind",
		history: `[` + open + `,
			{"op": "add", "clause": {"id": "lic", "kind": "license", "licensor": "acme", "licensee": "beta", "subject": "patents", "exclusive": true, "scope": {"products": ["widget"]}}},
			{"op": "add", "clause": {"id": "exc", "kind": "exclusivity", "grantor": "acme", "holder": "beta", "scope": {"channels": ["api"], "territories": ["eu"]}, "sole": true}},
			{"op": "add", "clause": {"id": "rs", "kind": "revenue_share", "payer": "beta", "payee": "acme", "rate": "0.2", "base": "net sales", "cap": {"amount": "1000", "currency": "EUR"}}},
			{"op": "add", "clause": {"id": "com", "kind": "commitment", "obligor": "beta", "beneficiary": "gamma", "amount": {"amount": "5.5", "currency": "GBP"}, "what": "compute"}},
			{"op": "add", "clause": {"id": "inv", "kind": "investment", "investor": "gamma", "investee": "acme", "tranches": [{"id": "a", "amount": {"amount": "10", "currency": "USD"}}]}},
			{"op": "add", "clause": {"id": "rig", "kind": "right", "holder": "gamma", "grantor": "acme", "right": "first-release", "note": "ships first"}},
			{"op": "add", "clause": {"id": "obl", "kind": "obligation", "obligor": "acme", "beneficiary": "gamma", "what": "support", "term": {"end": "2021-01-01"}}}]}]`,
		states: []stateQ{
			{at: "2020-06-01", inForce: []string{"com", "exc", "inv", "lic", "obl", "rig", "rs"}, fields: map[string]any{
				"licenses.id=lic.exclusive":            true,
				"licenses.id=lic.licensee":             "beta",
				"licenses.id=lic.scope":                map[string]any{"products": []any{"widget"}},
				"exclusivities.id=exc.sole":            true,
				"exclusivities.id=exc.scope":           map[string]any{"channels": []any{"api"}, "territories": []any{"eu"}},
				"revenue_shares.id=rs.rate":            "0.2",
				"revenue_shares.id=rs.base":            "net sales",
				"revenue_shares.id=rs.accrued":         map[string]any{"amount": "0", "currency": "EUR"},
				"revenue_shares.id=rs.cap_remaining":   map[string]any{"amount": "1000", "currency": "EUR"},
				"commitments.id=com.amount":            map[string]any{"amount": "5.5", "currency": "GBP"},
				"investments.id=inv.committed":         map[string]any{"amount": "10", "currency": "USD"},
				"rights.id=rig.right":                  "first-release",
				"rights.id=rig.note":                   "ships first",
				"rights.id=rig.scope":                  map[string]any{},
				"obligations.id=obl.end":               "2021-01-01",
				"obligations.id=obl.since":             "2020-01-01",
				"obligations.id=obl.start":             "2020-01-01",
				"obligations.id=obl.amendments":        []any{"$1"},
				"licenses.id=lic.note":                 absent,
				"revenue_shares.id=rs.cap.currency":    "EUR",
				"exclusivities.id=exc.amendments.0":    "$1",
				"investments.id=inv.tranches.0.id":     "a",
				"investments.id=inv.tranches.0.funded": nil,
			}},
			{at: "2021-01-01", inForce: []string{"com", "exc", "inv", "lic", "rig", "rs"}},
		},
		bars: map[string][]string{
			"lic": {"2020-01-01.. add→"},
			"obl": {"2020-01-01..2021-01-01 add→term"},
		},
	},
	{
		name: "term with a start and an end",
		history: `[` + open + `,
			{"op": "add", "clause": {"id": "o", "kind": "obligation", "obligor": "acme", "beneficiary": "beta", "what": "x", "term": {"start": "2021-01-01", "end": "2022-01-01"}}}]}]`,
		states: []stateQ{
			{at: "2020-06-01", inForce: []string{}},
			{at: "2021-01-01", inForce: []string{"o"}, fields: map[string]any{"obligations.id=o.start": "2021-01-01", "obligations.id=o.since": "2020-01-01"}},
			{at: "2021-12-31T23:59:59Z", inForce: []string{"o"}},
			{at: "2022-01-01", inForce: []string{}},
		},
		bars: map[string][]string{"o": {"2021-01-01..2022-01-01 add→term"}},
	},
	{
		name: "amend",
		history: `[` + open + `,
			{"op": "add", "clause": {"id": "rs", "kind": "revenue_share", "payer": "beta", "payee": "acme", "rate": "0.10"}}]},
			{"agreement": "acme", "effective": "2021-01-01", "changes": [{"op": "amend", "clause": "rs", "set": {"rate": "0.20", "note": "raised"}}]},
			{"agreement": "acme", "effective": "2022-01-01", "changes": [{"op": "amend", "clause": "rs", "set": {"note": null}}]}]`,
		states: []stateQ{
			{at: "2020-12-31", fields: map[string]any{"revenue_shares.id=rs.rate": "0.1", "revenue_shares.id=rs.since": "2020-01-01", "revenue_shares.id=rs.note": absent}},
			{at: "2021-01-01", fields: map[string]any{
				"revenue_shares.id=rs.rate": "0.2", "revenue_shares.id=rs.note": "raised", "revenue_shares.id=rs.since": "2021-01-01",
				"revenue_shares.id=rs.start": "2020-01-01", "revenue_shares.id=rs.amendments": []any{"$1", "$2"},
			}},
			{at: "2022-01-01", fields: map[string]any{"revenue_shares.id=rs.rate": "0.2", "revenue_shares.id=rs.note": absent, "revenue_shares.id=rs.amendments": []any{"$1", "$2", "$3"}}},
		},
		bars: map[string][]string{"rs": {"2020-01-01..2021-01-01 add→amend", "2021-01-01..2022-01-01 amend→amend", "2022-01-01.. amend→"}},
		diffs: []diffQ{
			{from: "2020-06-01", to: "2021-06-01", changed: map[string][]string{"rs": {"note", "rate"}}},
			{from: "2021-06-01", to: "2020-06-01", changed: map[string][]string{"rs": {"note", "rate"}}},
			{from: "2021-06-01", to: "2021-07-01"},
		},
	},
	{
		name: "amend of a term without a start keeps the clause's start",
		history: `[` + open + `]},
			{"agreement": "acme", "effective": "2020-03-01", "changes": [{"op": "add", "clause": {"id": "l", "kind": "license", "licensor": "acme", "licensee": "beta", "subject": "s", "term": {"ends_on": "ipo"}}}]},
			{"agreement": "acme", "effective": "2022-01-01", "changes": [{"op": "amend", "clause": "l", "set": {"term": {"end": "2030-01-01"}}}]},
			{"agreement": "acme", "effective": "2023-01-01", "changes": [{"op": "declare", "condition": "ipo"}]}]`,
		states: []stateQ{
			{at: "2021-01-01", fields: map[string]any{"licenses.id=l.start": "2020-03-01", "licenses.id=l.end": nil, "licenses.id=l.term": map[string]any{"ends_on": "ipo"}}},
			{at: "2025-01-01", inForce: []string{"l"}, fields: map[string]any{
				"licenses.id=l.start": "2020-03-01", "licenses.id=l.end": "2030-01-01", "licenses.id=l.since": "2022-01-01",
				"licenses.id=l.term": map[string]any{"end": "2030-01-01"}, "conditions.0.condition": "ipo",
			}},
			{at: "2029-12-31", inForce: []string{"l"}},
			{at: "2030-01-01", inForce: []string{}},
		},
		bars: map[string][]string{"l": {"2020-03-01..2022-01-01 add→amend", "2022-01-01..2030-01-01 amend→term"}},
	},
	{
		name: "end",
		history: `[` + open + `,
			{"op": "add", "clause": {"id": "c", "kind": "commitment", "obligor": "acme", "beneficiary": "beta", "what": "w", "amount": {"amount": "1", "currency": "USD"}}}]},
			{"agreement": "acme", "effective": "2021-01-01", "changes": [{"op": "end", "clause": "c"}]}]`,
		states: []stateQ{
			{at: "2020-12-31T23:59:59Z", inForce: []string{"c"}},
			{at: "2021-01-01", inForce: []string{}},
		},
		bars:  map[string][]string{"c": {"2020-01-01..2021-01-01 add→end"}},
		diffs: []diffQ{{from: "2020-06-01", to: "2021-06-01", ended: []string{"c"}}, {from: "2021-06-01", to: "2020-06-01", added: []string{"c"}}},
	},
	{
		name: "declare ends the clauses whose term ends on the condition",
		history: `[` + open + `,
			{"op": "add", "clause": {"id": "a", "kind": "obligation", "obligor": "acme", "beneficiary": "beta", "what": "w", "term": {"ends_on": "ipo"}}},
			{"op": "add", "clause": {"id": "b", "kind": "obligation", "obligor": "acme", "beneficiary": "beta", "what": "w"}},
			{"op": "add", "clause": {"id": "c", "kind": "obligation", "obligor": "acme", "beneficiary": "beta", "what": "w", "term": {"ends_on": "ipo"}}},
			{"op": "add", "clause": {"id": "d", "kind": "obligation", "obligor": "acme", "beneficiary": "beta", "what": "w", "term": {"ends_on": "agi"}}}]},
			{"agreement": "acme", "effective": "2021-01-01", "changes": [{"op": "amend", "clause": "c", "set": {"term": null}}]},
			{"agreement": "acme", "effective": "2022-01-01", "changes": [{"op": "declare", "condition": "ipo"}]}]`,
		states: []stateQ{
			{at: "2021-12-31", inForce: []string{"a", "b", "c", "d"}, fields: map[string]any{"conditions": []any{}}},
			{at: "2022-01-01", inForce: []string{"b", "c", "d"}, fields: map[string]any{
				"conditions": []any{map[string]any{"condition": "ipo", "at": "2022-01-01", "amendment": "$3"}},
			}},
		},
		bars: map[string][]string{"a": {"2020-01-01..2022-01-01 add→declare"}, "c": {"2020-01-01..2021-01-01 add→amend", "2021-01-01.. amend→"}},
	},
	{
		name: "report: rate × base, exactly, in a running total",
		history: `[` + open + `,
			{"op": "add", "clause": {"id": "rs", "kind": "revenue_share", "payer": "beta", "payee": "acme", "rate": "0.15"}}]},
			{"agreement": "acme", "effective": "2021-01-01", "changes": [{"op": "report", "clause": "rs", "period": {"start": "2020-01-01", "end": "2021-01-01"}, "base": {"amount": "1234.56", "currency": "USD"}}]},
			{"agreement": "acme", "effective": "2021-04-01", "changes": [{"op": "report", "clause": "rs", "period": {"start": "2021-01-01", "end": "2021-04-01"}, "base": {"amount": "0.01", "currency": "USD"}}]}]`,
		states: []stateQ{
			{at: "2020-12-31", fields: map[string]any{
				"revenue_shares.id=rs.accrued": nil, "revenue_shares.id=rs.reports": 0.0,
				"revenue_shares.id=rs.why": contains("no revenue has been reported"), "revenue_shares.id=rs.cap_remaining": nil,
			}},
			{at: "2021-01-01", fields: map[string]any{
				"revenue_shares.id=rs.accrued": map[string]any{"amount": "185.184", "currency": "USD"}, "revenue_shares.id=rs.reports": 1.0,
				"revenue_shares.id=rs.why": contains("no cap"),
			}},
			{at: "2021-04-01", fields: map[string]any{"revenue_shares.id=rs.accrued.amount": "185.1855", "revenue_shares.id=rs.reports": 2.0}},
		},
	},
	{
		name: "report: the running total stops exactly at the cap",
		history: `[` + open + `,
			{"op": "add", "clause": {"id": "rs", "kind": "revenue_share", "payer": "beta", "payee": "acme", "rate": "0.5", "cap": {"amount": "1000", "currency": "USD"}}}]},
			{"agreement": "acme", "effective": "2021-01-01", "changes": [{"op": "report", "clause": "rs", "period": {"start": "2020-01-01", "end": "2021-01-01"}, "base": {"amount": "1200", "currency": "USD"}}]},
			{"agreement": "acme", "effective": "2022-01-01", "changes": [{"op": "report", "clause": "rs", "period": {"start": "2021-01-01", "end": "2022-01-01"}, "base": {"amount": "1000", "currency": "USD"}}]},
			{"agreement": "acme", "effective": "2023-01-01", "changes": [{"op": "report", "clause": "rs", "period": {"start": "2022-01-01", "end": "2023-01-01"}, "base": {"amount": "10", "currency": "USD"}}]}]`,
		states: []stateQ{
			{at: "2020-06-01", fields: map[string]any{"revenue_shares.id=rs.accrued.amount": "0", "revenue_shares.id=rs.cap_remaining.amount": "1000", "revenue_shares.id=rs.why": absent}},
			{at: "2021-06-01", fields: map[string]any{"revenue_shares.id=rs.accrued.amount": "600", "revenue_shares.id=rs.cap_remaining.amount": "400"}},
			{at: "2022-06-01", fields: map[string]any{"revenue_shares.id=rs.accrued.amount": "1000", "revenue_shares.id=rs.cap_remaining.amount": "0"}},
			{at: "2023-06-01", fields: map[string]any{"revenue_shares.id=rs.accrued.amount": "1000", "revenue_shares.id=rs.cap_remaining.amount": "0", "revenue_shares.id=rs.reports": 3.0}},
		},
	},
	{
		name: "report: a lowered cap does not claw back",
		history: `[` + open + `,
			{"op": "add", "clause": {"id": "rs", "kind": "revenue_share", "payer": "beta", "payee": "acme", "rate": "0.5", "cap": {"amount": "1000", "currency": "USD"}}}]},
			{"agreement": "acme", "effective": "2021-01-01", "changes": [{"op": "report", "clause": "rs", "period": {"start": "2020-01-01", "end": "2021-01-01"}, "base": {"amount": "1600", "currency": "USD"}}]},
			{"agreement": "acme", "effective": "2021-06-01", "changes": [{"op": "amend", "clause": "rs", "set": {"cap": {"amount": "500", "currency": "USD"}}}]},
			{"agreement": "acme", "effective": "2022-01-01", "changes": [{"op": "report", "clause": "rs", "period": {"start": "2021-01-01", "end": "2022-01-01"}, "base": {"amount": "100", "currency": "USD"}}]}]`,
		states: []stateQ{
			{at: "2021-03-01", fields: map[string]any{"revenue_shares.id=rs.accrued.amount": "800", "revenue_shares.id=rs.cap_remaining.amount": "200"}},
			{at: "2021-07-01", fields: map[string]any{"revenue_shares.id=rs.accrued.amount": "800", "revenue_shares.id=rs.cap_remaining.amount": "0", "revenue_shares.id=rs.cap.amount": "500"}},
			{at: "2022-01-01", fields: map[string]any{"revenue_shares.id=rs.accrued.amount": "800", "revenue_shares.id=rs.cap_remaining.amount": "0"}},
		},
	},
	{
		name: "report: an undisclosed rate cannot be computed",
		history: `[` + open + `,
			{"op": "add", "clause": {"id": "rs", "kind": "revenue_share", "payer": "beta", "payee": "acme", "rate": {"undisclosed": true}, "cap": {"amount": "50", "currency": "USD"}}}]},
			{"agreement": "acme", "effective": "2021-01-01", "changes": [{"op": "report", "clause": "rs", "period": {"start": "2020-01-01", "end": "2021-01-01"}, "base": {"amount": "100", "currency": "USD"}}]}]`,
		states: []stateQ{
			{at: "2020-06-01", fields: map[string]any{"revenue_shares.id=rs.accrued": nil, "revenue_shares.id=rs.why": contains("rate is undisclosed"), "revenue_shares.id=rs.rate": map[string]any{"undisclosed": true}}},
			{at: "2021-06-01", fields: map[string]any{
				"revenue_shares.id=rs.accrued": nil, "revenue_shares.id=rs.reports": 1.0,
				"revenue_shares.id=rs.why":           contains("the rate of rs is undisclosed"),
				"revenue_shares.id=rs.cap_remaining": nil,
			}},
		},
	},
	{
		name: "report: an undisclosed cap leaves what remains undisclosed",
		history: `[` + open + `,
			{"op": "add", "clause": {"id": "rs", "kind": "revenue_share", "payer": "beta", "payee": "acme", "rate": "0.1", "cap": {"undisclosed": true, "currency": "USD"}}}]},
			{"agreement": "acme", "effective": "2021-01-01", "changes": [{"op": "report", "clause": "rs", "period": {"start": "2020-01-01", "end": "2021-01-01"}, "base": {"amount": "100", "currency": "USD"}}]}]`,
		states: []stateQ{
			{at: "2021-06-01", fields: map[string]any{
				"revenue_shares.id=rs.accrued":       nil,
				"revenue_shares.id=rs.why":           contains("the cap of rs is undisclosed"),
				"revenue_shares.id=rs.cap_remaining": map[string]any{"undisclosed": true, "currency": "USD"},
			}},
		},
	},
	{
		name: "fund",
		history: `[` + open + `,
			{"op": "add", "clause": {"id": "inv", "kind": "investment", "investor": "beta", "investee": "acme", "tranches": [
				{"id": "a", "amount": {"amount": "100.50", "currency": "USD"}},
				{"id": "b", "amount": {"amount": "200", "currency": "USD"}, "condition": "milestone"}]}}]},
			{"agreement": "acme", "effective": "2021-01-01", "changes": [{"op": "fund", "clause": "inv", "tranche": "b"}]}]`,
		states: []stateQ{
			{at: "2020-06-01", fields: map[string]any{
				"investments.id=inv.tranches.0.funded": nil, "investments.id=inv.tranches.1.funded": nil, "investments.id=inv.tranches.1.condition": "milestone",
				"investments.id=inv.committed": map[string]any{"amount": "300.5", "currency": "USD"}, "investments.id=inv.funded": map[string]any{"amount": "0", "currency": "USD"},
			}},
			{at: "2021-01-01", fields: map[string]any{
				"investments.id=inv.tranches.0.funded": nil, "investments.id=inv.tranches.1.funded": "2021-01-01",
				"investments.id=inv.committed.amount": "300.5", "investments.id=inv.funded.amount": "200",
			}},
		},
	},
	{
		name: "retract: hidden from its recording on",
		history: `[` + open + `,
			{"op": "add", "clause": {"id": "x", "kind": "obligation", "obligor": "acme", "beneficiary": "beta", "what": "w"}}]},
			{"agreement": "acme", "effective": "2020-02-01", "changes": [{"op": "add", "clause": {"id": "y", "kind": "obligation", "obligor": "acme", "beneficiary": "beta", "what": "w"}}]},
			{"agreement": "acme", "effective": "2020-03-01", "changes": [{"op": "retract", "amendment": "$2"}]}]`,
		recorded: []string{"2020-01-01", "2020-02-01", "2021-01-01"},
		states: []stateQ{
			{at: "2020-06-01", known: "2020-12-31", inForce: []string{"x", "y"}, fields: map[string]any{"version": 2.0}},
			{at: "2020-06-01", known: "2021-01-01", inForce: []string{"x"}, fields: map[string]any{"version": 3.0}},
			{at: "2020-06-01", inForce: []string{"x"}},
			{at: "2020-01-15", known: "2020-01-15", inForce: []string{"x"}, fields: map[string]any{"version": 1.0}},
		},
		bars: map[string][]string{"x": {"2020-01-01.. add→"}},
	},
	{
		name: "close",
		history: `[` + open + `,
			{"op": "add", "clause": {"id": "x", "kind": "obligation", "obligor": "acme", "beneficiary": "beta", "what": "w"}},
			{"op": "add", "clause": {"id": "y", "kind": "right", "holder": "acme", "grantor": "beta", "right": "r", "term": {"end": "2030-01-01"}}}]},
			{"agreement": "acme", "effective": "2022-01-01", "changes": [{"op": "close"}]}]`,
		states: []stateQ{
			{at: "2021-12-31", status: "open", inForce: []string{"x", "y"}, fields: map[string]any{"closed": nil}},
			{at: "2022-01-01", status: "closed", inForce: []string{}, fields: map[string]any{"closed": "2022-01-01"}},
			{at: "2040-01-01", status: "closed", inForce: []string{}},
		},
		bars:  map[string][]string{"x": {"2020-01-01..2022-01-01 add→close"}, "y": {"2020-01-01..2022-01-01 add→close"}},
		diffs: []diffQ{{from: "2021-01-01", to: "2023-01-01", ended: []string{"x", "y"}}},
	},
	{
		name: "retroactive amendment: the past changes, what was believed stays",
		history: `[` + open + `,
			{"op": "add", "clause": {"id": "rs", "kind": "revenue_share", "payer": "beta", "payee": "acme", "rate": "0.1"}}]},
			{"agreement": "acme", "effective": "2020-06-01", "changes": [{"op": "amend", "clause": "rs", "set": {"rate": "0.2"}}]}]`,
		recorded: []string{"2020-01-01", "2021-01-01"},
		states: []stateQ{
			{at: "2020-07-01", known: "2020-12-31", fields: map[string]any{"revenue_shares.id=rs.rate": "0.1", "version": 1.0}},
			{at: "2020-07-01", fields: map[string]any{"revenue_shares.id=rs.rate": "0.2", "version": 2.0}},
			{at: "2020-05-31", fields: map[string]any{"revenue_shares.id=rs.rate": "0.1"}},
			{at: "2020-07-01", known: "2021-01-01", fields: map[string]any{"revenue_shares.id=rs.rate": "0.2", "known_at": "2021-01-01"}},
		},
	},
	{
		name: "future-dated amendment",
		history: `[` + open + `,
			{"op": "add", "clause": {"id": "rs", "kind": "revenue_share", "payer": "beta", "payee": "acme", "rate": "0.1"}}]},
			{"agreement": "acme", "effective": "2030-01-01", "changes": [{"op": "end", "clause": "rs"}]},
			{"agreement": "acme", "effective": "2025-01-01", "changes": [{"op": "amend", "clause": "rs", "set": {"rate": "0.3"}}]}]`,
		recorded: []string{"2020-01-01", "2021-01-01", "2022-01-01"},
		states: []stateQ{
			{at: "2024-12-31", inForce: []string{"rs"}, fields: map[string]any{"revenue_shares.id=rs.rate": "0.1"}},
			{at: "2026-01-01", inForce: []string{"rs"}, fields: map[string]any{"revenue_shares.id=rs.rate": "0.3"}},
			{at: "2030-01-01", inForce: []string{}},
			{at: "2030-01-01", known: "2020-06-01", inForce: []string{"rs"}},
			{at: "2026-01-01", known: "2021-06-01", fields: map[string]any{"revenue_shares.id=rs.rate": "0.1"}},
		},
		bars: map[string][]string{"rs": {"2020-01-01..2025-01-01 add→amend", "2025-01-01..2030-01-01 amend→end"}},
	},
	{
		name: "ties on effective time are broken by sequence",
		history: `[` + open + `,
			{"op": "add", "clause": {"id": "rs", "kind": "revenue_share", "payer": "beta", "payee": "acme", "rate": "0.1"}}]},
			{"agreement": "acme", "effective": "2021-01-01", "changes": [{"op": "amend", "clause": "rs", "set": {"rate": "0.2"}}]},
			{"agreement": "acme", "effective": "2021-01-01", "changes": [{"op": "amend", "clause": "rs", "set": {"rate": "0.3"}}]},
			{"agreement": "acme", "effective": "2022-01-01", "changes": [{"op": "amend", "clause": "rs", "set": {"note": "n"}}]},
			{"agreement": "acme", "effective": "2021-01-01", "changes": [{"op": "amend", "clause": "rs", "set": {"rate": "0.4"}}]}]`,
		recorded: []string{"2020-01-01", "2021-01-01", "2021-01-01", "2022-01-01", "2023-01-01"},
		states: []stateQ{
			{at: "2021-01-01", known: "2022-06-01", fields: map[string]any{"revenue_shares.id=rs.rate": "0.3", "revenue_shares.id=rs.amendments": []any{"$1", "$2", "$3"}}},
			{at: "2021-01-01", fields: map[string]any{"revenue_shares.id=rs.rate": "0.4", "revenue_shares.id=rs.amendments": []any{"$1", "$2", "$3", "$5"}}},
			{at: "2022-01-01", fields: map[string]any{"revenue_shares.id=rs.rate": "0.4", "revenue_shares.id=rs.note": "n"}},
		},
	},
}

// substitute replaces "$n" with the id of the nth amendment of the history.
func substitute(s string) string {
	for n := 20; n >= 1; n-- {
		s = strings.ReplaceAll(s, fmt.Sprintf("$%d", n), testID(n).String())
	}
	return s
}

func substituteAny(v any) any {
	switch x := v.(type) {
	case string:
		return substitute(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = substituteAny(e)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = substituteAny(e)
		}
		return out
	}
	return v
}

func buildCase(t *testing.T, c opCase) *projections.Index {
	t.Helper()
	as := decode(t, 1, substitute(c.history))
	rec := lag(time.Hour)
	if c.recorded != nil {
		rec = at(t, c.recorded...)
	}
	return index(t, records(as, rec))
}

func TestOps(t *testing.T) {
	for _, c := range opCases {
		t.Run(c.name, func(t *testing.T) {
			ix := buildCase(t, c)
			for _, q := range c.states {
				agreement := q.agreement
				if agreement == "" {
					agreement = "acme"
				}
				s := state(t, ix, agreement, q.at, q.known)
				where := fmt.Sprintf("at %s known at %q", q.at, q.known)
				if q.status != "" && s.Status != q.status {
					t.Errorf("%s: status %s, want %s", where, s.Status, q.status)
				}
				if q.inForce != nil {
					want := slices.Sorted(slices.Values(q.inForce))
					if got := clauseIDs(s); !slices.Equal(got, want) {
						t.Errorf("%s: in force %v, want %v", where, got, want)
					}
				}
				doc := parsed(t, s)
				for path, want := range q.fields {
					checkField(t, where, doc, path, substituteAny(want))
				}
			}
			if c.bars != nil {
				tl, err := ix.Timeline("acme", time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				got := bars(t, tl)
				for id, want := range c.bars {
					if !slices.Equal(got[id], want) {
						t.Errorf("timeline of %s: %q, want %q", id, got[id], want)
					}
				}
			}
			for _, q := range c.diffs {
				d, err := ix.Diff("acme", day(t, q.from), day(t, q.to), time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				checkDiff(t, d, q)
			}
		})
	}
}

func checkField(t *testing.T, where string, doc any, path string, want any) {
	t.Helper()
	var steps []any
	for _, p := range strings.Split(path, ".") {
		var n int
		if _, err := fmt.Sscanf(p, "%d", &n); err == nil && fmt.Sprint(n) == p {
			steps = append(steps, n)
		} else {
			steps = append(steps, p)
		}
	}
	if _, isAbsent := want.(absentT); isAbsent {
		parent := get(t, doc, steps[:len(steps)-1]...).(map[string]any)
		if v, ok := parent[steps[len(steps)-1].(string)]; ok {
			t.Errorf("%s: %s = %v, want it absent", where, path, v)
		}
		return
	}
	got := get(t, doc, steps...)
	if sub, ok := want.(contains); ok {
		if s, _ := got.(string); !strings.Contains(s, string(sub)) {
			t.Errorf("%s: %s = %q, want it to contain %q", where, path, got, sub)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: %s = %s, want %s", where, path, jsonText(t, got), jsonText(t, want))
	}
}

// bars draws a timeline's segments as "from..until opener→closer" per clause.
func bars(t *testing.T, tl *projections.Timeline) map[string][]string {
	out := map[string][]string{}
	for _, c := range tl.Clauses {
		segs := []string{}
		for _, s := range c.Segments {
			until, closer := "", ""
			if !s.Until.IsZero() {
				until = day0(s.Until)
			}
			if s.Closed != nil {
				closer = s.Closed.Op
			}
			segs = append(segs, fmt.Sprintf("%s..%s %s→%s", day0(s.From), until, s.Opened.Op, closer))
		}
		out[c.ID] = segs
	}
	return out
}

func day0(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func checkDiff(t *testing.T, d *projections.Diff, q diffQ) {
	t.Helper()
	var added, ended []string
	for _, c := range d.Added {
		added = append(added, c.ID)
	}
	for _, c := range d.Ended {
		ended = append(ended, c.ID)
	}
	changed := map[string][]string{}
	for _, c := range d.Changed {
		for _, f := range c.Fields {
			changed[c.ID] = append(changed[c.ID], f.Field)
		}
	}
	if q.changed == nil {
		q.changed = map[string][]string{}
	}
	if !slices.Equal(added, q.added) || !slices.Equal(ended, q.ended) || !reflect.DeepEqual(changed, q.changed) {
		t.Errorf("diff %s → %s: added %v ended %v changed %v; want %v %v %v", q.from, q.to, added, ended, changed, q.added, q.ended, q.changed)
	}
	if d.Empty() != (len(q.added)+len(q.ended)+len(q.changed) == 0) {
		t.Errorf("diff %s → %s: Empty() = %v", q.from, q.to, d.Empty())
	}
}

// TestRetractHistory checks what History and Timeline say of a retraction.
func TestRetractHistory(t *testing.T) {
	var c opCase
	for _, oc := range opCases {
		if strings.HasPrefix(oc.name, "retract") {
			c = oc
		}
	}
	ix := buildCase(t, c)
	h, err := ix.History("acme")
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Amendments[1].RetractedBy; got != testID(3).String() {
		t.Errorf("retracted_by = %q, want %s", got, testID(3))
	}
	if got := get(t, parsed(t, h), "amendments", 1, "retracted_by"); got != testID(3).String() {
		t.Errorf("JSON retracted_by = %v", got)
	}
	for _, k := range []struct {
		known     string
		retracted bool
	}{{"", true}, {"2020-12-31", false}} {
		tl, err := ix.Timeline("acme", day(t, k.known))
		if err != nil {
			t.Fatal(err)
		}
		var ys []string
		for _, cl := range tl.Clauses {
			ys = append(ys, cl.ID)
		}
		if got := slices.Contains(ys, "y"); got == k.retracted {
			t.Errorf("timeline known at %q has y: %v", k.known, got)
		}
		for _, m := range tl.Amendments {
			if m.ID == testID(2).String() && m.Retracted != k.retracted {
				t.Errorf("timeline known at %q: marker retracted = %v, want %v", k.known, m.Retracted, k.retracted)
			}
		}
	}
	if _, err := ix.State("acme", day(t, "2020-06-01"), day(t, "2019-01-01")); err == nil {
		t.Error("state known before anything was recorded: no error")
	}
}
