package wire_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/wire"
	"github.com/agreement-ledger/ledger/projections"
)

// TestErrorsCrossTheWire: an error sent as its status and document comes
// back of the kind it had, with its message and fields.
func TestErrorsCrossTheWire(t *testing.T) {
	fields := []events.FieldError{{Path: "changes[0].op", Message: "unknown"}, {Path: "effective", Message: "is required"}}
	param := &events.Error{Kind: events.BadParameter, Message: "bad at: not a date", Fields: []events.FieldError{{Path: "at", Message: "not a date"}}}
	for _, c := range []struct {
		err    error
		status int
		kind   events.ErrorKind
	}{
		{&events.Error{Kind: events.Invalid, Message: "the input is invalid", Fields: fields}, 422, events.Invalid},
		{fmt.Errorf("appending: %w", &events.Error{Kind: events.Invalid, Message: "x", Fields: fields}), 422, events.Invalid},
		{events.Errorf(events.Invalid, "not JSON"), 400, events.Invalid},
		{param, 400, events.BadParameter},
		{events.Errorf(events.MethodNotAllowed, "x"), 405, events.MethodNotAllowed},
		{events.Errorf(events.TooLarge, "too large"), 413, events.TooLarge},
		{events.Errorf(events.UnsupportedMediaType, "x"), 415, events.UnsupportedMediaType},
		{events.Errorf(events.Unauthorized, "x"), 401, events.Unauthorized},
		{events.Errorf(events.Forbidden, "x"), 403, events.Forbidden},
		{events.Errorf(events.Conflict, "openai-acme is at version 1"), 409, events.Conflict},
		{events.Errorf(events.NotFound, "no agreement x"), 404, events.NotFound},
		{events.Errorf(events.Internal, "x"), 500, events.Internal},
		{events.Errorf(events.Damaged, "agreement deal is damaged from version 3"), 503, events.Damaged},
		{events.Errorf(events.NoSpace, "out of space"), 507, events.NoSpace},
		{errors.New("x"), 500, events.Internal},
	} {
		status := wire.Status(c.err)
		if status != c.status {
			t.Errorf("Status(%v) = %d, want %d", c.err, status, c.status)
		}
		// The document names the base kind; the status tells the rest.
		if got := ledger.Document(c.err, false).Error.Kind; got != c.kind.Base() {
			t.Errorf("the document of %v names %q, want %q", c.err, got, c.kind.Base())
		}
		// Through JSON, as a client gets it.
		b, _ := json.Marshal(ledger.Document(c.err, true))
		var doc ledger.ErrorDocument
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		back := wire.Error(status, doc.Error)
		var e *events.Error
		if !errors.As(back, &e) || e.Kind != c.kind {
			t.Errorf("%v came back as %#v, want kind %s", c.err, back, c.kind)
			continue
		}
		if back.Error() != c.err.Error() {
			t.Errorf("%v came back saying %q", c.err, back.Error())
		}
		var orig *events.Error
		if errors.As(c.err, &orig) && !reflect.DeepEqual(e.Fields, orig.Fields) {
			t.Errorf("%v came back with fields %v", c.err, e.Fields)
		}
		if wire.Status(back) != status {
			t.Errorf("%v came back with status %d, not %d", c.err, wire.Status(back), status)
		}
	}
}

// TestAgreementListReadsBack: the list document gives back the summaries.
func TestAgreementListReadsBack(t *testing.T) {
	opened := time.Date(2026, 2, 27, 0, 0, 0, 0, time.UTC)
	closed := time.Date(2030, 1, 1, 12, 30, 0, 0, time.UTC)
	list := []projections.Summary{
		{Agreement: "a", Title: "A", Parties: []string{"x", "y"}, Status: "open", Version: 3, Opened: opened},
		{Agreement: "b", Title: "B", Parties: []string{"x", "z"}, Status: "closed", Version: 9, Opened: opened, Closed: closed},
	}
	b, _ := json.Marshal(wire.Agreements(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC), list))
	want := `{"at":"2031-01-01","agreements":[{"agreement":"a","title":"A","parties":["x","y"],"status":"open","version":3,"opened":"2026-02-27","closed":null},` +
		`{"agreement":"b","title":"B","parties":["x","z"],"status":"closed","version":9,"opened":"2026-02-27","closed":"2030-01-01T12:30:00Z"}]}`
	if string(b) != want {
		t.Fatalf("document:\n%s\nwant\n%s", b, want)
	}
	var doc wire.AgreementList
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	got, err := doc.Summaries()
	if err != nil || !reflect.DeepEqual(got, list) {
		t.Fatalf("read back: %+v, %v", got, err)
	}
}
