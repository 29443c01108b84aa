package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/seed"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/httpapi"
	"github.com/agreement-ledger/ledger/ledger/ledgertest"
	"github.com/agreement-ledger/ledger/ledger/service"
	"github.com/agreement-ledger/ledger/ledger/wire"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/oklog/ulid/v2"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// fixture is a real ledger on an embedded server that listens, the service
// on it, the HTTP API on the same ledger (to compare with), and a NATS
// connection of a client's own.
type fixture struct {
	t   *testing.T
	L   *ledgertest.Ledger
	S   *service.Service
	reg *prometheus.Registry
	nc  *nats.Conn
	web string
}

func newFixture(t *testing.T, seeded bool) *fixture {
	t.Helper()
	l := ledgertest.New(t, ledger.Config{Listen: "127.0.0.1:-1", SnapshotEvery: -1})
	if seeded {
		l.Given(seed.Amendments())
	}
	return serve(t, l)
}

// serve starts the service and the HTTP API on l.
func serve(t *testing.T, l *ledgertest.Ledger) *fixture {
	t.Helper()
	reg := prometheus.NewRegistry()
	s, err := service.Start(l.Conn(), l.Ledger, service.Options{Version: "v1.2.3", Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	nc, err := nats.Connect(l.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	h := httpapi.New(l.Ledger, httpapi.Options{Logger: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry()})
	web := httptest.NewServer(h)
	t.Cleanup(web.Close)
	return &fixture{t: t, L: l, S: s, reg: reg, nc: nc, web: web.URL}
}

// reply is what a request to the service got.
type reply struct {
	code int // 200, or the micro error's code
	desc string
	body []byte
}

func (f *fixture) ask(endpoint string, body string, header ...string) reply {
	f.t.Helper()
	m := nats.NewMsg(wire.SubjectPrefix + "." + endpoint)
	m.Data = []byte(body)
	for i := 0; i+1 < len(header); i += 2 {
		m.Header.Set(header[i], header[i+1])
	}
	r, err := f.nc.RequestMsg(m, 10*time.Second)
	if err != nil {
		f.t.Fatalf("%s %s: %v", endpoint, body, err)
	}
	out := reply{code: 200, body: r.Data}
	if c := r.Header.Get(micro.ErrorCodeHeader); c != "" {
		out.code, _ = strconv.Atoi(c)
		out.desc = r.Header.Get(micro.ErrorHeader)
	}
	return out
}

// get is the HTTP API's answer to GET path.
func (f *fixture) get(path string) (int, []byte) {
	f.t.Helper()
	return f.http(http.MethodGet, path, "")
}

func (f *fixture) http(method, path, body string) (int, []byte) {
	f.t.Helper()
	req, _ := http.NewRequest(method, f.web+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, bytes.TrimSuffix(b, []byte("\n"))
}

// lastSeq is the stream's last sequence: what was written.
func (f *fixture) lastSeq() uint64 {
	f.t.Helper()
	lag, err := f.L.Lag(context.Background())
	if err != nil || lag != 0 {
		f.t.Fatalf("lag %d: %v", lag, err)
	}
	return f.L.Status().Applied
}

// TestAnswersAreTheHTTPAPIs: every endpoint answers a request with the
// bytes the HTTP API answers the same question with, and an error with a
// micro error whose code is the HTTP status, whose description is the
// document's message and whose body is the HTTP API's error document.
func TestAnswersAreTheHTTPAPIs(t *testing.T) {
	f := newFixture(t, true)
	// Known when the Amazon deal was recorded, before the renegotiation.
	h, err := f.L.History("openai-amazon")
	if err != nil {
		t.Fatal(err)
	}
	k := h.Amendments[0].Recorded.Format(time.RFC3339Nano)
	id := h.Amendments[0].ID.String() // the same, named by the amendment: the answers say which
	for _, c := range []struct {
		endpoint, params, path string
		code                   int
	}{
		{"state", `{"agreement":"microsoft-openai","at":"2026-03-15"}`, "/v1/agreements/microsoft-openai/state?at=2026-03-15", 200},
		{"state", `{"agreement":"microsoft-openai","at":"2031-06-30","known_at":"` + k + `"}`, "/v1/agreements/microsoft-openai/state?at=2031-06-30&known_at=" + k, 200},
		{"state", `{"agreement":"microsoft-openai","at":"2031-06-30","known_at":"` + id + `"}`, "/v1/agreements/microsoft-openai/state?at=2031-06-30&known_at=" + id, 200},
		{"timeline", `{"agreement":"microsoft-openai","known_at":"` + id + `"}`, "/v1/agreements/microsoft-openai/timeline?known_at=" + id, 200},
		{"diff", `{"agreement":"microsoft-openai","from":"2026-03-15","to":"2027-01-01","known_at":"` + id + `"}`, "/v1/agreements/microsoft-openai/diff?from=2026-03-15&to=2027-01-01&known_at=" + id, 200},
		{"conflicts", `{"at":"2027-06-01","known_at":"` + id + `"}`, "/v1/conflicts?at=2027-06-01&known_at=" + id, 200},
		{"avails", `{"product":"frontier","channel":"api","from":"2026-01-01","to":"2033-01-01","known_at":"` + id + `"}`, "/v1/avails?product=frontier&channel=api&from=2026-01-01&to=2033-01-01&known_at=" + id, 200},
		{"avails", `{"holder":"microsoft","from":"2019-01-01","to":"2033-01-01","known_at":"` + id + `"}`, "/v1/avails?holder=microsoft&from=2019-01-01&to=2033-01-01&known_at=" + id, 200},
		{"calendar", `{"from":"2026-01-01","to":"2033-01-01","known_at":"` + id + `"}`, "/v1/calendar?from=2026-01-01&to=2033-01-01&known_at=" + id, 200},
		{"check", `{"party":"amazon","product":"frontier","channel":"api","at":"2027-01-01","known_at":"` + id + `"}`, "/v1/check?party=amazon&product=frontier&channel=api&at=2027-01-01&known_at=" + id, 200},
		{"state", `{"agreement":"openai-amazon","at":"2026-03-01T12:00:00Z"}`, "/v1/agreements/openai-amazon/state?at=2026-03-01T12:00:00Z", 200},
		{"history", `{"agreement":"microsoft-openai"}`, "/v1/agreements/microsoft-openai/history", 200},
		{"timeline", `{"agreement":"microsoft-openai"}`, "/v1/agreements/microsoft-openai/timeline", 200},
		{"timeline", `{"agreement":"microsoft-openai","known_at":"` + k + `"}`, "/v1/agreements/microsoft-openai/timeline?known_at=" + k, 200},
		{"diff", `{"agreement":"microsoft-openai","from":"2026-03-15","to":"2027-01-01"}`, "/v1/agreements/microsoft-openai/diff?from=2026-03-15&to=2027-01-01", 200},
		{"conflicts", `{"at":"2026-03-15"}`, "/v1/conflicts?at=2026-03-15", 200},
		{"conflicts", `{"at":"2027-06-01","known_at":"` + k + `"}`, "/v1/conflicts?at=2027-06-01&known_at=" + k, 200},
		{"check", `{"party":"amazon","product":"frontier","channel":"api","at":"2026-03-15"}`, "/v1/check?party=amazon&product=frontier&channel=api&at=2026-03-15", 200},
		{"check", `{"party":"amazon","product":"frontier","channel":"api","at":"2027-01-01"}`, "/v1/check?party=amazon&product=frontier&channel=api&at=2027-01-01", 200},
		{"check", `{"party":"amazon","product":"chat","channel":"web","at":"2027-01-01"}`, "/v1/check?party=amazon&product=chat&channel=web&at=2027-01-01", 200},
		{"check", `{"party":"amazon","product":"chat","channel":"web","at":"2027-01-01","ignore_basis":true}`, "/v1/check?party=amazon&product=chat&channel=web&at=2027-01-01&ignore_basis=true", 200},
		{"agreements", `{"at":"2027-01-01"}`, "/v1/agreements?at=2027-01-01", 200},
		{"avails", `{"product":"frontier","channel":"api","from":"2026-01-01","to":"2033-01-01"}`, "/v1/avails?product=frontier&channel=api&from=2026-01-01&to=2033-01-01", 200},
		{"avails", `{"product":"frontier","channel":"api","party":"amazon","from":"2026-01-01","to":"2033-01-01","known_at":"` + k + `"}`, "/v1/avails?product=frontier&channel=api&party=amazon&from=2026-01-01&to=2033-01-01&known_at=" + k, 200},
		{"avails", `{"holder":"microsoft","from":"2019-01-01","to":"2033-01-01"}`, "/v1/avails?holder=microsoft&from=2019-01-01&to=2033-01-01", 200},
		{"avails", `{"holder":"amazon","product":"frontier","from":"2026-01-01","to":"2033-01-01"}`, "/v1/avails?holder=amazon&product=frontier&from=2026-01-01&to=2033-01-01", 200},
		{"calendar", `{"from":"2026-01-01","to":"2033-01-01"}`, "/v1/calendar?from=2026-01-01&to=2033-01-01", 200},
		{"calendar", `{"agreement":"microsoft-openai","from":"2019-01-01","to":"2033-01-01","known_at":"` + k + `"}`, "/v1/calendar?agreement=microsoft-openai&from=2019-01-01&to=2033-01-01&known_at=" + k, 200},
		{"state", `{"agreement":"microsoft-openai","at":"2026-03-15","allow_damaged":"true"}`, "/v1/agreements/microsoft-openai/state?at=2026-03-15&allow_damaged=true", 200},
		{"verify", ``, "/v1/verify", 200},
		{"verify", `{}`, "/v1/verify", 200},
		// Errors.
		{"state", `{"agreement":"nobody","at":"2027-01-01"}`, "/v1/agreements/nobody/state?at=2027-01-01", 404},
		{"state", `{"agreement":"microsoft-openai","at":"2026-13-01"}`, "/v1/agreements/microsoft-openai/state?at=2026-13-01", 400},
		{"conflicts", `{"knownat":"2026-01-01"}`, "/v1/conflicts?knownat=2026-01-01", 400},
		{"diff", `{"agreement":"microsoft-openai","to":"2027-01-01"}`, "/v1/agreements/microsoft-openai/diff?to=2027-01-01", 400},
		{"check", `{"party":"Amazon","at":"2027-01-01"}`, "/v1/check?party=Amazon&at=2027-01-01", 400},
		{"check", `{"product":"frontier"}`, "/v1/check?product=frontier", 400},
		{"check", `{"party":"amazon","product":"frontier"}`, "/v1/check?party=amazon&product=frontier", 400},
		{"check", `{"party":"amazon","product":"frontier","channel":"api","ignore_basis":"perhaps"}`, "/v1/check?party=amazon&product=frontier&channel=api&ignore_basis=perhaps", 400},
		{"avails", `{"product":"frontier","channel":"api","party":"amazon","from":"2019-01-01","to":"2033-01-01","ignore_basis":true}`, "/v1/avails?product=frontier&channel=api&party=amazon&from=2019-01-01&to=2033-01-01&ignore_basis=true", 200},
		{"avails", `{"product":"frontier","from":"2026-01-01","to":"2027-01-01"}`, "/v1/avails?product=frontier&from=2026-01-01&to=2027-01-01", 400},
		{"avails", `{"holder":"amazon","party":"amazon","from":"2026-01-01","to":"2027-01-01"}`, "/v1/avails?holder=amazon&party=amazon&from=2026-01-01&to=2027-01-01", 400},
		{"avails", `{"product":"frontier","channel":"api","from":"2027-01-01","to":"2026-01-01"}`, "/v1/avails?product=frontier&channel=api&from=2027-01-01&to=2026-01-01", 400},
		{"calendar", `{"from":"2026-01-01"}`, "/v1/calendar?from=2026-01-01", 400},
		{"calendar", `{"agreement":"nobody","from":"2026-01-01","to":"2027-01-01"}`, "/v1/calendar?agreement=nobody&from=2026-01-01&to=2027-01-01", 404},
		{"history", `{"agreement":"microsoft-openai","allow_damaged":"perhaps"}`, "/v1/agreements/microsoft-openai/history?allow_damaged=perhaps", 400},
	} {
		got := f.ask(c.endpoint, c.params)
		code, want := f.get(c.path)
		if code != c.code {
			t.Fatalf("GET %s: %d, want %d: %s", c.path, code, c.code, want)
		}
		if strings.Contains(c.params, id) && !bytes.Contains(want, []byte(`"known_at_amendment":{"id":"`+id+`","agreement":"openai-amazon","version":1}`)) {
			t.Errorf("GET %s does not name the amendment known_at was given as: %s", c.path, want)
		}
		if got.code != code || !bytes.Equal(got.body, want) {
			t.Errorf("%s %s:\n%d %s\nthe HTTP API's GET %s:\n%d %s", c.endpoint, c.params, got.code, got.body, c.path, code, want)
			continue
		}
		if code != 200 {
			var doc ledger.ErrorDocument
			if err := json.Unmarshal(got.body, &doc); err != nil || got.desc != doc.Error.Message {
				t.Errorf("%s %s: description %q, the document's message %q (%v)", c.endpoint, c.params, got.desc, doc.Error.Message, err)
			}
		}
	}
}

// TestDamagedAsTheHTTPAPI: on a store that lost a message of one
// agreement, a question about it fails as the HTTP API fails it (503, of
// kind damaged) unless allow_damaged is given, and is then answered from
// the intact prefix, marked, as over HTTP; questions across agreements
// list the damage.
func TestDamagedAsTheHTTPAPI(t *testing.T) {
	l := ledgertest.Damaged(t, ledger.Config{Listen: "127.0.0.1:-1", SnapshotEvery: -1})
	f := serve(t, l)
	damaged := 0
	for _, c := range []struct{ endpoint, params, path string }{
		{"state", `{"agreement":"deal","at":"2027-01-01"}`, "/v1/agreements/deal/state?at=2027-01-01"},
		{"history", `{"agreement":"deal"}`, "/v1/agreements/deal/history"},
		{"timeline", `{"agreement":"deal"}`, "/v1/agreements/deal/timeline"},
		{"diff", `{"agreement":"deal","from":"2026-01-15","to":"2027-01-01"}`, "/v1/agreements/deal/diff?from=2026-01-15&to=2027-01-01"},
		{"calendar", `{"agreement":"deal","from":"2026-01-01","to":"2028-01-01"}`, "/v1/calendar?agreement=deal&from=2026-01-01&to=2028-01-01"},
		{"calendar", `{"from":"2026-01-01","to":"2028-01-01"}`, "/v1/calendar?from=2026-01-01&to=2028-01-01"},
		{"conflicts", `{"at":"2027-01-01"}`, "/v1/conflicts?at=2027-01-01"},
		{"avails", `{"product":"lots","channel":"api","from":"2026-01-01","to":"2028-01-01"}`, "/v1/avails?product=lots&channel=api&from=2026-01-01&to=2028-01-01"},
	} {
		for _, allow := range []bool{false, true} {
			one := strings.Contains(c.params, `"deal"`) // a question about the damaged agreement
			params, path := c.params, c.path
			if allow {
				if !one {
					continue
				}
				params = strings.TrimSuffix(params, "}") + `,"allow_damaged":true}`
				sep := "?"
				if strings.Contains(path, "?") {
					sep = "&"
				}
				path += sep + "allow_damaged=true"
			}
			got := f.ask(c.endpoint, params)
			code, want := f.get(path)
			if got.code != code || !bytes.Equal(got.body, want) {
				t.Errorf("%s %s:\n%d %s\nthe HTTP API's GET %s:\n%d %s", c.endpoint, params, got.code, got.body, path, code, want)
				continue
			}
			var doc ledger.ErrorDocument
			switch {
			case one && !allow:
				if json.Unmarshal(got.body, &doc); got.code != 503 || doc.Error.Kind != events.Damaged {
					t.Errorf("%s %s: %d %s, want 503 of kind damaged", c.endpoint, params, got.code, got.body)
				}
			case !strings.Contains(string(got.body), `"damaged":`) || got.code != 200:
				t.Errorf("%s %s: %d %s, want an answer marked damaged", c.endpoint, params, got.code, got.body)
			default:
				damaged++
			}
		}
	}
	if damaged != 8 {
		t.Errorf("%d answers marked damaged, want 8", damaged)
	}
}

// TestBadRequestsNameTheParameter: what the HTTP API cannot be asked (a
// missing agreement, parameters that are not an object or not strings) is
// refused with 400 naming what is wrong.
func TestBadRequestsNameTheParameter(t *testing.T) {
	f := newFixture(t, true)
	for _, c := range []struct {
		endpoint, params, field, says string
	}{
		{"state", `{"at":"2026-03-15"}`, "agreement", "is required"},
		{"state", `{"agreement":"a b"}`, "agreement", "not a slug"},
		{"state", `{"agreement":"microsoft-openai","at":20260315}`, "at", "must be a string"},
		{"state", `{"agreement":"microsoft-openai","allow_damaged":1}`, "allow_damaged", "or true or false, not 1"},
		{"avails", `{"product":"frontier","channel":"api","to":"2027-01-01"}`, "from", "is required"},
		{"calendar", `{"from":"2026-01-01","to":"2027-01-01","holder":"amazon"}`, "holder", "not a parameter of this endpoint (it takes: agreement, from, to, known_at, allow_damaged)"},
		{"state", `["microsoft-openai"]`, "", "a JSON object of parameters"},
		{"state", `not json`, "", "a JSON object of parameters"},
		{"history", `{"agreement":"microsoft-openai","at":"2026-01-01"}`, "at", "not a parameter of this endpoint (it takes: agreement, allow_damaged)"},
		{"verify", `{"at":"2027-01-01"}`, "at", "not a parameter of this endpoint (it takes: heads)"},
		{"state", `{"agreement":"microsoft-openai","known_at":"01ARZ3NDEKTSV4RRFFQ69G5FAV"}`, "", "no amendment 01ARZ3NDEKTSV4RRFFQ69G5FAV"},
		{"verify", `{"heads":[{"agreement":"x","version":0,"seq":1,"hash":"` + strings.Repeat("0", 64) + `"}]}`, "heads[0].version", "version of 1 or more"},
		{"verify", `{"heads":[{"agreement":"x","version":1,"seq":1,"hash":"abc"}]}`, "heads", "SHA-256"},
	} {
		got := f.ask(c.endpoint, c.params)
		var doc ledger.ErrorDocument
		if err := json.Unmarshal(got.body, &doc); err != nil {
			t.Fatalf("%s %s: not an error document: %s", c.endpoint, c.params, got.body)
		}
		want := 400
		if strings.Contains(c.says, "no amendment") {
			want = 404
		}
		if got.code != want || doc.Error.Field != c.field || !strings.Contains(got.desc, c.says) {
			t.Errorf("%s %s: %d %q field %q, want %d naming %q and saying %q", c.endpoint, c.params, got.code, got.desc, doc.Error.Field, want, c.field, c.says)
		}
	}
	// An amendment id as known_at stands for when it was recorded, as the
	// command's --known-at: the Amazon deal, recorded before the
	// renegotiation.
	deal := f.L.Given(`{"agreement":"side-deal","effective":"2026-05-01","changes":[{"op":"open","title":"Side deal","parties":["openai","amazon"]}]}`).Appended[0].ID
	rec, err := f.L.Amendment(mustULID(t, deal))
	if err != nil {
		t.Fatal(err)
	}
	// The answer names it too.
	byID := f.ask("state", `{"agreement":"microsoft-openai","at":"2031-06-30","known_at":"`+deal+`"}`)
	byTime := f.ask("state", `{"agreement":"microsoft-openai","at":"2031-06-30","known_at":"`+rec.Recorded.Format(time.RFC3339Nano)+`"}`)
	echo := []byte(`"known_at_amendment":{"id":"` + deal + `","agreement":"side-deal","version":1},`)
	if byID.code != 200 || !bytes.Equal(bytes.Replace(byID.body, echo, nil, 1), byTime.body) {
		t.Errorf("known_at an amendment id, less %s:\n%s\nknown_at when it was recorded:\n%s", echo, byID.body, byTime.body)
	}
}

// TestAppendAsTheHTTPAPI: an append records what the HTTP API records and
// answers its document; the same amendment again is a duplicate, written
// once; an expected version is honoured (409 otherwise); a dry run and
// invalid input write nothing, the latter refused as the HTTP API refuses
// it.
func TestAppendAsTheHTTPAPI(t *testing.T) {
	f := newFixture(t, true)
	open := `{"id":"01KR0000000000000000000001","agreement":"openai-acme","effective":"2027-03-01","changes":[{"op":"open","title":"OpenAI–Acme","parties":["openai","acme"]},` +
		`{"op":"add","clause":{"id":"eu-resale","kind":"exclusivity","grantor":"openai","holder":"acme","scope":{"products":["frontier"],"channels":["api"],"territories":["eu"]}}}]}`
	before := f.lastSeq()
	dry := f.ask("append", open, wire.DryRunHeader, "true")
	if dry.code != 200 || !strings.Contains(string(dry.body), `"dry_run":true`) || !strings.Contains(string(dry.body), `"effects"`) || f.lastSeq() != before {
		t.Fatalf("dry run: %d %s (stream %d → %d)", dry.code, dry.body, before, f.lastSeq())
	}
	first := f.ask("append", open)
	var res ledger.AppendResult
	if err := json.Unmarshal(first.body, &res); err != nil || first.code != 200 || len(res.Appended) != 1 || res.Appended[0].Duplicate || res.Appended[0].Version != 1 || len(res.Conflicts) != 1 {
		t.Fatalf("append: %d %s", first.code, first.body)
	}
	if f.lastSeq() != before+1 {
		t.Fatalf("the stream went from %d to %d", before, f.lastSeq())
	}
	// Again, through the service and through HTTP: recorded once.
	again := f.ask("append", open)
	_, web := f.http(http.MethodPost, "/v1/amendments", open)
	if !strings.Contains(string(again.body), `"duplicate":true`) || !bytes.Equal(again.body, web) || f.lastSeq() != before+1 {
		t.Fatalf("the same amendment again: %s (HTTP: %s), stream at %d", again.body, web, f.lastSeq())
	}

	report := `{"agreement":"openai-acme","effective":"2027-07-01","changes":[{"op":"end","clause":"eu-resale"}]}`
	stale := f.ask("append", report, wire.ExpectVersionHeader, "0")
	var doc ledger.ErrorDocument
	if json.Unmarshal(stale.body, &doc); stale.code != 409 || doc.Error.Kind != "conflict" || f.lastSeq() != before+1 {
		t.Fatalf("at a stale version: %d %s", stale.code, stale.body)
	}
	if ok := f.ask("append", report, wire.ExpectVersionHeader, "1"); ok.code != 200 || f.lastSeq() != before+2 {
		t.Fatalf("at the expected version: %d %s", ok.code, ok.body)
	}

	// Invalid input: refused as over HTTP, nothing written.
	for _, c := range []struct {
		body   string
		header []string
		code   int
		field  string
	}{
		{`{"agreement":"openai-acme","effective":"2027-13-01","changes":[{"op":"end","clause":"eu-resale"}]}`, nil, 422, "effective"},
		{`{"agreement":"openai-acme","effective":"2027-09-01","changes":[{"op":"end","clause":"no-such-clause"}]}`, nil, 422, "changes[0].clause"},
		{`{"agreement":"openai-acme"`, nil, 400, ""},
		{``, nil, 400, ""},
		{report, []string{wire.ExpectVersionHeader, "two"}, 400, wire.ExpectVersionHeader},
		{report, []string{wire.DryRunHeader, "perhaps"}, 400, wire.DryRunHeader},
	} {
		got := f.ask("append", c.body, c.header...)
		var doc ledger.ErrorDocument
		if err := json.Unmarshal(got.body, &doc); err != nil || got.code != c.code || doc.Error.Field != c.field {
			t.Errorf("append %s %v: %d %s, want %d naming %q", c.body, c.header, got.code, got.body, c.code, c.field)
		}
		if c.header == nil && c.body != "" {
			if code, web := f.http(http.MethodPost, "/v1/amendments", c.body); code != got.code || !bytes.Equal(web, got.body) {
				t.Errorf("append %s: %d %s; over HTTP %d %s", c.body, got.code, got.body, code, web)
			}
		}
	}
	if f.lastSeq() != before+2 {
		t.Fatalf("refused appends wrote: the stream is at %d, not %d", f.lastSeq(), before+2)
	}
}

// TestDiscoveryAndCounts: the service is found as micro services are
// ($SRV.PING, INFO, STATS), names its endpoints and their subjects, and
// counts each endpoint's requests and errors, in its stats and in the
// Prometheus metrics.
func TestDiscoveryAndCounts(t *testing.T) {
	f := newFixture(t, true)
	for range 3 {
		f.ask("state", `{"agreement":"microsoft-openai","at":"2027-01-01"}`)
	}
	f.ask("state", `{"agreement":"nobody"}`)
	f.ask("conflicts", `{"at":"2026-03-15"}`)

	var ping micro.Ping
	request(t, f.nc, "$SRV.PING.ledger", &ping)
	if ping.Name != "ledger" || ping.Version != "1.2.3" || ping.Type != micro.PingResponseType {
		t.Errorf("ping: %+v", ping)
	}
	var info micro.Info
	request(t, f.nc, "$SRV.INFO.ledger", &info)
	var names []string
	for _, e := range info.Endpoints {
		names = append(names, e.Name)
		if e.Subject != "ledger.v1."+e.Name || e.QueueGroup != micro.DefaultQueueGroup || e.Metadata["description"] == "" {
			t.Errorf("endpoint %+v", e)
		}
	}
	if !slices.Equal(names, service.Endpoints()) || info.Metadata["stream"] != "LEDGER" {
		t.Errorf("info: %+v", info)
	}
	for _, want := range []string{"append", "state", "conflicts", "check", "avails", "calendar", "history", "diff", "timeline", "agreements", "verify"} {
		if !slices.Contains(names, want) {
			t.Errorf("no endpoint %s in %v", want, names)
		}
	}
	// micro counts a request after its handler has replied, on the
	// endpoint's goroutine: the last one may be counted a moment after its
	// answer arrived.
	var counts map[string][2]int
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var stats micro.Stats
		request(t, f.nc, "$SRV.STATS.ledger", &stats)
		counts = map[string][2]int{}
		for _, e := range stats.Endpoints {
			counts[e.Name] = [2]int{e.NumRequests, e.NumErrors}
		}
		if counts["state"] == [2]int{4, 1} && counts["conflicts"] == [2]int{1, 0} || time.Now().After(deadline) {
			break
		}
	}
	if counts["state"] != [2]int{4, 1} || counts["conflicts"] != [2]int{1, 0} || counts["append"] != [2]int{0, 0} {
		t.Errorf("stats (requests, errors): %v", counts)
	}
	// The metrics too are counted once the reply is sent.
	var metrics map[string]float64
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		metrics = map[string]float64{}
		families, err := f.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range families {
			if mf.GetName() != "ledger_nats_requests_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				metrics[label(m, "endpoint")+" "+label(m, "code")] = m.GetCounter().GetValue()
			}
		}
		if metrics["state 200"] == 3 && metrics["state 404"] == 1 && metrics["conflicts 200"] == 1 || time.Now().After(deadline) {
			break
		}
	}
	if metrics["state 200"] != 3 || metrics["state 404"] != 1 || metrics["conflicts 200"] != 1 {
		t.Errorf("ledger_nats_requests_total: %v", metrics)
	}
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func request(t *testing.T, nc *nats.Conn, subject string, v any) {
	t.Helper()
	m, err := nc.Request(subject, nil, 5*time.Second)
	if err != nil {
		t.Fatalf("%s: %v", subject, err)
	}
	if err := json.Unmarshal(m.Data, v); err != nil {
		t.Fatalf("%s: %v\n%s", subject, err, m.Data)
	}
}

// TestVersions: a Go module version is the service's, without its "v".
func TestVersions(t *testing.T) {
	l := ledgertest.New(t)
	for given, want := range map[string]string{"": "0.0.0-devel", "devel": "0.0.0-devel", "v0.3.1": "0.3.1", "v0.0.0-20260101000000-abcdef123456": "0.0.0-20260101000000-abcdef123456"} {
		s, err := service.Start(l.Conn(), l.Ledger, service.Options{Version: given, Name: "ledger-" + fmt.Sprint(len(given)), Prefix: "versions.v1"})
		if err != nil {
			t.Fatalf("version %q: %v", given, err)
		}
		if got := s.Info().Version; got != want {
			t.Errorf("version %q is served as %q, want %q", given, got, want)
		}
		s.Stop()
	}
}

func mustULID(t *testing.T, s string) ulid.ULID {
	t.Helper()
	id, err := ulid.ParseStrict(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
