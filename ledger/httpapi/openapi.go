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
// definitions) from events.Schema, the one JSON Schema of amendments.
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
	return json.MarshalIndent(doc, "", "  ")
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
