package events_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/agreement-ledger/ledger/events"
)

var update = flag.Bool("update", false, "rewrite testdata/rejections.golden, and schema.json's clauses from the kinds table")

// hostileFiles returns the inputs of ledger/ledgertest's hostile corpus by
// file name. They are read from its directory: importing ledgertest would
// build the whole ledger, and NATS, into this package's tests and fuzzing.
func hostileFiles(t testing.TB) map[string][]byte {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("..", "ledger", "ledgertest", "testdata", "hostile", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, name := range names {
		if filepath.Base(name) == "cases.json" {
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(name)] = data
	}
	if len(out) < 70 {
		t.Fatalf("only %d hostile inputs", len(out))
	}
	return out
}

// rejectedInCode are amendments built in code that Check refuses, each made
// from a valid one by a change no JSON input could be read into.
func rejectedInCode(t testing.TB) map[string]*events.Amendment {
	t.Helper()
	base := func() *events.Amendment {
		as, err := events.Decode([]byte(with(amendment(openChange,
			add(with(shareClause, `"cap":{"amount":"15.5","currency":"USD"},"term":{"start":"2026-01-01","end":"2027-01-01"}`)),
			add(with(licenseClause, `"scope":{"channels":["api","web"]}`)),
			add(investmentClause),
			`{"op":"amend","clause":"royalty","set":{"rate":"0.1"}}`,
			reportChange,
			`{"op":"retract","amendment":"01KJE6A900JMRNV7E9Z0C1HT0J"}`),
			`"id":"`+aULID+`","summary":"Signed."`)))
		if err != nil {
			t.Fatal(err)
		}
		return as[0]
	}
	// Changes 1 to 3 add clauses; 4 amends, 5 reports, 6 retracts.
	share := func(a *events.Amendment) *events.Clause { return a.Changes[1].Clause }
	license := func(a *events.Amendment) *events.Clause { return a.Changes[2].Clause }
	investment := func(a *events.Amendment) *events.Clause { return a.Changes[3].Clause }
	mutations := map[string]func(a *events.Amendment){
		"agreement not a slug":          func(a *events.Amendment) { a.Agreement = "Not A Slug" },
		"no effective time":             func(a *events.Amendment) { a.Effective = time.Time{} },
		"effective before 1900":         func(a *events.Amendment) { a.Effective = time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC) },
		"nil changes":                   func(a *events.Amendment) { a.Changes = nil },
		"no changes":                    func(a *events.Amendment) { a.Changes = []events.Change{} },
		"open not first":                func(a *events.Amendment) { a.Changes = append(a.Changes[1:], a.Changes[0]) },
		"an unknown op":                 func(a *events.Amendment) { a.Changes[6].Op = "suspend" },
		"add of no clause":              func(a *events.Amendment) { a.Changes[1].Clause = nil },
		"an unknown kind":               func(a *events.Amendment) { share(a).Kind = "warranty" },
		"a clause without a holder":     func(a *events.Amendment) { license(a).Holder = "" },
		"grantor is the holder":         func(a *events.Amendment) { license(a).Holder = license(a).Grantor },
		"a rate above one":              func(a *events.Amendment) { share(a).Rate = &events.Rate{Value: decimal.RequireFromString("1.5")} },
		"negative money":                func(a *events.Amendment) { share(a).Cap.Amount = decimal.RequireFromString("-1") },
		"too many decimal places":       func(a *events.Amendment) { share(a).Cap.Amount = decimal.RequireFromString("0.0000000001") },
		"a lower-case currency":         func(a *events.Amendment) { share(a).Cap.Currency = "usd" },
		"money without a currency":      func(a *events.Amendment) { share(a).Cap.Currency = "" },
		"an empty scope dimension":      func(a *events.Amendment) { license(a).Scope.Products = []string{} },
		"a scope value twice":           func(a *events.Amendment) { license(a).Scope.Channels = []string{"api", "api"} },
		"a wildcard among scope values": func(a *events.Amendment) { license(a).Scope.Channels = []string{"*", "api"} },
		"a term ending as it starts":    func(a *events.Amendment) { share(a).Term.End = share(a).Term.Start },
		"a term ending before effective": func(a *events.Amendment) {
			share(a).Term.Start, share(a).Term.End = time.Time{}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		},
		"tranche ids twice": func(a *events.Amendment) {
			investment(a).Tranches = append(investment(a).Tranches, investment(a).Tranches[0])
		},
		"no tranches":              func(a *events.Amendment) { investment(a).Tranches = nil },
		"an undisclosed base":      func(a *events.Amendment) { a.Changes[5].More().Base = &events.Money{Undisclosed: true} },
		"no base":                  func(a *events.Amendment) { a.Changes[5].More().Base = nil },
		"a period starting late":   func(a *events.Amendment) { a.Changes[5].More().Period.Start = a.Effective.Add(time.Hour) },
		"a period of no time":      func(a *events.Amendment) { a.Changes[5].More().Period.End = a.Changes[5].Of().Period.Start },
		"a retraction of itself":   func(a *events.Amendment) { a.Changes[6].More().Target = a.ID },
		"amend of no patch":        func(a *events.Amendment) { a.Changes[4].Set = nil },
		"amend of nothing":         func(a *events.Amendment) { a.Changes[4].Set.Names = nil },
		"amend of a field twice":   func(a *events.Amendment) { a.Changes[4].Set.Names = []string{"rate", "rate"} },
		"a control character":      func(a *events.Amendment) { a.Summary = "ring \a" },
		"a blank summary":          func(a *events.Amendment) { a.Summary = " " },
		"a summary too long":       func(a *events.Amendment) { a.Summary = strings.Repeat("x", events.MaxText+1) },
		"a party twice":            func(a *events.Amendment) { a.Changes[0].More().Parties = []string{"acme", "acme"} },
		"one party":                func(a *events.Amendment) { a.Changes[0].More().Parties = a.Changes[0].Of().Parties[:1] },
		"a change of another op":   func(a *events.Amendment) { a.Changes[6].Op = events.Close },
		"invalid UTF-8 in a title": func(a *events.Amendment) { a.Changes[0].More().Title = "bad \xff" },
		"a source of nothing":      func(a *events.Amendment) { a.Source = &events.Source{Title: " "} },
	}
	out := map[string]*events.Amendment{}
	for name, mutate := range mutations {
		a := base()
		mutate(a)
		out[name] = a
	}
	return out
}

// TestRejectionTexts holds the full error text of every rejected input to
// the words in testdata/rejections.golden: Decode and DecodeStored of the
// bad inputs and the hostile corpus, DecodeStored of stored bytes made
// invalid, and Check of amendments built wrong in code. Faster readers must
// not change what a rejection says (go test -update rewrites the file).
func TestRejectionTexts(t *testing.T) {
	got := map[string]string{}
	text := func(err error) string {
		if err == nil {
			return "accepted"
		}
		return err.Error()
	}
	inputs := map[string][]byte{}
	for _, tc := range badInputs {
		inputs["bad input/"+tc.name] = []byte(tc.input)
	}
	for name, data := range hostileFiles(t) {
		inputs["hostile/"+name] = data
	}
	for name, data := range inputs {
		_, err := events.Decode(data)
		got["Decode: "+name] = text(err)
		_, _, err = events.DecodeStored(data)
		got["DecodeStored: "+name] = text(err)
	}
	for name, data := range invalidStored(t) {
		_, _, err := events.DecodeStored(data)
		got["DecodeStored: stored/"+name] = text(err)
	}
	for name, a := range rejectedInCode(t) {
		_, err := events.Check([]*events.Amendment{a})
		got["Check: "+name] = text(err)
	}
	const golden = "testdata/rejections.golden"
	if *update {
		data, err := json.MarshalIndent(got, "", "\t")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]string
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	for _, name := range slices.Sorted(maps.Keys(got)) {
		if got[name] != want[name] {
			t.Errorf("%s:\n got %s\nwant %s", name, got[name], want[name])
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d cases, the golden file has %d", len(got), len(want))
	}
}

// invalidStored returns stored amendments each made invalid by one edit of
// its bytes, among them edits that keep the canonical shape.
func invalidStored(t testing.TB) map[string][]byte {
	t.Helper()
	a := decodeOne(t, with(amendment(openChange,
		add(with(shareClause, `"cap":{"undisclosed":true,"currency":"USD"},"term":{"start":"2026-01-01T10:00:00.5Z","end":"2027-01-01"}`)),
		add(with(licenseClause, `"exclusive":true,"scope":{"channels":["api","web"]},"note":"Tom \u0026 \"Jerry\"\n"`)),
		add(investmentClause),
		`{"op":"amend","clause":"royalty","set":{"cap":null,"rate":"0.1"}}`,
		reportChange,
		`{"op":"retract","amendment":"01KJE6A900JMRNV7E9Z0C1HT0J"}`),
		`"id":"`+aULID+`","summary":"Signed.","signed":"2026-02-20","source":{"title":"T","url":"https://example.com/"}`))
	stored, err := events.Encode(a, somePrev)
	if err != nil {
		t.Fatal(err)
	}
	s := string(stored)
	edits := map[string][2]string{
		"schema version 2":          {`"v":1`, `"v":2`},
		"schema version 01":         {`"v":1`, `"v":01`},
		"zero prev":                 {somePrev.String(), strings.Repeat("0", 64)},
		"short prev":                {somePrev.String(), somePrev.String()[:62]},
		"upper-case prev":           {somePrev.String(), strings.ToUpper(somePrev.String())},
		"zero id":                   {aULID, "00000000000000000000000000"},
		"id not a ULID":             {aULID, "01KJE6A900JMRNV7E9Z0C1HT0U"},
		"agreement in upper case":   {`"acme-globex"`, `"Acme-globex"`},
		"date of February 30":       {`"2026-02-27"`, `"2026-02-30"`},
		"year 1899":                 {`"2026-02-20"`, `"1899-02-20"`},
		"hour 24":                   {`T10:00:00.5Z`, `T24:00:00.5Z`},
		"a fraction of ten digits":  {`T10:00:00.5Z`, `T10:00:00.5000000001Z`},
		"rate 1.1":                  {`"0.05"`, `"1.1"`},
		"rate of a leading zero":    {`"0.05"`, `"00.05"`},
		"undisclosed false":         {`"undisclosed":true`, `"undisclosed":false`},
		"an unknown currency":       {`"currency":"USD","undisclosed"`, `"currency":"XYZ","undisclosed"`},
		"an op of another case":     {`"op":"retract"`, `"op":"Retract"`},
		"an unknown kind":           {`"kind":"investment"`, `"kind":"invest"`},
		"a field of another kind":   {`"kind":"license","licensee"`, `"kind":"license","licensee":"globex","payee"`},
		"a field of another op":     {`"op":"retract"`, `"op":"end"`},
		"a scope out of order":      {`["api","web"]`, `["web","api"]`},
		"a scope value twice":       {`["api","web"]`, `["api","api"]`},
		"an escaped slug":           {`["api","web"]`, `["\u0061pi","web"]`},
		"a text with a control":     {`Signed.`, `Signed.\u0007`},
		"a text with a bad escape":  {`Signed.`, `Signed.\x`},
		"a text with a lone half":   {`Signed.`, `Signed.\ud800`},
		"a text with invalid UTF-8": {`Signed.`, "Signed.\xff"},
		"a blank title":             {`"title":"T"`, `"title":" "`},
		"members out of order":      {`"id":"` + aULID + `","prev"`, `"prev":"` + somePrev.String() + `","id":"` + aULID + `","prev"`},
		"a period ending early":     {`"end":"2026-01-01","start":"2025-10-01"`, `"end":"2025-10-01","start":"2025-10-01"`},
		"a tranche id twice":        {`"id":"initial"}]`, `"id":"initial"},{"amount":{"amount":"5","currency":"USD"},"id":"initial"}]`},
		"a party twice":             {`["acme","globex"]`, `["acme","acme"]`},
		"trailing bytes":            {`"v":1}`, `"v":1} `},
		"null changes":              {`"changes":[{"op":"open"`, `"changes":null,"x":[{"op":"open"`},
	}
	out := map[string][]byte{}
	for name, e := range edits {
		if strings.Count(s, e[0]) != 1 {
			t.Fatalf("%s: %q occurs %d times in %s", name, e[0], strings.Count(s, e[0]), s)
		}
		out[name] = []byte(strings.Replace(s, e[0], e[1], 1))
	}
	if _, _, err := events.DecodeStored(stored); err != nil {
		t.Fatalf("the unedited amendment does not read back: %v", err)
	}
	if !bytes.Contains(stored, []byte(`\u0026`)) {
		t.Fatalf("the stored form has no escape: %s", stored)
	}
	return out
}
