package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events/seed"
	"github.com/agreement-ledger/ledger/ledger/httpapi"
	"github.com/agreement-ledger/ledger/ledger/ledgertest"
	"github.com/prometheus/client_golang/prometheus"
)

// server is a handler under test: a real in-process ledger, the handler
// around it in an httptest.Server, and a client whose every exchange is
// checked against the OpenAPI document (see openapi_test.go).
type server struct {
	t    *testing.T
	L    *ledgertest.Ledger
	H    *httpapi.Handler
	URL  string
	api  *apiChecker
	logs *syncBuffer
}

// Tokens of the servers started with auth.
const (
	writeToken = "w-token-0123456789"
	readToken  = "r-token-0123456789"
)

type serverOpt func(*httpapi.Options)

func withAuth(o *httpapi.Options) {
	o.Tokens = httpapi.Tokens{writeToken: httpapi.Write, readToken: httpapi.Read}
}

func withMaxBody(n int64) serverOpt { return func(o *httpapi.Options) { o.MaxBody = n } }

// newServer starts a ledger and the handler. With seeded, the ledger holds the
// seed history.
func newServer(t *testing.T, seeded bool, opts ...serverOpt) *server {
	t.Helper()
	l := ledgertest.New(t)
	if seeded {
		l.Given(seed.Amendments())
	}
	return newServerOn(t, l, opts...)
}

// newServerOn starts the handler on the ledger l.
func newServerOn(t *testing.T, l *ledgertest.Ledger, opts ...serverOpt) *server {
	t.Helper()
	logs := &syncBuffer{}
	o := httpapi.Options{Logger: slog.New(slog.NewTextHandler(logs, nil)), Registry: prometheus.NewRegistry()}
	for _, f := range opts {
		f(&o)
	}
	h := httpapi.New(l.Ledger, o)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	s := &server{t: t, L: l, H: h, URL: ts.URL, logs: logs}
	s.api = newAPIChecker(t, ts.URL)
	return s
}

// response is what a request got.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic value.
func (r *response) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

// errorField returns the error document's kind and field.
func (r *response) errorDoc(t *testing.T) (kind, field, message string) {
	t.Helper()
	m := r.JSON(t)
	e, ok := m["error"].(map[string]any)
	if !ok {
		t.Fatalf("not an error document: %s", r.Body)
	}
	kind, _ = e["kind"].(string)
	field, _ = e["field"].(string)
	message, _ = e["message"].(string)
	return kind, field, message
}

// req is a request to make.
type req struct {
	method string
	path   string
	body   string
	ctype  string // default application/json when there is a body
	header map[string]string
	token  string
}

// do makes the request through the checking client.
func (s *server) do(r req) *response {
	s.t.Helper()
	return s.send(s.api.client(), r)
}

// doRaw makes the request with a plain client (no OpenAPI check).
func (s *server) doRaw(r req) *response {
	s.t.Helper()
	return s.send(http.DefaultClient, r)
}

func (s *server) send(c *http.Client, r req) *response {
	s.t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	method := r.method
	if method == "" {
		method = http.MethodGet
	}
	hr, err := http.NewRequest(method, s.URL+r.path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	if r.body != "" {
		ct := r.ctype
		if ct == "" {
			ct = "application/json"
		}
		if ct != "-" {
			hr.Header.Set("Content-Type", ct)
		}
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	res, err := c.Do(hr)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, r.path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatalf("%s %s: reading body: %v", method, r.path, err)
	}
	return &response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// historyLen is how many amendments an agreement has (0 if none).
func (s *server) historyLen(agreement string) int {
	s.t.Helper()
	h, err := s.L.History(agreement)
	if err != nil {
		return 0
	}
	return len(h.Amendments)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// line writes a JSON value on one line, for JSON Lines.
func line(s string) string {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		panic(err)
	}
	return b.String()
}

// Amendments used by the tests.
const (
	// newAgreement opens an agreement "acme-globex" with one exclusivity.
	newAgreement = `{"id":"01JQ4Z6N8S9C2E7W3Y5T1V0B6D","agreement":"acme-globex","effective":"2026-01-01","summary":"Acme and Globex",
	  "changes":[{"op":"open","title":"Acme–Globex distribution","parties":["acme","globex"]},
	    {"op":"add","clause":{"id":"eu-exclusivity","kind":"exclusivity","grantor":"acme","holder":"globex","scope":{"territories":["eu"]}}}]}`
	// secondAmendment ends the exclusivity.
	secondAmendment = `{"id":"01JQ4Z6N8S9C2E7W3Y5T1V0B6E","agreement":"acme-globex","effective":"2026-06-01",
	  "changes":[{"op":"end","clause":"eu-exclusivity"}]}`
	// conflicting gives Amazon an exclusive over Frontier's API again, in
	// another agreement: it conflicts with frontier-exclusivity.
	conflicting = `{"agreement":"openai-google","effective":"2026-09-01",
	  "changes":[{"op":"open","title":"OpenAI–Google","parties":["openai","google"]},
	    {"op":"add","clause":{"id":"frontier-on-google","kind":"exclusivity","grantor":"openai","holder":"google","scope":{"products":["frontier"],"channels":["api"]}}}]}`
)
