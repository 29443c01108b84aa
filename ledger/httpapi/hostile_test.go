package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger/ledgertest"
	"github.com/nats-io/nats.go/jetstream"
)

// streamState is the stream's state: what must not move when a request is
// refused.
func (s *server) streamState() jetstream.StreamState {
	s.t.Helper()
	js, _ := jetstream.New(s.L.Conn())
	st, err := js.Stream(context.Background(), "LEDGER")
	if err != nil {
		s.t.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil {
		s.t.Fatal(err)
	}
	return info.State
}

// errorBody is the JSON error document with every field error.
type errorBody struct {
	Error struct {
		Kind    string              `json:"kind"`
		Message string              `json:"message"`
		Field   string              `json:"field"`
		Fields  []events.FieldError `json:"fields"`
	} `json:"error"`
}

// TestHostileInputOverHTTP posts every input of the hostile corpus to
// /v1/amendments: each is refused with 400 (it cannot be read) or 422 (a
// field is wrong), a JSON error document naming the field and the
// problem, and the stream is exactly as it was. So is an amendment over
// 256 KiB, alone or in an array.
func TestHostileInputOverHTTP(t *testing.T) {
	s := newServer(t, false)
	s.L.Given(string(ledgertest.HostileSetup()))
	before := s.streamState()
	refused := func(t *testing.T, body []byte, field, says string) {
		t.Helper()
		// The Content-Type is set even on an empty body: the body is what
		// is refused, not the request.
		res := s.do(req{method: "POST", path: "/v1/amendments", body: string(body), header: map[string]string{"Content-Type": "application/json"}})
		// 422 names a field; input that cannot be read is a 400, or a 422
		// when the error locates the item of JSON Lines that is unreadable.
		if field != "" && res.Status != http.StatusUnprocessableEntity || field == "" && res.Status != http.StatusBadRequest && res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("status %d for a problem at %q: %.400s", res.Status, field, res.Body)
		}
		var doc errorBody
		if err := json.Unmarshal(res.Body, &doc); err != nil || doc.Error.Kind != "invalid" {
			t.Fatalf("not an invalid-input error document (%v): %.400s", err, res.Body)
		}
		if field != "" && doc.Error.Field == "" {
			t.Errorf("the document has no field: %.400s", res.Body)
		}
		for _, f := range doc.Error.Fields {
			if f.Path == field && strings.Contains(f.Message, says) {
				return
			}
		}
		if field == "" && strings.Contains(doc.Error.Message, says) {
			return
		}
		t.Errorf("no field error at %q saying %q: %.400s", field, says, res.Body)
	}

	cases := ledgertest.HostileCases(t)
	if len(cases) < 60 {
		t.Fatalf("the corpus has %d cases, want at least 60", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) { refused(t, c.Body, c.Field, c.Says) })
	}

	one := ledgertest.OversizeAmendment()
	if len(one) <= events.MaxAmendment {
		t.Fatalf("the oversize amendment has %d bytes", len(one))
	}
	limit := fmt.Sprint(events.MaxAmendment)
	t.Run("oversize-amendment", func(t *testing.T) {
		refused(t, []byte(one), "", "too large ("+fmt.Sprint(len(one))+" bytes; at most "+limit)
	})
	t.Run("oversize-amendment-in-array", func(t *testing.T) {
		agi := `{"agreement":"microsoft-openai","effective":"2027-01-01","changes":[{"op":"declare","condition":"agi"}]}`
		refused(t, []byte("["+agi+","+one+"]"), "[1]", "at most "+limit)
	})

	if after := s.streamState(); after.LastSeq != before.LastSeq || after.Msgs != before.Msgs || after.Bytes != before.Bytes {
		t.Fatalf("the stream changed: before %+v, after %+v", before, after)
	}
}
