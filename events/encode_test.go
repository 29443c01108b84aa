package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
)

// The reference encoding: maps sorted and escaped by encoding/json, which is
// what the canonical form is defined as. The hand-written encoder must match
// it byte for byte.

func refAmendment(a *Amendment, stored bool, prev Hash) []byte {
	m := map[string]any{"agreement": a.Agreement, "effective": FormatTime(a.Effective)}
	var changes []any
	for i := range a.Changes {
		changes = append(changes, refChange(&a.Changes[i]))
	}
	m["changes"] = changes
	if a.ID != (ulid.ULID{}) {
		m["id"] = a.ID.String()
	}
	if !a.Signed.IsZero() {
		m["signed"] = FormatTime(a.Signed)
	}
	if a.Summary != "" {
		m["summary"] = a.Summary
	}
	if a.Source != nil {
		src := map[string]any{}
		for k, v := range map[string]string{"quote": a.Source.Quote, "title": a.Source.Title, "url": a.Source.URL} {
			if v != "" {
				src[k] = v
			}
		}
		m["source"] = src
	}
	if stored {
		m["v"] = SchemaVersion
		if !prev.IsZero() {
			m["prev"] = prev.String()
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func refChange(c *Change) map[string]any {
	m := map[string]any{"op": string(c.Op)}
	switch c.Op {
	case Open:
		m["title"], m["parties"] = c.Of().Title, c.Of().Parties
	case Add:
		m["clause"] = refClause(c.Clause)
	case Amend:
		patch := map[string]any{}
		for _, name := range c.Set.Names {
			patch[name] = refValue(clauseFields[name].get(&c.Set.Values))
		}
		m["clause"], m["set"] = c.ClauseID, patch
	case End:
		m["clause"] = c.ClauseID
	case Declare:
		m["condition"] = c.Of().Condition
	case Report:
		m["clause"], m["base"] = c.ClauseID, refValue(c.Of().Base)
		m["period"] = map[string]string{"start": FormatTime(c.Of().Period.Start), "end": FormatTime(c.Of().Period.End)}
	case Fund:
		m["clause"], m["tranche"] = c.ClauseID, c.Of().Tranche
	case Retract:
		m["amendment"] = c.Of().Target.String()
	}
	return m
}

func refClause(c *Clause) map[string]any {
	m := map[string]any{"id": c.ID, "kind": string(c.Kind)}
	for name, s := range clauseFields {
		if s.has(c.Kind) {
			if v := s.get(c); v != nil {
				m[name] = refValue(v)
			}
		}
	}
	return m
}

func refValue(v any) any {
	switch v := v.(type) {
	case *Scope:
		m := map[string][]string{}
		for i, name := range Dimensions {
			if d := v.Dim(i); d != nil {
				m[name] = d
			}
		}
		return m
	case *Rate:
		if v.Undisclosed {
			return map[string]bool{"undisclosed": true}
		}
		return v.Value.String()
	case *Money:
		if v == nil {
			return nil
		}
		return refMoney(*v)
	case []Tranche:
		var out []map[string]any
		for _, t := range v {
			tm := map[string]any{"id": t.ID, "amount": refMoney(t.Amount)}
			if t.Condition != "" {
				tm["condition"] = t.Condition
			}
			out = append(out, tm)
		}
		return out
	case *Term:
		m := map[string]string{}
		if !v.Start.IsZero() {
			m["start"] = FormatTime(v.Start)
		}
		if !v.End.IsZero() {
			m["end"] = FormatTime(v.End)
		}
		if v.EndsOn != "" {
			m["ends_on"] = v.EndsOn
		}
		return m
	}
	return v
}

func refMoney(m Money) map[string]any {
	switch {
	case m.Undisclosed && m.Currency != "":
		return map[string]any{"currency": m.Currency, "undisclosed": true}
	case m.Undisclosed:
		return map[string]any{"undisclosed": true}
	}
	return map[string]any{"amount": m.Amount.String(), "currency": m.Currency}
}

// encodingInputs are amendments of every op and kind: the valid test data,
// and texts with every character encoding/json escapes.
func encodingInputs(t *testing.T) []*Amendment {
	t.Helper()
	var out []*Amendment
	files, _ := filepath.Glob("testdata/valid/*")
	files = append(files, "seed/seed.json")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		as, err := Decode(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, as...)
	}
	tricky := `{"id":"01JQ4Z6N8S9C2E7W3Y5T1V0B6D","agreement":"a","effective":"2026-01-01T10:11:12.5+02:00","summary":"<b>Tom & \"Jerry\"</b> \\ tab\there\nline \u2028 \u2029 é 漢字 🙂",
	  "source":{"quote":"q\n"},"changes":[{"op":"open","title":"T > S","parties":["x","y"]},
	  {"op":"add","clause":{"id":"c","kind":"obligation","obligor":"x","beneficiary":"y","what":"&<>","note":"\u00ff?"}}]}`
	as, err := Decode([]byte(tricky))
	if err != nil {
		t.Fatal(err)
	}
	return append(out, as...)
}

func TestCanonicalEncodingMatchesEncodingJSON(t *testing.T) {
	inputs := encodingInputs(t)
	if len(inputs) < 10 {
		t.Fatalf("only %d inputs", len(inputs))
	}
	prev := Hash{0xab, 0x01}
	for _, a := range inputs {
		for _, stored := range []bool{false, true} {
			want := refAmendment(a, stored, prev)
			got := appendAmendment(nil, a, stored, prev)
			if !bytes.Equal(got, want) {
				t.Fatalf("stored=%v: canonical encoding differs from encoding/json:\n got %s\nwant %s", stored, got, want)
			}
		}
		if a.ID != (ulid.ULID{}) {
			enc, err := Encode(a, Hash{})
			if err != nil || !bytes.Equal(enc, refAmendment(a, true, Hash{})) {
				t.Fatalf("Encode differs: %v", err)
			}
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	data, _ := os.ReadFile("seed/seed.json")
	as, _ := Decode(data)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Encode(as[i%len(as)], Hash{1})
	}
}

func TestValidateAmendmentsBuiltInCode(t *testing.T) {
	ok := encodingInputs(t)[0]
	if _, err := Check([]*Amendment{ok}); err != nil {
		t.Fatalf("a decoded amendment does not validate: %v", err)
	}
	bad := *ok
	bad.Agreement = "Not A Slug"
	bad.Changes = append([]Change(nil), ok.Changes...)
	bad.Changes = append(bad.Changes, Change{Op: Fund, ClauseID: "x"})
	_, err := Check([]*Amendment{&bad})
	var e *Error
	if !errors.As(err, &e) || e.Kind != Invalid {
		t.Fatalf("got %v, want an invalid error", err)
	}
	paths := map[string]bool{}
	for _, f := range e.Fields {
		paths[f.Path] = true
	}
	if !paths["agreement"] || !paths["changes["+strconv.Itoa(len(bad.Changes)-1)+"].tranche"] {
		t.Fatalf("errors do not name the agreement and the missing tranche: %v", err)
	}

	// Several at once: every problem, each under its amendment's index; and
	// copies read back as Decode reads them (times in UTC).
	_, err = Check([]*Amendment{ok, &bad})
	if !errors.As(err, &e) || len(e.Fields) != len(paths) || e.Fields[0].Path[:4] != "[1]." {
		t.Fatalf("checking [ok, bad]: %v", err)
	}
	local := *ok
	local.Effective = ok.Effective.In(time.FixedZone("UTC+5", 5*3600))
	got, err := Check([]*Amendment{&local})
	if err != nil {
		t.Fatal(err)
	}
	if got[0] == &local || got[0].Effective.Location() != time.UTC || !got[0].Effective.Equal(ok.Effective) {
		t.Fatalf("Check returned %v effective %v, want a copy effective %v in UTC", got[0].ID, got[0].Effective, ok.Effective)
	}
	if a, b := refAmendment(got[0], false, Hash{}), refAmendment(ok, false, Hash{}); !bytes.Equal(a, b) {
		t.Fatalf("the copy differs:\n%s\n%s", a, b)
	}
}

// TestDateTimeShape compares dateTimeShape with the regular expression it
// replaced, on date-times and every string one edit away from them.
func TestDateTimeShape(t *testing.T) {
	re := regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$`)
	bases := []string{"2024-05-06T07:08:09Z", "2024-05-06T07:08:09.123+05:30", "1999-12-31T23:59:59-23:59", "2024-05-06T07:08:09.5Z", "2024-05-06T07:08:09+19:09"}
	const alphabet = "0123456789:-+.TZz ,"
	tried, shaped := 0, 0
	check := func(s string) {
		tried++
		want := re.MatchString(s)
		if got := dateTimeShape(s); got != want {
			t.Errorf("dateTimeShape(%q) = %v, the expression says %v", s, got, want)
		}
		if want {
			shaped++
		}
	}
	for _, b := range bases {
		check(b)
		for i := 0; i <= len(b); i++ {
			if i < len(b) {
				check(b[:i] + b[i+1:]) // deleted
			}
			for _, c := range alphabet {
				check(b[:i] + string(c) + b[i:]) // inserted
				if i < len(b) {
					check(b[:i] + string(c) + b[i+1:]) // replaced
				}
			}
		}
	}
	if shaped < 100 || shaped == tried {
		t.Fatalf("%d of %d strings have the shape: the cases do not exercise both answers", shaped, tried)
	}
}
