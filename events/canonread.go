package events

import (
	"bytes"
	"slices"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"
	"github.com/shopspring/decimal"
)

// The fast path. Stored amendments, and those Check reads back, are in the
// canonical form appendAmendment writes; the strict reader, built to report
// every problem of any input with its path, spends most of its time on what
// that form rules out. decodeCanonical reads exactly that form in one pass
// and applies every rule the strict reader applies to the values it
// accepts, through the same functions and the same tables of the fields
// each op and kind takes. On anything else (space, another member order, a
// null, an escape or a value the encoder does not write, or any problem) it
// gives up, and the caller reads the input with the strict reader, which
// says what is wrong. What it accepts is a fixed point: it encodes back to
// the same bytes.

// canonicalReads counts the amendments the fast path read, for tests.
var canonicalReads atomic.Uint64

// decodeCanonical reads an amendment in its canonical form, stored (with
// "v" and "prev") or not, and the prev hash it carries. ok is false when
// data is not exactly that form of a valid amendment.
func decodeCanonical(data []byte, stored bool) (a *Amendment, prev Hash, ok bool) {
	d := &cursor{b: data}
	a = &Amendment{}
	if !d.lit(`{"agreement":`) {
		return nil, prev, false
	}
	if a.Agreement, ok = d.slug(); !ok || !d.lit(`,"changes":`) || !d.changes(a) || !d.lit(`,"effective":`) {
		return nil, prev, false
	}
	if a.Effective, ok = d.time(); !ok {
		return nil, prev, false
	}
	// The members after are optional but in this order, as the encoder
	// writes them; a stored amendment has an id and a version.
	if d.lit(`,"id":`) {
		if a.ID, ok = d.ulid(); !ok || a.ID == (ulid.ULID{}) {
			return nil, prev, false
		}
	} else if stored {
		return nil, prev, false
	}
	if stored && d.lit(`,"prev":`) {
		if prev, ok = d.hash(); !ok {
			return nil, prev, false
		}
	}
	if d.lit(`,"signed":`) {
		if a.Signed, ok = d.time(); !ok {
			return nil, prev, false
		}
	}
	if d.lit(`,"source":`) {
		if a.Source, ok = d.source(); !ok {
			return nil, prev, false
		}
	}
	if d.lit(`,"summary":`) {
		if a.Summary, ok = d.text(MaxText); !ok {
			return nil, prev, false
		}
	}
	if stored && !(d.lit(`,"v":`) && d.lit(schemaVersion)) {
		return nil, prev, false
	}
	if !d.lit("}") || d.i != len(d.b) {
		return nil, prev, false
	}
	var p Problems
	var buf [16]int
	positions := buf[:0]
	for i := range a.Changes {
		positions = append(positions, i)
	}
	if checkAmendment(a, positions, unnamed, &p); p.Len() != 0 {
		return nil, prev, false
	}
	canonicalReads.Add(1)
	return a, prev, true
}

// cursor reads canonical bytes front to back. Its methods read one value
// each and return false, leaving the cursor anywhere, when the bytes are not
// that value's canonical form or the value breaks a rule.
type cursor struct {
	b []byte
	i int
}

// lit reads s.
func (d *cursor) lit(s string) bool {
	if len(d.b)-d.i < len(s) || string(d.b[d.i:d.i+len(s)]) != s {
		return false
	}
	d.i += len(s)
	return true
}

func (d *cursor) peek() byte {
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// plain reads a string up to the next quote and returns its bytes. Its
// callers accept only characters that need no escape (slugs, digits, codes),
// so a backslash or a control character in it is refused with the rest.
func (d *cursor) plain() ([]byte, bool) {
	if d.peek() != '"' {
		return nil, false
	}
	n := bytes.IndexByte(d.b[d.i+1:], '"')
	if n < 0 {
		return nil, false
	}
	s := d.b[d.i+1 : d.i+1+n]
	d.i += n + 2
	return s, true
}

// member reads the key of the member name if it comes next: `"name":`,
// after a comma unless it is the first (*n counts the members read).
// Objects of fixed members read them in the order the encoder writes them.
func (d *cursor) member(name string, n *int) bool {
	i := d.i
	if *n > 0 {
		if d.peek() != ',' {
			return false
		}
		i++
	}
	end := i + len(name) + 3
	if end > len(d.b) || d.b[i] != '"' || string(d.b[i+1:end-2]) != name || d.b[end-2] != '"' || d.b[end-1] != ':' {
		return false
	}
	d.i = end
	*n++
	return true
}

// keys are the member names of objects of some kind, sorted, with where
// those starting with each byte are.
type keys struct {
	names []string
	first [128]struct{ from, to uint8 }
}

func keysOf(names []string) *keys {
	if len(names) > 32 || !slices.IsSorted(names) {
		panic("events: keys are sorted, at most 32 of them")
	}
	ks := &keys{names: names}
	for i, name := range names {
		r := &ks.first[name[0]]
		if r.to == 0 {
			r.from = uint8(i)
		}
		r.to = uint8(i + 1)
	}
	return ks
}

// next reads the key of the next member of an object whose member names are
// among ks, and returns its index there; -1 at the end of the object. *last
// is the index of the member before (-1 at the start): names must increase,
// so that they are sorted and none is given twice.
func (d *cursor) next(ks *keys, last *int) (int, bool) {
	if d.peek() == '}' {
		d.i++
		return -1, true
	}
	if *last >= 0 && !d.lit(",") {
		return 0, false
	}
	if d.peek() != '"' || d.i+1 == len(d.b) || d.b[d.i+1] >= 128 {
		return 0, false
	}
	r := ks.first[d.b[d.i+1]]
	for i := int(r.from); i < int(r.to); i++ {
		name := ks.names[i]
		end := d.i + 1 + len(name) // of the name, where its quote and colon are
		if end+2 <= len(d.b) && string(d.b[d.i+1:end]) == name && d.b[end] == '"' && d.b[end+1] == ':' {
			if i <= *last {
				return 0, false
			}
			*last, d.i = i, end+2
			return i, true
		}
	}
	return 0, false
}

// elem reads what comes before an element of an array: the opening bracket
// (when *n is 0) or a comma, and reports whether an element follows; *n
// counts them. At the closing bracket it returns false, with *n the number
// of elements; on anything else, or after MaxList elements, it returns false
// with *n = -1. Every array the encoder writes for a valid amendment has
// elements, so an element cannot begin with the bracket that closes it:
//
//	for n := 0; d.elem(&n); { read an element }
//	if n < 0 { not an array of them }
func (d *cursor) elem(n *int) bool {
	switch {
	case *n == 0 && d.lit("["), *n > 0 && *n < MaxList && d.lit(","):
		*n++
		return true
	case *n > 0 && d.lit("]"):
		return false
	}
	*n = -1
	return false
}

// slug reads a slug, interned as readSlug interns it.
func (d *cursor) slug() (string, bool) {
	s, ok := d.plain()
	if !ok || !validSlug(s) {
		return "", false
	}
	return intern(s), true
}

// text reads human text of at most max bytes, as readText does. Of escapes
// it takes those the encoder writes for characters text may have; the
// characters the encoder escapes may not come unescaped.
func (d *cursor) text(max int) (string, bool) {
	if d.peek() != '"' {
		return "", false
	}
	b, i, escaped := d.b, d.i+1, false
	for {
		if i >= len(b) {
			return "", false
		}
		c := b[i]
		if c == '"' {
			break
		}
		switch {
		case c == '\\':
			escaped = true
			i += 2
		case c < 0x20 || c == '<' || c == '>' || c == '&':
			return "", false
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
				return "", false
			}
			i += size
		}
	}
	body := b[d.i+1 : i]
	d.i = i + 1
	var s string
	if !escaped {
		s = string(body)
	} else {
		var buf [256]byte
		out := buf[:0]
		for j := 0; j < len(body); j++ {
			if body[j] != '\\' {
				out = append(out, body[j])
				continue
			}
			j++
			switch body[j] {
			case '"', '\\':
				out = append(out, body[j])
			case 'n':
				out = append(out, '\n')
			case 't':
				out = append(out, '\t')
			case 'u':
				if j+5 > len(body) {
					return "", false
				}
				var r rune
				switch string(body[j+1 : j+5]) {
				case "003c":
					r = '<'
				case "003e":
					r = '>'
				case "0026":
					r = '&'
				case "2028":
					r = '\u2028'
				case "2029":
					r = '\u2029'
				default:
					return "", false
				}
				out = utf8.AppendRune(out, r)
				j += 4
			default:
				return "", false
			}
		}
		s = string(out)
	}
	if checkSize(s, max) != nil || checkText(s) != nil {
		return "", false
	}
	return s, true
}

func (d *cursor) bool() (bool, bool) {
	switch {
	case d.lit("true"):
		return true, true
	case d.lit("false"):
		return false, true
	}
	return false, false
}

// time reads a time as FormatTime writes it: a date when it is midnight
// UTC, else an RFC 3339 date-time in UTC whose fraction, if any, does not
// end in zero. The rules are ParseTime's: a real date and time of day,
// between the years 1900 and 9999.
func (d *cursor) time() (time.Time, bool) {
	s, ok := d.plain()
	if !ok || len(s) < len("2006-01-02") || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	year, month, day := number(s[0:4]), number(s[5:7]), number(s[8:10])
	hour, minute, sec, nsec := 0, 0, 0, 0
	if len(s) > len("2006-01-02") {
		const shape = "2006-01-02T15:04:05"
		if len(s) < len(shape)+1 || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[len(s)-1] != 'Z' {
			return time.Time{}, false
		}
		hour, minute, sec = number(s[11:13]), number(s[14:16]), number(s[17:19])
		if frac := s[len(shape) : len(s)-1]; len(frac) > 0 {
			if len(frac) < 2 || len(frac) > 10 || frac[0] != '.' || frac[len(frac)-1] == '0' {
				return time.Time{}, false
			}
			if nsec = number(frac[1:]); nsec < 0 {
				return time.Time{}, false
			}
			for range 10 - len(frac) {
				nsec *= 10
			}
		}
		if hour|minute|sec|nsec == 0 || hour > 23 || minute > 59 || sec > 59 {
			return time.Time{}, false // midnight is written as a date
		}
	}
	if year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(time.Month(month), year) || hour < 0 || minute < 0 || sec < 0 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t, inRange(t)
}

// number reads decimal digits, or returns -1.
func number(s []byte) int {
	n := 0
	for _, c := range s {
		if !isDigit(c) {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func daysIn(m time.Month, year int) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// ulid reads a ULID as its String writes it (upper case), by ulid.ParseStrict
// as readULID reads it.
func (d *cursor) ulid() (ulid.ULID, bool) {
	s, ok := d.plain()
	if !ok || hasByteIn(s, 'a', 'z') {
		return ulid.ULID{}, false
	}
	id, err := ulid.ParseStrict(string(s))
	return id, err == nil
}

// hash reads a prev hash: lower-case hex, and not zero (the encoder leaves
// a zero prev out).
func (d *cursor) hash() (Hash, bool) {
	s, ok := d.plain()
	if !ok || hasByteIn(s, 'A', 'F') {
		return Hash{}, false
	}
	h, ok := hashOf(s)
	return h, ok && !h.IsZero()
}

// hasByteIn reports whether s has a byte from lo to hi.
func hasByteIn(s []byte, lo, hi byte) bool {
	for _, c := range s {
		if c >= lo && c <= hi {
			return true
		}
	}
	return false
}

// decimal reads a decimal as Decimal.String writes it: no leading zeros
// before the point, no trailing ones after it.
func (d *cursor) decimal() (decimal.Decimal, bool) {
	s, ok := d.plain()
	if !ok || len(s) == 0 || len(s) > 1 && s[0] == '0' && s[1] != '.' || bytes.IndexByte(s, '.') >= 0 && s[len(s)-1] == '0' {
		return decimal.Decimal{}, false
	}
	v, err := decimalOf(s)
	return v, err == nil
}

// money reads a money, as readMoney does.
func (d *cursor) money() (*Money, bool) {
	m := &Money{}
	return m, d.moneyInto(m)
}

func (d *cursor) moneyInto(m *Money) bool {
	if !d.lit("{") {
		return false
	}
	n, ok := 0, true
	amount, currency, given, undisclosed := false, false, false, false
	if amount = d.member("amount", &n); amount {
		if m.Amount, ok = d.decimal(); !ok {
			return false
		}
	}
	if currency = d.member("currency", &n); currency {
		s, ok := d.plain()
		if !ok {
			return false
		}
		var err error
		if m.Currency, err = currencyCode(s); err != nil {
			return false
		}
	}
	if given = d.member("undisclosed", &n); given {
		if undisclosed, ok = d.bool(); !ok {
			return false
		}
	}
	return d.lit("}") && settleMoney(m, amount, currency, given, undisclosed) == nil
}

// rate reads a rate, as readRate does.
func (d *cursor) rate() (*Rate, bool) {
	if d.lit(`{"undisclosed":true}`) {
		return &Rate{Undisclosed: true}, true
	}
	v, ok := d.decimal()
	if !ok || checkRate(v) != nil {
		return nil, false
	}
	return &Rate{Value: v}, true
}

// scope reads a scope, as readScope does: its dimensions in key order, each
// with values in the order readScope sorts them to, none twice. The values
// of every dimension share one array.
func (d *cursor) scope() (*Scope, bool) {
	if !d.lit("{") {
		return nil, false
	}
	var buf [32]string
	values := buf[:0]
	var ends [4]int // where each dimension's values end
	n := 0
	for i, name := range [...]string{"channels", "platforms", "products", "territories"} {
		if d.member(name, &n) {
			start, k := len(values), 0
			for d.elem(&k) {
				v, ok := d.slug()
				if !ok || len(values) > start && v <= values[len(values)-1] {
					return nil, false
				}
				values = append(values, v)
			}
			if k < 0 {
				return nil, false
			}
		}
		ends[i] = len(values)
	}
	if !d.lit("}") {
		return nil, false
	}
	if n == 0 {
		return nil, true // every value
	}
	all := slices.Clone(values)
	var dims [4][]string
	for i, start := 0, 0; i < len(ends); start, i = ends[i], i+1 {
		if ends[i] > start {
			dims[i] = all[start:ends[i]:ends[i]]
		}
	}
	return &Scope{Channels: dims[0], Platforms: dims[1], Products: dims[2], Territories: dims[3]}, true
}

// term reads a term, as readTerm does.
func (d *cursor) term() (*Term, bool) {
	if !d.lit("{") {
		return nil, false
	}
	t := &Term{}
	n, ok := 0, true
	if d.member("end", &n) {
		if t.End, ok = d.time(); !ok {
			return nil, false
		}
	}
	if d.member("ends_on", &n) {
		if t.EndsOn, ok = d.slug(); !ok {
			return nil, false
		}
	}
	if d.member("start", &n) {
		if t.Start, ok = d.time(); !ok {
			return nil, false
		}
	}
	return t, d.lit("}") && t.check() == nil
}

// period reads a period, as readPeriod does.
func (d *cursor) period() (Period, bool) {
	var per Period
	ok := d.lit(`{"end":`)
	if ok {
		per.End, ok = d.time()
	}
	if ok = ok && d.lit(`,"start":`); ok {
		per.Start, ok = d.time()
	}
	return per, ok && d.lit("}") && per.check() == nil
}

// tranches reads the tranches of an investment, as readTranches does.
func (d *cursor) tranches() ([]Tranche, bool) {
	var ts []Tranche
	n := 0
	for d.elem(&n) {
		var t Tranche
		ok := d.lit(`{"amount":`) && d.moneyInto(&t.Amount)
		if ok && d.lit(`,"condition":`) {
			t.Condition, ok = d.text(MaxText)
		}
		if ok = ok && d.lit(`,"id":`); ok {
			t.ID, ok = d.slug()
		}
		if !ok || !d.lit("}") || slices.ContainsFunc(ts, func(o Tranche) bool { return o.ID == t.ID }) {
			return nil, false
		}
		ts = append(ts, t)
	}
	return ts, n > 0
}

// source reads a source, as the strict reader does; an empty one is left
// out by the reader, so it is not canonical.
func (d *cursor) source() (*Source, bool) {
	if !d.lit("{") {
		return nil, false
	}
	s := &Source{}
	n := 0
	for _, name := range [...]string{"quote", "title", "url"} {
		if d.member(name, &n) {
			text, max := s.member(name)
			var ok bool
			if *text, ok = d.text(max); !ok {
				return nil, false
			}
		}
	}
	return s, n > 0 && d.lit("}")
}

// The members of clauses and changes in key order, the readers of clause
// fields, and the sets of fields each kind and op takes and requires, as
// bits of their indexes. They are made from the tables the strict reader
// reads by.
var (
	clauseMembers = keysOf(clauseKeys)
	kindSets      = fieldSets(clauseKeys, Kinds, func(k Kind, name string) bool {
		return name == "id" || name == "kind" || clauseFields[name].has(k)
	}, func(k Kind) []string { return requiredFields[k] })
	idIndex, kindIndex = slices.Index(clauseKeys, "id"), slices.Index(clauseKeys, "kind")

	changeMembers = keysOf(func() []string {
		names := []string{"op"}
		for name := range changeFields {
			names = append(names, name)
		}
		slices.Sort(names)
		return names
	}())
	opSets = fieldSets(changeMembers.names, Ops, func(op Op, name string) bool {
		return name == "op" || slices.Contains(opFields[op].all, name)
	}, func(op Op) []string { return append([]string{"op"}, opFields[op].required...) })

	// clearable are the clause fields whose value is nil when they are not
	// set: the encoder leaves them out of a clause, and writes null for them
	// in a patch that clears them.
	clearable = func() (set uint32) {
		for i, s := range clauseSpecs {
			if s != nil && s.get(&Clause{}) == nil {
				set |= 1 << i
			}
		}
		return set
	}()
)

// fieldSet is a set of the members of an object, a bit for each member's
// index in the object's sorted member names.
type fieldSet struct{ all, required uint32 }

// fieldSets returns, for each of keys, the set of names it takes and
// requires.
func fieldSets[K any](names []string, keys []K, takes func(K, string) bool, required func(K) []string) []fieldSet {
	out := make([]fieldSet, len(keys))
	for j, k := range keys {
		for i, name := range names {
			if takes(k, name) {
				out[j].all |= 1 << i
			}
			if slices.Contains(required(k), name) {
				out[j].required |= 1 << i
			}
		}
	}
	return out
}

// changes reads the changes of an amendment: at least one.
func (d *cursor) changes(a *Amendment) bool {
	var buf [8]Change
	cs := buf[:0]
	n := 0
	for d.elem(&n) {
		cs = append(cs, Change{})
		if !d.change(&cs[len(cs)-1]) {
			return false
		}
	}
	if n < 0 {
		return false
	}
	// Amendments are kept for the life of the read model: no spare capacity.
	a.Changes = make([]Change, len(cs))
	copy(a.Changes, cs)
	return true
}

// change reads a change, as readChange does: its op decides which fields it
// takes and requires, and each is read as changeFields reads it.
func (d *cursor) change(c *Change) bool {
	if !d.lit("{") {
		return false
	}
	var present uint32
	op := -1
	for last := -1; ; {
		i, ok := d.next(changeMembers, &last)
		if !ok {
			return false
		}
		if i < 0 {
			break
		}
		present |= 1 << i
		switch changeMembers.names[i] {
		case "op":
			var s []byte
			s, ok = d.plain()
			op = slices.IndexFunc(Ops, func(op Op) bool { return string(op) == string(s) })
			if ok = ok && op >= 0; ok {
				c.Op = Ops[op]
			}
		case "title":
			c.More().Title, ok = d.text(MaxText)
		case "parties":
			n := 0
			x := c.More()
			for d.elem(&n) {
				v, ok := d.slug()
				if !ok || slices.Contains(x.Parties, v) {
					return false
				}
				x.Parties = append(x.Parties, v)
			}
			ok = n >= minParties
		case "clause":
			// The op comes after the clause: whether it takes a whole
			// clause or the id of one is checked once it is read.
			if d.peek() == '{' {
				c.Clause, ok = d.clause()
			} else {
				c.ClauseID, ok = d.slug()
			}
		case "set":
			c.Set, ok = d.patch()
		case "condition":
			c.More().Condition, ok = d.slug()
		case "period":
			c.More().Period, ok = d.period()
		case "base":
			x := c.More()
			x.Base, ok = d.money()
			ok = ok && checkBase(x.Base) == nil
		case "tranche":
			c.More().Tranche, ok = d.slug()
		case "amendment":
			c.More().Target, ok = d.ulid()
		default:
			ok = false
		}
		if !ok {
			return false
		}
	}
	if op < 0 || present&^opSets[op].all != 0 || opSets[op].required&^present != 0 {
		return false
	}
	return c.Clause == nil && c.ClauseID == "" || (c.Clause != nil) == takesClause(c.Op)
}

// clause reads a whole clause, as readClause does: its kind decides which
// fields it takes and requires.
func (d *cursor) clause() (*Clause, bool) {
	if !d.lit("{") {
		return nil, false
	}
	c := &Clause{}
	var present uint32
	kind := -1
	for last := -1; ; {
		i, ok := d.next(clauseMembers, &last)
		if !ok {
			return nil, false
		}
		if i < 0 {
			break
		}
		present |= 1 << i
		switch i {
		case idIndex:
			c.ID, ok = d.slug()
		case kindIndex:
			var s []byte
			s, ok = d.plain()
			kind = slices.IndexFunc(Kinds, func(k Kind) bool { return string(k) == string(s) })
			if ok = ok && kind >= 0; ok {
				c.Kind = Kinds[kind]
			}
		default:
			ok = clauseSpecs[i].fast(c, d)
		}
		if !ok {
			return nil, false
		}
	}
	// The encoder writes every field it has a value for, even one that says
	// nothing (an empty scope, exclusive false): those are there too.
	if kind < 0 || present&^kindSets[kind].all != 0 || (kindSets[kind].required|kindSets[kind].all&^clearable)&^present != 0 {
		return nil, false
	}
	var p Problems
	if checkClause(c, unnamed, &p); p.Len() != 0 {
		return nil, false
	}
	return c, true
}

// patch reads the "set" of an amend change, as readPatch does.
func (d *cursor) patch() (*Patch, bool) {
	if !d.lit("{") {
		return nil, false
	}
	pt := &Patch{}
	var buf [32]string
	names := buf[:0]
	for last := -1; ; {
		i, ok := d.next(clauseMembers, &last)
		if !ok {
			return nil, false
		}
		if i < 0 {
			break
		}
		s := clauseSpecs[i]
		if s == nil { // id and kind cannot be changed
			return nil, false
		}
		names = append(names, clauseKeys[i])
		if d.lit("null") {
			if clearable&(1<<i) == 0 {
				return nil, false
			}
			continue
		}
		if !s.fast(&pt.Values, d) {
			return nil, false
		}
	}
	pt.Names = slices.Clone(names)
	return pt, len(names) > 0
}
