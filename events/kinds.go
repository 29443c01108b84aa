package events

import (
	"fmt"
	"slices"
)

// Kind is the kind of a clause.
type Kind string

// Clause kinds.
const (
	License      Kind = "license"
	Exclusivity  Kind = "exclusivity"
	RevenueShare Kind = "revenue_share"
	Commitment   Kind = "commitment"
	Investment   Kind = "investment"
	Right        Kind = "right"
	Obligation   Kind = "obligation"
)

// KindSpec is what the ledger knows about a kind of clause. The table of
// them, kindSpecs, is the one place a kind is described: validation, the
// canonical encoding, the JSON Schema's clauses (its test), a state's
// groups, and what render, the HTTP API and synth write of a clause are
// derived from it.
type KindSpec struct {
	Kind Kind
	// Word names a clause of the kind in running text ("revenue share");
	// Article goes before it ("a").
	Word, Article string
	// Heading titles a group of such clauses for people ("Revenue shares");
	// Group names the group in a state's JSON ("revenue_shares").
	Heading, Group string
	// Grantor and Holder are the JSON names of the two parties, kept in
	// Clause.Grantor and Clause.Holder: the one who gives (licenses, pays,
	// owes, invests) and the one who receives.
	Grantor, Holder string
	// Fields are the JSON names of its other fields, in the order people
	// read them (the state's tables, the web page): fields of the vocabulary,
	// valueFields, at most one of them held in Clause.What (its text field:
	// see TextField). Term and note, which every kind has, are left out.
	Fields []string
	// Exclusive says when a clause of the kind keeps others out of its scope.
	Exclusive Exclusiveness
}

// Exclusiveness says when a clause keeps others out of its scope.
type Exclusiveness uint8

// Exclusivenesses.
const (
	NeverExclusive  Exclusiveness = iota
	AlwaysExclusive               // an exclusivity
	WhenExclusive                 // when its "exclusive" field is true: a licence
)

var kindSpecs = []KindSpec{
	{Kind: License, Word: "license", Article: "a", Heading: "Licences", Group: "licenses",
		Grantor: "licensor", Holder: "licensee", Fields: []string{"subject", "exclusive", "scope"}, Exclusive: WhenExclusive},
	{Kind: Exclusivity, Word: "exclusivity", Article: "an", Heading: "Exclusivities", Group: "exclusivities",
		Grantor: "grantor", Holder: "holder", Fields: []string{"scope", "sole"}, Exclusive: AlwaysExclusive},
	{Kind: RevenueShare, Word: "revenue share", Article: "a", Heading: "Revenue shares", Group: "revenue_shares",
		Grantor: "payer", Holder: "payee", Fields: []string{"rate", "base", "cap"}},
	{Kind: Commitment, Word: "commitment", Article: "a", Heading: "Commitments", Group: "commitments",
		Grantor: "obligor", Holder: "beneficiary", Fields: []string{"amount", "what"}},
	{Kind: Investment, Word: "investment", Article: "an", Heading: "Investments", Group: "investments",
		Grantor: "investor", Holder: "investee", Fields: []string{"tranches"}},
	{Kind: Right, Word: "right", Article: "a", Heading: "Rights", Group: "rights",
		Grantor: "grantor", Holder: "holder", Fields: []string{"right", "scope"}},
	{Kind: Obligation, Word: "obligation", Article: "an", Heading: "Obligations", Group: "obligations",
		Grantor: "obligor", Holder: "beneficiary", Fields: []string{"what"}},
}

// Kinds lists every clause kind, in the order states group them.
var Kinds = func() []Kind {
	out := make([]Kind, len(kindSpecs))
	for i, s := range kindSpecs {
		out[i] = s.Kind
	}
	return out
}()

// GrantKinds are the kinds whose clauses may be exclusive grants, in the
// order of Kinds.
var GrantKinds = func() []Kind {
	var out []Kind
	for _, s := range kindSpecs {
		if s.Exclusive != NeverExclusive {
			out = append(out, s.Kind)
		}
	}
	return out
}()

// ScopeKinds are the kinds whose clauses grant something over a scope
// (those with a scope field: licences, exclusivities, rights), in the order
// of Kinds. The holder of one may act within its scope; its grantor, having
// granted it, has what it granted. A rights check finds a party's basis
// among them.
var ScopeKinds = func() []Kind {
	var out []Kind
	for _, s := range kindSpecs {
		if slices.Contains(s.Fields, "scope") {
			out = append(out, s.Kind)
		}
	}
	return out
}()

// Spec returns the spec of kind k; nil when k is not a clause kind.
func Spec(k Kind) *KindSpec {
	for i := range kindSpecs {
		if kindSpecs[i].Kind == k {
			return &kindSpecs[i]
		}
	}
	return nil
}

// TextField returns the name of the field of kind k held in Clause.What
// (subject, base, what, right); "" when it has none, or k is not a kind.
func TextField(k Kind) string {
	if s := Spec(k); s != nil {
		for _, name := range s.Fields {
			if isText(name) {
				return name
			}
		}
	}
	return ""
}

// isText reports whether name, one of a kind's Fields, is its text field
// (note, the other text, is every kind's and never listed).
func isText(name string) bool {
	t := FieldOf(name).Type
	return t == TextType || t == SlugType
}

// ExclusiveGrant reports whether the clause keeps others out of its scope: an
// exclusivity, or an exclusive licence.
func (c *Clause) ExclusiveGrant() bool {
	s := Spec(c.Kind)
	return s != nil && (s.Exclusive == AlwaysExclusive || s.Exclusive == WhenExclusive && c.Exclusive)
}

// FieldType is the type of a clause field's value.
type FieldType uint8

// Field types.
const (
	PartyType    FieldType = iota + 1 // a slug naming a party of the agreement
	TextType                          // human text
	SlugType                          // a slug
	BoolType                          // true or false; absent is false
	ScopeType                         // a Scope; absent is everything
	RateType                          // a Rate
	MoneyType                         // a Money
	TranchesType                      // a list of Tranche
	TermType                          // a Term
)

// FieldSpec describes one JSON field of clauses.
type FieldSpec struct {
	Name     string
	Type     FieldType
	Required bool   // in every kind that has it
	Doc      string // what the value means, where the name does not say it
}

// valueField is a field of the vocabulary: its description and how it is
// read and written (the kinds that have it are filled in from kindSpecs).
type valueField struct {
	FieldSpec
	spec
}

// valueFields are the clause fields other than the parties, in the order
// the JSON Schema lists them. A kind names those it has in its Fields; term
// and note are every kind's.
var valueFields = []valueField{
	{FieldSpec{"subject", TextType, true, "What is licensed."}, textSpec(whatSlot, MaxText)},
	{FieldSpec{"exclusive", BoolType, false, ""}, boolSpec(func(c *Clause) *bool { return &c.Exclusive })},
	{FieldSpec{"sole", BoolType, false, "true when the grantor keeps its own right."}, boolSpec(func(c *Clause) *bool { return &c.Sole })},
	{FieldSpec{"scope", ScopeType, false, ""}, scopeSpec},
	{FieldSpec{"rate", RateType, true, ""}, ptrSpec(func(c *Clause) **Rate { return &c.Rate }, readRate, (*cursor).rate)},
	{FieldSpec{"base", TextType, false, "What the rate applies to."}, textSpec(whatSlot, MaxText)},
	{FieldSpec{"cap", MoneyType, false, `Absent means uncapped; an undisclosed cap is {"undisclosed": true}.`},
		ptrSpec(func(c *Clause) **Money { return &c.Cap }, readMoney, (*cursor).money)},
	{FieldSpec{"amount", MoneyType, true, ""}, ptrSpec(func(c *Clause) **Money { return &c.Amount }, readMoney, (*cursor).money)},
	{FieldSpec{"what", TextType, true, ""}, textSpec(whatSlot, MaxText)},
	{FieldSpec{"tranches", TranchesType, true, ""}, tranchesSpec},
	{FieldSpec{"right", SlugType, true, "The right held, e.g. primary-cloud-partner or first-release."}, textSpec(whatSlot, 0)},
	{FieldSpec{"term", TermType, false, ""}, ptrSpec(func(c *Clause) **Term { return &c.Term }, readTerm, (*cursor).term)},
	{FieldSpec{"note", TextType, false, ""}, textSpec(func(c *Clause) *string { return &c.Note }, MaxText)},
}

// fieldSpecs are the clause fields besides id and kind: the parties (those
// who give, then those who receive, in the order of the kinds), then
// valueFields.
var fieldSpecs = func() []FieldSpec {
	var givers, receivers []FieldSpec
	for _, k := range kindSpecs {
		if fieldIn(givers, k.Grantor).Name == "" {
			givers = append(givers, FieldSpec{Name: k.Grantor, Type: PartyType, Required: true})
		}
		if fieldIn(receivers, k.Holder).Name == "" {
			receivers = append(receivers, FieldSpec{Name: k.Holder, Type: PartyType, Required: true})
		}
	}
	out := append(givers, receivers...)
	for _, f := range valueFields {
		out = append(out, f.FieldSpec)
	}
	return out
}()

// FieldSpecs returns every field a clause may have besides id and kind: the
// parties (those who give, then those who receive), then the others in the
// order the JSON Schema lists them.
func FieldSpecs() []FieldSpec { return fieldSpecs }

// FieldOf returns the spec of the clause field name; its Name is "" when no
// kind has such a field.
func FieldOf(name string) FieldSpec { return fieldIn(fieldSpecs, name) }

func fieldIn(fs []FieldSpec, name string) FieldSpec {
	for _, f := range fs {
		if f.Name == name {
			return f
		}
	}
	return FieldSpec{}
}

// clauseFields maps each JSON field name of a clause to its spec, with the
// kinds that have it as kindSpecs says (nil, every kind, for term and note).
// A table that lists a field twice, a party in both roles or a field it
// does not describe panics when the program starts.
var clauseFields = func() map[string]spec {
	m := map[string]spec{}
	for _, f := range valueFields {
		s := f.spec
		s.required = f.Required
		m[f.Name] = s
	}
	giver := map[string]bool{} // the parties' fields: true for those who give
	add := func(k Kind, name string, s spec) {
		if slices.Contains(s.kinds, k) || name == "term" || name == "note" {
			panic(fmt.Sprintf("events: kind %s lists field %s twice, or one every kind has", k, name))
		}
		s.kinds = append(s.kinds, k)
		m[name] = s
	}
	for _, k := range kindSpecs {
		for i, name := range []string{k.Grantor, k.Holder} {
			g, party := giver[name]
			_, value := m[name]
			if party && g != (i == 0) || !party && value {
				panic(fmt.Sprintf("events: kind %s's party field %s is another kind's other party, or a value field", k.Kind, name))
			}
			giver[name] = i == 0
			if !party {
				m[name] = partySpec(i == 0)
			}
			add(k.Kind, name, m[name])
		}
		texts := 0
		for _, name := range k.Fields {
			_, party := giver[name]
			if _, value := m[name]; !value || party {
				panic(fmt.Sprintf("events: kind %s has field %s, which valueFields does not describe", k.Kind, name))
			}
			if isText(name) {
				texts++ // all are held in Clause.What
			}
			add(k.Kind, name, m[name])
		}
		if texts > 1 {
			panic(fmt.Sprintf("events: kind %s has more than one field held in Clause.What", k.Kind))
		}
	}
	if len(m)+2 > 32 { // with id and kind
		panic("events: the canonical reader's sets of clause members (fieldSet, clearable) hold 32 names")
	}
	return m
}()
