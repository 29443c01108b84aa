package events_test

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/agreement-ledger/ledger/events"
)

// TestSchemaClausesFollowTheKindsTable writes the schema's clause and patch
// definitions from the kinds table and fails when schema.json has others:
// a kind or a field is added to the table, and go test -run
// TestSchemaClausesFollowTheKindsTable -update writes it into the schema.
func TestSchemaClausesFollowTheKindsTable(t *testing.T) {
	text := string(events.Schema)
	for _, def := range []struct {
		name  string
		value obj
	}{{"clause", clauseSchema()}, {"patch", patchSchema()}} {
		start := strings.Index(text, "\n    "+quoted(def.name)+": {\n")
		end := strings.Index(text[start+1:], "\n    }") + start + len("\n    }") + 1
		if start < 0 || end < start {
			t.Fatalf("schema.json has no definition %q", def.name)
		}
		var b strings.Builder
		b.WriteString("\n    " + quoted(def.name) + ": ")
		format(&b, def.value, "    ")
		if got := text[start:end]; got != b.String() {
			if !*update {
				g, w := strings.Split(got, "\n"), strings.Split(b.String(), "\n")
				i := 0
				for i < min(len(g), len(w))-1 && g[i] == w[i] {
					i++
				}
				t.Errorf("schema.json's %q is not what the kinds table says (go test -run %s -update writes it): line %d of it is\n%s\nwant\n%s",
					def.name, t.Name(), i, g[i], w[i])
			}
			text = text[:start] + b.String() + text[end:]
		}
	}
	if *update && text != string(events.Schema) {
		if err := os.WriteFile("schema.json", []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func clauseSchema() obj {
	props := obj{
		{"id", obj{{"$ref", "#/$defs/slug"}, {"description", "The clause id, unique within the agreement."}}},
		{"kind", obj{{"enum", kindNames()}}},
	}
	for _, f := range events.FieldSpecs() {
		props = append(props, member{f.Name, fieldSchema(f, !f.Required)})
	}
	var byKind []any
	for _, k := range events.Kinds {
		required := []any{"id", "kind"}
		fields := obj{{"id", true}, {"kind", true}}
		for _, f := range events.FieldSpecs() {
			if !slices.Contains(events.FieldNames(k), f.Name) {
				continue
			}
			if f.Required {
				required = append(required, f.Name)
			}
			fields = append(fields, member{f.Name, true})
		}
		byKind = append(byKind, obj{
			{"if", obj{{"required", []any{"kind"}}, {"properties", obj{{"kind", obj{{"const", string(k)}}}}}}},
			{"then", obj{{"required", required}, {"properties", fields}, {"additionalProperties", false}}},
		})
	}
	return obj{
		{"type", "object"},
		{"additionalProperties", false},
		{"required", []any{"id", "kind"}},
		{"description", `A clause, as given to an "add" change. Its fields depend on its kind.`},
		{"properties", props},
		{"allOf", byKind},
	}
}

func patchSchema() obj {
	var props obj
	for _, f := range events.FieldSpecs() {
		props = append(props, member{f.Name, fieldSchema(f, true)}) // null clears it, or is refused for a required field
	}
	return obj{
		{"type", "object"},
		{"additionalProperties", false},
		{"minProperties", 1},
		{"description", "New values for some fields of a clause; null clears an optional field. The id and kind cannot be changed, and the fields must be ones the clause's kind has."},
		{"properties", props},
	}
}

// fieldSchema is the schema of a clause field's value: its type, or null
// too when nullable, and what it means.
func fieldSchema(f events.FieldSpec, nullable bool) obj {
	ref := func(name string) obj { return obj{{"$ref", "#/$defs/" + name}} }
	s := map[events.FieldType]obj{
		events.PartyType: ref("slug"), events.SlugType: ref("slug"), events.TextType: ref("text"),
		events.BoolType: {{"type", "boolean"}}, events.ScopeType: ref("scope"), events.RateType: ref("rate"),
		events.MoneyType: ref("money"), events.TranchesType: ref("tranches"), events.TermType: ref("term"),
	}[f.Type]
	if nullable {
		s = obj{{"anyOf", []any{s, obj{{"type", "null"}}}}}
	}
	if f.Doc != "" {
		s = append(slices.Clone(s), member{"description", f.Doc})
	}
	return s
}

func kindNames() []any {
	var out []any
	for _, k := range events.Kinds {
		out = append(out, string(k))
	}
	return out
}

// obj is a JSON object whose members keep their order.
type obj []member

type member struct {
	key   string
	value any
}

// format writes v as schema.json is laid out: an object on one line when
// it has one member and that is a scalar, an array on one line when its
// items are scalars or such objects; anything else a member a line.
func format(b *strings.Builder, v any, indent string) {
	switch v := v.(type) {
	case obj:
		items(b, "{", "}", len(v), oneLine(v), indent, func(i int, indent string) {
			b.WriteString(quoted(v[i].key) + ": ")
			format(b, v[i].value, indent)
		})
	case []any:
		inline := !slices.ContainsFunc(v, func(e any) bool { o, ok := e.(obj); return !oneLine(o) && ok || isList(e) })
		items(b, "[", "]", len(v), inline, indent, func(i int, indent string) { format(b, v[i], indent) })
	default:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			panic(err)
		}
		b.WriteString(strings.TrimSuffix(buf.String(), "\n"))
	}
}

// items writes n items between open and close, on one line or an item a
// line, indented below indent.
func items(b *strings.Builder, open, close string, n int, inline bool, indent string, item func(i int, indent string)) {
	sep, inner, end := ", ", "", ""
	if !inline {
		inner = indent + "  "
		sep, end = ",\n"+inner, "\n"+indent
		open += "\n" + inner
	}
	b.WriteString(open)
	for i := range n {
		if i > 0 {
			b.WriteString(sep)
		}
		item(i, inner)
	}
	b.WriteString(end + close)
}

func oneLine(o obj) bool {
	if len(o) != 1 {
		return false
	}
	switch o[0].value.(type) {
	case obj, []any:
		return false
	}
	return true
}

func isList(v any) bool { _, ok := v.([]any); return ok }

func quoted(s string) string {
	var b strings.Builder
	format(&b, s, "")
	return b.String()
}
