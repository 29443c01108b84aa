package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/agreement-ledger/ledger/ledger/httpapi"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// The OpenAPI document is checked two ways: it must be a valid OpenAPI 3.1
// document, and every exchange the tests make through server.do is checked
// against it with kin-openapi: the request (parameters and body) and the
// real response (status, headers, body).

func init() {
	// Bodies kin-openapi has no decoder for: JSON Lines input, and the
	// page's text types (checked as strings).
	lines := func(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		var out []any
		sc := bufio.NewScanner(body)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			line := bytes.TrimSpace(sc.Bytes())
			if len(line) == 0 {
				continue
			}
			var v any
			if err := json.Unmarshal(line, &v); err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, sc.Err()
	}
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", lines)
	openapi3filter.RegisterBodyDecoder("application/jsonl", lines)
	openapi3filter.RegisterBodyDecoder("application/schema+json", openapi3filter.JSONBodyDecoder)
	for _, t := range []string{"text/html", "text/javascript", "text/css", "image/svg+xml", "text/event-stream", "text/calendar"} {
		openapi3filter.RegisterBodyDecoder(t, openapi3filter.PlainBodyDecoder)
	}
}

var loadSpec = sync.OnceValues(func() (*openapi3.T, error) {
	data, err := httpapi.OpenAPI()
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("loading openapi.json: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("openapi.json is not a valid OpenAPI document: %w", err)
	}
	return doc, nil
})

// apiChecker checks exchanges against the OpenAPI document and remembers
// which operations and statuses it saw.
type apiChecker struct {
	t      *testing.T
	router routers.Router
	doc    *openapi3.T
	mu     sync.Mutex
	seen   map[string]map[int]bool // operationId → statuses
}

func newAPIChecker(t *testing.T, base string) *apiChecker {
	t.Helper()
	doc, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	d := *doc
	d.Servers = openapi3.Servers{{URL: base}}
	router, err := gorillamux.NewRouter(&d)
	if err != nil {
		t.Fatalf("openapi router: %v", err)
	}
	return &apiChecker{t: t, router: router, doc: &d, seen: map[string]map[int]bool{}}
}

func (c *apiChecker) client() *http.Client { return &http.Client{Transport: checkingTransport{c}} }

type checkingTransport struct{ c *apiChecker }

func (tr checkingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || req.Method == http.MethodHead {
		return res, err
	}
	stream := strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream")
	var resBody []byte
	if !stream {
		resBody, err = io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return nil, err
		}
		res.Body = io.NopCloser(bytes.NewReader(resBody))
	}
	check := req.Clone(context.Background())
	check.Body = io.NopCloser(bytes.NewReader(reqBody))
	tr.c.check(check, res, resBody, stream)
	return res, nil
}

func (c *apiChecker) check(req *http.Request, res *http.Response, body []byte, stream bool) {
	t := c.t
	ctx := context.Background()
	what := fmt.Sprintf("%s %s → %d", req.Method, req.URL.RequestURI(), res.StatusCode)
	route, pathParams, err := c.router.FindRoute(req)
	if err != nil {
		switch {
		case errors.Is(err, routers.ErrMethodNotAllowed) && res.StatusCode == http.StatusMethodNotAllowed,
			errors.Is(err, routers.ErrPathNotFound) && res.StatusCode == http.StatusNotFound:
			// Not in the document, and the server says so: the body must
			// still be an error document.
			c.checkSchema(what, "Error", body)
			c.saw("(unrouted)", res.StatusCode)
		default:
			t.Errorf("openapi: %s: no route in the document: %v", what, err)
		}
		return
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: pathParams, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil && res.StatusCode < 400 {
		t.Errorf("openapi: %s: the server accepted a request the document rejects: %v", what, err)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, ExcludeResponseBody: stream, MultiError: true}}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Errorf("openapi: %s: the response does not match the document: %v\nbody: %.2000s", what, err, body)
	}
	c.saw(route.Operation.OperationID, res.StatusCode)
}

func (c *apiChecker) saw(op string, status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen[op] == nil {
		c.seen[op] = map[int]bool{}
	}
	c.seen[op][status] = true
}

// checkSchema validates a JSON body against a named component schema.
func (c *apiChecker) checkSchema(what, schema string, body []byte) {
	c.t.Helper()
	ref := c.doc.Components.Schemas[schema]
	if ref == nil {
		c.t.Fatalf("openapi: no schema %s", schema)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		c.t.Errorf("openapi: %s: body is not JSON: %v\n%s", what, err, body)
		return
	}
	if err := ref.Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		c.t.Errorf("openapi: %s: body does not match %s: %v\n%.2000s", what, schema, err, body)
	}
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi is %s, want 3.1", doc.OpenAPI)
	}
	if in := doc.Components.Schemas["AmendmentInput"].Value; in.If == nil && in.Defs == nil && in.Properties == nil {
		t.Errorf("AmendmentInput was not filled in from events.Schema")
	}
}

// TestOpenAPIEveryEndpoint calls every operation of the document, on success
// and on failure, through the checking client, and requires that each was
// seen: the document describes every endpoint, and every endpoint's real
// responses (and the requests that produced them) match it.
func TestOpenAPIEveryEndpoint(t *testing.T) {
	s := newServer(t, true, withAuth)
	w, r := writeToken, readToken
	calls := []req{
		{method: "POST", path: "/v1/agreements/acme-globex/amendments", body: newAgreement, token: w, header: map[string]string{"If-Match": `"0"`}},
		{method: "POST", path: "/v1/agreements/acme-globex/amendments", body: newAgreement, token: w},
		{method: "POST", path: "/v1/agreements/acme-globex/amendments?dry_run=true", body: secondAmendment, token: w},
		{method: "POST", path: "/v1/agreements/acme-globex/amendments", body: secondAmendment, token: w, header: map[string]string{"If-Match": `"7"`}},
		{method: "POST", path: "/v1/agreements/acme-globex/amendments", body: `{"agreement":"acme-globex"}`, token: w},
		{method: "POST", path: "/v1/agreements/acme-globex/amendments", body: newAgreement, token: r},
		{method: "POST", path: "/v1/agreements/acme-globex/amendments", body: newAgreement},
		{method: "POST", path: "/v1/agreements/acme-globex/amendments", body: newAgreement, token: w, ctype: "text/plain"},
		{method: "POST", path: "/v1/agreements/acme-globex/amendments", body: newAgreement, token: w, header: map[string]string{"If-Match": "seven"}},
		{method: "POST", path: "/v1/amendments", body: conflicting, token: w},
		{method: "POST", path: "/v1/amendments", body: line(secondAmendment) + "\n", token: w, ctype: "application/x-ndjson"},
		{method: "POST", path: "/v1/amendments", body: line(conflicting) + "\n" + line(secondAmendment), token: w, ctype: "application/jsonl"},
		{method: "GET", path: "/v1/amendments", token: w},
		{path: "/v1/agreements", token: r},
		{path: "/v1/agreements?at=2026-03-15", token: r},
		{path: "/v1/agreements?at=yesterday", token: r},
		{path: "/v1/agreements/microsoft-openai/state?at=2026-03-15", token: r},
		{path: "/v1/agreements/microsoft-openai/state?at=2027-01-01&known_at=2999-01-01", token: r},
		{path: "/v1/agreements/microsoft-openai/state", token: r, header: map[string]string{"If-None-Match": `"2"`}},
		{path: "/v1/agreements/nope/state", token: r},
		{path: "/v1/agreements/openai-amazon/state?at=2026-13-45", token: r},
		{path: "/v1/agreements/openai-amazon/history", token: r},
		{path: "/v1/agreements/nope/history", token: r},
		{path: "/v1/agreements/openai-amazon/history?full=true", token: r},
		{path: "/v1/agreements/openai-amazon/history?full=maybe", token: r},
		{path: "/v1/agreements/microsoft-openai/timeline", token: r},
		{path: "/v1/agreements/microsoft-openai/timeline?known_at=2999-01-01T00:00:00Z", token: r},
		{path: "/v1/agreements/nope/timeline", token: r},
		{path: "/v1/agreements/microsoft-openai/diff?from=2026-03-15&to=2027-01-01", token: r},
		{path: "/v1/agreements/microsoft-openai/diff?to=2027-01-01", token: r},
		{path: "/v1/agreements/nope/diff?from=2026-03-15&to=2027-01-01", token: r},
		{path: "/v1/conflicts?at=2026-03-15", token: r},
		{path: "/v1/conflicts?at=2027-01-01&known_at=2999-01-01", token: r},
		{path: "/v1/conflicts?at=x", token: r},
		{path: "/v1/check?party=amazon&product=frontier&channel=api&at=2026-03-15", token: r},
		{path: "/v1/check?party=amazon&product=frontier&channel=api&platform=aws&territory=us&at=2027-01-01", token: r},
		{path: "/v1/check?product=frontier", token: r},
		{path: "/v1/check?party=amazon&channel=api", token: r},
		{path: "/v1/check?party=amazon&product=chat&channel=web&at=2027-01-01", token: r},
		{path: "/v1/check?party=amazon&product=chat&channel=web&at=2027-01-01&ignore_basis=true", token: r},
		{path: "/v1/avails?product=frontier&channel=api&from=2026-01-01&to=2028-01-01", token: r},
		{path: "/v1/avails?holder=amazon&from=2026-01-01&to=2028-01-01", token: r},
		{path: "/v1/avails?product=frontier&channel=api&party=amazon&ignore_basis=true&from=2019-01-01&to=2028-01-01", token: r},
		{path: "/v1/avails?product=frontier&channel=api&from=2028-01-01&to=2026-01-01", token: r},
		{path: "/v1/calendar?from=2026-01-01&to=2034-01-01", token: r},
		{path: "/v1/calendar?from=2026-01-01&to=2034-01-01", token: r, header: map[string]string{"Accept": "text/calendar"}},
		{path: "/v1/calendar?agreement=nope&from=2026-01-01&to=2034-01-01", token: r},
		{path: "/v1/calendar?from=2026-01-01", token: r},
		{path: "/v1/calendar.ics?from=2026-01-01&to=2034-01-01", token: r},
		{path: "/v1/calendar.ics?to=2034-01-01", token: r},
		{path: "/v1/verify", token: r},
		{path: "/v1/verify"},
		{path: "/v1/schema/amendment.json"},
		{path: "/openapi.json"},
		{method: "DELETE", path: "/openapi.json"},
		{path: "/healthz"},
		{path: "/metrics", token: r},
		{path: "/metrics"},
		{path: "/"},
		{path: "/assets/app.js"},
		{path: "/assets/style.css"},
		{path: "/assets/nope.js"},
		{path: "/ui/agreements?at=2026-03-15", token: r},
		{path: "/ui/agreements?at=2026-03-15&known_at=2999-01-01", token: r},
		{path: "/ui/view/microsoft-openai?at=2026-03-15&width=900", token: r},
		{path: "/ui/view/microsoft-openai?width=5", token: r},
		{path: "/ui/view/nope", token: r},
		{path: "/ui/avails?product=frontier&channel=api&from=2021-01-01&to=2031-01-01&at=2026-03-15", token: r},
		{path: "/ui/avails?product=frontier&from=2021-01-01&to=2031-01-01", token: r},
		{path: "/ui/timeline/microsoft-openai.svg?at=2026-03-15", token: r},
		{path: "/ui/timeline/nope.svg", token: r},
		{path: "/ui/timeline/microsoft-openai.svg", token: ""},
		{path: "/v1/no-such-endpoint", token: r},
	}
	for _, c := range calls {
		s.do(c)
	}
	// The event stream: connect, get the stream's first event, disconnect.
	ctx, cancel := context.WithCancel(context.Background())
	evs := s.subscribe(ctx, "/v1/events?after=0", r, "")
	first := <-evs
	cancel()
	if first.id == "" {
		t.Fatalf("no event")
	}
	s.do(req{path: "/v1/events", token: r, header: map[string]string{"Last-Event-ID": "x"}})

	s.api.mu.Lock()
	defer s.api.mu.Unlock()
	var missing []string
	for path, item := range s.api.doc.Paths.Map() {
		for method, op := range item.Operations() {
			if len(s.api.seen[op.OperationID]) == 0 {
				missing = append(missing, method+" "+path)
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("operations never exercised: %v", missing)
	}
	var statuses []int
	for _, st := range s.api.seen {
		for code := range st {
			if !slices.Contains(statuses, code) {
				statuses = append(statuses, code)
			}
		}
	}
	slices.Sort(statuses)
	for _, want := range []int{200, 201, 304, 400, 401, 403, 404, 405, 409, 415, 422} {
		if !slices.Contains(statuses, want) {
			t.Errorf("status %d never seen; saw %v", want, statuses)
		}
	}
	t.Logf("statuses checked against the document: %v", statuses)
}

// TestWriteOpenAPI writes the document the server serves (openapi.json with
// the amendment schema and the kinds filled in) to $LEDGER_OPENAPI_OUT, for
// a linter to read (.ci/run lints it with @redocly/cli); without the
// variable it only builds it.
func TestWriteOpenAPI(t *testing.T) {
	doc, err := httpapi.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if out := os.Getenv("LEDGER_OPENAPI_OUT"); out != "" {
		if err := os.WriteFile(out, doc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
