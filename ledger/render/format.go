// Package render writes the ledger's answers for people: aligned tables,
// money with thousands separators and its currency ("USD 15,000,000,000"),
// dates, "undisclosed" spelled out, revenue-share accruals with the reason
// an amount cannot be computed, conflicts in a block of their own, timelines
// as text bars, as an SVG file (TimelineSVG) or as the web page's chart
// (NewChart). The command and the HTTP API's page both write with it.
//
// Programs read the JSON documents the projections and ledger types marshal
// to; this package is only for eyes. Every function that writes to an
// io.Writer returns the first write error.
package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/projections"
	"github.com/shopspring/decimal"
)

// Money writes an amount as "USD 15,000,000,000", an undisclosed one as
// "undisclosed" (with its currency when known: "undisclosed (USD)"), and a
// nil one as "-".
func Money(m *events.Money) string {
	switch {
	case m == nil:
		return "-"
	case m.Undisclosed && m.Currency != "":
		return "undisclosed (" + m.Currency + ")"
	case m.Undisclosed:
		return "undisclosed"
	}
	return strings.TrimSpace(m.Currency + " " + Decimal(m.Amount))
}

// Decimal writes d with a comma every three digits before the point.
func Decimal(d decimal.Decimal) string {
	s := d.String()
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if hasFrac {
		b.WriteString("." + frac)
	}
	return sign + b.String()
}

// Rate writes a rate as a percentage ("20%"), or "undisclosed".
func Rate(r *events.Rate) string {
	switch {
	case r == nil:
		return "-"
	case r.Undisclosed:
		return "undisclosed"
	}
	return r.Value.Shift(2).String() + "%"
}

// Time writes a valid time as a date when it is midnight UTC, else as RFC 3339.
func Time(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return events.FormatTime(t)
}

// Recorded writes a transaction time in full (RFC 3339 with nanoseconds, UTC),
// so that it can be given back as --known-at.
func Recorded(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// KnownAt describes a known-at time: "as known now" or "as known at K";
// given as amendment as, "as known at K (as of amendment ID, AGREEMENT vN)".
func KnownAt(k time.Time, as *projections.AmendmentRef) string {
	if k.IsZero() {
		return "as known now"
	}
	s := "as known at " + Recorded(k)
	if as != nil {
		s += fmt.Sprintf(" (as of amendment %s, %s v%d)", as.ID, as.Agreement, as.Version)
	}
	return s
}

// Scope writes a scope as "products=frontier channels=api", or "everything".
func Scope(s *events.Scope) string { return s.String() }

// ScopeWords writes a scope for a page: "products: frontier; channels: api",
// or "everything".
func ScopeWords(s *events.Scope) string {
	if s.IsAll() {
		return "everything"
	}
	var parts []string
	for i, name := range events.Dimensions {
		if v := s.Dim(i); v != nil {
			parts = append(parts, name+": "+strings.Join(v, ", "))
		}
	}
	return strings.Join(parts, "; ")
}

// Term writes when a clause is in force: "2019-07-22 until 2033-01-01",
// "from 2019-07-22", with ", or until agi is declared" for an ends_on.
func Term(start, end time.Time, endsOn string) string {
	var s string
	switch {
	case start.IsZero() && end.IsZero():
		s = "open-ended"
	case end.IsZero():
		s = "from " + Time(start)
	case start.IsZero():
		s = "until " + Time(end)
	default:
		s = Time(start) + " until " + Time(end)
	}
	if endsOn != "" {
		s += ", ends if " + endsOn + " is declared"
	}
	return s
}

// Window writes an interval of valid time: "2026-02-27 until 2026-04-27",
// or "from 2026-02-27 (open-ended)".
func Window(from, until time.Time) string {
	if until.IsZero() {
		return "from " + Time(from) + " (open-ended)"
	}
	return Time(from) + " until " + Time(until)
}

// Plural writes "1 conflict" or "2 conflicts".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Truncate shortens s to at most n characters, ending it with "…".
func Truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// table is a tabwriter with error tracking: rows are written with Row and
// the whole table is flushed by Flush.
type table struct {
	w   io.Writer
	buf strings.Builder
	tw  *tabwriter.Writer
	err error
}

func newTable(w io.Writer, indent string, header ...string) *table {
	t := &table{w: &prefixWriter{w: w, prefix: indent}}
	t.tw = tabwriter.NewWriter(&t.buf, 0, 0, 2, ' ', 0)
	if len(header) > 0 {
		t.Row(header...)
	}
	return t
}

// cellSpaces turns the tabs and newlines of a cell into spaces.
var cellSpaces = strings.NewReplacer("\t", " ", "\n", " ")

// Row writes one row; tabs and newlines in cells become spaces.
func (t *table) Row(cells ...string) {
	if t.err != nil {
		return
	}
	for i, c := range cells {
		cells[i] = cellSpaces.Replace(c)
	}
	_, t.err = io.WriteString(t.tw, strings.Join(cells, "\t")+"\n")
}

func (t *table) Flush() error {
	if t.err != nil {
		return t.err
	}
	if err := t.tw.Flush(); err != nil {
		return err
	}
	var out strings.Builder
	for _, line := range strings.SplitAfter(t.buf.String(), "\n") {
		if strings.HasSuffix(line, "\n") {
			out.WriteString(strings.TrimRight(strings.TrimSuffix(line, "\n"), " ") + "\n")
		} else {
			out.WriteString(line)
		}
	}
	t.buf.Reset()
	_, err := io.WriteString(t.w, out.String())
	return err
}

// prefixWriter writes prefix at the start of every line.
type prefixWriter struct {
	w      io.Writer
	prefix string
	mid    bool // inside a line
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		if !p.mid && p.prefix != "" {
			if _, err := io.WriteString(p.w, p.prefix); err != nil {
				return n, err
			}
		}
		i := bytes.IndexByte(b, '\n') // not string(b): that copies the rest of b for every line
		chunk := b
		if i >= 0 {
			chunk = b[:i+1]
		}
		m, err := p.w.Write(chunk)
		n += m
		if err != nil {
			return n, err
		}
		p.mid = i < 0
		b = b[len(chunk):]
	}
	return n, nil
}

// printer writes lines and remembers the first error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *printer) ln(args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintln(p.w, args...)
	}
}

func (p *printer) table(t *table) {
	if err := t.Flush(); p.err == nil {
		p.err = err
	}
}

func (p *printer) do(err error) {
	if p.err == nil {
		p.err = err
	}
}

// Value writes a clause field's value as found in a JSON document (a
// decoded any): money as money, terms and scopes in words, lists joined.
func Value(field string, v any) string {
	switch x := v.(type) {
	case nil:
		return "(none)"
	case bool:
		if field == "exclusive" {
			if x {
				return "exclusive"
			}
			return "non-exclusive"
		}
		if x {
			return "yes"
		}
		return "no"
	case string:
		if field == "rate" {
			if d, err := decimal.NewFromString(x); err == nil {
				return Rate(&events.Rate{Value: d})
			}
		}
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = Value(field, e)
		}
		return strings.Join(parts, "; ")
	case map[string]any:
		switch {
		case field == "term":
			start, _ := events.ParseTime(str(x["start"]))
			end, _ := events.ParseTime(str(x["end"]))
			return Term(start, end, str(x["ends_on"]))
		case field == "scope":
			var parts []string
			for _, dim := range events.Dimensions {
				if vs, ok := x[dim].([]any); ok {
					names := make([]string, len(vs))
					for i, v := range vs {
						names[i] = str(v)
					}
					parts = append(parts, dim+"="+strings.Join(names, ","))
				}
			}
			if len(parts) == 0 {
				return "everything"
			}
			return strings.Join(parts, " ")
		case x["undisclosed"] == true:
			if c := str(x["currency"]); c != "" {
				return "undisclosed (" + c + ")"
			}
			return "undisclosed"
		case x["amount"] != nil && x["currency"] != nil && len(x) == 2:
			d, err := decimal.NewFromString(str(x["amount"]))
			if err == nil {
				return Money(&events.Money{Amount: d, Currency: str(x["currency"])})
			}
		case x["id"] != nil && x["amount"] != nil: // a tranche
			s := str(x["id"]) + " " + Value("amount", x["amount"])
			if c := str(x["condition"]); c != "" {
				s += " (" + c + ")"
			}
			return s
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + Value(k, x[k])
		}
		return strings.Join(parts, " ")
	}
	return fmt.Sprint(v)
}

// jsonish turns a Go value into its JSON form decoded as any (maps, lists,
// strings, numbers, booleans), the form Value reads.
func jsonish(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return v
	}
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
