// Package wire is what the ledger's remote interfaces share: the HTTP API
// (ledger/httpapi) and the NATS service (ledger/service) answer with the
// same documents and give an error the same status, and a client of either
// (ledger/client) reads them back into the ledger's own types and errors.
//
// Status is the one place an error's kind becomes a status; Error turns a
// status and an error document back into an error of that kind.
package wire

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/projections"
)

// The NATS service (ledger/service): its name in the services framework,
// the prefix of its endpoints' subjects (ledger.v1.state, …), and the
// headers an append takes its options in (its body is the amendments).
const (
	ServiceName         = ledger.ServiceName
	SubjectPrefix       = ledger.ServicePrefix
	ExpectVersionHeader = "Ledger-Expect-Version" // the version the agreement must be at, as --expect-version and If-Match
	DryRunHeader        = "Ledger-Dry-Run"        // "true": check and report, write nothing
)

// statuses are the HTTP statuses of the kinds of error but Invalid, whose
// status depends on the error (see Status).
var statuses = map[events.ErrorKind]int{
	events.BadParameter:         http.StatusBadRequest,
	events.MethodNotAllowed:     http.StatusMethodNotAllowed,
	events.TooLarge:             http.StatusRequestEntityTooLarge,
	events.UnsupportedMediaType: http.StatusUnsupportedMediaType,
	events.Unauthorized:         http.StatusUnauthorized,
	events.Forbidden:            http.StatusForbidden,
	events.Conflict:             http.StatusConflict,
	events.NotFound:             http.StatusNotFound,
	events.Internal:             http.StatusInternalServerError,
	// The store cannot read the agreement's history whole: no answer can
	// be given until it is recovered (or allow_damaged=true is asked).
	events.Damaged: http.StatusServiceUnavailable,
	events.NoSpace: http.StatusInsufficientStorage,
}

// kinds are the kinds of statuses, the other way round.
var kinds = func() map[int]events.ErrorKind {
	m := make(map[int]events.ErrorKind, len(statuses))
	for k, code := range statuses {
		m[code] = k
	}
	return m
}()

// Status is the HTTP status of an error, by its kind: the one place errors
// become statuses, for the HTTP API and the NATS service (whose error codes
// are these statuses).
func Status(err error) int {
	kind := events.KindOf(err)
	if kind == events.Invalid {
		// 422 when the input was read and a field of it is wrong; 400 when
		// it could not be read at all (not JSON, not UTF-8, empty).
		var e *events.Error
		if errors.As(err, &e) && slices.ContainsFunc(e.Fields, func(f events.FieldError) bool { return f.Path != "" }) {
			return http.StatusUnprocessableEntity
		}
		return http.StatusBadRequest
	}
	if code, ok := statuses[kind]; ok {
		return code
	}
	return http.StatusInternalServerError
}

// Error is the error an answer of status with error document body stands
// for: an *events.Error of the kind Status gave that status to (a document
// names only the base kind; the status tells a bad parameter from other
// invalid input, a body too large…), with the document's message and
// fields. Its Error() is the message the server's error had.
func Error(status int, body ledger.ErrorBody) error {
	kind := body.Kind
	if kind == "" {
		kind = events.Internal
	}
	if k, ok := kinds[status]; ok && k.Base() == kind {
		kind = k
	}
	if kind == events.BadParameter && len(body.Fields) == 0 {
		kind = events.Invalid // input that could not be read at all is a 400 too
	}
	e := &events.Error{Kind: kind, Message: body.Message, Fields: body.Fields}
	// The message ends with the fields (see events.Error): they are not
	// written twice.
	if len(e.Fields) > 0 {
		parts := make([]string, len(e.Fields))
		for i, f := range e.Fields {
			parts[i] = f.Error()
		}
		all := strings.Join(parts, "; ")
		switch {
		case body.Message == all:
			e.Message = ""
		case strings.HasSuffix(body.Message, ": "+all):
			e.Message = strings.TrimSuffix(body.Message, ": "+all)
		default:
			e.Fields = nil // the message says more than its fields: it is kept whole
		}
	}
	return e
}

// AgreementList is the document listing the agreements: GET /v1/agreements,
// and the service's ledger.v1.agreements.
type AgreementList struct {
	At         string             `json:"at"`
	Agreements []AgreementSummary `json:"agreements"`
}

// AgreementSummary is one agreement in a list, with its status at the
// list's time.
type AgreementSummary struct {
	projections.Summary
	Opened *string `json:"opened"`
	Closed *string `json:"closed"`
}

// Agreements is the list document of the agreements at a time.
func Agreements(at time.Time, list []projections.Summary) AgreementList {
	doc := AgreementList{At: events.FormatTime(at), Agreements: make([]AgreementSummary, len(list))}
	for i, s := range list {
		doc.Agreements[i] = AgreementSummary{Summary: s, Opened: timeOrNil(s.Opened), Closed: timeOrNil(s.Closed)}
	}
	return doc
}

// Summaries reads the list back into the summaries it was made of.
func (l AgreementList) Summaries() ([]projections.Summary, error) {
	out := make([]projections.Summary, len(l.Agreements))
	for i, a := range l.Agreements {
		out[i] = a.Summary
		for _, t := range []struct {
			s    *string
			into *time.Time
		}{{a.Opened, &out[i].Opened}, {a.Closed, &out[i].Closed}} {
			if t.s == nil {
				continue
			}
			v, err := events.ParseTime(*t.s)
			if err != nil {
				return nil, &events.Error{Kind: events.Internal, Message: "the agreement list has a bad time", Err: err}
			}
			*t.into = v
		}
	}
	return out, nil
}

func timeOrNil(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := events.FormatTime(t)
	return &s
}

// Appended is the document of an append: its lists are empty, never null.
func Appended(res *ledger.AppendResult) *ledger.AppendResult {
	if res.Appended == nil {
		res.Appended = []ledger.Appended{}
	}
	if res.Conflicts == nil {
		res.Conflicts = []projections.Conflict{}
	}
	return res
}
