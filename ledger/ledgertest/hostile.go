package ledgertest

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/agreement-ledger/ledger/events/seed"
)

// The hostile-input corpus: inputs a ledger must refuse with a clear error
// naming the field, writing nothing. Each case is a file of raw bytes under
// testdata/hostile, with its expected field path and a phrase the error
// says in cases.json. They assume the history HostileSetup writes.
//
//go:embed testdata/hostile
var hostile embed.FS

// HostileCase is one input of the corpus.
type HostileCase struct {
	Name  string // the file name without its number and extension
	File  string
	Body  []byte
	Field string // the path of the field the error names ("" when the input cannot be read at all)
	Says  string // a phrase the error message contains
}

// HostileCases returns the corpus.
func HostileCases(t testing.TB) []HostileCase {
	t.Helper()
	data, err := hostile.ReadFile("testdata/hostile/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []struct{ File, Field, Says string }
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var out []HostileCase
	for _, c := range doc.Cases {
		body, err := hostile.ReadFile("testdata/hostile/" + c.File)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(c.File[strings.IndexByte(c.File, '-')+1:], ".json")
		out = append(out, HostileCase{Name: name, File: c.File, Body: body, Field: c.Field, Says: c.Says})
	}
	return out
}

// HostileSetup is the history the corpus assumes, as amendments: the seed,
// and closed-deal, opened 2026-01-01 and closed 2026-06-01.
func HostileSetup() []byte {
	closed := `{"agreement":"closed-deal","effective":"2026-01-01","changes":[{"op":"open","title":"Closed deal","parties":["acme","globex"]}]}
{"agreement":"closed-deal","effective":"2026-06-01","changes":[{"op":"close"}]}`
	var seedLines []string
	var as []json.RawMessage
	_ = json.Unmarshal(seed.JSON, &as)
	for _, a := range as {
		seedLines = append(seedLines, string(compact(a)))
	}
	return []byte(strings.Join(seedLines, "\n") + "\n" + closed + "\n")
}

func compact(raw json.RawMessage) []byte {
	var v any
	_ = json.Unmarshal(raw, &v)
	b, _ := json.Marshal(v)
	return b
}

// OversizeAmendment is one well-formed amendment of the seed history's
// agreement larger than events.MaxAmendment: a thousand obligations added
// at once.
func OversizeAmendment() string {
	var b strings.Builder
	b.WriteString(`{"agreement":"microsoft-openai","effective":"2027-01-01","changes":[`)
	for i := 0; i < 1000; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"op":"add","clause":{"id":"obligation-%d","kind":"obligation","obligor":"openai","beneficiary":"microsoft","what":"%s"}}`, i, strings.Repeat("deliver ", 25))
	}
	b.WriteString("]}")
	return b.String()
}
