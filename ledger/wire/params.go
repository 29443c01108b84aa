package wire

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/projections"
	"github.com/oklog/ulid/v2"
)

// Params reads the parameters of a request by the rules the HTTP API (its
// query) and the NATS service (a JSON object) share: an unknown parameter
// is refused (a mistyped known_at must not answer another question), times
// are dates or RFC 3339, names are slugs, and the first bad one is Err,
// naming it. Each method reads nothing once Err is set.
type Params struct {
	value func(name string) (string, error)
	// Err is the first parameter found bad, of kind BadParameter.
	Err error
	// KnownAtAmendment is the amendment known_at was given as, once Known
	// has read it: the answer echoes it (projections.EchoKnownAt).
	KnownAtAmendment *projections.AmendmentRef
}

// NewParams reads parameters through value, which gives a parameter's text
// ("" when it is absent) or an error naming what is wrong with it; given are
// the names the request has, known those its endpoint takes.
func NewParams(value func(name string) (string, error), given, known []string) *Params {
	p := &Params{value: value}
	var unknown []string
	for _, name := range given {
		if !slices.Contains(known, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		p.Err = ParamError(unknown[0], "is not a parameter of this endpoint (it takes: %s)", Takes(known))
	}
	return p
}

// Takes lists an endpoint's parameters for an error message.
func Takes(known []string) string {
	if len(known) == 0 {
		return "none"
	}
	return strings.Join(known, ", ")
}

// ParamError is a bad parameter or header, naming it.
func ParamError(name, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &events.Error{Kind: events.BadParameter, Message: fmt.Sprintf("bad %s: %s", name, msg), Fields: []events.FieldError{{Path: name, Message: msg}}}
}

// Str reads a parameter's text, trimmed; absent is "".
func (p *Params) Str(name string) string {
	if p.Err != nil {
		return ""
	}
	s, err := p.value(name)
	if err != nil {
		p.Err = err
		return ""
	}
	return strings.TrimSpace(s)
}

// Time reads a date or RFC 3339 time; an absent parameter is def.
func (p *Params) Time(name string, def time.Time) time.Time {
	s := p.Str(name)
	if s == "" {
		return def
	}
	t, err := events.ParseTime(s)
	if err != nil {
		p.Err = ParamError(name, "%v", err)
		return def
	}
	return t
}

// Required reads a time that must be given.
func (p *Params) Required(name string) time.Time {
	if p.Str(name) == "" && p.Err == nil {
		p.Err = ParamError(name, "is required (a date such as 2026-03-15 or an RFC 3339 time)")
	}
	return p.Time(name, time.Time{})
}

// Slug reads a slug; required says whether it must be given.
func (p *Params) Slug(name string, required bool) string {
	s := p.Str(name)
	switch {
	case p.Err != nil:
	case s == "" && required:
		p.Err = ParamError(name, "is required")
	case s != "" && !events.ValidSlug(s):
		p.Err = ParamError(name, "%q is not a slug (lower-case letters, digits and '-', at most 63)", s)
	}
	return s
}

// Window reads from and to, both required, to after from.
func (p *Params) Window() (from, to time.Time) {
	from, to = p.Required("from"), p.Required("to")
	if p.Err == nil && !to.After(from) {
		p.Err = ParamError("to", "must be after from (%s): a window is [from, to)", events.FormatTime(from))
	}
	return from, to
}

// Scope reads product, channel, platform and territory: one value each, a
// dimension not given meaning any (nil: everything).
func (p *Params) Scope() *events.Scope {
	one := func(name string) []string {
		if s := p.Slug(name, false); s != "" {
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

// Bool reads true or false (also 1, 0, t, f); absent is false.
func (p *Params) Bool(name string) bool {
	s := p.Str(name)
	if s == "" {
		return false
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		p.Err = ParamError(name, "%q is not true or false", s)
	}
	return b
}

// Uint reads an unsigned integer; ok is false when it is absent.
func (p *Params) Uint(name string) (n uint64, ok bool) {
	s := p.Str(name)
	if s == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		p.Err = ParamError(name, "%q is not a non-negative integer", s)
		return 0, false
	}
	return n, true
}

// Damaged is the options of allow_damaged=true: answer about a damaged
// agreement from its intact prefix, marked.
func (p *Params) Damaged() []ledger.QueryOption {
	if p.Bool("allow_damaged") {
		return []ledger.QueryOption{ledger.AllowDamaged()}
	}
	return nil
}

// Known reads known_at: a time, or the id of an amendment, which stands for
// the time it was recorded ("as known when it was recorded", as the
// command's --known-at), found by recorded; that amendment is then
// KnownAtAmendment.
func (p *Params) Known(recorded func(ulid.ULID) (*events.Record, error)) time.Time {
	s := p.Str("known_at")
	if s == "" {
		return time.Time{}
	}
	if id, err := ulid.ParseStrict(s); err == nil && len(s) == ulid.EncodedSize {
		r, err := recorded(id)
		if err != nil {
			p.Err = err
			return time.Time{}
		}
		p.KnownAtAmendment = projections.RefOf(r)
		return r.Recorded
	}
	return p.Time("known_at", time.Time{})
}

// RightsQuery reads a rights check: party, product and channel required,
// platform and territory one value each or absent for any, at (def when
// absent), known_at (read by known) and ignore_basis (true: only whether
// another's exclusivity is in the way).
func (p *Params) RightsQuery(def time.Time, known func() time.Time) projections.RightsQuery {
	q := projections.RightsQuery{Party: p.Slug("party", true), Scope: &events.Scope{}}
	// A check without a product and a channel asks nothing: no clause gives
	// a party, or keeps it from, every product on every channel.
	one := func(name string, required bool) []string {
		if s := p.Slug(name, required); s != "" {
			return []string{s}
		}
		return nil
	}
	q.Scope.Products, q.Scope.Channels = one("product", true), one("channel", true)
	q.Scope.Platforms, q.Scope.Territories = one("platform", false), one("territory", false)
	q.At = p.Time("at", def)
	q.KnownAt = known()
	q.IgnoreBasis = p.Bool("ignore_basis")
	return q
}

// AvailsQuery reads an avails question: with holder, what that party holds
// exclusively (hq); otherwise when parties may offer what the scope
// describes, product and channel required, and ignore_basis as a rights
// check takes it (aq). known reads known_at.
func (p *Params) AvailsQuery(known func() time.Time) (aq *projections.AvailsQuery, hq *projections.HoldingsQuery) {
	holder := p.Slug("holder", false)
	party := p.Slug("party", false)
	scope := p.Scope()
	from, to := p.Window()
	knownAt := known()
	ignoreBasis := p.Bool("ignore_basis")
	switch {
	case p.Err != nil:
	case holder != "" && party != "":
		p.Err = ParamError("holder", "asks another question than party: give one")
	case holder != "" && ignoreBasis:
		p.Err = ParamError("ignore_basis", "is a question of avails, not of what holder holds: give one")
	case holder == "":
		p.Slug("product", true)
		p.Slug("channel", true)
	}
	if p.Err != nil {
		return nil, nil
	}
	if holder != "" {
		return nil, &projections.HoldingsQuery{Holder: holder, Scope: scope, From: from, To: to, KnownAt: knownAt}
	}
	return &projections.AvailsQuery{Scope: scope, Party: party, From: from, To: to, KnownAt: knownAt, IgnoreBasis: ignoreBasis}, nil
}
