package ledger

import (
	"errors"
	"net/http"
	"slices"

	"github.com/agreement-ledger/ledger/events"
)

// The one place error kinds become exit codes and HTTP statuses.

// Exit codes of the ledger command.
const (
	ExitOK       = 0
	ExitInternal = 1
	ExitInvalid  = 2
	ExitDenied   = 3 // a rights check said no
	ExitConflict = 4
)

// ExitCode maps an error to the ledger command's exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	switch events.KindOf(err) {
	case events.Invalid:
		return ExitInvalid
	case events.Conflict:
		return ExitConflict
	}
	return ExitInternal
}

// HTTPStatus maps an error to an HTTP status.
func HTTPStatus(err error) int {
	if err == nil {
		return http.StatusOK
	}
	switch events.KindOf(err) {
	case events.Invalid:
		// 422 when the input was read and a field of it is wrong; 400 when
		// it could not be read at all (not JSON, not UTF-8, empty).
		var e *events.Error
		if errors.As(err, &e) && slices.ContainsFunc(e.Fields, func(f events.FieldError) bool { return f.Path != "" }) {
			return http.StatusUnprocessableEntity
		}
		return http.StatusBadRequest
	case events.Conflict:
		return http.StatusConflict
	case events.NotFound:
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}

// ErrorDocument is the JSON form of an error, as the command (-o json) and
// the HTTP API write it: {"error":{"kind","message","field","fields"}}.
type ErrorDocument struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody is the body of an ErrorDocument.
type ErrorBody struct {
	Kind    events.ErrorKind    `json:"kind"`
	Message string              `json:"message"`
	Field   string              `json:"field,omitempty"`
	Fields  []events.FieldError `json:"fields,omitempty"`
}

// Document returns the JSON document for err. Internal errors say only that
// something went wrong when expose is false, so a server never leaks details.
func Document(err error, expose bool) ErrorDocument {
	kind := events.KindOf(err)
	body := ErrorBody{Kind: kind, Message: err.Error()}
	var e *events.Error
	if errors.As(err, &e) {
		body.Field, body.Fields = e.Field(), e.Fields
	}
	if kind == events.Internal && !expose {
		body.Message = "internal error; the server log has the details"
	}
	return ErrorDocument{Error: body}
}
