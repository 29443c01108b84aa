package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// object reads raw as a JSON object whose members are read by fields. Members
// not in fields are reported as unknown; names in required that are missing
// (or null) are reported as missing. It returns the names that were present.
func object(raw json.RawMessage, path, what string, fields map[string]field, required []string, p *Problems) map[string]bool {
	if jsonType(raw) != "an object" {
		p.Add(path, "must be %s object, not %s", what, jsonType(raw))
		return nil
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		p.Add(path, "is not a valid JSON object: %v", err)
		return nil
	}
	reportDuplicates(raw, path, p)
	names := make([]string, 0, len(members))
	for name := range members {
		names = append(names, name)
	}
	sort.Strings(names)
	present := make(map[string]bool, len(members))
	for _, name := range names {
		read, ok := fields[name]
		if !ok {
			p.Add(join(path, name), "is not a field of %s (expected one of: %s)", what, knownFields(fields))
			continue
		}
		if isNull(members[name]) {
			continue
		}
		present[name] = true
		read(members[name], join(path, name), p)
	}
	for _, name := range required {
		if !present[name] {
			if _, given := members[name]; given {
				p.Add(join(path, name), "is required and must not be null")
			} else {
				p.Add(join(path, name), "is required")
			}
		}
	}
	return present
}

func knownFields(fields map[string]field) string {
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
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		p.Add(path, "is not a valid string: %v", err)
		return "", false
	}
	if len(s) > max {
		p.Add(path, "is too long (%d bytes; at most %d)", len(s), max)
		return "", false
	}
	return s, true
}

// readText decodes human text: a non-blank string of at most max bytes without control characters.
func readText(raw json.RawMessage, path string, max int, p *Problems) (string, bool) {
	s, ok := readString(raw, path, max, p)
	if !ok {
		return "", false
	}
	if strings.TrimSpace(s) == "" {
		p.Add(path, "must not be blank")
		return "", false
	}
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
			p.Add(path, "must not contain control characters (found %U)", r)
			return "", false
		}
	}
	return s, true
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
	if jsonType(raw) != "an array" {
		p.Add(path, "must be an array, not %s", jsonType(raw))
		return -1
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		p.Add(path, "is not a valid array: %v", err)
		return -1
	}
	if len(items) > max {
		p.Add(path, "has too many elements (%d; at most %d)", len(items), max)
		return -1
	}
	for i, item := range items {
		elem(item, index(path, i))
	}
	return len(items)
}

// reportDuplicates records a problem for each member name given more than
// once in the JSON object raw. encoding/json keeps the last value silently, so
// another reader of the same input could see a different amendment.
func reportDuplicates(raw json.RawMessage, path string, p *Problems) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return
		}
		name, _ := t.(string)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return
		}
		if seen[name] {
			p.Add(join(path, name), "is given more than once")
		}
		seen[name] = true
	}
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
