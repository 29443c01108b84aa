package events_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/seed"
)

// compiledSchema compiles events.Schema once.
var compiledSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(events.Schema))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("schema.json")
})

func schema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	sch, err := compiledSchema()
	if err != nil {
		t.Fatalf("compiling events.Schema: %v", err)
	}
	return sch
}

// validate checks input against the schema the way Decode reads it: an
// array or an object as one document, JSON Lines as one document a value.
func validate(t testing.TB, input []byte) error {
	t.Helper()
	sch := schema(t)
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(input, []byte("\ufeff"))) // as Decode does
	if len(trimmed) > 0 && trimmed[0] == '[' {
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(trimmed))
		if err != nil {
			return fmt.Errorf("not JSON: %w", err)
		}
		return sch.Validate(inst)
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	var errs []error
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return fmt.Errorf("not JSON: %w", err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return fmt.Errorf("not JSON: %w", err)
		}
		if err := sch.Validate(inst); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// validFiles returns the files of testdata/valid and the seed.
func validFiles(t testing.TB) map[string][]byte {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "valid", "*.json*"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"seed/seed.json": seed.JSON}
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = data
	}
	if len(files) < 6 {
		t.Fatalf("only %d valid files", len(files))
	}
	return files
}

func TestSchemaCompiles(t *testing.T) {
	schema(t)
	var doc struct {
		Schema string `json:"$schema"`
	}
	if err := json.Unmarshal(events.Schema, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %q", doc.Schema)
	}
}

func TestSchemaAcceptsValidFiles(t *testing.T) {
	for name, data := range validFiles(t) {
		t.Run(name, func(t *testing.T) {
			as, err := events.Decode(data)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if len(as) == 0 {
				t.Fatal("no amendments")
			}
			if err := validate(t, data); err != nil {
				t.Errorf("schema rejects a file Decode accepts: %v", err)
			}
		})
	}
}

// TestValidFilesCoverTheVocabulary checks that testdata/valid exercises every
// op, every clause kind and the unusual value forms.
func TestValidFilesCoverTheVocabulary(t *testing.T) {
	seen := map[string]bool{}
	for name, data := range validFiles(t) {
		if name == "seed/seed.json" {
			continue
		}
		as, err := events.Decode(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		switch {
		case strings.HasSuffix(name, ".jsonl") && len(as) > 1:
			seen["JSON Lines"] = true
		case bytes.HasPrefix(bytes.TrimSpace(data), []byte("[")) && len(as) > 1:
			seen["array"] = true
		}
		if bytes.Contains(data, []byte(`["*"]`)) {
			seen["scope with *"] = true
		}
		for _, a := range as {
			if a.Effective.Hour() != 0 || a.Effective.Nanosecond() != 0 {
				seen["effective date-time"] = true
			}
			for _, c := range a.Changes {
				seen["op "+string(c.Op)] = true
				if c.Set != nil {
					for _, n := range c.Set.Names {
						seen["set "+n] = true
					}
				}
				cl := c.Clause
				if cl == nil {
					continue
				}
				seen["kind "+string(cl.Kind)] = true
				if cl.Rate != nil && cl.Rate.Undisclosed {
					seen["undisclosed rate"] = true
				}
				for _, m := range []*events.Money{cl.Cap, cl.Amount} {
					if m != nil && m.Undisclosed {
						seen["undisclosed money"] = true
					}
				}
				if cl.Term != nil && cl.Term.EndsOn != "" {
					seen["term ends_on"] = true
				}
				if cl.Term != nil && !cl.Term.Start.IsZero() && !cl.Term.End.IsZero() {
					seen["term start and end"] = true
				}
				if cl.Scope != nil {
					seen["scope"] = true
				}
			}
		}
	}
	want := []string{"JSON Lines", "array", "scope with *", "effective date-time", "undisclosed rate", "undisclosed money",
		"term ends_on", "term start and end", "scope", "set cap", "set note", "set term", "set exclusive"}
	for _, op := range events.Ops {
		want = append(want, "op "+string(op))
	}
	for _, k := range events.Kinds {
		want = append(want, "kind "+string(k))
	}
	for _, w := range want {
		if !seen[w] {
			t.Errorf("testdata/valid has no %s", w)
		}
	}
}

// TestSchemaAndDecodeAgreeOnBadInputs runs the bad inputs of decode_test.go
// through the schema: structural problems must fail it too; problems only
// Decode can see (cross-field checks, byte lengths, duplicate members, size)
// must pass it, so that this list of what the schema cannot say stays true.
func TestSchemaAndDecodeAgreeOnBadInputs(t *testing.T) {
	for _, tc := range badInputs {
		if tc.schema == notJSON {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			err := validate(t, []byte(tc.input))
			if err != nil && strings.HasPrefix(err.Error(), "not JSON") {
				t.Fatalf("the schema cannot read the input: %v", err)
			}
			switch {
			case tc.schema == schemaRejects && err == nil:
				t.Errorf("schema accepts an input Decode rejects at %q (%s)", tc.path, tc.msg)
			case tc.schema == schemaAccepts && err != nil:
				t.Errorf("schema rejects an input only Decode was expected to reject: %v", err)
			}
		})
	}
}

func TestSchemaAcceptsGoodInputs(t *testing.T) {
	for _, tc := range goodInputs {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := events.Decode([]byte(tc.input)); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if err := validate(t, []byte(tc.input)); err != nil {
				t.Errorf("schema rejects an input Decode accepts: %v", err)
			}
		})
	}
}

// agree checks that Decode and the schema give the same verdict on input.
func agree(t *testing.T, what, input string) {
	t.Helper()
	_, derr := events.Decode([]byte(input))
	serr := validate(t, []byte(input))

	if (derr == nil) != (serr == nil) {
		t.Errorf("%s: Decode error: %v; schema error: %v", what, derr, serr)
	}
}

func randomString(r *rand.Rand, alphabet []string, maxLen int) string {
	var b strings.Builder
	for n := r.IntN(maxLen + 1); n > 0; n-- {
		b.WriteString(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

// randomChars returns n characters drawn from alphabet.
func randomChars(r *rand.Rand, alphabet string, n int) string {
	chars := []rune(alphabet)
	out := make([]rune, n)
	for i := range out {
		out[i] = chars[r.IntN(len(chars))]
	}
	return string(out)
}

func quoteJSON(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestSchemaAndDecodeAgreeOnValues puts many written values, well and badly
// formed, where the vocabulary uses them and checks that the schema and
// Decode accept the same ones.
func TestSchemaAndDecodeAgreeOnValues(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	values := map[string][]string{}

	// Slugs.
	slugs := []string{"a", "0", "a-", "a--b", "-a", "a_b", "A", "a.b", "a b", "", "*", "a>", "é", "аcme", "a\n",
		strings.Repeat("a", 63), strings.Repeat("a", 64), "0" + strings.Repeat("-", 62)}
	for range 300 {
		slugs = append(slugs, randomString(r, strings.Split("abz09---_.A *é", ""), 70))
	}
	values["slug"] = slugs

	// Dates: every month and day of years around the edges.
	var dates []string
	for _, y := range []string{"1899", "1900", "1904", "1999", "2000", "2023", "2024", "2100", "2400", "9999", "0999", "10000"} {
		for m := 0; m <= 13; m++ {
			for d := 0; d <= 32; d++ {
				dates = append(dates, fmt.Sprintf("%s-%02d-%02d", y, m, d))
			}
		}
	}
	values["date"] = dates

	// Date-times.
	var times []string
	for _, tm := range []string{"00:00:00", "23:59:59", "24:00:00", "12:60:00", "12:00:60", "9:00:00", "12:00", "12:00:00.", "12:00:00.5", "12:00:00,5", "12:00:00.123456789123"} {
		for _, zone := range []string{"Z", "z", "", "+00:00", "-00:00", "+05:30", "+23:59", "+24:00", "-01:60", "+0100", "+01"} {
			times = append(times, "2026-02-27T"+tm+zone, "2026-02-27t"+tm+zone, "2026-02-27 "+tm+zone)
		}
	}
	for range 300 {
		times = append(times, randomString(r, strings.Split("20260227-:T.Z+19", ""), 30))
	}
	values["time"] = times

	// Decimals, as amounts and as rates.
	decimals := []string{"0", "00", "0.0", "1", "1.0", "1.000000000000", "1.5", "0.999999999", "0.9999999999", "1.0000000001",
		"999999999999999999", "1000000000000000000", "000999999999999999999", "0.123456789", "0.1234567890000", "0.1234567891",
		".5", "5.", "-0", "+1", "1e3", "0x10", " 1", "1 ", "1,5", "", "٣", strings.Repeat("0", 70) + "1"}
	for range 300 {
		decimals = append(decimals, randomString(r, strings.Split("0000123456789.-e", ""), 25))
	}
	values["decimal"] = decimals

	// ULIDs.
	ulids := []string{aULID, strings.ToLower(aULID), "7ZZZZZZZZZZZZZZZZZZZZZZZZZ", "8ZZZZZZZZZZZZZZZZZZZZZZZZZ", "00000000000000000000000000",
		aULID[:25], aULID + "0", strings.Replace(aULID, "J", "I", 1), strings.Replace(aULID, "J", "L", 1), strings.Replace(aULID, "J", "O", 1), strings.Replace(aULID, "J", "U", 1)}
	for range 300 {
		u := []rune(randomChars(r, "01234567", 1) + randomChars(r, "0123456789ABCDEFGHJKMNPQRSTVWXYZabcdefghjkmnpqrstvwxyz", 25))
		if r.IntN(2) == 0 { // spoil one character
			u[r.IntN(len(u))] = []rune(randomChars(r, "89ILOUilou-_ Z", 1))[0]
		}
		ulids = append(ulids, string(u[:24+r.IntN(3)]))
	}
	values["ulid"] = ulids

	// Text.
	texts := []string{"x", " x ", "\tx\n", "", " ", "\t\n", "\u00a0", "\u2003\u3000", "\u200b", "x\u0085", strings.Repeat("x", events.MaxText), strings.Repeat("x", events.MaxText+1)}
	for c := rune(0); c < 0xa0; c++ {
		if c < 0x20 || c >= 0x7f {
			texts = append(texts, "a"+string(c)+"b", string(c))
		}
	}
	values["text"] = texts

	// Currencies: the schema's list is checked against ValidCurrency in full
	// below; here, a few near misses through both.
	values["currency"] = []string{"USD", "usd", "Usd", "US", "USDD", "XXX", "EUR", "EU1", ""}

	places := map[string][]func(v string) string{
		"slug": {
			func(v string) string { return replace(amendment(openChange), `"acme-globex"`, v) },
			func(v string) string { return amendment(replace(openChange, `"globex"`, v)) },
			func(v string) string { return amendment(add(with(licenseClause, `"scope":{"products":[`+v+`]}`))) },
			func(v string) string { return amendment(add(with(licenseClause, `"term":{"ends_on":`+v+`}`))) },
		},
		"date": {
			func(v string) string { return replace(amendment(openChange), `"2026-02-27"`, v) },
		},
		"time": {
			func(v string) string { return replace(amendment(openChange), `"2026-02-27"`, v) },
			func(v string) string { return amendment(add(with(licenseClause, `"term":{"start":`+v+`}`))) },
		},
		"decimal": {
			func(v string) string { return amendment(add(replace(commitmentClause, `"250000"`, v))) },
			func(v string) string { return amendment(add(replace(shareClause, `"0.05"`, v))) },
		},
		"ulid": {
			func(v string) string { return amendment(`{"op":"retract","amendment":` + v + `}`) },
			func(v string) string { return with(amendment(openChange), `"id":`+v) },
		},
		"text": {
			func(v string) string { return amendment(replace(openChange, `"Acme–Globex supply agreement"`, v)) },
			func(v string) string { return with(amendment(openChange), `"source":{"quote":`+v+`}`) },
		},
		"currency": {
			func(v string) string { return amendment(add(replace(commitmentClause, `"USD"`, v))) },
		},
	}
	for kind, vs := range values {
		t.Run(kind, func(t *testing.T) {
			for _, v := range vs {
				for i, place := range places[kind] {
					agree(t, fmt.Sprintf("%s %q in place %d", kind, v, i), place(quoteJSON(v)))
				}
			}
		})
	}
}

// TestSchemaTimeRangeIsApproximate pins down the one known disagreement on
// times: the schema checks the written year, Decode the year in UTC.
func TestSchemaTimeRangeIsApproximate(t *testing.T) {
	for _, v := range []string{"1900-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"} {
		input := replace(amendment(openChange), `"2026-02-27"`, quoteJSON(v))
		if _, err := events.Decode([]byte(input)); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("%s: Decode error = %v, want out of range", v, err)
		}
		if err := validate(t, []byte(input)); err != nil {
			t.Errorf("%s: schema rejects it (%v); update the schema description and this test", v, err)
		}
	}
}

// TestSchemaCurrencies checks the schema's currency list against
// ValidCurrency for every three-letter code.
func TestSchemaCurrencies(t *testing.T) {
	var doc struct {
		Defs struct {
			Currency struct {
				Enum []string `json:"enum"`
			} `json:"currency"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(events.Schema, &doc); err != nil {
		t.Fatal(err)
	}
	inSchema := map[string]bool{}
	for _, c := range doc.Defs.Currency.Enum {
		inSchema[c] = true
	}
	valid := 0
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			for c := 'A'; c <= 'Z'; c++ {
				code := string([]rune{a, b, c})
				if events.ValidCurrency(code) {
					valid++
				}
				if events.ValidCurrency(code) != inSchema[code] {
					t.Errorf("%s: ValidCurrency %v, in schema %v", code, events.ValidCurrency(code), inSchema[code])
				}
			}
		}
	}
	if valid < 150 || len(inSchema) != valid {
		t.Errorf("%d valid codes, %d in the schema", valid, len(inSchema))
	}
}

// minimalClause is a clause of kind k with exactly its required fields.
func minimalClause(k events.Kind) string {
	m := map[string]json.RawMessage{"id": json.RawMessage(`"c"`), "kind": json.RawMessage(quoteJSON(string(k)))}
	for _, name := range events.FieldNames(k) {
		if events.FieldOf(name).Required {
			m[name] = json.RawMessage(sample(name))
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// sampleValues holds a valid value for each clause field but the parties'.
var sampleValues = map[string]string{
	"subject": `"patents"`, "base": `"net revenue"`, "what": `"support"`, "right": `"first-release"`,
	"exclusive": `true`, "sole": `false`, "scope": `{"channels":["api"]}`, "rate": `"0.1"`,
	"cap": `{"amount":"5","currency":"USD"}`, "amount": `{"undisclosed":true}`,
	"tranches": `[{"id":"a","amount":{"amount":"5","currency":"USD"}}]`, "term": `{"ends_on":"agi"}`, "note": `"a note"`,
}

// sample is a valid value for clause field name; the parties are acme, who
// gives, and globex.
func sample(name string) string {
	if v, ok := sampleValues[name]; ok {
		return v
	}
	for _, k := range events.Kinds {
		if g, _ := events.PartyFields(k); g == name {
			return `"acme"`
		}
	}
	return `"globex"`
}

// TestSchemaAndDecodeAgreeOnClauseFields checks, kind by kind, that both
// require the same fields and allow the same optional ones.
func TestSchemaAndDecodeAgreeOnClauseFields(t *testing.T) {
	all := map[string]bool{}
	for _, k := range events.Kinds {
		for _, name := range events.FieldNames(k) {
			all[name] = true
		}
	}
	for name := range all {
		if _, ok := sampleValues[name]; !ok && events.FieldOf(name).Type != events.PartyType {
			t.Fatalf("no sample value for clause field %q", name)
		}
	}
	for _, k := range events.Kinds {
		t.Run(string(k), func(t *testing.T) {
			minimal := minimalClause(k)
			var members map[string]json.RawMessage
			if err := json.Unmarshal([]byte(minimal), &members); err != nil {
				t.Fatal(err)
			}
			agree(t, "minimal clause", amendment(add(minimal)))
			if _, err := events.Decode([]byte(amendment(add(minimal)))); err != nil {
				t.Fatalf("minimal clause rejected: %v", err)
			}
			for name := range members {
				// Every field of the minimal clause is required: without it, both reject.
				without := map[string]json.RawMessage{}
				for n, v := range members {
					if n != name {
						without[n] = v
					}
				}
				b, _ := json.Marshal(without)
				input := amendment(add(string(b)))
				if _, err := events.Decode([]byte(input)); err == nil || !strings.Contains(err.Error(), name+": is required") {
					t.Errorf("without %s: Decode error = %v, want %s is required", name, err, name)
				}
				agree(t, "without "+name, input)
			}
			for name := range all {
				if _, given := members[name]; given {
					continue
				}
				input := amendment(add(with(minimal, quoteJSON(name)+":"+sample(name))))
				_, err := events.Decode([]byte(input))
				if has := slices.Contains(events.FieldNames(k), name); has != (err == nil) {
					t.Errorf("with optional %s: FieldNames has it %v, Decode error %v", name, has, err)
				}
				agree(t, "with "+name, input)
				agree(t, "with "+name+" null", amendment(add(with(minimal, quoteJSON(name)+":null"))))
				agree(t, "set "+name, amendment(`{"op":"amend","clause":"c","set":{`+quoteJSON(name)+":"+sample(name)+`}}`))
				agree(t, "set "+name+" null", amendment(`{"op":"amend","clause":"c","set":{`+quoteJSON(name)+`:null}}`))
			}
		})
	}
}

// minimalChanges holds, for each op, a change with exactly its required fields.
var minimalChanges = map[events.Op]string{
	events.Open:    openChange,
	events.Add:     add(obligationClause),
	events.Amend:   `{"op":"amend","clause":"royalty","set":{"rate":"0.1"}}`,
	events.End:     `{"op":"end","clause":"royalty"}`,
	events.Declare: `{"op":"declare","condition":"agi"}`,
	events.Report:  reportChange,
	events.Fund:    `{"op":"fund","clause":"stake","tranche":"initial"}`,
	events.Retract: `{"op":"retract","amendment":"` + aULID + `"}`,
	events.Close:   `{"op":"close"}`,
}

// TestSchemaAndDecodeAgreeOnChangeFields checks, op by op, that both require
// the same fields and reject the fields of other ops, even when null.
func TestSchemaAndDecodeAgreeOnChangeFields(t *testing.T) {
	values := map[string]string{"clause": `"royalty"`}
	for _, c := range minimalChanges {
		var members map[string]json.RawMessage
		if err := json.Unmarshal([]byte(c), &members); err != nil {
			t.Fatal(err)
		}
		for n, v := range members {
			if n != "op" && n != "clause" {
				values[n] = string(v)
			}
		}
	}
	for _, op := range events.Ops {
		t.Run(string(op), func(t *testing.T) {
			minimal, ok := minimalChanges[op]
			if !ok {
				t.Fatalf("no minimal change for op %q", op)
			}
			if _, err := events.Decode([]byte(amendment(minimal))); err != nil {
				t.Fatalf("minimal change rejected: %v", err)
			}
			agree(t, "minimal", amendment(minimal))
			var members map[string]json.RawMessage
			if err := json.Unmarshal([]byte(minimal), &members); err != nil {
				t.Fatal(err)
			}
			for name := range members {
				without := map[string]json.RawMessage{}
				for n, v := range members {
					if n != name {
						without[n] = v
					}
				}
				b, _ := json.Marshal(without)
				input := amendment(string(b))
				if _, err := events.Decode([]byte(input)); err == nil || !strings.Contains(err.Error(), name+": is required") {
					t.Errorf("without %s: Decode error = %v", name, err)
				}
				agree(t, "without "+name, input)
			}
			for name, value := range values {
				if _, given := members[name]; given {
					continue
				}
				for _, v := range []string{value, "null"} {
					input := amendment(with(minimal, quoteJSON(name)+":"+v))
					if _, err := events.Decode([]byte(input)); err == nil {
						t.Errorf("Decode accepts %s: %s in a %q change", name, v, op)
					}
					agree(t, "with "+name+" "+v, input)
				}
			}
		})
	}
}

// TestNumbersForDecimalsSayStrings: a rate or an amount given as a JSON
// number is refused by the schema and by Decode, each saying it is a decimal
// string — the schema no longer answers "not of type 'object'" for a rate
// (it expected the undisclosed object), and Decode gives an example.
func TestNumbersForDecimalsSayStrings(t *testing.T) {
	for _, c := range []struct {
		name, input, field, decode, schema string
	}{
		{"rate", amendment(openChange, add(replace(shareClause, `"0.05"`, `0.3`))), "changes[1].clause.rate", `a rate is a decimal string such as "0.30"`, `/clause/rate': got number, want string`},
		{"amount", amendment(openChange, add(replace(commitmentClause, `"amount":"250000"`, `"amount":250000`))), "changes[1].clause.amount.amount", `an amount is a decimal string such as "1500.25"`, `/clause/amount/amount'`},
		{"money", amendment(openChange, add(replace(commitmentClause, `{"amount":"250000","currency":"USD"}`, `250000`))), "changes[1].clause.amount", `a money is an object such as {"amount": "1500.25"`, `/clause/amount': got number, want object`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := validate(t, []byte(c.input)); err == nil || !strings.Contains(err.Error(), c.schema) {
				t.Errorf("schema: %v; want %q", err, c.schema)
			}
			_, err := events.Decode([]byte(c.input))
			var e *events.Error
			if !errors.As(err, &e) || e.Field() != c.field || !strings.Contains(err.Error(), c.decode) {
				t.Errorf("Decode: %v; want at %s %q", err, c.field, c.decode)
			}
		})
	}
	for def, phrase := range map[string]string{"rate": `a rate is a decimal string such as \"0.30\"`, "decimal": `an amount is a decimal string such as \"1500.25\"`} {
		if !strings.Contains(string(events.Schema), phrase) {
			t.Errorf("schema.json's %s does not say %s", def, phrase)
		}
	}
}
