package httpapi

import (
	"errors"
	"fmt"
	"testing"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/wire"
)

// TestStatus: the status of each kind of error, and the kind its document
// names (a sort of invalid input is named "invalid").
func TestStatus(t *testing.T) {
	field := &events.Error{Kind: events.Invalid, Message: "x", Fields: []events.FieldError{{Path: "changes[0].op", Message: "unknown"}}}
	for _, c := range []struct {
		err    error
		status int
		kind   events.ErrorKind
	}{
		{field, 422, events.Invalid},
		{fmt.Errorf("appending: %w", field), 422, events.Invalid},
		{events.Errorf(events.Invalid, "not JSON"), 400, events.Invalid},
		{wire.ParamError("at", "not a date"), 400, events.Invalid},
		{events.Errorf(events.MethodNotAllowed, "x"), 405, events.Invalid},
		{tooLarge(10), 413, events.Invalid},
		{events.Errorf(events.UnsupportedMediaType, "x"), 415, events.Invalid},
		{events.Errorf(events.Unauthorized, "x"), 401, events.Unauthorized},
		{events.Errorf(events.Forbidden, "x"), 403, events.Forbidden},
		{events.Errorf(events.Conflict, "x"), 409, events.Conflict},
		{events.Errorf(events.NotFound, "x"), 404, events.NotFound},
		{events.Errorf(events.Internal, "x"), 500, events.Internal},
		{events.Errorf(events.Damaged, "x"), 503, events.Damaged},
		{events.Errorf(events.NoSpace, "x"), 507, events.NoSpace},
		{errors.New("x"), 500, events.Internal},
	} {
		if got := wire.Status(c.err); got != c.status {
			t.Errorf("status(%v, kind %s) = %d, want %d", c.err, events.KindOf(c.err), got, c.status)
		}
		if got := ledger.Document(c.err, false).Error.Kind; got != c.kind {
			t.Errorf("the document of %v (kind %s) names %q, want %q", c.err, events.KindOf(c.err), got, c.kind)
		}
	}
}
