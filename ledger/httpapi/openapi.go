package httpapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/agreement-ledger/ledger/events"
)

// openapiSource is the hand-written OpenAPI 3.1 description of the API. The
// schema of amendment input is not repeated in it: OpenAPI builds the served
// document by filling in AmendmentInput (and amendment.* for each of its
// definitions) from events.Schema, the one JSON Schema of amendments; nor
// is what the kinds table says (see kindSchemas).
//
//go:embed openapi.json
var openapiSource []byte

var (
	openapiOnce sync.Once
	openapiDoc  []byte
	openapiErr  error
)

// OpenAPI returns the OpenAPI 3.1 document the server serves at /openapi.json.
func OpenAPI() ([]byte, error) {
	openapiOnce.Do(func() { openapiDoc, openapiErr = buildOpenAPI(openapiSource, events.Schema) })
	return openapiDoc, openapiErr
}

// buildOpenAPI splices the amendment JSON Schema into the OpenAPI document:
// its root becomes components.schemas.AmendmentInput and each of its $defs
// components.schemas["amendment.NAME"], with "#/$defs/NAME" references
// rewritten to point there.
func buildOpenAPI(src, schema []byte) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	var root map[string]any
	if err := json.Unmarshal(schema, &root); err != nil {
		return nil, fmt.Errorf("events.Schema: %w", err)
	}
	comps, _ := doc["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	if schemas == nil {
		return nil, fmt.Errorf("openapi.json: no components.schemas")
	}
	root = rewriteRefs(root).(map[string]any)
	defs, _ := root["$defs"].(map[string]any)
	delete(root, "$defs")
	delete(root, "$schema")
	delete(root, "$id")
	for name, d := range defs {
		schemas["amendment."+name] = d
	}
	if _, ok := defs["amendment"]; !ok {
		schemas["amendment.amendment"] = map[string]any{"type": "object", "description": "One amendment."}
	}
	schemas["AmendmentInput"] = root
	if err := urlAmendmentSchemas(schemas, root); err != nil {
		return nil, err
	}
	if err := kindSchemas(schemas); err != nil {
		return nil, err
	}
	return json.MarshalIndent(doc, "", "  ")
}

// kindSchemas fills in the schemas of what the kinds table says: the enum
// of Kind, the fields of a clause (in ClauseFields and ClauseState) and the
// groups of a State.
func kindSchemas(schemas map[string]any) error {
	properties := func(name string) map[string]any {
		s, _ := schemas[name].(map[string]any)
		p, _ := s["properties"].(map[string]any)
		return p
	}
	kind, _ := schemas["Kind"].(map[string]any)
	state, _ := schemas["State"].(map[string]any)
	fields, clauses, groups := properties("ClauseFields"), properties("ClauseState"), properties("State")
	if kind == nil || fields == nil || clauses == nil || groups == nil {
		return fmt.Errorf("openapi.json: Kind, or the properties of ClauseFields, ClauseState or State, missing")
	}
	ref := func(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
	types := map[events.FieldType]map[string]any{
		events.PartyType: ref("Slug"), events.TextType: {"type": "string"}, events.SlugType: {"type": "string"},
		events.BoolType: {"type": "boolean"}, events.ScopeType: ref("Scope"), events.RateType: ref("Rate"),
		events.MoneyType: ref("Money"), events.TranchesType: {"type": "array", "items": ref("Tranche")}, events.TermType: ref("Term"),
	}
	for _, f := range events.FieldSpecs() {
		fields[f.Name], clauses[f.Name] = types[f.Type], types[f.Type]
	}
	var kinds []any
	required, _ := state["required"].([]any)
	for _, k := range events.Kinds {
		kinds = append(kinds, string(k))
		group := events.Spec(k).Group
		groups[group] = map[string]any{"type": "array", "items": ref("ClauseState")}
		required = append(required, group)
	}
	kind["enum"], state["required"] = kinds, required
	return nil
}

// urlAmendmentSchemas adds the input of POST /v1/agreements/{agreement}/amendments:
// AmendmentInput whose amendments may leave out their agreement, which the
// URL names (amendment.amendmentOfURL).
func urlAmendmentSchemas(schemas map[string]any, root map[string]any) error {
	const of, ofURL = "#/components/schemas/amendment.amendment", "#/components/schemas/amendment.amendmentOfURL"
	var one, in map[string]any
	if err := deepCopy(schemas["amendment.amendment"], &one); err != nil {
		return err
	}
	if err := deepCopy(root, &in); err != nil {
		return err
	}
	var required []any
	for _, r := range one["required"].([]any) {
		if r != "agreement" {
			required = append(required, r)
		}
	}
	one["required"] = required
	one["description"] = "One amendment sent to the URL of its agreement: `agreement` may be left out (it is the URL's); given, it must be the URL's."
	in["description"] = "One amendment object, or an array of them, for the agreement of the URL: each may leave out `agreement`."
	schemas["amendment.amendmentOfURL"] = one
	schemas["AmendmentInputOfURL"] = replaceRef(in, of, ofURL)
	return nil
}

func deepCopy(v any, into *map[string]any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, into)
}

// replaceRef replaces every $ref to from by one to to.
func replaceRef(v any, from, to string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if k == "$ref" && e == from {
				x[k] = to
				continue
			}
			x[k] = replaceRef(e, from, to)
		}
	case []any:
		for i, e := range x {
			x[i] = replaceRef(e, from, to)
		}
	}
	return v
}

func rewriteRefs(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "$ref" && strings.HasPrefix(s, "#/$defs/") {
				x[k] = "#/components/schemas/amendment." + strings.TrimPrefix(s, "#/$defs/")
				continue
			}
			x[k] = rewriteRefs(e)
		}
	case []any:
		for i, e := range x {
			x[i] = rewriteRefs(e)
		}
	}
	return v
}

func (h *Handler) openapi(w http.ResponseWriter, r *http.Request) {
	doc, err := OpenAPI()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(doc)
}
