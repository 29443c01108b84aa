package ledger

import (
	"errors"

	"github.com/agreement-ledger/ledger/events"
)

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

// Document returns the JSON document for err. Its kind is the error's base
// kind: a body too large, say, is "invalid" (the HTTP status says more).
// Internal errors say only that something went wrong when expose is false,
// so a server never leaks details.
func Document(err error, expose bool) ErrorDocument {
	kind := events.KindOf(err).Base()
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
