package events

import (
	"encoding/binary"
	"errors"
	"math/big"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/shopspring/decimal"
)

// A compact binary form of amendments, for the read model's snapshots: what
// was decoded and checked once is written as it is held in memory and read
// back without parsing JSON or checking anything again. Strings go through
// a table, so a party or product named a million times is stored once.
// Reading gives back exactly the Amendment that was written (deep-equal:
// decimals keep their exponent, times their instant, nil stays nil), so the
// canonical encoding of what is read is the stored bytes it was read from.
//
// The form carries no version of its own: the snapshot that holds it does.

// BinaryWriter appends amendments in the binary form; Strings is the table
// they refer to, which a reader needs.
type BinaryWriter struct {
	ids     map[string]uint32
	Strings []string
}

// NewBinaryWriter returns a writer with an empty string table.
func NewBinaryWriter() *BinaryWriter {
	return &BinaryWriter{ids: map[string]uint32{"": 0}, Strings: []string{""}}
}

// Append appends a's binary form to b.
func (w *BinaryWriter) Append(b []byte, a *Amendment) []byte {
	b = append(b, a.ID[:]...)
	b = w.str(b, a.Agreement)
	b = appendBinaryTime(b, a.Effective)
	b = appendBinaryTime(b, a.Signed)
	b = w.str(b, a.Summary)
	if a.Source == nil {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = w.str(b, a.Source.Quote)
		b = w.str(b, a.Source.Title)
		b = w.str(b, a.Source.URL)
	}
	b = binary.AppendUvarint(b, uint64(len(a.Changes)))
	for i := range a.Changes {
		b = w.change(b, &a.Changes[i])
	}
	return b
}

func (w *BinaryWriter) str(b []byte, s string) []byte {
	id, ok := w.ids[s]
	if !ok {
		id = uint32(len(w.Strings))
		w.ids[s] = id
		w.Strings = append(w.Strings, s)
	}
	return binary.AppendUvarint(b, uint64(id))
}

func (w *BinaryWriter) strs(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(ss))+1)
	for _, s := range ss {
		b = w.str(b, s)
	}
	return b
}

// The ops, by their number in Ops.
func opCode(op Op) byte {
	for i, o := range Ops {
		if o == op {
			return byte(i)
		}
	}
	return 255
}

func (w *BinaryWriter) change(b []byte, c *Change) []byte {
	b = append(b, opCode(c.Op))
	d := c.Of()
	switch c.Op {
	case Open:
		b = w.str(b, d.Title)
		b = w.strs(b, d.Parties)
	case Add:
		b = w.clause(b, c.Clause)
	case Amend:
		b = w.str(b, c.ClauseID)
		b = binary.AppendUvarint(b, uint64(len(c.Set.Names)))
		for _, n := range c.Set.Names {
			b = w.str(b, n)
		}
		b = w.clause(b, &c.Set.Values)
	case End:
		b = w.str(b, c.ClauseID)
	case Declare:
		b = w.str(b, d.Condition)
	case Report:
		b = w.str(b, c.ClauseID)
		b = appendBinaryTime(b, d.Period.Start)
		b = appendBinaryTime(b, d.Period.End)
		b = w.money(b, d.Base)
	case Fund:
		b = w.str(b, c.ClauseID)
		b = w.str(b, d.Tranche)
	case Retract:
		b = append(b, d.Target[:]...)
	}
	return b
}

// Clause flags: which optional parts follow.
const (
	binExclusive = 1 << iota
	binSole
	binScope
	binRate
	binCap
	binAmount
	binTranches
	binTerm
)

func (w *BinaryWriter) clause(b []byte, c *Clause) []byte {
	b = w.str(b, c.ID)
	b = w.str(b, string(c.Kind))
	b = w.str(b, c.Grantor)
	b = w.str(b, c.Holder)
	b = w.str(b, c.What)
	b = w.str(b, c.Note)
	var f byte
	for _, x := range []struct {
		bit byte
		on  bool
	}{{binExclusive, c.Exclusive}, {binSole, c.Sole}, {binScope, c.Scope != nil}, {binRate, c.Rate != nil},
		{binCap, c.Cap != nil}, {binAmount, c.Amount != nil}, {binTranches, c.Tranches != nil}, {binTerm, c.Term != nil}} {
		if x.on {
			f |= x.bit
		}
	}
	b = append(b, f)
	if c.Scope != nil {
		for d := range 4 {
			b = w.strs(b, c.Scope.Dim(d))
		}
	}
	if c.Rate != nil {
		b = appendBool(b, c.Rate.Undisclosed)
		b = appendDecimal(b, c.Rate.Value)
	}
	if c.Cap != nil {
		b = w.money(b, c.Cap)
	}
	if c.Amount != nil {
		b = w.money(b, c.Amount)
	}
	if c.Tranches != nil {
		b = binary.AppendUvarint(b, uint64(len(c.Tranches)))
		for i := range c.Tranches {
			t := &c.Tranches[i]
			b = w.str(b, t.ID)
			b = w.str(b, t.Condition)
			b = w.money(b, &t.Amount)
		}
	}
	if c.Term != nil {
		b = appendBinaryTime(b, c.Term.Start)
		b = appendBinaryTime(b, c.Term.End)
		b = w.str(b, c.Term.EndsOn)
	}
	return b
}

func (w *BinaryWriter) money(b []byte, m *Money) []byte {
	if m == nil {
		return append(b, 0)
	}
	b = appendBool(b, true)
	b = appendBool(b, m.Undisclosed)
	b = w.str(b, m.Currency)
	return appendDecimal(b, m.Amount)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// appendBinaryTime writes a time as seconds and nanoseconds since 1970 (every
// time is UTC), or 0 for the zero time.
func appendBinaryTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

// appendDecimal writes a decimal's exponent and coefficient as they are, so
// that it reads back equal, not only of equal value.
func appendDecimal(b []byte, d decimal.Decimal) []byte {
	b = binary.AppendVarint(b, int64(d.Exponent()))
	c := d.Coefficient()
	if c.IsInt64() {
		b = append(b, 0)
		return binary.AppendVarint(b, c.Int64())
	}
	if c.Sign() < 0 {
		b = append(b, 1)
	} else {
		b = append(b, 2)
	}
	mag := c.Bytes()
	b = binary.AppendUvarint(b, uint64(len(mag)))
	return append(b, mag...)
}

// ReadBinary reads the amendments written by a BinaryWriter whose table is
// strings. It reads one amendment from the front of b and returns the rest.
func ReadBinary(b []byte, strings []string) (*Amendment, []byte, error) {
	r := binReader{b: b, strs: strings}
	a := r.amendment()
	if r.err != nil {
		return nil, nil, r.err
	}
	return a, r.b, nil
}

var errBinary = errors.New("events: malformed binary amendment")

// binReader reads the binary form; the first problem sets err, and from
// then on everything reads as zero.
type binReader struct {
	b    []byte
	strs []string
	err  error
}

func (r *binReader) fail() {
	if r.err == nil {
		r.err = errBinary
	}
	r.b = nil
}

func (r *binReader) byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *binReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *binReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *binReader) bytes(n uint64) []byte {
	if n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *binReader) str() string {
	i := r.uvarint()
	if i >= uint64(len(r.strs)) {
		r.fail()
		return ""
	}
	return r.strs[i]
}

// count reads a number of items that each take at least a byte.
func (r *binReader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *binReader) strList() []string {
	n := r.uvarint() // the length plus one; 0 for nil
	if n == 0 {
		return nil
	}
	if n-1 > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	out := make([]string, n-1)
	for i := range out {
		out[i] = r.str()
	}
	return out
}

func (r *binReader) time() time.Time {
	if r.byte() == 0 {
		return time.Time{}
	}
	s := r.varint()
	ns := r.uvarint()
	if ns >= 1e9 {
		r.fail()
		return time.Time{}
	}
	return time.Unix(s, int64(ns)).UTC()
}

func (r *binReader) decimal() decimal.Decimal {
	exp := r.varint()
	var c big.Int
	switch r.byte() {
	case 0:
		c.SetInt64(r.varint())
	case 1:
		c.SetBytes(r.bytes(r.uvarint()))
		c.Neg(&c)
	case 2:
		c.SetBytes(r.bytes(r.uvarint()))
	default:
		r.fail()
	}
	return decimal.NewFromBigInt(&c, int32(exp))
}

func (r *binReader) money() *Money {
	if r.byte() == 0 {
		return nil
	}
	m := &Money{Undisclosed: r.byte() == 1}
	m.Currency = r.str()
	m.Amount = r.decimal()
	return m
}

func (r *binReader) amendment() *Amendment {
	a := &Amendment{}
	copy(a.ID[:], r.bytes(16))
	a.Agreement = r.str()
	a.Effective = r.time()
	a.Signed = r.time()
	a.Summary = r.str()
	if r.byte() == 1 {
		a.Source = &Source{Quote: r.str(), Title: r.str(), URL: r.str()}
	}
	n := r.count()
	if r.err != nil {
		return nil
	}
	a.Changes = make([]Change, n)
	for i := range a.Changes {
		r.change(&a.Changes[i])
	}
	return a
}

func (r *binReader) change(c *Change) {
	op := r.byte()
	if int(op) >= len(Ops) {
		r.fail()
		return
	}
	c.Op = Ops[op]
	switch c.Op {
	case Open:
		d := c.More()
		d.Title = r.str()
		d.Parties = r.strList()
	case Add:
		c.Clause = &Clause{}
		r.clause(c.Clause)
	case Amend:
		c.ClauseID = r.str()
		c.Set = &Patch{Names: make([]string, r.count())}
		for i := range c.Set.Names {
			c.Set.Names[i] = r.str()
		}
		r.clause(&c.Set.Values)
	case End:
		c.ClauseID = r.str()
	case Declare:
		c.More().Condition = r.str()
	case Report:
		c.ClauseID = r.str()
		d := c.More()
		d.Period.Start = r.time()
		d.Period.End = r.time()
		d.Base = r.money()
	case Fund:
		c.ClauseID = r.str()
		c.More().Tranche = r.str()
	case Retract:
		copy(c.More().Target[:], r.bytes(uint64(len(ulid.ULID{}))))
	}
}

func (r *binReader) clause(c *Clause) {
	c.ID = r.str()
	c.Kind = Kind(r.str())
	c.Grantor = r.str()
	c.Holder = r.str()
	c.What = r.str()
	c.Note = r.str()
	f := r.byte()
	c.Exclusive, c.Sole = f&binExclusive != 0, f&binSole != 0
	if f&binScope != 0 {
		c.Scope = &Scope{Products: r.strList(), Channels: r.strList(), Platforms: r.strList(), Territories: r.strList()}
	}
	if f&binRate != 0 {
		c.Rate = &Rate{Undisclosed: r.byte() == 1}
		c.Rate.Value = r.decimal()
	}
	if f&binCap != 0 {
		c.Cap = r.money()
	}
	if f&binAmount != 0 {
		c.Amount = r.money()
	}
	if f&binTranches != 0 {
		c.Tranches = make([]Tranche, r.count())
		for i := range c.Tranches {
			t := &c.Tranches[i]
			t.ID = r.str()
			t.Condition = r.str()
			if m := r.money(); m != nil {
				t.Amount = *m
			}
		}
	}
	if f&binTerm != 0 {
		c.Term = &Term{Start: r.time(), End: r.time(), EndsOn: r.str()}
	}
}
