package events

import (
	"encoding/hex"
	"encoding/json"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"
)

// The canonical encoding, written by hand: every append, content hash and
// snapshot goes through it, and building maps for encoding/json to sort
// costs more than the rest of an append. The output is exactly what
// json.Marshal writes for the same values (sorted keys, HTML-safe escapes);
// a test holds it to that.

// appendAmendment writes a's canonical form; stored adds the schema version
// and prev (when not zero).
func appendAmendment(b []byte, a *Amendment, stored bool, prev Hash) []byte {
	b = append(b, `{"agreement":`...)
	b = appendString(b, a.Agreement)
	b = append(b, `,"changes":`...)
	if a.Changes == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range a.Changes {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendChange(b, &a.Changes[i])
		}
		b = append(b, ']')
	}
	b = append(b, `,"effective":`...)
	b = appendTime(b, a.Effective)
	if a.ID != (ulid.ULID{}) {
		b = append(b, `,"id":`...)
		b = appendULID(b, a.ID)
	}
	if stored && !prev.IsZero() {
		b = append(b, `,"prev":`...)
		b = append(b, '"')
		b = hex.AppendEncode(b, prev[:])
		b = append(b, '"')
	}
	if !a.Signed.IsZero() {
		b = append(b, `,"signed":`...)
		b = appendTime(b, a.Signed)
	}
	if a.Source != nil {
		b = append(b, `,"source":`...)
		b = appendMembers(b, [][2]string{{"quote", a.Source.Quote}, {"title", a.Source.Title}, {"url", a.Source.URL}})
	}
	if a.Summary != "" {
		b = append(b, `,"summary":`...)
		b = appendString(b, a.Summary)
	}
	if stored {
		b = append(b, `,"v":`...)
		b = appendInt(b, SchemaVersion)
	}
	return append(b, '}')
}

func appendChange(b []byte, c *Change) []byte {
	op := func(b []byte) []byte {
		b = append(b, `"op":`...)
		return appendString(b, string(c.Op))
	}
	b = append(b, '{')
	d := c.Of()
	switch c.Op {
	case Open:
		b = op(b)
		b = append(b, `,"parties":`...)
		b = appendStrings(b, d.Parties)
		b = append(b, `,"title":`...)
		b = appendString(b, d.Title)
	case Add:
		b = append(b, `"clause":`...)
		if c.Clause == nil {
			b = append(b, "null"...)
		} else {
			b = appendClause(b, c.Clause)
		}
		b = append(b, ',')
		b = op(b)
	case Amend:
		b = append(b, `"clause":`...)
		b = appendString(b, c.ClauseID)
		b = append(b, ',')
		b = op(b)
		b = append(b, `,"set":`...)
		if c.Set == nil {
			b = append(b, "null"...)
		} else {
			b = appendPatch(b, c.Set)
		}
	case End:
		b = append(b, `"clause":`...)
		b = appendString(b, c.ClauseID)
		b = append(b, ',')
		b = op(b)
	case Declare:
		b = append(b, `"condition":`...)
		b = appendString(b, d.Condition)
		b = append(b, ',')
		b = op(b)
	case Report:
		b = append(b, `"base":`...)
		b = appendMoneyPtr(b, d.Base)
		b = append(b, `,"clause":`...)
		b = appendString(b, c.ClauseID)
		b = append(b, ',')
		b = op(b)
		b = append(b, `,"period":{"end":`...)
		b = appendTime(b, d.Period.End)
		b = append(b, `,"start":`...)
		b = appendTime(b, d.Period.Start)
		b = append(b, '}')
	case Fund:
		b = append(b, `"clause":`...)
		b = appendString(b, c.ClauseID)
		b = append(b, ',')
		b = op(b)
		b = append(b, `,"tranche":`...)
		b = appendString(b, d.Tranche)
	case Retract:
		b = append(b, `"amendment":`...)
		b = appendULID(b, d.Target)
		b = append(b, ',')
		b = op(b)
	default:
		b = op(b)
	}
	return append(b, '}')
}

// appendClause writes a clause: its fields and id and kind, keys sorted.
func appendClause(b []byte, c *Clause) []byte {
	b = append(b, '{')
	first := true
	for i, name := range clauseKeys {
		s := clauseSpecs[i]
		var text string
		var v any // nil when the value is text
		switch {
		case name == "id":
			text = c.ID
		case name == "kind":
			text = string(c.Kind)
		case !s.has(c.Kind):
			continue
		case s.text != nil:
			if text = s.text(c); text == "" {
				continue
			}
		default:
			if v = s.get(c); v == nil {
				continue
			}
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, name)
		b = append(b, ':')
		if v == nil {
			b = appendString(b, text)
		} else {
			b = appendValue(b, v)
		}
	}
	return append(b, '}')
}

// clauseKeys are the member names of every clause kind, sorted.
var clauseKeys = func() []string {
	keys := []string{"id", "kind"}
	for name := range clauseFields {
		keys = append(keys, name)
	}
	slices.Sort(keys)
	return keys
}()

// clauseSpecs are the specs of clauseKeys, nil for id and kind.
var clauseSpecs = func() []*spec {
	specs := make([]*spec, len(clauseKeys))
	for i, name := range clauseKeys {
		if s, ok := clauseFields[name]; ok {
			specs[i] = &s
		}
	}
	return specs
}()

func appendPatch(b []byte, pt *Patch) []byte {
	b = append(b, '{')
	for i, name := range pt.Names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, name)
		b = append(b, ':')
		if s := clauseFields[name]; s.text != nil && s.text(&pt.Values) != "" {
			b = appendString(b, s.text(&pt.Values))
		} else {
			b = appendValue(b, s.get(&pt.Values))
		}
	}
	return append(b, '}')
}

// appendValue writes a clause field's value.
func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendString(b, v)
	case bool:
		if v {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case *Scope:
		return appendScope(b, v)
	case map[string]any: // an unlimited scope
		if len(v) == 0 {
			return append(b, "{}"...)
		}
	case *Rate:
		if v.Undisclosed {
			return append(b, `{"undisclosed":true}`...)
		}
		return appendString(b, v.Value.String())
	case *Money:
		return appendMoneyPtr(b, v)
	case []Tranche:
		b = append(b, '[')
		for i := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"amount":`...)
			b = appendMoney(b, &v[i].Amount)
			if v[i].Condition != "" {
				b = append(b, `,"condition":`...)
				b = appendString(b, v[i].Condition)
			}
			b = append(b, `,"id":`...)
			b = appendString(b, v[i].ID)
			b = append(b, '}')
		}
		return append(b, ']')
	case *Term:
		return appendTerm(b, v)
	}
	out, err := json.Marshal(v)
	if err != nil {
		panic("events: cannot encode a clause value: " + err.Error())
	}
	return append(b, out...)
}

func appendScope(b []byte, s *Scope) []byte {
	b = append(b, '{')
	first := true
	// Keys in sorted order: channels, platforms, products, territories.
	for _, d := range []struct {
		name string
		vs   []string
	}{{"channels", s.Channels}, {"platforms", s.Platforms}, {"products", s.Products}, {"territories", s.Territories}} {
		if d.vs == nil {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, d.name)
		b = append(b, ':')
		b = appendStrings(b, d.vs)
	}
	return append(b, '}')
}

// appendTerm writes the members of a term that are set.
func appendTerm(b []byte, t *Term) []byte {
	b = append(b, '{')
	first := len(b)
	if !t.End.IsZero() {
		b = append(b, `"end":`...)
		b = appendTime(b, t.End)
	}
	if t.EndsOn != "" {
		if len(b) > first {
			b = append(b, ',')
		}
		b = append(b, `"ends_on":`...)
		b = appendString(b, t.EndsOn)
	}
	if !t.Start.IsZero() {
		if len(b) > first {
			b = append(b, ',')
		}
		b = append(b, `"start":`...)
		b = appendTime(b, t.Start)
	}
	return append(b, '}')
}

// appendTime writes FormatTime(t) as a JSON string: it has nothing to escape.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = appendFormatTime(b, t)
	return append(b, '"')
}

// appendULID writes id as its String does, as a JSON string.
func appendULID(b []byte, id ulid.ULID) []byte {
	var text [ulid.EncodedSize]byte
	_ = id.MarshalTextTo(text[:]) // cannot fail: text has its size
	b = append(b, '"')
	b = append(b, text[:]...)
	return append(b, '"')
}

// appendMembers writes an object of string members, given in key order,
// leaving out the empty ones.
func appendMembers(b []byte, members [][2]string) []byte {
	b = append(b, '{')
	first := true
	for _, kv := range members {
		if kv[1] == "" {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, kv[0])
		b = append(b, ':')
		b = appendString(b, kv[1])
	}
	return append(b, '}')
}

func appendMoneyPtr(b []byte, m *Money) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	return appendMoney(b, m)
}

func appendMoney(b []byte, m *Money) []byte {
	switch {
	case m.Undisclosed && m.Currency != "":
		b = append(b, `{"currency":`...)
		b = appendString(b, m.Currency)
		return append(b, `,"undisclosed":true}`...)
	case m.Undisclosed:
		return append(b, `{"undisclosed":true}`...)
	}
	b = append(b, `{"amount":`...)
	b = appendString(b, m.Amount.String())
	b = append(b, `,"currency":`...)
	b = appendString(b, m.Currency)
	return append(b, '}')
}

func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string escaped as encoding/json does:
// quotes, backslashes, control characters, <, > and &, U+2028 and U+2029,
// and invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
