package events

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Clause is one term of an agreement. Every kind has two parties, stored as
// Grantor (the one who gives: licenses, pays, owes or invests) and Holder (the
// one who receives), and at most one text field, stored as What; their JSON
// names, and which of the other fields a kind has, are its KindSpec's. Fields
// a kind does not have are zero.
type Clause struct {
	ID        string
	Kind      Kind
	Grantor   string
	Holder    string
	What      string
	Exclusive bool
	Sole      bool   // the grantor keeps its own right
	Scope     *Scope // nil = everything
	Rate      *Rate
	Cap       *Money // nil = uncapped
	Amount    *Money
	Tranches  []Tranche
	Term      *Term
	Note      string
}

// Tranche is one part of an investment.
type Tranche struct {
	Amount    Money  `json:"amount"`
	Condition string `json:"condition,omitempty"`
	ID        string `json:"id"`
}

// spec describes one JSON field of a clause: the kinds that have it, whether
// it is required, how to read it (from any JSON, and fast from the canonical
// form: see cursor) and how to get it back for output.
type spec struct {
	kinds    []Kind // nil: every kind
	required bool
	read     func(c *Clause, raw json.RawMessage, path string, p *Problems)
	fast     func(c *Clause, d *cursor) bool
	get      func(c *Clause) any // nil when absent
	copy     func(dst, src *Clause)
	// text is the value of a field that is a string, "" when absent: the
	// encoder writes it without boxing it in an any.
	text func(c *Clause) string
}

func (s spec) has(k Kind) bool { return s.kinds == nil || slices.Contains(s.kinds, k) }

// partySpec is the spec of a party's field: a slug, required.
func partySpec(grantor bool) spec {
	slot := func(c *Clause) *string { return &c.Holder }
	if grantor {
		slot = func(c *Clause) *string { return &c.Grantor }
	}
	s := textSpec(slot, 0)
	s.required = true
	return s
}

// whatSlot is where a kind's text field is kept.
func whatSlot(c *Clause) *string { return &c.What }

// textSpec is the spec of a string field held in slot: text of at most max
// bytes, or a slug when max is 0.
func textSpec(slot func(*Clause) *string, max int) spec {
	return spec{
		read: func(c *Clause, raw json.RawMessage, path string, p *Problems) {
			if max == 0 {
				*slot(c), _ = readSlug(raw, path, p)
			} else {
				*slot(c), _ = readText(raw, path, max, p)
			}
		},
		fast: func(c *Clause, d *cursor) (ok bool) {
			if max == 0 {
				*slot(c), ok = d.slug()
			} else {
				*slot(c), ok = d.text(max)
			}
			return ok
		},
		get: func(c *Clause) any {
			if s := *slot(c); s != "" {
				return s
			}
			return nil
		},
		copy: func(dst, src *Clause) { *slot(dst) = *slot(src) },
		text: func(c *Clause) string { return *slot(c) },
	}
}

func boolSpec(slot func(*Clause) *bool) spec {
	return spec{
		read: func(c *Clause, raw json.RawMessage, path string, p *Problems) { *slot(c), _ = readBool(raw, path, p) },
		fast: func(c *Clause, d *cursor) (ok bool) { *slot(c), ok = d.bool(); return ok },
		get:  func(c *Clause) any { return *slot(c) },
		copy: func(dst, src *Clause) { *slot(dst) = *slot(src) },
	}
}

// ptrSpec is the spec of a field held by a pointer, nil when absent.
func ptrSpec[T any](slot func(*Clause) **T, read func(json.RawMessage, string, *Problems) (*T, bool), fast func(*cursor) (*T, bool)) spec {
	return spec{
		read: func(c *Clause, raw json.RawMessage, path string, p *Problems) { *slot(c), _ = read(raw, path, p) },
		fast: func(c *Clause, d *cursor) (ok bool) { *slot(c), ok = fast(d); return ok },
		get: func(c *Clause) any {
			if v := *slot(c); v != nil {
				return v
			}
			return nil
		},
		copy: func(dst, src *Clause) { *slot(dst) = *slot(src) },
	}
}

// scopeSpec writes an absent scope as {} (everything), not leaving it out.
var scopeSpec = func() spec {
	s := ptrSpec(func(c *Clause) **Scope { return &c.Scope }, readScope, (*cursor).scope)
	s.get = func(c *Clause) any {
		if c.Scope == nil {
			return map[string]any{}
		}
		return c.Scope
	}
	return s
}()

var tranchesSpec = spec{
	read: readTranches,
	fast: func(c *Clause, d *cursor) (ok bool) { c.Tranches, ok = d.tranches(); return ok },
	get: func(c *Clause) any {
		if c.Tranches == nil {
			return nil
		}
		return c.Tranches
	},
	copy: func(dst, src *Clause) { dst.Tranches = src.Tranches },
}

// FieldNames returns the JSON field names a clause of kind k has, besides id
// and kind, sorted.
func FieldNames(k Kind) []string {
	var names []string
	for name, s := range clauseFields {
		if s.has(k) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// Fields returns the clause's fields under their JSON names, without id and
// kind; absent optional fields are left out. Values marshal to the input form.
func (c *Clause) Fields() map[string]any {
	out := map[string]any{}
	for name, s := range clauseFields {
		if !s.has(c.Kind) {
			continue
		}
		if v := s.get(c); v != nil {
			out[name] = v
		}
	}
	return out
}

// MarshalJSON writes the clause as it is written in input.
func (c Clause) MarshalJSON() ([]byte, error) { return appendClause(nil, &c), nil }

func validKind(k Kind) bool { return Spec(k) != nil }

func kindList() string {
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// article names a clause of kind k with its article: "an exclusivity".
func article(k Kind) string {
	s := Spec(k)
	return s.Article + " " + s.Word
}

// readClause reads a whole clause, as given to an "add" change.
func readClause(raw json.RawMessage, path string, p *Problems) (*Clause, bool) {
	n := p.Len()
	if jsonType(raw) != "an object" {
		p.Add(path, "must be a clause object, not %s", jsonType(raw))
		return nil, false
	}
	// The kind decides which fields the clause has. It is looked up by its
	// exact name (encoding/json would match struct fields case-insensitively).
	var buf [32]member
	ms, _ := scanMembers(raw, buf[:0])
	r := &clauseReader{c: &Clause{}}
	required := []string{"id", "kind"}
	if kindRaw, given := lookup(ms, "kind"); given && !isNull(kindRaw) {
		if s, ok := readString(kindRaw, join(path, "kind"), 64, p); ok {
			if !validKind(Kind(s)) {
				p.Add(join(path, "kind"), "%s is not a clause kind (one of: %s)", quote(s), kindList())
			} else {
				r.c.Kind, r.kindKnown = Kind(s), true
				required = requiredFields[r.c.Kind]
			}
		}
	}
	if r.kindKnown {
		for _, m := range ms {
			if s, ok := clauseFields[m.name]; ok && !s.has(r.c.Kind) && isNull(m.value) {
				// object skips null members; a field the kind does not have
				// is an error whatever its value.
				r.misplaced(join(path, m.name), p)
			}
		}
	}
	object(raw, path, "a clause", r, required, p)
	checkClause(r.c, path, p) // parties that were not read are empty and not compared
	return r.c, p.Len() == n
}

// clauseReader reads the members of a clause whose kind is known (or not).
type clauseReader struct {
	c         *Clause
	kindKnown bool
}

func (r *clauseReader) has(name string) bool {
	_, ok := clauseFields[name]
	return ok || name == "id" || name == "kind"
}

func (r *clauseReader) read(name string, raw json.RawMessage, path string, p *Problems) {
	switch name {
	case "kind": // read first, by readClause
	case "id":
		r.c.ID, _ = readSlug(raw, path, p)
	default:
		if s := clauseFields[name]; !r.kindKnown || s.has(r.c.Kind) {
			s.read(r.c, raw, path, p)
		} else {
			r.misplaced(path, p)
		}
	}
}

func (r *clauseReader) misplaced(path string, p *Problems) {
	p.Add(path, "is not a field of %s clause (its fields: %s)", article(r.c.Kind), strings.Join(FieldNames(r.c.Kind), ", "))
}

func (r *clauseReader) names() string { return allClauseFields }

// allClauseFields lists every clause member name, for messages.
var allClauseFields = func() string {
	names := []string{"id", "kind"}
	for name := range clauseFields {
		names = append(names, name)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}()

// requiredFields lists the members each kind of clause must have.
var requiredFields = func() map[Kind][]string {
	m := map[Kind][]string{}
	for _, k := range Kinds {
		req := []string{"id", "kind"}
		for name, s := range clauseFields {
			if s.required && s.has(k) {
				req = append(req, name)
			}
		}
		slices.Sort(req)
		m[k] = req
	}
	return m
}()

// checkClause checks what involves more than one field of a clause.
func checkClause(c *Clause, path string, p *Problems) {
	if c.Grantor != "" && c.Grantor == c.Holder {
		grantor, holder := PartyFields(c.Kind)
		p.Add(join(path, holder), "must be a different party from the %s (%s)", grantor, c.Grantor)
	}
}

// PartyFields returns the JSON names of the two parties of kind k: the one
// that gives and the one that receives ("" for a kind the ledger does not
// have).
func PartyFields(k Kind) (grantor, holder string) {
	if s := Spec(k); s != nil {
		return s.Grantor, s.Holder
	}
	return "", ""
}

var trancheFields = fieldsOf[Tranche]{
	"id": func(t *Tranche, raw json.RawMessage, path string, p *Problems) { t.ID, _ = readSlug(raw, path, p) },
	"amount": func(t *Tranche, raw json.RawMessage, path string, p *Problems) {
		if m, ok := readMoney(raw, path, p); ok {
			t.Amount = *m
		}
	},
	"condition": func(t *Tranche, raw json.RawMessage, path string, p *Problems) {
		t.Condition, _ = readText(raw, path, MaxText, p)
	},
}

func readTranches(c *Clause, raw json.RawMessage, path string, p *Problems) {
	seen := map[string]bool{}
	n := readArray(raw, path, MaxList, p, func(raw json.RawMessage, path string) {
		var t Tranche
		m := p.Len()
		object(raw, path, "a tranche", trancheFields.into(&t), []string{"amount", "id"}, p)
		if p.Len() != m {
			return
		}
		if seen[t.ID] {
			p.Add(join(path, "id"), "tranche id %s is used twice", quote(t.ID))
			return
		}
		seen[t.ID] = true
		c.Tranches = append(c.Tranches, t)
	})
	if n == 0 {
		p.Add(path, "must list at least one tranche")
	}
}

// Patch is the "set" of an amend change: new values for some fields of a
// clause. A field set to null is cleared (only optional fields can be).
type Patch struct {
	Names  []string // the JSON field names set, sorted
	Values Clause   // their new values, in the clause's slots
}

func readPatch(raw json.RawMessage, path string, p *Problems) (*Patch, bool) {
	n := p.Len()
	if jsonType(raw) != "an object" {
		p.Add(path, "must be an object of clause fields to change, not %s", jsonType(raw))
		return nil, false
	}
	members := rawMembers(raw)
	reportDuplicates(raw, path, p)
	var patch Patch
	for _, name := range slices.Sorted(maps.Keys(members)) {
		fpath := join(path, name)
		if name == "id" || name == "kind" {
			p.Add(fpath, "cannot be changed; end the clause and add a new one instead")
			continue
		}
		s, ok := clauseFields[name]
		if !ok {
			p.Add(fpath, "is not a clause field (clause fields: %s)", strings.Join(slices.Sorted(maps.Keys(clauseFields)), ", "))
			continue
		}
		patch.Names = append(patch.Names, name)
		if isNull(members[name]) {
			continue
		}
		s.read(&patch.Values, members[name], fpath, p)
	}
	if len(members) == 0 {
		p.Add(path, "must set at least one field")
	}
	return &patch, p.Len() == n
}

// Apply returns c with the patch applied. Problems are reported at path (the
// "set" of the change): fields the clause's kind does not have, and required
// fields set to null.
func (pt *Patch) Apply(c *Clause, path string, p *Problems) *Clause {
	out := *c
	n := p.Len()
	for _, name := range pt.Names {
		s := clauseFields[name]
		fpath := join(path, name)
		if !s.has(c.Kind) {
			p.Add(fpath, "is not a field of %s clause (its fields: %s)", article(c.Kind), strings.Join(FieldNames(c.Kind), ", "))
			continue
		}
		if s.get(&pt.Values) == nil && s.required {
			p.Add(fpath, "is required for %s clause and cannot be cleared", article(c.Kind))
			continue
		}
		s.copy(&out, &pt.Values)
	}
	if p.Len() != n {
		return c
	}
	checkClause(&out, path, p)
	return &out
}

// MarshalJSON writes the patch as it is written in input.
func (pt Patch) MarshalJSON() ([]byte, error) { return appendPatch(nil, &pt), nil }

func (pt *Patch) String() string { return fmt.Sprintf("set %s", strings.Join(pt.Names, ", ")) }
