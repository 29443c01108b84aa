package events

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ErrorKind says what sort of failure an error is. The command maps kinds
// to exit codes and the HTTP API to statuses, each in one place (the
// command's exitCode, the API's status).
type ErrorKind string

// Error kinds.
const (
	Invalid      ErrorKind = "invalid"      // bad input; nothing was written
	Conflict     ErrorKind = "conflict"     // an optimistic-concurrency check failed
	NotFound     ErrorKind = "not_found"    // no such agreement or amendment
	Internal     ErrorKind = "internal"     // anything else
	Unauthorized ErrorKind = "unauthorized" // no credentials, or unknown ones
	Forbidden    ErrorKind = "forbidden"    // credentials that do not allow what was asked
	// Damaged: the store cannot read an agreement's history whole, and
	// the answer or append would rest on a broken chain.
	Damaged ErrorKind = "damaged"
	// NoSpace: the store is out of space; nothing of the input was
	// recorded past what the message says.
	NoSpace ErrorKind = "no_space"
)

// Sorts of Invalid that the HTTP API answers with statuses of their own.
// Their Base is Invalid: an error document names them "invalid", and the
// command exits as for any invalid input.
const (
	BadParameter         ErrorKind = "invalid/parameter"  // a query parameter or header
	MethodNotAllowed     ErrorKind = "invalid/method"     // a method the endpoint does not take
	TooLarge             ErrorKind = "invalid/too_large"  // an input over its size limit
	UnsupportedMediaType ErrorKind = "invalid/media_type" // an input of a type not accepted
)

// Base is the kind k is a sort of (Invalid for BadParameter, TooLarge…), or
// k itself.
func (k ErrorKind) Base() ErrorKind {
	base, _, _ := strings.Cut(string(k), "/")
	return ErrorKind(base)
}

// FieldError is one problem with one field of an input, named by its JSON path
// (for example "changes[1].clause.cap.amount").
type FieldError struct {
	Path    string `json:"field"`
	Message string `json:"message"`
}

func (e FieldError) Error() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

// Error is the error type of the ledger. Kind classifies it; Fields lists every
// field-level problem of an invalid input, not only the first.
type Error struct {
	Kind    ErrorKind
	Message string       // what failed, in plain words
	Fields  []FieldError // for Invalid: each problem with the path it is at
	Err     error        // the underlying cause, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	for i, f := range e.Fields {
		if i == 0 && b.Len() > 0 {
			b.WriteString(": ")
		} else if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Error())
	}
	if e.Err != nil {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Field is the path of the first field error, or "".
func (e *Error) Field() string {
	if len(e.Fields) == 0 {
		return ""
	}
	return e.Fields[0].Path
}

// Errorf returns an *Error of the given kind.
func Errorf(kind ErrorKind, format string, args ...any) error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// KindOf reports the kind of err: the kind of the first *Error in its chain,
// or Internal.
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Problems collects field errors while an input is checked, so that all of an
// input's problems are reported at once.
type Problems struct {
	list []FieldError
}

// Add records a problem at path.
func (p *Problems) Add(path, format string, args ...any) {
	p.list = append(p.list, FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
}

// Len is the number of problems recorded.
func (p *Problems) Len() int { return len(p.list) }

// List returns the problems in path order (stable for equal paths).
func (p *Problems) List() []FieldError {
	out := append([]FieldError(nil), p.list...)
	sort.SliceStable(out, func(i, j int) bool { return pathLess(out[i].Path, out[j].Path) })
	return out
}

// Err returns nil when no problem was recorded, else an Invalid *Error.
func (p *Problems) Err(message string) error {
	if len(p.list) == 0 {
		return nil
	}
	return &Error{Kind: Invalid, Message: message, Fields: p.List()}
}

// pathLess orders paths so that "changes[2]" sorts before "changes[10]".
func pathLess(a, b string) bool {
	for a != "" && b != "" {
		ai, bi := leadingNumber(a), leadingNumber(b)
		if ai > 0 && bi > 0 {
			na, nb := len(a[:ai]), len(b[:bi])
			if na != nb {
				return na < nb
			}
			if a[:ai] != b[:bi] {
				return a[:ai] < b[:bi]
			}
			a, b = a[ai:], b[bi:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func leadingNumber(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// unnamed is the path of a quick read that builds no paths (see
// readAmendment): paths are only needed to report problems.
const unnamed = "\x00"

// join builds a JSON path: join("changes[1]", "clause") is "changes[1].clause".
func join(path, field string) string {
	if path == unnamed {
		return unnamed
	}
	if path == "" {
		return field
	}
	return path + "." + field
}

// index builds a JSON path to an array element: index("changes", 1) is "changes[1]".
func index(path string, i int) string {
	if path == unnamed {
		return unnamed
	}
	return path + "[" + strconv.Itoa(i) + "]"
}
