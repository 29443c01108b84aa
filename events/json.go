package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
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

// describeSyntax turns a JSON syntax error into a message with line and column.
func describeSyntax(data []byte, err error) string {
	var se *json.SyntaxError
	if ok := asSyntax(err, &se); ok {
		line, col := lineCol(data, se.Offset)
		return fmt.Sprintf("%v (line %d, column %d)", se, line, col)
	}
	return err.Error()
}

func asSyntax(err error, target **json.SyntaxError) bool {
	se, ok := err.(*json.SyntaxError)
	if ok {
		*target = se
	}
	return ok
}

func lineCol(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	line = 1 + bytes.Count(data[:offset], []byte("\n"))
	col = int(offset) - bytes.LastIndexByte(data[:offset], '\n')
	return line, col
}
