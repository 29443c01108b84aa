package service

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/oklog/ulid/v2"
)

// params reads a request's parameters: one JSON object whose members are
// the HTTP API's path and query parameters, by the same rules (unknown ones
// are refused, a mistyped known_at must not answer another question).
type params struct {
	m   map[string]json.RawMessage
	err error
}

// readParams reads the parameters of a request, known the names its
// endpoint takes. An empty body is no parameters.
func readParams(data []byte, known []string) *params {
	p := &params{m: map[string]json.RawMessage{}}
	if len(bytes.TrimSpace(data)) == 0 {
		return p
	}
	if err := json.Unmarshal(data, &p.m); err != nil || p.m == nil {
		p.m = map[string]json.RawMessage{}
		expected := "none"
		if len(known) > 0 {
			expected = strings.Join(known, ", ")
		}
		p.err = &events.Error{Kind: events.BadParameter, Message: fmt.Sprintf("the request must be a JSON object of parameters (this endpoint takes: %s)", expected)}
		return p
	}
	var unknown []string
	for name := range p.m {
		if !slices.Contains(known, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		expected := "none"
		if len(known) > 0 {
			expected = strings.Join(known, ", ")
		}
		p.err = paramError(unknown[0], "is not a parameter of this endpoint (it takes: %s)", expected)
	}
	return p
}

// paramError is a bad parameter, naming it: as the HTTP API words it.
func paramError(name, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &events.Error{Kind: events.BadParameter, Message: fmt.Sprintf("bad %s: %s", name, msg), Fields: []events.FieldError{{Path: name, Message: msg}}}
}

// str reads a string parameter; absent or null is "".
func (p *params) str(name string) string {
	raw, ok := p.m[name]
	if !ok || p.err != nil || string(raw) == "null" {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		p.err = paramError(name, "must be a string, not %s", raw)
		return ""
	}
	return strings.TrimSpace(s)
}

// time reads a date or RFC 3339 time; an absent parameter is def.
func (p *params) time(name string, def time.Time) time.Time {
	s := p.str(name)
	if s == "" || p.err != nil {
		return def
	}
	t, err := events.ParseTime(s)
	if err != nil {
		p.err = paramError(name, "%v", err)
		return def
	}
	return t
}

// required reads a time that must be given.
func (p *params) required(name string) time.Time {
	if p.str(name) == "" && p.err == nil {
		p.err = paramError(name, "is required (a date such as 2026-03-15 or an RFC 3339 time)")
	}
	return p.time(name, time.Time{})
}

// slug reads a slug parameter; required says whether it must be given.
func (p *params) slug(name string, required bool) string {
	s := p.str(name)
	switch {
	case p.err != nil:
	case s == "" && required:
		p.err = paramError(name, "is required")
	case s != "" && !events.ValidSlug(s):
		p.err = paramError(name, "%q is not a slug (lower-case letters, digits and '-', at most 63)", s)
	}
	return s
}

// window reads from and to, both required, to after from: as the HTTP
// API reads a window.
func (p *params) window() (from, to time.Time) {
	from, to = p.required("from"), p.required("to")
	if p.err == nil && !to.After(from) {
		p.err = paramError("to", "must be after from (%s): a window is [from, to)", events.FormatTime(from))
	}
	return from, to
}

// scope reads product, channel, platform and territory: one value each, a
// dimension not given meaning any (nil: everything).
func (p *params) scope() *events.Scope {
	one := func(name string) []string {
		if s := p.slug(name, false); s != "" {
			return []string{s}
		}
		return nil
	}
	s := &events.Scope{Products: one("product"), Channels: one("channel"), Platforms: one("platform"), Territories: one("territory")}
	if s.IsAll() {
		return nil
	}
	return s
}

// bool reads true or false: a JSON boolean, or a string as the HTTP API
// takes it ("true", "1", "false"…); absent or null is false.
func (p *params) bool(name string) bool {
	raw, ok := p.m[name]
	if !ok || p.err != nil || string(raw) == "null" {
		return false
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b
	}
	s := p.str(name)
	if p.err != nil {
		p.err = paramError(name, "must be true or false, not %s", raw)
		return false
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		p.err = paramError(name, "%q is not true or false", s)
	}
	return b
}

// damaged is the options of allow_damaged: answer about a damaged
// agreement from its intact prefix, marked, as the HTTP API's.
func (p *params) damaged() []ledger.QueryOption {
	if p.bool("allow_damaged") {
		return []ledger.QueryOption{ledger.AllowDamaged()}
	}
	return nil
}

// known reads known_at: a time, or the id of an amendment, which stands for
// the time it was recorded ("as known when it was recorded", as the
// command's --known-at). The id is resolved by the caller (recorded).
func (p *params) known(recorded func(ulid.ULID) (time.Time, error)) time.Time {
	s := p.str("known_at")
	if s == "" || p.err != nil {
		return time.Time{}
	}
	if id, err := ulid.ParseStrict(s); err == nil && len(s) == ulid.EncodedSize {
		t, err := recorded(id)
		if err != nil {
			p.err = err
		}
		return t
	}
	return p.time("known_at", time.Time{})
}

// decode reads a parameter that is a JSON document of its own into v.
func (p *params) decode(name string, v any) bool {
	raw, ok := p.m[name]
	if !ok || p.err != nil || string(raw) == "null" {
		return false
	}
	if err := json.Unmarshal(raw, v); err != nil {
		p.err = paramError(name, "%v", err)
		return false
	}
	return true
}
