package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// This file holds the strict JSON reading every input goes through. Each
// object is read as a map of raw fields and each field by its own reader, so a
// problem is reported with its path and the other fields are still checked.

// jsonType names the JSON type of a raw value, for messages.
func jsonType(raw json.RawMessage) string {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// field reads one member of an object; it writes what it decodes and records problems.
type field func(raw json.RawMessage, path string, p *Problems)

// members says what members an object may have and reads them.
type members interface {
	has(name string) bool                                            // whether name is a member of such objects
	read(name string, raw json.RawMessage, path string, p *Problems) // reads a member that has a value
	names() string                                                   // the member names, for messages
}

// fieldMap is a members given as a map of readers.
type fieldMap map[string]field

func (fs fieldMap) has(name string) bool { _, ok := fs[name]; return ok }
func (fs fieldMap) read(name string, raw json.RawMessage, path string, p *Problems) {
	fs[name](raw, path, p)
}
func (fs fieldMap) names() string { return knownFields(fs) }

// object reads raw as a JSON object whose members are read by fields. Members
// not in fields are reported as unknown, members given twice as duplicates;
// names in required that are missing (or null) are reported as missing. It
// returns the names that were present and not null.
func object(raw json.RawMessage, path, what string, fields members, required []string, p *Problems) names {
	if jsonType(raw) != "an object" {
		p.Add(path, "must be %s object, not %s", what, jsonType(raw))
		return nil
	}
	var ms [32]member
	members, ok := scanMembers(raw, ms[:0])
	if !ok {
		p.Add(path, "is not a valid JSON object")
		return nil
	}
	present := make(names, 0, len(members))
	given := func(name string) (json.RawMessage, bool) {
		for _, m := range members {
			if m.name == name {
				return m.value, true
			}
		}
		return nil, false
	}
	for i, m := range members {
		if slices.ContainsFunc(members[:i], func(o member) bool { return o.name == m.name }) {
			p.Add(join(path, m.name), "is given more than once")
			continue
		}
		if !fields.has(m.name) {
			p.Add(join(path, m.name), "is not a field of %s (expected one of: %s)", what, fields.names())
			continue
		}
		if isNull(m.value) {
			continue
		}
		present = append(present, m.name)
		fields.read(m.name, m.value, join(path, m.name), p)
	}
	for _, name := range required {
		if !present.has(name) {
			if _, ok := given(name); ok {
				p.Add(join(path, name), "is required and must not be null")
			} else {
				p.Add(join(path, name), "is required")
			}
		}
	}
	return present
}

// names is a set of member names; objects have few members.
type names []string

func (ns names) has(name string) bool { return slices.Contains(ns, name) }

// member is one name and value of a JSON object.
type member struct {
	name  string
	value json.RawMessage
}

// scanMembers splits the JSON object raw into its members, appending them to
// ms. raw comes from input already checked to be valid JSON, so this only
// finds where values begin and end; ok is false if raw is not an object.
func scanMembers(raw []byte, ms []member) ([]member, bool) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, false
	}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return ms, true
	}
	for i < len(raw) {
		if raw[i] != '"' {
			return nil, false
		}
		end := skipString(raw, i)
		if end < 0 {
			return nil, false
		}
		name, ok := memberName(raw[i:end])
		if !ok {
			return nil, false
		}
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] != ':' {
			return nil, false
		}
		i = skipSpace(raw, i+1)
		vend := skipValue(raw, i)
		if vend < 0 {
			return nil, false
		}
		ms = append(ms, member{name, raw[i:vend]})
		i = skipSpace(raw, vend)
		if i >= len(raw) {
			return nil, false
		}
		switch raw[i] {
		case ',':
			i = skipSpace(raw, i+1)
		case '}':
			return ms, true
		default:
			return nil, false
		}
	}
	return nil, false
}

// scanElements splits the JSON array raw into its elements, appending them
// to out.
func scanElements(raw []byte, out []json.RawMessage) ([]json.RawMessage, bool) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return nil, false
	}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == ']' {
		return out, true
	}
	for i < len(raw) {
		end := skipValue(raw, i)
		if end < 0 {
			return nil, false
		}
		out = append(out, raw[i:end])
		i = skipSpace(raw, end)
		if i >= len(raw) {
			return nil, false
		}
		switch raw[i] {
		case ',':
			i = skipSpace(raw, i+1)
		case ']':
			return out, true
		default:
			return nil, false
		}
	}
	return nil, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at b[i], or -1.
func skipString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// skipValue returns the index just past the JSON value starting at b[i], or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				if j = skipString(b, j); j < 0 {
					return -1
				}
				j--
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) {
		switch b[j] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return j
		}
		j++
	}
	return j
}

// unquote decodes a JSON string literal; most have no escapes and need no decoding.
func unquote(lit []byte) (string, bool) {
	if len(lit) < 2 {
		return "", false
	}
	body := lit[1 : len(lit)-1]
	if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		return string(body), true
	}
	var s string
	if err := json.Unmarshal(lit, &s); err != nil {
		return "", false
	}
	return s, true
}

// fieldsOf reads the members of an object into a T: a table made once,
// where a fieldMap of closures is made on every read.
type fieldsOf[T any] map[string]func(t *T, raw json.RawMessage, path string, p *Problems)

// into binds the table to t, for object.
func (fs fieldsOf[T]) into(t *T) members { return boundFields[T]{fs, t} }

type boundFields[T any] struct {
	fs fieldsOf[T]
	t  *T
}

func (b boundFields[T]) has(name string) bool { _, ok := b.fs[name]; return ok }
func (b boundFields[T]) read(name string, raw json.RawMessage, path string, p *Problems) {
	b.fs[name](b.t, raw, path, p)
}
func (b boundFields[T]) names() string { return knownFields(b.fs) }

func knownFields[F any](fields map[string]F) string {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// readString decodes a JSON string of at most max bytes.
func readString(raw json.RawMessage, path string, max int, p *Problems) (string, bool) {
	if jsonType(raw) != "a string" {
		p.Add(path, "must be a string, not %s", jsonType(raw))
		return "", false
	}
	s, ok := unquote(bytes.TrimSpace(raw))
	if !ok {
		p.Add(path, "is not a valid string")
		return "", false
	}
	if err := checkSize(s, max); err != nil {
		p.Add(path, "%v", err)
		return "", false
	}
	return s, true
}

// checkSize checks that a string has at most max bytes.
func checkSize(s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("is too long (%d bytes; at most %d)", len(s), max)
	}
	return nil
}

// readText decodes human text: a non-blank string of at most max bytes without control characters.
func readText(raw json.RawMessage, path string, max int, p *Problems) (string, bool) {
	s, ok := readString(raw, path, max, p)
	if !ok {
		return "", false
	}
	if err := checkText(s); err != nil {
		p.Add(path, "%v", err)
		return "", false
	}
	return s, true
}

// checkText checks that a string is human text: not blank, and without
// control characters other than newlines and tabs.
func checkText(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("must not be blank")
	}
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
			return fmt.Errorf("must not contain control characters (found %U)", r)
		}
	}
	return nil
}

func readBool(raw json.RawMessage, path string, p *Problems) (bool, bool) {
	switch string(bytes.TrimSpace(raw)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	p.Add(path, "must be true or false, not %s", jsonType(raw))
	return false, false
}

// readArray decodes a JSON array of at most max elements, each read by elem.
func readArray(raw json.RawMessage, path string, max int, p *Problems, elem func(raw json.RawMessage, path string)) int {
	var buf [16]json.RawMessage
	items, ok := arrayElements(raw, path, max, p, buf[:0])
	if !ok {
		return -1
	}
	for i, item := range items {
		elem(item, index(path, i))
	}
	return len(items)
}

// arrayElements splits a JSON array of at most max elements, appending them
// to out, or records why it cannot.
func arrayElements(raw json.RawMessage, path string, max int, p *Problems, out []json.RawMessage) ([]json.RawMessage, bool) {
	if jsonType(raw) != "an array" {
		p.Add(path, "must be an array, not %s", jsonType(raw))
		return nil, false
	}
	items, ok := scanElements(raw, out)
	if !ok {
		p.Add(path, "is not a valid array")
		return nil, false
	}
	if len(items) > max {
		p.Add(path, "has too many elements (%d; at most %d)", len(items), max)
		return nil, false
	}
	return items, true
}

// describeSyntax turns an error of encoding/json reading data into plain words
// with the line and column (1-based, in characters) it is at. skipped is the
// number of bytes of the input before data, so positions count from the
// start of the whole input.
func describeSyntax(input []byte, skipped int, err error) string {
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &se) && se.Error() == "unexpected end of JSON input":
		line, col := lineCol(input, len(bytes.TrimRight(input, " \t\r\n")))
		return fmt.Sprintf("the input ends in the middle of a JSON value (line %d, column %d)", line, col)
	case se != nil:
		// Offset counts the bytes read, including the one that was wrong.
		at := skipped + int(se.Offset) - 1
		line, col := lineCol(input, at)
		if strings.Contains(se.Error(), "exceeded max depth") {
			return fmt.Sprintf("JSON is nested too deeply (more than 10000 levels of arrays and objects) at line %d, column %d", line, col)
		}
		msg := fmt.Sprintf("%s (line %d, column %d)", se, line, col)
		if rest := input[min(max(at, 0), len(input)):]; bytes.HasPrefix(rest, []byte("NaN")) || bytes.HasPrefix(rest, []byte("Infinity")) {
			msg += "; JSON has no NaN or Infinity, and amounts are decimal strings such as \"1500.25\""
		}
		return msg
	}
	return err.Error()
}

// lineCol returns the 1-based line and column of the byte at offset.
func lineCol(data []byte, offset int) (line, col int) {
	offset = min(max(offset, 0), len(data))
	before := data[:offset]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = 1 + utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:])
	return line, col
}

// reportDuplicates records a problem for each member name given more than
// once in the JSON object raw: encoding/json keeps the last value silently,
// so another reader of the same input could see a different amendment.
func reportDuplicates(raw json.RawMessage, path string, p *Problems) {
	var buf [32]member
	ms, _ := scanMembers(raw, buf[:0])
	for i, m := range ms {
		if slices.ContainsFunc(ms[:i], func(o member) bool { return o.name == m.name }) {
			p.Add(join(path, m.name), "is given more than once")
		}
	}
}

// rawMembers returns the members of the JSON object raw by name (the last of
// duplicates, which object reports).
func rawMembers(raw json.RawMessage) map[string]json.RawMessage {
	var buf [32]member
	ms, _ := scanMembers(raw, buf[:0])
	out := make(map[string]json.RawMessage, len(ms))
	for _, m := range ms {
		out[m.name] = m.value
	}
	return out
}

// fieldNames holds every member name the vocabulary knows, so that reading
// a name does not allocate a new string for it.
var fieldNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range strings.Fields(`v id prev agreement effective signed summary source title url quote changes
		op parties clause set condition period base tranche amendment start end ends_on
		kind term note amount currency undisclosed exclusive sole scope rate cap tranches
		products channels platforms territories licensor licensee subject grantor holder
		payer payee obligor beneficiary investor investee what right`) {
		m[n] = n
	}
	return m
}()

// memberName decodes the name of an object member.
func memberName(lit []byte) (string, bool) {
	if len(lit) >= 2 {
		if n, ok := fieldNames[string(lit[1:len(lit)-1])]; ok {
			return n, true
		}
	}
	return unquote(lit)
}

// lookup returns the value of member name, if given.
func lookup(ms []member, name string) (json.RawMessage, bool) {
	for _, m := range ms {
		if m.name == name {
			return m.value, true
		}
	}
	return nil, false
}
