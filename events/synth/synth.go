// Package synth generates synthetic amendment histories for tests and
// benchmarks: deterministic (the same seed gives the same amendments, ids
// included), realistic in shape, and valid — every amendment passes the
// events package's validation and applies to the history generated before
// it. It is pure: no I/O, no clock, no global randomness.
//
// An agreement's history opens it, then adds clauses of every kind (with
// scopes, terms and money), amends them, ends them, reports revenue under
// revenue shares and funds investment tranches; most amendments take effect
// after the ones before them, a configurable share (5% by default) is
// retroactive. Live clauses per agreement are kept between MinLive and
// MaxLive however long the history, and grantors are drawn from a pool of
// parties shared between agreements, so exclusive grants sometimes conflict.
// Declarations, closes and retractions can be switched on; generated
// retractions only ever retract amendments that nothing else depends on.
//
//	g := synth.New(1)
//	hist := g.Agreement("big-deal", 100_000) // one long history
//	many := g.Many(1000, 20)                 // 1000 agreements, interleaved
//
// The generator decides validity with its own model of each agreement; its
// tests check the decisions against the projections' strict validation.
package synth

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/oklog/ulid/v2"
	"github.com/shopspring/decimal"
)

// Source is where a Generator's choices come from: IntN returns a number in
// [0, n). *rand.Rand (math/rand/v2) is one; a property-test or fuzz input can
// be another, and then every choice the generator makes comes from it.
type Source interface {
	IntN(n int) int
}

// Config shapes what a Generator makes. Rates are per mille.
type Config struct {
	Retroactive int           // amendments effective before the latest one of their agreement (default 50: 5%)
	Declare     int           // amendments that declare a condition (default 5)
	Close       int           // amendments that close their agreement (default 0)
	Retract     int           // amendments that retract an earlier one (default 0)
	MinLive     int           // live clauses an agreement grows to before ending them is likely (default 20)
	MaxLive     int           // live clauses beyond which no clause is added at the present (default 45)
	MaxChanges  int           // changes per amendment, at most (default 4)
	Step        time.Duration // mean valid time between an agreement's consecutive amendments (default 10 days)
	Start       time.Time     // when agreements open, at the earliest (default 2015-01-01)
	Parties     int           // size of the pool parties are drawn from (default 12; Many sizes it to the agreements)
	Products    int           // size of the product pool (default 200)
}

// DefaultConfig is the configuration New starts from.
func DefaultConfig() Config {
	return Config{
		Retroactive: 50,
		Declare:     5,
		MinLive:     20,
		MaxLive:     45,
		MaxChanges:  4,
		Step:        10 * 24 * time.Hour,
		Start:       time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC),
		Parties:     12,
		Products:    200,
	}
}

// Generator makes amendments. Its Config may be changed between calls. It
// remembers every agreement it has generated, so later calls continue their
// histories. It is not safe for concurrent use.
type Generator struct {
	Config
	src   Source
	seed  uint64
	n     uint64 // amendments generated: ids and the order of recording
	agrs  map[string]*agr
	names []string
	cur   *rec // the amendment being generated
}

// New returns a generator whose choices are drawn from a PCG seeded with seed.
func New(seed int64) *Generator {
	return NewFrom(rand.New(rand.NewPCG(uint64(seed), 0x5eed_1ed9e5)), uint64(seed))
}

// NewFrom returns a generator whose choices all come from src; idSeed
// varies the ids it gives amendments.
func NewFrom(src Source, idSeed uint64) *Generator {
	return &Generator{Config: DefaultConfig(), src: src, seed: idSeed, agrs: map[string]*agr{}}
}

// Agreement continues (or starts) the history of agreement name with n
// amendments, the first of which opens it when it is new. The mean step
// between amendments shrinks for long histories so that they span at most
// about 30 years.
func (g *Generator) Agreement(name string, n int) []*events.Amendment {
	step := g.Step
	if span := 30 * 365 * 24 * time.Hour; n > 0 && step > span/time.Duration(n) {
		step = span / time.Duration(n)
	}
	a := g.agreement(name)
	a.step = step
	out := make([]*events.Amendment, 0, n)
	for len(out) < n {
		am := g.Next(name)
		if am == nil {
			break
		}
		out = append(out, am)
	}
	return out
}

// Many generates histories for agreements new agreements named
// "agreement-000001" and on, perAgreement amendments each, interleaved at
// random as a stream of appends from many users would be. Unless Parties
// was changed from its default, the party pool is sized so that each party
// takes part in about ten agreements.
func (g *Generator) Many(agreements, perAgreement int) []*events.Amendment {
	if g.Parties == DefaultConfig().Parties && agreements/5 > g.Parties {
		g.Parties = agreements / 5
	}
	first := len(g.names)
	left := make([]int, agreements)
	names := make([]string, agreements)
	active := make([]int, agreements)
	for i := range left {
		left[i] = perAgreement
		names[i] = fmt.Sprintf("agreement-%06d", first+i+1)
		active[i] = i
	}
	out := make([]*events.Amendment, 0, agreements*perAgreement)
	for len(active) > 0 {
		k := g.src.IntN(len(active))
		i := active[k]
		am := g.Next(names[i])
		if am != nil {
			out = append(out, am)
			left[i]--
		}
		if am == nil || left[i] == 0 {
			active[k] = active[len(active)-1]
			active = active[:len(active)-1]
		}
	}
	return out
}

// Agreements lists the agreements generated so far, in the order they were opened.
func (g *Generator) Agreements() []string { return slices.Clone(g.names) }

// Next generates the next amendment of agreement name (opening it when it is
// new), or returns nil when the agreement can take no further amendment
// (it was closed, and nothing before the close is left to change).
func (g *Generator) Next(name string) *events.Amendment {
	a := g.agreement(name)
	g.n++
	r := &rec{idx: g.n, retractable: true}
	am := &events.Amendment{ID: g.id(g.n), Agreement: name}
	r.a = am
	g.cur = r
	defer func() { g.cur = nil }()
	switch {
	case a.opened.IsZero():
		g.open(a, am)
	case g.chance(g.Retract) && g.retract(a, am):
	case a.closed != nil || g.chance(g.Retroactive):
		if !g.retro(a, am) {
			if a.closed != nil {
				g.n--
				return nil
			}
			g.frontier(a, am)
		}
	default:
		g.frontier(a, am)
	}
	a.hist = append(a.hist, r)
	return am
}

func (g *Generator) agreement(name string) *agr {
	a := g.agrs[name]
	if a == nil {
		a = &agr{name: name, step: g.Step}
		a.reset()
		g.agrs[name] = a
		g.names = append(g.names, name)
	}
	return a
}

// id is the ULID of the nth amendment: its time part counts up from the
// start, its entropy is a hash of the seed and n.
func (g *Generator) id(n uint64) ulid.ULID {
	var id ulid.ULID
	ms := uint64(g.Start.UnixMilli()) + n
	if err := id.SetTime(ms); err != nil {
		panic(err)
	}
	var e [10]byte
	binary.BigEndian.PutUint16(e[:2], uint16(mix(g.seed)))
	binary.BigEndian.PutUint64(e[2:], mix(g.seed^n*0x9e3779b97f4a7c15))
	_ = id.SetEntropy(e[:])
	return id
}

func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// Randomness.

func (g *Generator) intn(n int) int {
	if n <= 1 {
		return 0
	}
	return g.src.IntN(n)
}

// chance is true with probability perMille/1000.
func (g *Generator) chance(perMille int) bool { return perMille > 0 && g.intn(1000) < perMille }

func pick[T any](g *Generator, xs []T) T { return xs[g.intn(len(xs))] }

// The model of an agreement: enough of its state to know which changes apply.

type agr struct {
	name     string
	step     time.Duration
	parties  []string
	currency string
	opened   time.Time
	clock    time.Time // the latest effective time of its visible amendments
	closed   *time.Time
	clauses  map[string]*cl
	all      []*cl // every clause, in the order added
	live     []*cl // not ended and not past its term's end at clock
	declared map[string]time.Time
	hist     []*rec // every amendment generated, in order
	nextID   int
	nextCond int
}

// reset forgets everything but the agreement's name, currency and counters.
func (a *agr) reset() {
	a.parties, a.opened, a.clock, a.closed = nil, time.Time{}, time.Time{}, nil
	a.clauses, a.all, a.live, a.declared = map[string]*cl{}, nil, nil, map[string]time.Time{}
}

// cl is a clause of the model.
type cl struct {
	id      string
	kind    events.Kind
	grantor string
	start   time.Time // its current term's start, or when it was added
	end     time.Time // its current term's end; zero: none
	endsOn  string
	added   time.Time
	ended   time.Time // zero: not ended
	touched time.Time // latest effective time of an amend or end of it
	funded  map[string]bool
	tranche []string
	addedBy *rec
	refs    int // visible amendments other than addedBy that name it
}

func (c *cl) liveAt(t time.Time) bool {
	return !c.added.After(t) && (c.ended.IsZero() || c.ended.After(t))
}

// rec is a generated amendment.
type rec struct {
	a           *events.Amendment
	idx         uint64
	retracted   bool
	retractable bool // no open, close, retract or term amend in it
}

// Generating amendments.

var currencies = []string{"USD", "USD", "USD", "EUR", "EUR", "GBP", "JPY", "CHF"}

func (g *Generator) party(i int) string { return fmt.Sprintf("party-%04d", i) }

func (g *Generator) open(a *agr, am *events.Amendment) {
	pool := max(g.Parties, 3)
	n := 2
	if g.intn(5) == 0 {
		n = 3
	}
	var parties []string
	for x := g.intn(pool); len(parties) < n; x = (x + 1 + g.intn(pool-1)) % pool {
		for slices.Contains(parties, g.party(x+1)) {
			x = (x + 1) % pool
		}
		parties = append(parties, g.party(x+1))
	}
	t := g.Start.Add(time.Duration(g.intn(5*365*24*60)) * time.Minute)
	am.Effective = t
	am.Summary = fmt.Sprintf("%s opens between %s", a.name, joinAnd(parties))
	am.Changes = []events.Change{{Op: events.Open, Detail: &events.Detail{Title: "Agreement " + a.name, Parties: parties}}}
	a.currency = pick(g, currencies)
	g.apply(a, am.Changes[0], t)
	// a few clauses to start with
	for range 1 + g.intn(g.MaxChanges) {
		if c, ok := g.add(a, t, false); ok {
			am.Changes = append(am.Changes, c)
		}
	}
	g.cur.retractable = false
}

func joinAnd(ps []string) string {
	switch len(ps) {
	case 0:
		return ""
	case 1:
		return ps[0]
	}
	out := ps[0]
	for _, p := range ps[1 : len(ps)-1] {
		out += ", " + p
	}
	return out + " and " + ps[len(ps)-1]
}

// frontier makes an amendment effective at or after every other of a.
func (g *Generator) frontier(a *agr, am *events.Amendment) {
	e := a.clock
	if g.intn(10) > 0 {
		e = e.Add(time.Duration(g.intn(int(2*a.step/time.Minute)+1)) * time.Minute)
	}
	am.Effective = e
	a.clock = e
	a.expire()
	if g.chance(g.Close) && len(a.hist) > 5 {
		c := events.Change{Op: events.Close}
		am.Changes = []events.Change{c}
		am.Summary = a.name + " ends"
		g.apply(a, c, e)
		g.cur.retractable = false
		return
	}
	if g.chance(g.Declare) {
		if c, ok := g.declare(a, e); ok {
			am.Changes = append(am.Changes, c)
		}
	}
	k := 1 + g.intn(g.MaxChanges)
	for tries := 0; len(am.Changes) < k && tries < 3*k; tries++ {
		if c, ok := g.change(a, e, false); ok {
			am.Changes = append(am.Changes, c)
		}
	}
	if len(am.Changes) == 0 { // always possible: a note on a clause, or a new one
		c, ok := g.add(a, e, true)
		if !ok {
			panic("synth: no change applies to " + a.name)
		}
		am.Changes = append(am.Changes, c)
	}
	am.Summary = summary(am)
}

// retro makes an amendment effective before the latest of a, of changes that
// cannot make a later amendment invalid. It reports false when none applies.
func (g *Generator) retro(a *agr, am *events.Amendment) bool {
	lo, hi := a.opened, a.clock
	if a.closed != nil {
		hi = a.closed.Add(-time.Minute)
	}
	if hi.Before(lo) {
		return false
	}
	span := int(hi.Sub(lo) / time.Minute)
	t := lo.Add(time.Duration(g.intn(span+1)) * time.Minute)
	am.Effective = t
	k := 1 + g.intn(max(1, g.MaxChanges-1))
	for tries := 0; len(am.Changes) < k && tries < 3*k; tries++ {
		if c, ok := g.change(a, t, true); ok {
			am.Changes = append(am.Changes, c)
		}
	}
	if len(am.Changes) == 0 {
		return false
	}
	am.Summary = "Retroactive: " + summary(am)
	return true
}

func summary(am *events.Amendment) string {
	s := ""
	for i, c := range am.Changes {
		if i > 0 {
			s += "; "
		}
		s += string(c.Op)
		switch {
		case c.Clause != nil:
			s += " " + c.Clause.ID
		case c.ClauseID != "":
			s += " " + c.ClauseID
		case c.Of().Condition != "":
			s += " " + c.Of().Condition
		}
	}
	return s
}

// change draws one change that applies at t. Retroactive changes (retro) are
// limited to those that leave later amendments valid: adds, reports, funds,
// amends of fields no check depends on, and ends of clauses nothing later
// amends or ends.
func (g *Generator) change(a *agr, t time.Time, retro bool) (events.Change, bool) {
	live := len(a.live)
	switch r := g.intn(100); {
	case r < 30 && live < g.MaxLive, live < g.MinLive/2 && live < g.MaxLive:
		return g.add(a, t, retro)
	case r < 55:
		return g.amend(a, t, retro)
	case r < 70 || live > g.MaxLive:
		if live > g.MinLive || g.intn(3) == 0 {
			return g.end(a, t, retro)
		}
		return g.add(a, t, retro)
	case r < 88:
		return g.report(a, t, retro)
	default:
		return g.fund(a, t, retro)
	}
}

// candidate picks a clause that satisfies ok, trying a few at random.
func (g *Generator) candidate(a *agr, retro bool, ok func(*cl) bool) *cl {
	pool := a.live
	if retro {
		pool = a.all
	}
	if len(pool) == 0 {
		return nil
	}
	for range 12 {
		if c := pool[g.intn(len(pool))]; ok(c) {
			return c
		}
	}
	return nil
}

func (g *Generator) ref(c *cl) {
	if c.addedBy != g.cur {
		c.refs++
	}
}

// kinds are the kinds add draws from: each twice, exclusivities and
// investments once (the mix the generator has always drawn).
var kinds = func() []events.Kind {
	var out []events.Kind
	for _, k := range events.Kinds {
		out = append(out, k)
		if k != events.Exclusivity && k != events.Investment {
			out = append(out, k)
		}
	}
	return out
}()

var (
	channels    = []string{"api", "consumer", "enterprise", "marketplace", "mobile", "web"}
	platforms   = []string{"aws", "azure", "gcp", "on-prem", "oracle"}
	territories = []string{"br", "cn", "eu", "in", "jp", "uk", "us"}
	rights      = []string{"first-release", "primary-cloud-partner", "right-of-first-refusal", "most-favoured-nation", "board-observer", "co-marketing"}
	subjects    = []string{"model weights", "product IP", "patents on inference", "trademarks", "training data", "research results"}
	whats       = []string{"cloud services", "compute capacity", "co-develop a runtime", "joint research", "GPU purchases", "support and maintenance"}
	bases       = []string{"net revenue", "gross API revenue", "revenue from licensed technology", "subscription revenue"}
)

func (g *Generator) add(a *agr, t time.Time, retro bool) (events.Change, bool) {
	if len(a.live) >= g.MaxLive && !retro {
		return g.amend(a, t, false)
	}
	a.nextID++
	k := pick(g, kinds)
	c := &events.Clause{ID: fmt.Sprintf("%s-%d", kindSlug(k), a.nextID), Kind: k}
	i := g.intn(len(a.parties))
	j := (i + 1 + g.intn(len(a.parties)-1)) % len(a.parties)
	c.Grantor, c.Holder = a.parties[i], a.parties[j]
	for _, name := range drawn[k] {
		switch name {
		case "subject":
			c.What = pick(g, subjects)
		case "exclusive":
			c.Exclusive = g.intn(3) == 0
		case "scope":
			c.Scope = g.scope(c.ExclusiveGrant())
		case "sole":
			c.Sole = g.intn(4) == 0
		case "rate":
			c.Rate = g.rate()
		case "base":
			if g.intn(2) == 0 {
				c.What = pick(g, bases)
			}
		case "cap":
			if g.intn(3) == 0 {
				c.Cap = g.money(a, 1_000_000, 10_000_000_000)
			}
		case "amount":
			c.Amount = g.money(a, 1_000_000, 250_000_000_000)
		case "what":
			c.What = pick(g, whats)
		case "right":
			c.What = pick(g, rights)
		case "tranches":
			for n := range 1 + g.intn(3) {
				tr := events.Tranche{ID: fmt.Sprintf("tranche-%d", n+1), Amount: *g.money(a, 10_000_000, 50_000_000_000)}
				if n > 0 && g.intn(2) == 0 {
					tr.Condition = "conditions not disclosed"
				}
				c.Tranches = append(c.Tranches, tr)
			}
		default: // a text field of a new kind
			c.What = "synthetic-" + strings.ReplaceAll(name, "_", "-")
		}
	}
	if g.intn(4) == 0 {
		c.Note = "synthetic clause " + strconv.Itoa(a.nextID)
	}
	c.Term = g.term(a, t, t)
	if retro {
		// a clause agreed in the past covered a past period: bound it, or
		// states in the past would pile up every clause added late
		c.Term = &events.Term{End: t.Add(time.Duration(30+g.intn(120)) * a.step).Truncate(time.Minute)}
	}
	ch := events.Change{Op: events.Add, Clause: c}
	g.apply(a, ch, t)
	return ch, true
}

// drawn lists, by kind, the fields add draws: a required text first, then
// the kind's fields in reading order (the scope after the exclusive flag it
// depends on). It is the order the generator has always drawn in, which
// keeps the histories of a seed the same.
var drawn = func() map[events.Kind][]string {
	m := map[events.Kind][]string{}
	for _, k := range events.Kinds {
		text := events.TextField(k)
		if !events.FieldOf(text).Required {
			text = ""
		}
		for _, f := range events.Spec(k).Fields {
			if f != text {
				m[k] = append(m[k], f)
			}
		}
		if text != "" {
			m[k] = append([]string{text}, m[k]...)
		}
	}
	return m
}()

func kindSlug(k events.Kind) string { return strings.ReplaceAll(events.Spec(k).Word, " ", "-") }

// term draws a term for a clause added at added, set at t; nil for none.
func (g *Generator) term(a *agr, added, t time.Time) *events.Term {
	var tm events.Term
	switch g.intn(10) {
	case 0, 1, 2:
		tm.End = t.Add(time.Duration(30+g.intn(3650)) * 24 * time.Hour)
	case 3:
		tm.Start = t.Add(time.Duration(g.intn(180)-60) * 24 * time.Hour)
		tm.End = tm.Start.Add(time.Duration(30+g.intn(3650)) * 24 * time.Hour)
	case 4:
		if c, ok := g.condition(a, t); ok {
			tm.EndsOn = c
		}
	}
	if tm == (events.Term{}) {
		return nil
	}
	if tm.Start.IsZero() && !tm.End.IsZero() && !tm.End.After(added) {
		return nil
	}
	return &tm
}

// condition returns a condition a clause effective at t may end on: one not
// declared at or before t.
func (g *Generator) condition(a *agr, t time.Time) (string, bool) {
	for range 4 {
		var c string
		if g.intn(3) == 0 {
			a.nextCond++
			c = fmt.Sprintf("milestone-%d", a.nextCond)
		} else {
			c = pick(g, []string{"agi", "ipo", "change-of-control", "regulatory-approval"})
		}
		if d, ok := a.declared[c]; !ok || d.After(t) {
			return c, true
		}
	}
	return "", false
}

// scope draws a scope; a narrow one names products, as exclusive grants
// mostly do (one over everything conflicts with every other of its grantor).
func (g *Generator) scope(narrow bool) *events.Scope {
	if !narrow && g.intn(10) == 0 {
		return nil
	}
	var s events.Scope
	if narrow && g.intn(20) > 0 || g.intn(8) > 0 {
		s.Products = g.some(func(i int) string { return fmt.Sprintf("product-%03d", i) }, max(g.Products, 1), 2)
	}
	if g.intn(3) > 0 {
		s.Channels = g.someOf(channels, 2)
	}
	if g.intn(4) == 0 {
		s.Platforms = g.someOf(platforms, 2)
	}
	if g.intn(4) == 0 {
		s.Territories = g.someOf(territories, 3)
	}
	if s.IsAll() {
		return nil
	}
	return &s
}

func (g *Generator) some(name func(int) string, pool, most int) []string {
	var out []string
	for range 1 + g.intn(most) {
		v := name(g.intn(pool) + 1)
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

func (g *Generator) someOf(vs []string, most int) []string {
	return g.some(func(i int) string { return vs[i-1] }, len(vs), most)
}

func (g *Generator) rate() *events.Rate {
	if g.intn(8) == 0 {
		return &events.Rate{Undisclosed: true}
	}
	return &events.Rate{Value: decimal.New(int64(1+g.intn(40)), -2)}
}

// money is a disclosed amount of a's currency between lo and hi, in cents.
func (g *Generator) money(a *agr, lo, hi int64) *events.Money {
	span := hi - lo
	v := lo + int64(g.intn(int(min(span, 1<<40))))*max(1, span>>40)
	cents := int64(g.intn(100))
	if g.intn(2) == 0 {
		cents = 0
	}
	return &events.Money{Amount: decimal.New(v*100+cents, -2), Currency: a.currency}
}

// amendable lists, by kind, the fields amends may set: the kind's values,
// then its text and scope, then note (the order keeps the histories of a
// seed the same); not tranches, which funding refers to.
var amendable = func() map[events.Kind][]string {
	m := map[events.Kind][]string{}
	for _, k := range events.Kinds {
		var values, last []string
		for _, f := range events.Spec(k).Fields {
			switch {
			case f == "tranches":
			case f == events.TextField(k) || f == "scope":
				last = append(last, f)
			default:
				values = append(values, f)
			}
		}
		m[k] = append(append(values, last...), "note")
	}
	return m
}()

func (g *Generator) amend(a *agr, t time.Time, retro bool) (events.Change, bool) {
	c := g.candidate(a, retro, func(c *cl) bool { return !retro || c.liveAt(t) })
	if c == nil {
		return events.Change{}, false
	}
	fields := amendable[c.kind]
	var p events.Patch
	for range 1 + g.intn(2) {
		name := pick(g, fields)
		if !retro && g.intn(6) == 0 {
			name = "term"
		}
		if slices.Contains(p.Names, name) {
			continue
		}
		p.Names = append(p.Names, name)
		v := &p.Values
		switch name {
		case "exclusive":
			v.Exclusive = g.intn(2) == 0
		case "sole":
			v.Sole = g.intn(2) == 0
		case "scope":
			v.Scope = g.scope(events.Spec(c.kind).Exclusive == events.AlwaysExclusive)
		case "note":
			if g.intn(5) > 0 {
				v.Note = "amended " + events.FormatTime(t)
			}
		case "subject":
			v.What = pick(g, subjects)
		case "base":
			if g.intn(4) > 0 {
				v.What = pick(g, bases)
			}
		case "what":
			v.What = pick(g, whats)
		case "right":
			v.What = pick(g, rights)
		case "rate":
			v.Rate = g.rate()
		case "cap":
			switch g.intn(4) {
			case 0: // cleared: uncapped
			case 1:
				v.Cap = &events.Money{Undisclosed: true, Currency: a.currency}
			default:
				v.Cap = g.money(a, 1_000_000, 10_000_000_000)
			}
		case "amount":
			v.Amount = g.money(a, 1_000_000, 250_000_000_000)
		case "term":
			v.Term = g.term(a, c.added, t)
			g.cur.retractable = false
		}
	}
	slices.Sort(p.Names)
	ch := events.Change{Op: events.Amend, ClauseID: c.id, Set: &p}
	g.apply(a, ch, t)
	g.ref(c)
	return ch, true
}

func (g *Generator) end(a *agr, t time.Time, retro bool) (events.Change, bool) {
	c := g.candidate(a, retro, func(c *cl) bool { return !retro || c.liveAt(t) && !c.touched.After(t) })
	if c == nil {
		return events.Change{}, false
	}
	ch := events.Change{Op: events.End, ClauseID: c.id}
	g.apply(a, ch, t)
	g.ref(c)
	return ch, true
}

func (g *Generator) report(a *agr, t time.Time, retro bool) (events.Change, bool) {
	c := g.candidate(a, retro, func(c *cl) bool { return c.kind == events.RevenueShare && c.liveAt(t) })
	if c == nil {
		return events.Change{}, false
	}
	start := t.Add(-time.Duration(1+g.intn(90)) * 24 * time.Hour).Truncate(24 * time.Hour)
	end := start.Add(time.Duration(1+g.intn(90)) * 24 * time.Hour)
	ch := events.Change{Op: events.Report, ClauseID: c.id, Detail: &events.Detail{Period: events.Period{Start: start, End: end},
		Base: g.money(a, 1000, 5_000_000_000)}}
	g.apply(a, ch, t)
	g.ref(c)
	return ch, true
}

func (g *Generator) fund(a *agr, t time.Time, retro bool) (events.Change, bool) {
	c := g.candidate(a, retro, func(c *cl) bool {
		return c.kind == events.Investment && c.liveAt(t) && len(c.funded) < len(c.tranche)
	})
	if c == nil {
		return events.Change{}, false
	}
	var open []string
	for _, id := range c.tranche {
		if !c.funded[id] {
			open = append(open, id)
		}
	}
	ch := events.Change{Op: events.Fund, ClauseID: c.id, Detail: &events.Detail{Tranche: pick(g, open)}}
	g.apply(a, ch, t)
	g.ref(c)
	return ch, true
}

func (g *Generator) declare(a *agr, t time.Time) (events.Change, bool) {
	var conds []string
	for _, c := range a.live {
		if c.endsOn != "" {
			conds = append(conds, c.endsOn)
		}
	}
	var cond string
	if len(conds) > 0 {
		cond = pick(g, conds)
	} else if c, ok := g.condition(a, t); ok {
		cond = c
	}
	if _, done := a.declared[cond]; cond == "" || done {
		return events.Change{}, false
	}
	ch := events.Change{Op: events.Declare, Detail: &events.Detail{Condition: cond}}
	g.apply(a, ch, t)
	return ch, true
}

// retract makes am retract an earlier amendment of a that nothing depends
// on; it reports false when there is none.
func (g *Generator) retract(a *agr, am *events.Amendment) bool {
	var cands []*rec
	for _, r := range a.hist {
		if !r.retracted && r.retractable && g.independent(a, r) {
			cands = append(cands, r)
		}
	}
	if len(cands) == 0 {
		return false
	}
	target := pick(g, cands)
	am.Effective = a.clock
	am.Summary = "Recorded in error: " + target.a.ID.String()
	am.Changes = []events.Change{{Op: events.Retract, Detail: &events.Detail{Target: target.a.ID}}}
	target.retracted = true
	g.cur.retractable = false
	g.rebuild(a)
	a.clock = later(a.clock, am.Effective)
	return true
}

// independent reports whether no other visible amendment names a clause r adds.
func (g *Generator) independent(a *agr, r *rec) bool {
	for _, c := range r.a.Changes {
		if c.Op == events.Add && a.clauses[c.Clause.ID].refs > 0 {
			return false
		}
	}
	return true
}

// rebuild replays a's visible amendments, in the order a fold applies them,
// into a fresh model.
func (g *Generator) rebuild(a *agr) {
	var vis []*rec
	for _, r := range a.hist {
		if !r.retracted {
			vis = append(vis, r)
		}
	}
	slices.SortStableFunc(vis, func(x, y *rec) int { return x.a.Effective.Compare(y.a.Effective) })
	a.reset()
	cur := g.cur
	defer func() { g.cur = cur }()
	for _, r := range vis {
		g.cur = r
		for _, c := range r.a.Changes {
			g.apply(a, c, r.a.Effective)
			var id string
			switch c.Op {
			case events.Amend, events.End, events.Report, events.Fund:
				id = c.ClauseID
			}
			if cl := a.clauses[id]; cl != nil {
				g.ref(cl)
			}
		}
		if r.a.Effective.After(a.clock) {
			a.clock = r.a.Effective
		}
	}
	a.expire()
}

// apply updates the model with a change effective at t.
func (g *Generator) apply(a *agr, c events.Change, t time.Time) {
	switch c.Op {
	case events.Open:
		a.parties, a.opened, a.clock = c.Of().Parties, t, t
		if a.currency == "" {
			a.currency = "USD"
		}
	case events.Add:
		x := &cl{id: c.Clause.ID, kind: c.Clause.Kind, grantor: c.Clause.Grantor, added: t, touched: t, addedBy: g.cur}
		x.setTerm(c.Clause.Term)
		for _, tr := range c.Clause.Tranches {
			x.tranche = append(x.tranche, tr.ID)
		}
		if d, ok := a.declared[x.endsOn]; ok && d.After(t) {
			x.ended = d
		}
		if a.closed != nil && a.closed.After(t) && x.ended.IsZero() {
			x.ended = *a.closed
		}
		a.clauses[x.id] = x
		a.all = append(a.all, x)
		if x.ended.IsZero() && (x.end.IsZero() || x.end.After(a.clock)) {
			a.live = append(a.live, x)
		}
	case events.Amend:
		x := a.clauses[c.ClauseID]
		if slices.Contains(c.Set.Names, "term") {
			x.setTerm(c.Set.Values.Term)
		}
		x.touched = later(x.touched, t)
	case events.End:
		x := a.clauses[c.ClauseID]
		x.ended = t
		x.touched = later(x.touched, t)
		a.drop(x)
	case events.Declare:
		a.declared[c.Of().Condition] = t
		for _, x := range a.all {
			if x.ended.IsZero() && x.endsOn == c.Of().Condition {
				x.ended = t
				a.drop(x)
			}
		}
	case events.Fund:
		x := a.clauses[c.ClauseID]
		if x.funded == nil {
			x.funded = map[string]bool{}
		}
		x.funded[c.Of().Tranche] = true
	case events.Close:
		a.closed = &t
		for _, x := range a.all {
			if x.ended.IsZero() {
				x.ended = t
			}
		}
		a.live = nil
	}
}

func (x *cl) setTerm(t *events.Term) {
	x.start, x.end, x.endsOn = x.added, time.Time{}, ""
	if t == nil {
		return
	}
	if !t.Start.IsZero() {
		x.start = t.Start
	}
	x.end, x.endsOn = t.End, t.EndsOn
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// drop takes x out of the live list.
func (a *agr) drop(x *cl) {
	if i := slices.Index(a.live, x); i >= 0 {
		a.live = slices.Delete(a.live, i, i+1)
	}
}

// expire takes clauses whose term has ended by the clock out of the live list.
func (a *agr) expire() {
	a.live = slices.DeleteFunc(a.live, func(x *cl) bool {
		return !x.ended.IsZero() || !x.end.IsZero() && !x.end.After(a.clock)
	})
}
