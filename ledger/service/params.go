package service

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger/wire"
)

// params are a request's parameters: one JSON object whose members are the
// HTTP API's path and query parameters, read by its rules (wire.Params).
// A member is a string, or a boolean where the HTTP API takes "true".
type params struct {
	*wire.Params
	m map[string]json.RawMessage
}

// readParams reads the parameters of a request, known the names its
// endpoint takes. An empty body is no parameters.
func readParams(data []byte, known []string) *params {
	p := &params{m: map[string]json.RawMessage{}}
	value := func(name string) (string, error) {
		raw, ok := p.m[name]
		if !ok || string(raw) == "null" {
			return "", nil
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s, nil
		}
		var b bool
		if json.Unmarshal(raw, &b) == nil {
			return strconv.FormatBool(b), nil
		}
		return "", wire.ParamError(name, "must be a string, or true or false, not %s", raw)
	}
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &p.m); err != nil || p.m == nil {
			p.m = map[string]json.RawMessage{}
			p.Params = wire.NewParams(value, nil, known)
			p.Err = &events.Error{Kind: events.BadParameter, Message: "the request must be a JSON object of parameters (this endpoint takes: " + wire.Takes(known) + ")"}
			return p
		}
	}
	p.Params = wire.NewParams(value, slices.Collect(maps.Keys(p.m)), known)
	return p
}

// decode reads a parameter that is a JSON document of its own into v.
func (p *params) decode(name string, v any) bool {
	raw, ok := p.m[name]
	if !ok || p.Err != nil || string(raw) == "null" {
		return false
	}
	if err := json.Unmarshal(raw, v); err != nil {
		p.Err = wire.ParamError(name, "%v", err)
		return false
	}
	return true
}
