package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"
)

// Amendment is one entry in an agreement's history: one or more changes that
// take legal effect together at Effective. The ledger stores each amendment
// as one immutable message.
type Amendment struct {
	ID        ulid.ULID // idempotency key; assigned by the ledger when zero
	Agreement string    // slug; the agreement's subject token
	Effective time.Time // valid time: when the changes take legal effect
	Signed    time.Time // when it was signed or announced; zero if not given
	Summary   string
	Source    *Source
	Changes   []Change
}

// Source says where an amendment's facts come from.
type Source struct {
	Quote string `json:"quote,omitempty"`
	Title string `json:"title,omitempty"`
	URL   string `json:"url,omitempty"`
}

// Op is the operation of a change.
type Op string

// Change ops.
const (
	Open    Op = "open"    // starts the agreement: title, parties
	Add     Op = "add"     // adds a clause
	Amend   Op = "amend"   // replaces fields of a clause
	End     Op = "end"     // the clause stops being in force
	Declare Op = "declare" // a named condition occurs
	Report  Op = "report"  // revenue reported for a period, under a revenue share
	Fund    Op = "fund"    // a tranche of an investment is paid in
	Retract Op = "retract" // an earlier amendment was recorded in error
	Close   Op = "close"   // the agreement ends, and every clause with it
)

// Ops lists every op.
var Ops = []Op{Open, Add, Amend, End, Declare, Report, Fund, Retract, Close}

// Change is one change of an amendment. It holds only what its op uses:
// most changes add, amend or end a clause, and carry nothing else; the few
// ops that take more keep it in a Detail. (A read model holds every change
// of a history in memory.)
type Change struct {
	Op       Op
	ClauseID string  // amend, end, report, fund: the clause it concerns
	Clause   *Clause // add: the clause added
	Set      *Patch  // amend: the fields set
	Detail   *Detail // open, declare, report, fund, retract; nil for the others
}

// Detail is what the ops that take more than a clause take.
type Detail struct {
	Title     string    // open
	Parties   []string  // open
	Condition string    // declare
	Period    Period    // report
	Base      *Money    // report: the revenue the share applies to
	Tranche   string    // fund
	Target    ulid.ULID // retract: the amendment recorded in error
}

// More returns the change's detail, made if it has none yet.
func (c *Change) More() *Detail {
	if c.Detail == nil {
		c.Detail = &Detail{}
	}
	return c.Detail
}

// Of returns a copy of the change's detail, empty when it has none: for
// reading (to set a field, use More).
func (c *Change) Of() Detail {
	if c.Detail == nil {
		return Detail{}
	}
	return *c.Detail
}

// minParties is the number of parties an agreement has at least.
const minParties = 2

// fields each op takes besides "op", and which of them are required.
var opFields = map[Op]struct{ all, required []string }{
	Open:    {[]string{"title", "parties"}, []string{"parties", "title"}},
	Add:     {[]string{"clause"}, []string{"clause"}},
	Amend:   {[]string{"clause", "set"}, []string{"clause", "set"}},
	End:     {[]string{"clause"}, []string{"clause"}},
	Declare: {[]string{"condition"}, []string{"condition"}},
	Report:  {[]string{"clause", "period", "base"}, []string{"base", "clause", "period"}},
	Fund:    {[]string{"clause", "tranche"}, []string{"clause", "tranche"}},
	Retract: {[]string{"amendment"}, []string{"amendment"}},
	Close:   {nil, nil},
}

func opList() string {
	names := make([]string, len(Ops))
	for i, op := range Ops {
		names[i] = string(op)
	}
	return strings.Join(names, ", ")
}

func readChange(raw json.RawMessage, path string, p *Problems) (Change, bool) {
	var c Change
	n := p.Len()
	if jsonType(raw) != "an object" {
		p.Add(path, "must be a change object, not %s", jsonType(raw))
		return c, false
	}
	// The op decides which fields the change has. It is looked up by its exact
	// name (encoding/json would match struct fields case-insensitively).
	var buf [16]member
	ms, _ := scanMembers(raw, buf[:0])
	r := &changeReader{c: &c}
	opRaw, given := lookup(ms, "op")
	switch {
	case !given || isNull(opRaw):
		p.Add(join(path, "op"), "is required (one of: %s)", opList())
	default:
		if s, ok := readString(opRaw, join(path, "op"), 64, p); ok {
			c.Op = Op(s)
			if r.spec, r.known = opFields[c.Op]; !r.known {
				p.Add(join(path, "op"), "%s is not an op (one of: %s)", quote(s), opList())
			}
		}
	}
	if !r.known {
		// Without a valid op only the names of the fields can be checked.
		object(raw, path, "a change", r, nil, p)
		return c, false
	}
	for _, m := range ms {
		if changeFields[m.name] != nil && !slices.Contains(r.spec.all, m.name) && isNull(m.value) {
			// object skips null members; a field the op does not take is
			// an error whatever its value.
			r.misplaced(join(path, m.name), p)
		}
	}
	object(raw, path, "a change", r, r.spec.required, p)
	return c, p.Len() == n
}

// changeReader reads the members of a change, as its op allows.
type changeReader struct {
	c     *Change
	spec  struct{ all, required []string }
	known bool // the op is known
}

func (r *changeReader) has(name string) bool { return name == "op" || changeFields[name] != nil }

func (r *changeReader) read(name string, raw json.RawMessage, path string, p *Problems) {
	switch {
	case name == "op" || !r.known: // op is read first; without it nothing else is
	case slices.Contains(r.spec.all, name):
		changeFields[name](r.c, raw, path, p)
	default:
		r.misplaced(path, p)
	}
}

func (r *changeReader) misplaced(path string, p *Problems) {
	takes := "no other fields"
	if len(r.spec.all) > 0 {
		takes = strings.Join(r.spec.all, ", ")
	}
	p.Add(path, "is not a field of a %q change (it takes %s)", r.c.Op, takes)
}

func (r *changeReader) names() string { return allChangeFields }

// changeFields reads each member a change may have, whatever its op.
var changeFields = map[string]func(c *Change, raw json.RawMessage, path string, p *Problems){
	"title": func(c *Change, raw json.RawMessage, path string, p *Problems) {
		c.More().Title, _ = readText(raw, path, MaxText, p)
	},
	"parties": func(c *Change, raw json.RawMessage, path string, p *Problems) {
		n := p.Len()
		d := c.More()
		readArray(raw, path, MaxList, p, func(raw json.RawMessage, path string) {
			if v, ok := readSlug(raw, path, p); ok {
				if slices.Contains(d.Parties, v) {
					p.Add(path, "party %s is listed twice", quote(v))
					return
				}
				d.Parties = append(d.Parties, v)
			}
		})
		if len(d.Parties) < minParties && p.Len() == n {
			p.Add(path, "must list at least two parties")
		}
	},
	"clause": func(c *Change, raw json.RawMessage, path string, p *Problems) {
		if takesClause(c.Op) {
			c.Clause, _ = readClause(raw, path, p)
			return
		}
		if jsonType(raw) == "an object" {
			p.Add(path, "must be the id of the clause to %s (a string); only \"add\" takes a whole clause", c.Op)
			return
		}
		c.ClauseID, _ = readSlug(raw, path, p)
	},
	"set": func(c *Change, raw json.RawMessage, path string, p *Problems) { c.Set, _ = readPatch(raw, path, p) },
	"condition": func(c *Change, raw json.RawMessage, path string, p *Problems) {
		c.More().Condition, _ = readSlug(raw, path, p)
	},
	"period": func(c *Change, raw json.RawMessage, path string, p *Problems) {
		c.More().Period, _ = readPeriod(raw, path, p)
	},
	"base": func(c *Change, raw json.RawMessage, path string, p *Problems) {
		if m, ok := readMoney(raw, path, p); ok {
			if err := checkBase(m); err != nil {
				p.Add(path, "%v", err)
				return
			}
			c.More().Base = m
		}
	},
	"tranche": func(c *Change, raw json.RawMessage, path string, p *Problems) {
		c.More().Tranche, _ = readSlug(raw, path, p)
	},
	"amendment": func(c *Change, raw json.RawMessage, path string, p *Problems) {
		c.More().Target, _ = readULID(raw, path, p)
	},
}

// takesClause reports whether changes of op give a whole clause as their
// "clause"; the others give the id of one.
func takesClause(op Op) bool { return op == Add }

// checkBase checks the revenue base of a report.
func checkBase(m *Money) error {
	if m.Undisclosed {
		return errors.New("must be a disclosed amount: a report states the revenue")
	}
	return nil
}

// allChangeFields lists every member name of a change, for messages.
var allChangeFields = func() string {
	names := []string{"op"}
	for name := range changeFields {
		names = append(names, name)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}()

func readULID(raw json.RawMessage, path string, p *Problems) (ulid.ULID, bool) {
	s, ok := readString(raw, path, 64, p)
	if !ok {
		return ulid.ULID{}, false
	}
	id, err := ulid.ParseStrict(s)
	if err != nil {
		p.Add(path, "%s is not a ULID (26 characters of Crockford base32, e.g. 01JQ4Z6N8S9C2E7W3Y5T1V0B6D)", quote(s))
		return ulid.ULID{}, false
	}
	return id, true
}

// readAmendment reads one amendment object. Stored events carry two more
// fields, the schema version and the previous hash; stored says to accept them.
// agreement, if not empty, is the agreement of an amendment that names none.
func readAmendment(raw json.RawMessage, path string, p *Problems, stored *storedFields, agreement string) (*Amendment, bool) {
	// Most amendments are valid: read them without building the path of
	// every field, and read again with paths only to report problems.
	var quick Problems
	if a, ok := readAmendmentAt(raw, unnamed, &quick, stored, agreement); ok && quick.Len() == 0 {
		return a, true
	}
	return readAmendmentAt(raw, path, p, stored, agreement)
}

func readAmendmentAt(raw json.RawMessage, path string, p *Problems, stored *storedFields, agreement string) (*Amendment, bool) {
	r := amendmentReader{a: &Amendment{}, stored: stored}
	n := p.Len()
	required := []string{"agreement", "changes", "effective"}
	if agreement != "" {
		required = required[1:]
	}
	if stored != nil {
		required = append(required, "id", "v")
	}
	present := object(raw, path, "an amendment", &r, required, p)
	if agreement != "" && !present.has("agreement") {
		// Left out, it is the agreement the input was sent to; null is not
		// leaving it out (the schema has no null agreement).
		if _, given := rawMembers(raw)["agreement"]; given {
			p.Add(join(path, "agreement"), "must be a slug, not null (leave it out for %q)", agreement)
		} else {
			r.a.Agreement = agreement
		}
	}
	// The changes that were read are checked together even when other parts
	// of the input are wrong, so that every problem is reported at once.
	checkAmendment(r.a, r.positions, path, p)
	if p.Len() != n {
		return nil, false
	}
	return r.a, true
}

var sourceFields = func() fieldsOf[Source] {
	fs := fieldsOf[Source]{}
	for _, name := range []string{"quote", "title", "url"} {
		fs[name] = func(s *Source, raw json.RawMessage, path string, p *Problems) {
			text, max := s.member(name)
			*text, _ = readText(raw, path, max, p)
		}
	}
	return fs
}()

// member returns where the source's member name is kept and its size limit;
// nil if it has no such member.
func (s *Source) member(name string) (*string, int) {
	switch name {
	case "quote":
		return &s.Quote, MaxQuote
	case "title":
		return &s.Title, MaxText
	case "url":
		return &s.URL, MaxText
	}
	return nil, 0
}

// amendmentReader reads the members of an amendment; v and prev only when
// it is stored.
type amendmentReader struct {
	a         *Amendment
	positions []int // the index in the input of each change read
	stored    *storedFields
}

// The members of an amendment, and those only a stored one has.
var (
	amendmentMembers = []string{"agreement", "changes", "effective", "id", "signed", "source", "summary"}
	storedMembers    = []string{"prev", "v"}
)

func (r *amendmentReader) has(name string) bool {
	return slices.Contains(amendmentMembers, name) || r.stored != nil && slices.Contains(storedMembers, name)
}

func (r *amendmentReader) names() string {
	names := amendmentMembers
	if r.stored != nil {
		names = slices.Sorted(slices.Values(append(slices.Clone(names), storedMembers...)))
	}
	return strings.Join(names, ", ")
}

func (r *amendmentReader) read(name string, raw json.RawMessage, path string, p *Problems) {
	a := r.a
	switch name {
	case "id":
		a.ID, _ = readULID(raw, path, p)
	case "agreement":
		a.Agreement, _ = readSlug(raw, path, p)
	case "effective":
		a.Effective, _ = readTime(raw, path, p)
	case "signed":
		a.Signed, _ = readTime(raw, path, p)
	case "summary":
		a.Summary, _ = readText(raw, path, MaxText, p)
	case "source":
		s := &Source{}
		if present := object(raw, path, "a source", sourceFields.into(s), nil, p); len(present) > 0 {
			a.Source = s
		}
	case "changes":
		var buf [16]json.RawMessage
		items, ok := arrayElements(raw, path, MaxList, p, buf[:0])
		if !ok {
			return
		}
		if len(items) == 0 {
			p.Add(path, "must list at least one change")
			return
		}
		// Amendments are kept for the life of the read model: no spare capacity.
		a.Changes = make([]Change, 0, len(items))
		for i, item := range items {
			if c, ok := readChange(item, index(path, i), p); ok {
				a.Changes = append(a.Changes, c)
				r.positions = append(r.positions, i)
			}
		}
	case "v":
		if string(bytes.TrimSpace(raw)) != schemaVersion {
			p.Add(path, "schema version %s is not supported by this ledger (it reads version %d); upgrade the ledger", bytes.TrimSpace(raw), SchemaVersion)
		}
	case "prev":
		s, ok := readString(raw, path, 128, p)
		if !ok {
			return
		}
		h, err := ParseHash(s)
		if err != nil {
			p.Add(path, "%v", err)
			return
		}
		r.stored.prev = h
	}
}

// checkAmendment checks what involves more than one field of an amendment and
// needs no history. positions[j] is the index in the input of a.Changes[j];
// a zero Effective or ID means that field was missing or wrong.
func checkAmendment(a *Amendment, positions []int, path string, p *Problems) {
	for j, c := range a.Changes {
		i := positions[j]
		cpath := index(join(path, "changes"), i)
		switch c.Op {
		case Open:
			if i != 0 {
				p.Add(join(cpath, "op"), "\"open\" must be the first change of an amendment")
			}
		case Add:
			if c.Clause == nil || c.Clause.Term == nil {
				continue
			}
			t := c.Clause.Term
			if t.Start.IsZero() && !t.End.IsZero() && !a.Effective.IsZero() && !t.End.After(a.Effective) {
				p.Add(join(cpath, "clause.term.end"), "must be after the term's start, which defaults to the amendment's effective time (%s)", FormatTime(a.Effective))
			}
		case Report:
			if !a.Effective.IsZero() && c.Of().Period.Start.After(a.Effective) {
				p.Add(join(cpath, "period.start"), "a report cannot cover a period that starts after it is effective (%s)", FormatTime(a.Effective))
			}
		case Retract:
			if c.Of().Target == a.ID && a.ID != (ulid.ULID{}) {
				p.Add(join(cpath, "amendment"), "an amendment cannot retract itself")
			}
		}
	}
}

// Decode reads amendments written as one JSON object, a JSON array of
// objects, or JSON Lines. It is strict: unknown fields, wrong types and
// malformed values are errors, and every problem of the input is reported
// with its path (prefixed "[i]" when the input holds several amendments).
func Decode(data []byte) ([]*Amendment, error) { return decode(data, "") }

// DecodeFor is Decode for input sent to one agreement (as to
// POST /v1/agreements/{agreement}/amendments): an amendment that names no
// agreement is of that one. One that names another is still read as it is
// written; the caller refuses it.
func DecodeFor(data []byte, agreement string) ([]*Amendment, error) { return decode(data, agreement) }

func decode(data []byte, agreement string) ([]*Amendment, error) {
	if !utf8.Valid(data) {
		at := invalidUTF8At(data)
		line, col := lineCol(data, at)
		return nil, inputError("input is not valid UTF-8", "", "invalid byte at offset %d (line %d, column %d)", at, line, col)
	}
	// A UTF-8 byte order mark, which some editors write, is not part of the JSON.
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\ufeff")), " \t\r\n")
	skipped := len(data) - len(trimmed)
	trimmed = bytes.TrimRight(trimmed, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, inputError("input is empty", "", "expected an amendment object, an array of them, or JSON Lines")
	}
	var items []json.RawMessage
	if trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &items); err != nil {
			return nil, inputError("input is not valid JSON", "", "%s", describeSyntax(data, skipped, err))
		}
		if len(items) == 0 {
			return nil, inputError("input is an empty array", "", "nothing to append: give at least one amendment")
		}
	} else {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		for {
			var raw json.RawMessage
			err := dec.Decode(&raw)
			if err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				path := ""
				if len(items) > 0 {
					path = fmt.Sprintf("[%d]", len(items))
				}
				return nil, inputError("input is not valid JSON", path, "%s", describeSyntax(data, skipped, err))
			}
			items = append(items, raw)
		}
	}
	var p Problems
	out := make([]*Amendment, 0, len(items))
	for i, raw := range items {
		path := ""
		if len(items) > 1 {
			path = fmt.Sprintf("[%d]", i)
		}
		if len(raw) > MaxAmendment {
			p.Add(path, "amendment is too large (%d bytes; at most %d)", len(raw), MaxAmendment)
			continue
		}
		if a, ok := readAmendment(raw, path, &p, nil, agreement); ok {
			out = append(out, a)
		}
	}
	if err := p.Err("invalid amendment"); err != nil {
		return nil, err
	}
	return out, nil
}

// inputError is an Invalid error about the input as a whole, with one field
// error (at path, usually "") so that every Invalid error of Decode lists
// its problems the same way.
func inputError(message, path, format string, args ...any) error {
	return &Error{Kind: Invalid, Message: message, Fields: []FieldError{{Path: path, Message: fmt.Sprintf(format, args...)}}}
}

func invalidUTF8At(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}
