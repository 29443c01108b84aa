package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

// Limits on input sizes. They keep one amendment well inside a NATS message.
const (
	MaxSlug       = 63
	MaxText       = 4096  // titles, summaries, notes, clause texts
	MaxQuote      = 16384 // source quotes
	MaxList       = 1000  // parties, scope values, tranches, changes
	MaxAmendment  = 256 << 10
	maxIntDigits  = 18 // money and base amounts: up to 999 quadrillion
	maxFracDigits = 9
)

// ValidSlug reports whether s is a slug: lower-case letters, digits and
// hyphens, starting with a letter or digit, at most 63 bytes. Slugs are safe
// as NATS subject tokens.
func ValidSlug(s string) bool { return validSlug(s) }

func validSlug[T ~string | ~[]byte](s T) bool {
	if len(s) == 0 || len(s) > MaxSlug || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// readSlug decodes a slug and interns it: parties, products and ids repeat
// across many amendments and are held once.
func readSlug(raw json.RawMessage, path string, p *Problems) (string, bool) {
	// A plain slug is looked up in the table without making a string first.
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' && validSlug(raw[1:n-1]) {
		return intern(raw[1 : n-1]), true
	}
	s, ok := readString(raw, path, 1024, p)
	if !ok {
		return "", false
	}
	if !ValidSlug(s) {
		p.Add(path, "%s is not a valid slug (lower-case letters, digits and '-', starting with a letter or digit, at most %d characters)", quote(s), MaxSlug)
		return "", false
	}
	return intern(s), true
}

// slugs holds each slug read once. It is a plain table rather than
// unique.Make, whose weak references cost a quarter of decoding a large
// history; it stops growing at maxSlugs, so input that is never stored
// (refused or dry-run) cannot grow it without bound.
var slugs = struct {
	sync.RWMutex
	m map[string]string
}{m: map[string]string{}}

const maxSlugs = 1 << 20

// intern returns the table's copy of b.
func intern[T ~string | ~[]byte](b T) string {
	slugs.RLock()
	v, ok := slugs.m[string(b)]
	slugs.RUnlock()
	if ok {
		return v
	}
	s := string(b)
	slugs.Lock()
	defer slugs.Unlock()
	if v, ok := slugs.m[s]; ok {
		return v
	}
	if len(slugs.m) < maxSlugs {
		slugs.m[s] = s
	}
	return s
}

func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// Times.

var (
	minTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)

// dateTimeShape reports whether s has the shape of an RFC 3339 date-time:
// 2006-01-02T15:04:05, optionally '.' and digits, then Z or an offset of at
// most 23:59. time.Parse alone is more lenient: it takes a comma before
// fractional seconds and offsets such as +24:00 or +01:60.
func dateTimeShape(s string) bool {
	const shape = "0000-00-00T00:00:00"
	if len(s) <= len(shape) {
		return false
	}
	for i := range len(shape) {
		if shape[i] == '0' && !isDigit(s[i]) || shape[i] != '0' && s[i] != shape[i] {
			return false
		}
	}
	rest := s[len(shape):]
	if rest[0] == '.' {
		i := 1
		for i < len(rest) && isDigit(rest[i]) {
			i++
		}
		if i == 1 {
			return false
		}
		rest = rest[i:]
	}
	if rest == "Z" {
		return true
	}
	return len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') &&
		(rest[1] <= '1' && isDigit(rest[1]) && isDigit(rest[2]) || rest[1] == '2' && rest[2] >= '0' && rest[2] <= '3') &&
		rest[3] == ':' && rest[4] >= '0' && rest[4] <= '5' && isDigit(rest[5])
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// longYear reports whether s starts with a year of five or more digits.
func longYear(s string) bool {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i >= 5 && i < len(s) && s[i] == '-'
}

// ParseTime accepts an RFC 3339 date-time or a date (meaning midnight UTC)
// between the years 1900 and 9999, and returns it in UTC. Date-times must have
// seconds, an upper-case T and Z, a '.' before any fraction (digits beyond
// nanoseconds are dropped) and an offset of at most 23:59.
func ParseTime(s string) (time.Time, error) {
	var t time.Time
	err := errors.New("not RFC 3339")
	switch {
	case len(s) == len(time.DateOnly) && !longYear(s):
		t, err = time.Parse(time.DateOnly, s)
	case longYear(s):
		return time.Time{}, fmt.Errorf("%s is out of range (1900-01-01 to 9999-12-31)", quote(s))
	case dateTimeShape(s):
		t, err = time.Parse(time.RFC3339Nano, s)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("%s is not a date (2006-01-02) or an RFC 3339 date-time (2006-01-02T15:04:05Z)", quote(s))
	}
	t = t.UTC()
	if !inRange(t) {
		return time.Time{}, fmt.Errorf("%s is out of range (1900-01-01 to 9999-12-31)", quote(s))
	}
	return t, nil
}

// inRange reports whether t is between the years 1900 and 9999.
func inRange(t time.Time) bool { return !t.Before(minTime) && !t.After(maxTime) }

// FormatTime writes t as a date when it is midnight UTC, else as RFC 3339.
func FormatTime(t time.Time) string {
	var buf [64]byte
	return string(appendFormatTime(buf[:0], t))
}

// appendFormatTime appends FormatTime(t) to b.
func appendFormatTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		return t.AppendFormat(b, time.DateOnly)
	}
	return t.AppendFormat(b, time.RFC3339Nano)
}

// canonicalTime is the form times take in the canonical encoding.
func canonicalTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func readTime(raw json.RawMessage, path string, p *Problems) (time.Time, bool) {
	s, ok := readString(raw, path, 64, p)
	if !ok {
		return time.Time{}, false
	}
	t, err := ParseTime(s)
	if err != nil {
		p.Add(path, "%v", err)
		return time.Time{}, false
	}
	return t, true
}

// Decimals.

// plainDecimal reports whether s is digits with an optional fraction: "1500.25".
func plainDecimal[T ~string | ~[]byte](s T) bool {
	dot := -1
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '.' && dot < 0:
			dot = i
		case !isDigit(s[i]):
			return false
		}
	}
	return dot != 0 && dot != len(s)-1 && len(s) > 0
}

// readDecimal decodes a non-negative decimal written as a string ("1500.25").
// what names it in the message for a JSON number, with an example: "a rate
// is a decimal string such as \"0.30\"".
func readDecimal(raw json.RawMessage, path, what string, p *Problems) (decimal.Decimal, bool) {
	if jsonType(raw) == "a number" {
		p.Add(path, "%s, not a JSON number (numbers lose precision)", what)
		return decimal.Decimal{}, false
	}
	s, ok := readString(raw, path, 64, p)
	if !ok {
		return decimal.Decimal{}, false
	}
	d, err := decimalOf(s)
	if err != nil {
		p.Add(path, "%v", err)
		return decimal.Decimal{}, false
	}
	return d, true
}

// decimalOf reads the text of a non-negative decimal ("1500.25") of at most
// maxIntDigits before the point and maxFracDigits significant ones after it.
func decimalOf[T ~string | ~[]byte](s T) (decimal.Decimal, error) {
	if len(s) > 0 && s[0] == '-' {
		return decimal.Decimal{}, fmt.Errorf("must not be negative (got %s)", quote(string(s)))
	}
	if !plainDecimal(s) {
		return decimal.Decimal{}, fmt.Errorf("%s is not a plain decimal number (digits with an optional fraction, e.g. \"1500.25\")", quote(string(s)))
	}
	point, lead, trail := len(s), 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			point = i
			break
		}
	}
	for lead < point && s[lead] == '0' {
		lead++
	}
	for trail < len(s)-point-1 && s[len(s)-1-trail] == '0' {
		trail++
	}
	if point-lead > maxIntDigits {
		return decimal.Decimal{}, fmt.Errorf("is too large (%d digits before the point; at most %d)", point-lead, maxIntDigits)
	}
	frac := max(len(s)-point-1, 0)
	if frac-trail > maxFracDigits {
		return decimal.Decimal{}, fmt.Errorf("has too many decimal places (at most %d)", maxFracDigits)
	}
	// Up to 18 digits, the value is what decimal.NewFromString would make
	// of them (it takes the same shortcut), without a string to parse.
	if point+frac <= 18 {
		var n int64
		for i := 0; i < len(s); i++ {
			if i != point {
				n = n*10 + int64(s[i]-'0')
			}
		}
		return decimal.New(n, int32(-frac)), nil
	}
	d, err := decimal.NewFromString(string(s))
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("%s is not a decimal number", quote(string(s)))
	}
	return d, nil
}

// Money is an exact amount in an ISO 4217 currency, or an undisclosed amount.
// An undisclosed amount is not zero: computations that need it say they
// cannot be done.
type Money struct {
	Amount      decimal.Decimal
	Currency    string // ISO 4217; may be set on an undisclosed amount
	Undisclosed bool
}

func (m Money) String() string {
	if m.Undisclosed {
		if m.Currency != "" {
			return "undisclosed " + m.Currency
		}
		return "undisclosed"
	}
	return m.Amount.String() + " " + m.Currency
}

// MarshalJSON writes {"amount": "…", "currency": "…"} or {"undisclosed": true}.
func (m Money) MarshalJSON() ([]byte, error) { return appendMoney(nil, &m), nil }

// moneyRead is a money as its members are read.
type moneyRead struct {
	m           Money
	undisclosed bool
}

var moneyFields = fieldsOf[moneyRead]{
	"amount": func(r *moneyRead, raw json.RawMessage, path string, p *Problems) {
		r.m.Amount, _ = readDecimal(raw, path, `an amount is a decimal string such as "1500.25"`, p)
	},
	"currency": func(r *moneyRead, raw json.RawMessage, path string, p *Problems) {
		r.m.Currency, _ = readCurrency(raw, path, p)
	},
	"undisclosed": func(r *moneyRead, raw json.RawMessage, path string, p *Problems) {
		r.undisclosed, _ = readBool(raw, path, p)
	},
}

func readMoney(raw json.RawMessage, path string, p *Problems) (*Money, bool) {
	if jsonType(raw) == "a number" {
		p.Add(path, `a money is an object such as {"amount": "1500.25", "currency": "USD"} (the amount a decimal string), not a JSON number`)
		return nil, false
	}
	r := &moneyRead{}
	m, n := &r.m, p.Len()
	present := object(raw, path, "a money", moneyFields.into(r), nil, p)
	if present == nil {
		return nil, false
	}
	for _, f := range settleMoney(m, present.has("amount"), present.has("currency"), present.has("undisclosed"), r.undisclosed) {
		p.Add(join(path, f.Path), "%s", f.Message)
	}
	return m, p.Len() == n
}

// settleMoney applies the rules between the members of a money, given which
// are present (and not null) and the value of undisclosed: it marks m
// undisclosed, or returns each problem at the member it is about.
func settleMoney(m *Money, amount, currency, given, undisclosed bool) []FieldError {
	switch {
	case given && !undisclosed:
		return []FieldError{{Path: "undisclosed", Message: "may only be true; give an amount and a currency for a disclosed amount"}}
	case undisclosed && amount:
		return []FieldError{{Path: "amount", Message: "must be absent when the amount is undisclosed"}}
	case undisclosed:
		m.Undisclosed = true
		return nil
	}
	var out []FieldError
	if !amount {
		out = append(out, FieldError{Path: "amount", Message: "is required (or give {\"undisclosed\": true})"})
	}
	if !currency {
		out = append(out, FieldError{Path: "currency", Message: "is required"})
	}
	return out
}

// Rate is a fraction in [0, 1] such as 0.20, or undisclosed.
type Rate struct {
	Value       decimal.Decimal
	Undisclosed bool
}

func (r Rate) String() string {
	if r.Undisclosed {
		return "undisclosed"
	}
	return r.Value.String()
}

// MarshalJSON writes "0.2" or {"undisclosed": true}.
func (r Rate) MarshalJSON() ([]byte, error) { return appendValue(nil, &r), nil }

var one, hundred = decimal.NewFromInt(1), decimal.NewFromInt(100)

func readRate(raw json.RawMessage, path string, p *Problems) (*Rate, bool) {
	if jsonType(raw) == "an object" {
		var undisclosed bool
		object(raw, path, "an undisclosed rate", fieldMap{
			"undisclosed": func(raw json.RawMessage, path string, p *Problems) {
				undisclosed, _ = readBool(raw, path, p)
			},
		}, []string{"undisclosed"}, p)
		if !undisclosed {
			p.Add(path, "must be a decimal string such as \"0.20\" or {\"undisclosed\": true}")
			return nil, false
		}
		return &Rate{Undisclosed: true}, true
	}
	if jsonType(raw) != "a string" {
		readDecimal(raw, path, `a rate is a decimal string such as "0.30"`, p) // says what it is instead
		return nil, false
	}
	s, ok := readString(raw, path, 64, p)
	if !ok {
		return nil, false
	}
	d, err := decimalOf(s)
	if err != nil {
		p.Add(path, "%s", rateProblem(s, err))
		return nil, false
	}
	if err := checkRate(d); err != nil {
		p.Add(path, "%v", err)
		return nil, false
	}
	return &Rate{Value: d}, true
}

// rateForm says what a rate is, in the messages that refuse one.
const rateForm = `a rate is a decimal in [0, 1] such as "0.20"`

// rateProblem says why s, which decimalOf refused with err, is not a rate:
// a percentage ("20%") is the commonest slip, so its fraction is given.
func rateProblem(s string, err error) string {
	if pct, ok := strings.CutSuffix(strings.TrimSpace(s), "%"); ok {
		if d, err := decimalOf(strings.TrimSpace(pct)); err == nil {
			return fmt.Sprintf("%s is a percentage: %s (%s is %s)", quote(s), rateForm, quote(s), quote(d.Shift(-2).String()))
		}
	}
	if !plainDecimal(strings.TrimPrefix(s, "-")) {
		return fmt.Sprintf("%s is not a decimal: %s", quote(s), rateForm)
	}
	return fmt.Sprintf("%v: %s", err, rateForm)
}

// checkRate checks that a rate, never negative, is at most 1.
func checkRate(d decimal.Decimal) error {
	if d.GreaterThan(one) {
		if d.LessThanOrEqual(hundred) { // likely meant as a percentage
			return fmt.Errorf("must be between 0 and 1 (got %s): %s; for %s%% write %s", d, rateForm, d, quote(d.Shift(-2).String()))
		}
		return fmt.Errorf("must be between 0 and 1 (got %s): %s", d, rateForm)
	}
	return nil
}

// Scope says where a grant applies. A nil dimension means every value; input
// writes that by leaving the dimension out or as ["*"].
type Scope struct {
	Products    []string `json:"products,omitempty"`
	Channels    []string `json:"channels,omitempty"`
	Platforms   []string `json:"platforms,omitempty"`
	Territories []string `json:"territories,omitempty"`
}

// Dimensions of a scope, in a fixed order.
var Dimensions = []string{"products", "channels", "platforms", "territories"}

// Dim returns the values of dimension i (see Dimensions); nil means all.
func (s *Scope) Dim(i int) []string {
	if s == nil {
		return nil
	}
	switch i {
	case 0:
		return s.Products
	case 1:
		return s.Channels
	case 2:
		return s.Platforms
	default:
		return s.Territories
	}
}

func (s *Scope) setDim(i int, v []string) {
	switch i {
	case 0:
		s.Products = v
	case 1:
		s.Channels = v
	case 2:
		s.Platforms = v
	default:
		s.Territories = v
	}
}

// IsAll reports whether the scope covers everything.
func (s *Scope) IsAll() bool {
	if s == nil {
		return true
	}
	for i := range Dimensions {
		if s.Dim(i) != nil {
			return false
		}
	}
	return true
}

// Intersect returns the part of the world both scopes cover, and whether it is
// not empty.
func (s *Scope) Intersect(o *Scope) (*Scope, bool) {
	var out Scope
	for i := range Dimensions {
		a, b := s.Dim(i), o.Dim(i)
		switch {
		case a == nil:
			out.setDim(i, b)
		case b == nil:
			out.setDim(i, a)
		default:
			var both []string
			for _, v := range a {
				if slices.Contains(b, v) {
					both = append(both, v)
				}
			}
			if both == nil {
				return nil, false
			}
			out.setDim(i, both)
		}
	}
	if out.IsAll() {
		return nil, true
	}
	return &out, true
}

// Covers reports whether s covers all of o: in every dimension s is
// everything, or lists every value o names there. A dimension o leaves out
// is everything, which only everything covers (the values of a dimension
// are not a closed list).
func (s *Scope) Covers(o *Scope) bool {
	for i := range Dimensions {
		a, b := s.Dim(i), o.Dim(i)
		if a == nil {
			continue
		}
		if b == nil {
			return false
		}
		for _, v := range b {
			if !slices.Contains(a, v) {
				return false
			}
		}
	}
	return true
}

// MarshalJSON writes the dimensions that are limited, with sorted keys.
func (s Scope) MarshalJSON() ([]byte, error) { return appendScope(nil, &s), nil }

// String writes the scope compactly: "products=frontier channels=api", or "everything".
func (s *Scope) String() string {
	if s.IsAll() {
		return "everything"
	}
	var parts []string
	for i, name := range Dimensions {
		if v := s.Dim(i); v != nil {
			parts = append(parts, name+"="+strings.Join(v, ","))
		}
	}
	return strings.Join(parts, " ")
}

// starValue reports whether raw is the JSON string "*", however it is escaped.
func starValue(raw json.RawMessage) (isStar, ok bool) {
	if jsonType(raw) != "a string" {
		return false, false
	}
	s, ok := unquote(bytes.TrimSpace(raw))
	return s == "*", ok
}

func readScope(raw json.RawMessage, path string, p *Problems) (*Scope, bool) {
	r := scopeReader{}
	n := p.Len()
	object(raw, path, "a scope", &r, nil, p)
	if p.Len() != n {
		return nil, false
	}
	if r.s.IsAll() {
		return nil, true
	}
	return &r.s, true
}

// scopeReader reads the dimensions of a scope.
type scopeReader struct{ s Scope }

func (r *scopeReader) has(name string) bool { return slices.Contains(Dimensions, name) }
func (r *scopeReader) names() string        { return "channels, platforms, products, territories" }

func (r *scopeReader) read(name string, raw json.RawMessage, path string, p *Problems) {
	m := p.Len()
	var values []string
	star := false
	readArray(raw, path, MaxList, p, func(raw json.RawMessage, path string) {
		if v, ok := starValue(raw); ok && v {
			if star {
				p.Add(path, "\"*\" is listed twice")
			}
			star = true
			return
		}
		v, ok := readSlug(raw, path, p)
		if !ok {
			return
		}
		if slices.Contains(values, v) {
			p.Add(path, "%s is listed twice", quote(v))
			return
		}
		values = append(values, v)
	})
	switch {
	case star && len(values) > 0:
		p.Add(path, "\"*\" means every value and cannot be combined with others")
	case star:
		// every value: leave nil
	case len(values) == 0 && p.Len() == m:
		p.Add(path, "must list at least one value, or be [\"*\"] for every value")
	default:
		slices.Sort(values)
		r.s.setDim(slices.Index(Dimensions, name), values)
	}
}

// Term is when a clause is in force: the half-open interval [Start, End),
// cut short when the condition EndsOn is declared. A zero Start means the time
// the clause was added; a zero End means open-ended.
type Term struct {
	Start  time.Time
	End    time.Time
	EndsOn string
}

// MarshalJSON writes the term with dates where times are midnight UTC.
func (t Term) MarshalJSON() ([]byte, error) { return appendTerm(nil, &t), nil }

var termFields = fieldsOf[Term]{
	"start":   func(t *Term, raw json.RawMessage, path string, p *Problems) { t.Start, _ = readTime(raw, path, p) },
	"end":     func(t *Term, raw json.RawMessage, path string, p *Problems) { t.End, _ = readTime(raw, path, p) },
	"ends_on": func(t *Term, raw json.RawMessage, path string, p *Problems) { t.EndsOn, _ = readSlug(raw, path, p) },
}

func readTerm(raw json.RawMessage, path string, p *Problems) (*Term, bool) {
	t := &Term{}
	n := p.Len()
	present := object(raw, path, "a term", termFields.into(t), nil, p)
	if err := t.check(); err != nil {
		p.Add(join(path, "end"), "%v", err)
	}
	if present == nil || p.Len() != n {
		return nil, false
	}
	return t, true
}

// check checks that a term with both ends ends after it starts; it is a
// problem of its end.
func (t *Term) check() error {
	if !t.Start.IsZero() && !t.End.IsZero() && !t.End.After(t.Start) {
		return fmt.Errorf("must be after start (%s ≤ %s); a term is [start, end)", FormatTime(t.End), FormatTime(t.Start))
	}
	return nil
}

// Period is the half-open interval a revenue report covers.
type Period struct {
	Start time.Time `json:"-"`
	End   time.Time `json:"-"`
}

// MarshalJSON writes {"start": …, "end": …}.
func (p Period) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"start": FormatTime(p.Start), "end": FormatTime(p.End)})
}

var periodFields = fieldsOf[Period]{
	"start": func(t *Period, raw json.RawMessage, path string, p *Problems) { t.Start, _ = readTime(raw, path, p) },
	"end":   func(t *Period, raw json.RawMessage, path string, p *Problems) { t.End, _ = readTime(raw, path, p) },
}

func readPeriod(raw json.RawMessage, path string, p *Problems) (Period, bool) {
	var per Period
	n := p.Len()
	object(raw, path, "a period", periodFields.into(&per), []string{"start", "end"}, p)
	if err := per.check(); err != nil {
		p.Add(join(path, "end"), "%v", err)
	}
	if p.Len() != n {
		return Period{}, false
	}
	return per, true
}

// check checks that a period whose ends were read ends after it starts; it
// is a problem of its end.
func (per Period) check() error {
	if !per.Start.IsZero() && !per.End.IsZero() && !per.End.After(per.Start) {
		return fmt.Errorf("must be after start (%s ≤ %s)", FormatTime(per.End), FormatTime(per.Start))
	}
	return nil
}
