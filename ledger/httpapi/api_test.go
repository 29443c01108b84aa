package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
)

// TestAppend walks one ledger through the statuses of an append, in order:
// each step's history length is checked, so a refused append is seen to
// write nothing.
func TestAppend(t *testing.T) {
	s := newServer(t, true, withAuth)
	w := writeToken
	ifMatch := func(v string) map[string]string { return map[string]string{"If-Match": v} }
	steps := []struct {
		name    string
		req     req
		status  int
		kind    string // error kind, for failures
		field   string // error field, for failures
		history int    // acme-globex's amendments after the step
		check   func(t *testing.T, res *response)
	}{
		{name: "first time: 201", req: req{method: "POST", path: "/v1/agreements/acme-globex/amendments", body: newAgreement, token: w, header: ifMatch(`"0"`)},
			status: 201, history: 1, check: func(t *testing.T, res *response) {
				doc := res.JSON(t)
				a := doc["appended"].([]any)[0].(map[string]any)
				if a["id"] != "01JQ4Z6N8S9C2E7W3Y5T1V0B6D" || a["agreement"] != "acme-globex" || a["version"] != 1.0 || a["duplicate"] != nil {
					t.Errorf("appended = %v", a)
				}
				if c := doc["conflicts"].([]any); len(c) != 0 {
					t.Errorf("conflicts = %v", c)
				}
				if res.Header.Get("ETag") != `"1"` || res.Header.Get("Location") != "/v1/agreements/acme-globex/state" {
					t.Errorf("ETag %q Location %q", res.Header.Get("ETag"), res.Header.Get("Location"))
				}
			}},
		{name: "duplicate re-send: 200", req: req{method: "POST", path: "/v1/agreements/acme-globex/amendments", body: newAgreement, token: w},
			status: 200, history: 1, check: func(t *testing.T, res *response) {
				a := res.JSON(t)["appended"].([]any)[0].(map[string]any)
				if a["duplicate"] != true || a["version"] != 1.0 {
					t.Errorf("appended = %v, want the duplicate at version 1", a)
				}
			}},
		{name: "duplicate re-send with a stale If-Match is still a duplicate", req: req{method: "POST", path: "/v1/agreements/acme-globex/amendments", body: newAgreement, token: w, header: ifMatch(`"0"`)},
			status: 409, kind: "conflict", history: 1},
		{name: "If-Match mismatch: 409", req: req{method: "POST", path: "/v1/agreements/acme-globex/amendments", body: secondAmendment, token: w, header: ifMatch(`"0"`)},
			status: 409, kind: "conflict", history: 1},
		{name: "dry run: 200, nothing written", req: req{method: "POST", path: "/v1/agreements/acme-globex/amendments?dry_run=true", body: secondAmendment, token: w, header: ifMatch(`"1"`)},
			status: 200, history: 1, check: func(t *testing.T, res *response) {
				doc := res.JSON(t)
				if doc["dry_run"] != true {
					t.Errorf("dry_run = %v", doc["dry_run"])
				}
				effects, _ := doc["effects"].([]any)
				if len(effects) != 1 || !strings.Contains(string(res.Body), `"eu-exclusivity"`) {
					t.Errorf("effects = %v", effects)
				}
			}},
		{name: "If-Match match: 201", req: req{method: "POST", path: "/v1/agreements/acme-globex/amendments", body: secondAmendment, token: w, header: ifMatch(`"1"`)},
			status: 201, history: 2, check: func(t *testing.T, res *response) {
				if res.Header.Get("ETag") != `"2"` {
					t.Errorf("ETag %q", res.Header.Get("ETag"))
				}
			}},
		{name: "invalid against history: 422 with the path, nothing written",
			req:    req{method: "POST", path: "/v1/agreements/acme-globex/amendments", body: `{"agreement":"acme-globex","effective":"2026-07-01","changes":[{"op":"end","clause":"no-such-clause"}]}`, token: w},
			status: 422, kind: "invalid", field: "changes[0].clause", history: 2},
		{name: "invalid fields: 422 with the path",
			req:    req{method: "POST", path: "/v1/agreements/acme-globex/amendments", body: `{"agreement":"acme-globex","effective":"2026-02-30","changes":[{"op":"declare","condition":"agi"}]}`, token: w},
			status: 422, kind: "invalid", field: "effective", history: 2},
		{name: "invalid nested field: 422 with the path",
			req:    req{method: "POST", path: "/v1/agreements/acme-globex/amendments", body: `{"agreement":"acme-globex","effective":"2026-07-01","changes":[{"op":"add","clause":{"id":"fee","kind":"commitment","obligor":"acme","beneficiary":"globex","what":"fees","amount":{"amount":"-5","currency":"USD"}}}]}`, token: w},
			status: 422, kind: "invalid", field: "changes[0].clause.amount.amount", history: 2},
		{name: "agreement of the body differs from the URL: 422 at agreement",
			req:    req{method: "POST", path: "/v1/agreements/other-deal/amendments", body: secondAmendment, token: w},
			status: 422, kind: "invalid", field: "agreement", history: 2},
		{name: "array with one amendment of another agreement: 422 at its index",
			req:    req{method: "POST", path: "/v1/agreements/openai-google/amendments", body: "[" + conflicting + "," + secondAmendment + "]", token: w},
			status: 422, kind: "invalid", field: "[1].agreement", history: 2},
		{name: "If-Match on mixed input: 422",
			req:    req{method: "POST", path: "/v1/amendments", body: "[" + conflicting + "," + secondAmendment + "]", token: w, header: ifMatch(`"2"`)},
			status: 422, kind: "invalid", field: "agreement", history: 2},
		{name: "malformed JSON", req: req{method: "POST", path: "/v1/agreements/acme-globex/amendments", body: `{"agreement":`, token: w},
			status: 400, kind: "invalid", history: 2},
		{name: "bad If-Match: 400", req: req{method: "POST", path: "/v1/agreements/acme-globex/amendments", body: secondAmendment, token: w, header: ifMatch("2")},
			status: 400, kind: "invalid", field: "If-Match", history: 2},
		{name: "bad dry_run: 400", req: req{method: "POST", path: "/v1/agreements/acme-globex/amendments?dry_run=perhaps", body: secondAmendment, token: w},
			status: 400, kind: "invalid", field: "dry_run", history: 2},
		{name: "wrong content type: 415", req: req{method: "POST", path: "/v1/agreements/acme-globex/amendments", body: secondAmendment, token: w, ctype: "application/x-www-form-urlencoded"},
			status: 415, kind: "invalid", history: 2},
		{name: "no content type: 415", req: req{method: "POST", path: "/v1/agreements/acme-globex/amendments", body: secondAmendment, token: w, ctype: "-"},
			status: 415, kind: "invalid", history: 2},
		{name: "wrong charset: 415", req: req{method: "POST", path: "/v1/agreements/acme-globex/amendments", body: secondAmendment, token: w, ctype: "application/json; charset=latin1"},
			status: 415, kind: "invalid", history: 2},
		{name: "read token cannot append: 403", req: req{method: "POST", path: "/v1/amendments", body: conflicting, token: readToken},
			status: 403, kind: "forbidden", history: 2},
		{name: "no token: 401", req: req{method: "POST", path: "/v1/amendments", body: conflicting},
			status: 401, kind: "unauthorized", history: 2, check: func(t *testing.T, res *response) {
				if !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate = %q", res.Header.Get("WWW-Authenticate"))
				}
			}},
		{name: "invalid token: 401", req: req{method: "POST", path: "/v1/amendments", body: conflicting, token: "guess"},
			status: 401, kind: "unauthorized", history: 2},
		{name: "wrong method: 405", req: req{method: "PUT", path: "/v1/amendments", body: conflicting, token: w},
			status: 405, kind: "invalid", history: 2, check: func(t *testing.T, res *response) {
				if res.Header.Get("Allow") != "POST" {
					t.Errorf("Allow = %q", res.Header.Get("Allow"))
				}
			}},
		{name: "JSON Lines, mixed agreements, with conflicts introduced: 201",
			req:    req{method: "POST", path: "/v1/amendments", body: line(conflicting) + "\n" + `{"agreement":"acme-globex","effective":"2026-08-01","changes":[{"op":"declare","condition":"merger"}]}` + "\n", token: w, ctype: "application/x-ndjson"},
			status: 201, history: 3, check: func(t *testing.T, res *response) {
				doc := res.JSON(t)
				if n := len(doc["appended"].([]any)); n != 2 {
					t.Errorf("appended %d, want 2", n)
				}
				if res.Header.Get("Location") != "" {
					t.Errorf("Location %q for input of two agreements", res.Header.Get("Location"))
				}
				cs := doc["conflicts"].([]any)
				body := string(res.Body)
				if len(cs) == 0 || !strings.Contains(body, `"frontier-on-google"`) || !strings.Contains(body, `"frontier-exclusivity"`) || !strings.Contains(body, `"openai-amazon"`) {
					t.Errorf("conflicts = %s", body)
				}
			}},
		{name: "JSON Lines as application/jsonl", req: req{method: "POST", path: "/v1/agreements/acme-globex/amendments", body: `{"agreement":"acme-globex","effective":"2026-09-01","changes":[{"op":"declare","condition":"audit"}]}`, token: w, ctype: "application/jsonl"},
			status: 201, history: 4},
		// The URL names the agreement: a body that names none is of it.
		{name: "body without agreement, the URL's: 201", req: req{method: "POST", path: "/v1/agreements/acme-globex/amendments", body: `{"effective":"2026-10-01","changes":[{"op":"declare","condition":"renewal"}]}`, token: w},
			status: 201, history: 5, check: func(t *testing.T, res *response) {
				a := res.JSON(t)["appended"].([]any)[0].(map[string]any)
				if a["agreement"] != "acme-globex" || a["version"] != 5.0 {
					t.Errorf("appended = %v", a)
				}
			}},
		{name: "JSON Lines, one without agreement and one of another: 422 at the other",
			req:    req{method: "POST", path: "/v1/agreements/acme-globex/amendments", body: `{"effective":"2026-11-01","changes":[{"op":"declare","condition":"x"}]}` + "\n" + line(conflicting) + "\n", token: w, ctype: "application/x-ndjson"},
			status: 422, kind: "invalid", field: "[1].agreement", history: 5},
		{name: "without agreement to /v1/amendments: 422",
			req:    req{method: "POST", path: "/v1/amendments", body: `{"effective":"2026-11-01","changes":[{"op":"declare","condition":"x"}]}`, token: w},
			status: 422, kind: "invalid", field: "agreement", history: 5},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			res := s.do(st.req)
			if res.Status != st.status {
				t.Fatalf("status %d, want %d: %s", res.Status, st.status, res.Body)
			}
			if res.Header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type %q", res.Header.Get("Content-Type"))
			}
			if st.kind != "" {
				kind, field, msg := res.errorDoc(t)
				if kind != st.kind || field != st.field {
					t.Errorf("error kind %q field %q, want %q %q (message %q)", kind, field, st.kind, st.field, msg)
				}
				if msg == "" {
					t.Errorf("error without a message")
				}
			}
			if st.check != nil {
				st.check(t, res)
			}
			if n := s.historyLen("acme-globex"); n != st.history {
				t.Errorf("acme-globex has %d amendments, want %d", n, st.history)
			}
		})
	}
}

// TestAppendOversize sends a 50 MB body: 413 with a JSON error, nothing
// written, and the server is fine afterwards.
func TestAppendOversize(t *testing.T) {
	s := newServer(t, true)
	big := make([]byte, 50<<20)
	copy(big, `[`+newAgreement+`,{"agreement":"acme-globex","effective":"2026-01-02","summary":"`)
	for i := len(`[` + newAgreement + `,{"agreement":"acme-globex","effective":"2026-01-02","summary":"`); i < len(big); i++ {
		big[i] = 'x'
	}
	for _, chunked := range []bool{false, true} {
		var body io.Reader = bytes.NewReader(big)
		if chunked {
			body = io.MultiReader(bytes.NewReader(big)) // unknown length: sent chunked
		}
		hr, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/amendments", body)
		hr.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatalf("chunked=%v: %v", chunked, err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		r := &response{Status: res.StatusCode, Header: res.Header, Body: b}
		if r.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("chunked=%v: status %d, want 413: %.300s", chunked, r.Status, b)
		}
		if kind, _, msg := r.errorDoc(t); kind != "invalid" || !strings.Contains(msg, "too large") {
			t.Errorf("chunked=%v: error %q %q", chunked, kind, msg)
		}
	}
	if n := s.historyLen("acme-globex"); n != 0 {
		t.Errorf("%d amendments written", n)
	}
	// A small limit applies too, and a body within it is fine.
	small := newServer(t, false, withMaxBody(512))
	if res := small.do(req{method: "POST", path: "/v1/amendments", body: newAgreement}); res.Status != http.StatusCreated {
		t.Fatalf("within the limit: %d %s", res.Status, res.Body)
	}
	if res := small.do(req{method: "POST", path: "/v1/amendments", body: conflicting + strings.Repeat(" ", 600)}); res.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("over the limit: %d %s", res.Status, res.Body)
	}
}

func TestQueries(t *testing.T) {
	s := newServer(t, true, withAuth)
	r := readToken
	cases := []struct {
		name   string
		req    req
		status int
		field  string // for 400s
		check  func(t *testing.T, res *response, doc map[string]any)
	}{
		{"agreements", req{path: "/v1/agreements?at=2026-03-15", token: r}, 200, "", func(t *testing.T, _ *response, doc map[string]any) {
			as := doc["agreements"].([]any)
			if len(as) != 2 || as[0].(map[string]any)["agreement"] != "microsoft-openai" || as[1].(map[string]any)["status"] != "open" {
				t.Errorf("agreements = %v", as)
			}
		}},
		{"agreements before the amazon deal", req{path: "/v1/agreements?at=2026-01-01", token: r}, 200, "", func(t *testing.T, _ *response, doc map[string]any) {
			if st := doc["agreements"].([]any)[1].(map[string]any)["status"]; st != "not_open" {
				t.Errorf("openai-amazon status %v on 2026-01-01", st)
			}
		}},
		{"state in March 2026", req{path: "/v1/agreements/microsoft-openai/state?at=2026-03-15", token: r}, 200, "", func(t *testing.T, res *response, doc map[string]any) {
			if doc["at"] != "2026-03-15" || doc["status"] != "open" || doc["version"] != 2.0 || doc["known_at"] != nil {
				t.Errorf("state = %.300s", res.Body)
			}
			ex := doc["exclusivities"].([]any)
			if len(ex) != 1 || ex[0].(map[string]any)["id"] != "azure-api-exclusivity" {
				t.Errorf("exclusivities = %v", ex)
			}
			if lic := doc["licenses"].([]any)[0].(map[string]any); lic["exclusive"] != true {
				t.Errorf("licence = %v", lic)
			}
			if res.Header.Get("ETag") != `"2"` {
				t.Errorf("ETag = %q", res.Header.Get("ETag"))
			}
		}},
		{"state in 2027", req{path: "/v1/agreements/microsoft-openai/state?at=2027-01-01", token: r}, 200, "", func(t *testing.T, _ *response, doc map[string]any) {
			if ex := doc["exclusivities"].([]any); len(ex) != 0 {
				t.Errorf("exclusivities in 2027 = %v", ex)
			}
			if lic := doc["licenses"].([]any)[0].(map[string]any); lic["exclusive"] != false {
				t.Errorf("licence = %v", lic)
			}
			rs := doc["revenue_shares"].([]any)
			if len(rs) != 1 || rs[0].(map[string]any)["cap"].(map[string]any)["undisclosed"] != true {
				t.Errorf("revenue shares = %v", rs)
			}
		}},
		{"state with at as a date-time", req{path: "/v1/agreements/microsoft-openai/state?at=2026-04-27T00:00:00Z", token: r}, 200, "", func(t *testing.T, _ *response, doc map[string]any) {
			if doc["at"] != "2026-04-27" {
				t.Errorf("at = %v", doc["at"])
			}
		}},
		{"state at defaults to now", req{path: "/v1/agreements/microsoft-openai/state", token: r}, 200, "", func(t *testing.T, _ *response, doc map[string]any) {
			at, _ := doc["at"].(string)
			if !strings.HasPrefix(at, time.Now().UTC().Format("2006-01-02")) && !strings.HasPrefix(at, time.Now().UTC().Add(-time.Minute).Format("2006-01-02")) {
				t.Errorf("at = %q, want now", at)
			}
		}},
		{"state known at before anything was recorded: 404", req{path: "/v1/agreements/microsoft-openai/state?at=2031-06-01&known_at=2000-01-01", token: r}, 404, "", nil},
		{"state unknown agreement: 404", req{path: "/v1/agreements/no-such-deal/state", token: r}, 404, "", func(t *testing.T, _ *response, doc map[string]any) {
			if doc["error"].(map[string]any)["kind"] != "not_found" {
				t.Errorf("error = %v", doc["error"])
			}
		}},
		{"state bad at: 400", req{path: "/v1/agreements/microsoft-openai/state?at=March", token: r}, 400, "at", nil},
		{"state bad known_at: 400", req{path: "/v1/agreements/microsoft-openai/state?known_at=2026-02-30", token: r}, 400, "known_at", nil},
		{"state unknown parameter: 400", req{path: "/v1/agreements/microsoft-openai/state?knownat=2026-01-01", token: r}, 400, "knownat", nil},
		{"state repeated parameter: 400", req{path: "/v1/agreements/microsoft-openai/state?at=2026-01-01&at=2027-01-01", token: r}, 400, "at", nil},
		{"history", req{path: "/v1/agreements/microsoft-openai/history", token: r}, 200, "", func(t *testing.T, res *response, doc map[string]any) {
			as := doc["amendments"].([]any)
			if len(as) != 2 || as[1].(map[string]any)["effective"] != "2026-04-27" || as[0].(map[string]any)["seq"] != 1.0 {
				t.Errorf("history = %.400s", res.Body)
			}
		}},
		{"history unknown: 404", req{path: "/v1/agreements/nope/history", token: r}, 404, "", nil},
		{"timeline", req{path: "/v1/agreements/microsoft-openai/timeline", token: r}, 200, "", func(t *testing.T, res *response, doc map[string]any) {
			cs := doc["clauses"].([]any)
			if len(cs) != 7 || !strings.Contains(string(res.Body), `"ended":{"amendment":"01KQ7CZ1G0A84WKP9M7T9BM2EX","op":"end","at":"2026-04-27"}`) {
				t.Errorf("timeline = %.600s", res.Body)
			}
		}},
		{"timeline bad known_at: 400", req{path: "/v1/agreements/microsoft-openai/timeline?known_at=soon", token: r}, 400, "known_at", nil},
		{"diff", req{path: "/v1/agreements/microsoft-openai/diff?from=2026-03-15&to=2027-01-01", token: r}, 200, "", func(t *testing.T, res *response, doc map[string]any) {
			ended := doc["ended"].([]any)
			if len(ended) != 2 || ended[0].(map[string]any)["id"] != "azure-api-exclusivity" || len(doc["changed"].([]any)) != 2 {
				t.Errorf("diff = %.600s", res.Body)
			}
		}},
		{"diff without from: 400", req{path: "/v1/agreements/microsoft-openai/diff?to=2027-01-01", token: r}, 400, "from", nil},
		{"diff bad to: 400", req{path: "/v1/agreements/microsoft-openai/diff?from=2026-01-01&to=tomorrow", token: r}, 400, "to", nil},
		{"conflicts in March 2026", req{path: "/v1/conflicts?at=2026-03-15", token: r}, 200, "", func(t *testing.T, res *response, doc map[string]any) {
			cs := doc["conflicts"].([]any)
			if len(cs) == 0 || !strings.Contains(string(res.Body), `"clause":"azure-api-exclusivity"`) || !strings.Contains(string(res.Body), `"clause":"frontier-exclusivity"`) || cs[0].(map[string]any)["until"] != "2026-04-27" {
				t.Errorf("conflicts = %.600s", res.Body)
			}
		}},
		{"no conflicts in 2027", req{path: "/v1/conflicts?at=2027-01-01", token: r}, 200, "", func(t *testing.T, _ *response, doc map[string]any) {
			if cs := doc["conflicts"].([]any); len(cs) != 0 {
				t.Errorf("conflicts = %v", cs)
			}
		}},
		{"conflicts as known before the amazon deal was recorded", req{path: "/v1/conflicts?at=2026-03-15&known_at=2001-01-01", token: r}, 200, "", func(t *testing.T, _ *response, doc map[string]any) {
			if cs := doc["conflicts"].([]any); len(cs) != 0 || doc["known_at"] != "2001-01-01" {
				t.Errorf("conflicts = %v", doc)
			}
		}},
		{"conflicts bad at: 400", req{path: "/v1/conflicts?at=2026-1-1", token: r}, 400, "at", nil},
		{"check: amazon may not serve frontier by API in March 2026", req{path: "/v1/check?party=amazon&product=frontier&channel=api&at=2026-03-15", token: r}, 200, "", func(t *testing.T, res *response, doc map[string]any) {
			if doc["allowed"] != false || doc["verdict"] != "denied" || clauses(doc["blocking"]) != "microsoft-openai/azure-api-exclusivity" ||
				clauses(doc["basis"]) != "openai-amazon/frontier-exclusivity" || clauses(doc["decided_by"]) != clauses(doc["blocking"]) {
				t.Errorf("check = %s", res.Body)
			}
		}},
		{"check: amazon may in 2027", req{path: "/v1/check?party=amazon&product=frontier&channel=api&at=2027-01-01", token: r}, 200, "", func(t *testing.T, res *response, doc map[string]any) {
			if doc["allowed"] != true || doc["verdict"] != "allowed" || clauses(doc["basis"]) != "openai-amazon/frontier-exclusivity" ||
				clauses(doc["blocking"]) != "" || clauses(doc["decided_by"]) != clauses(doc["basis"]) || doc["ignore_basis"] != false {
				t.Errorf("check = %s", res.Body)
			}
		}},
		// Nothing keeps amazon from chat on the web, and nothing gives it
		// the right: no_basis, not allowed unless the basis is ignored.
		{"check: amazon has no basis for chat on the web", req{path: "/v1/check?party=amazon&product=chat&channel=web&at=2027-01-01", token: r}, 200, "", func(t *testing.T, res *response, doc map[string]any) {
			if doc["allowed"] != false || doc["verdict"] != "no_basis" || clauses(doc["basis"])+clauses(doc["blocking"])+clauses(doc["decided_by"]) != "" {
				t.Errorf("check = %s", res.Body)
			}
		}},
		{"check: ignoring the basis, it may", req{path: "/v1/check?party=amazon&product=chat&channel=web&at=2027-01-01&ignore_basis=true", token: r}, 200, "", func(t *testing.T, res *response, doc map[string]any) {
			if doc["allowed"] != true || doc["verdict"] != "no_basis" || doc["ignore_basis"] != true {
				t.Errorf("check = %s", res.Body)
			}
		}},
		{"check: ignoring the basis, a denial stands", req{path: "/v1/check?party=microsoft&product=frontier&channel=api&at=2027-01-01&ignore_basis=1", token: r}, 200, "", func(t *testing.T, res *response, doc map[string]any) {
			if doc["allowed"] != false || doc["verdict"] != "denied" || clauses(doc["blocking"]) != "openai-amazon/frontier-exclusivity" {
				t.Errorf("check = %s", res.Body)
			}
		}},
		{"check bad ignore_basis: 400", req{path: "/v1/check?party=amazon&product=frontier&channel=api&ignore_basis=yes", token: r}, 400, "ignore_basis", nil},
		{"check without party: 400", req{path: "/v1/check?product=frontier", token: r}, 400, "party", nil},
		{"check bad slug: 400", req{path: "/v1/check?party=amazon&product=frontier&channel=API", token: r}, 400, "channel", nil},
		// Without a product and a channel a check asks nothing (it would
		// always be allowed): refused, naming the parameter missing.
		{"check without product or channel: 400", req{path: "/v1/check?party=amazon", token: r}, 400, "product", nil},
		{"check without channel: 400", req{path: "/v1/check?party=amazon&product=frontier&at=2027-01-01", token: r}, 400, "channel", nil},
		{"check without product: 400", req{path: "/v1/check?party=amazon&channel=api", token: r}, 400, "product", nil},
		{"verify", req{path: "/v1/verify", token: r}, 200, "", func(t *testing.T, res *response, doc map[string]any) {
			if doc["ok"] != true || doc["amendments"] != 3.0 || doc["agreements"] != 2.0 {
				t.Errorf("verify = %s", res.Body)
			}
		}},
		{"verify takes no parameters", req{path: "/v1/verify?deep=1", token: r}, 400, "deep", nil},
		{"healthz needs no token", req{path: "/healthz"}, 200, "", func(t *testing.T, _ *response, doc map[string]any) {
			if doc["status"] != "ok" {
				t.Errorf("healthz = %v", doc)
			}
		}},
		{"queries need a token", req{path: "/v1/conflicts"}, 401, "", nil},
		{"unknown endpoint: 404", req{path: "/v1/nothing", token: r}, 404, "", nil},
		{"wrong method: 405", req{method: "POST", path: "/v1/conflicts", token: r, body: "{}"}, 405, "", func(t *testing.T, res *response, _ map[string]any) {
			if res.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow = %q", res.Header.Get("Allow"))
			}
		}},
		{"delete a state: 405", req{method: "DELETE", path: "/v1/agreements/microsoft-openai/state", token: r}, 405, "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := s.do(c.req)
			if res.Status != c.status {
				t.Fatalf("status %d, want %d: %.500s", res.Status, c.status, res.Body)
			}
			doc := res.JSON(t)
			if c.status >= 400 {
				_, field, msg := res.errorDoc(t)
				if field != c.field || msg == "" {
					t.Errorf("error field %q, want %q (message %q)", field, c.field, msg)
				}
			}
			if c.check != nil {
				c.check(t, res, doc)
			}
		})
	}
}

func TestStateETag(t *testing.T) {
	s := newServer(t, true)
	path := "/v1/agreements/microsoft-openai/state?at=2026-03-15"
	first := s.do(req{path: path})
	tag := first.Header.Get("ETag")
	if first.Status != 200 || tag != `"2"` {
		t.Fatalf("status %d ETag %q", first.Status, tag)
	}
	for _, c := range []struct {
		inm    string
		status int
	}{{tag, 304}, {`W/"2"`, 304}, {`"1", "2"`, 304}, {"*", 304}, {`"1"`, 200}, {"", 200}} {
		res := s.do(req{path: path, header: map[string]string{"If-None-Match": c.inm}})
		if res.Status != c.status || res.Header.Get("ETag") != tag {
			t.Errorf("If-None-Match %q: status %d ETag %q, want %d", c.inm, res.Status, res.Header.Get("ETag"), c.status)
		}
		if c.status == 304 && len(res.Body) != 0 {
			t.Errorf("304 with a body: %q", res.Body)
		}
	}
	// After an append the version moves on: the old tag no longer matches,
	// and as If-Match it is a conflict.
	if res := s.do(req{method: "POST", path: "/v1/agreements/microsoft-openai/amendments", body: `{"agreement":"microsoft-openai","effective":"2026-05-01","changes":[{"op":"declare","condition":"audit"}]}`, header: map[string]string{"If-Match": tag}}); res.Status != 201 {
		t.Fatalf("append with If-Match %s: %d %s", tag, res.Status, res.Body)
	}
	if res := s.do(req{path: path, header: map[string]string{"If-None-Match": tag}}); res.Status != 200 || res.Header.Get("ETag") != `"3"` {
		t.Errorf("after an append: %d %q", res.Status, res.Header.Get("ETag"))
	}
	if res := s.do(req{method: "POST", path: "/v1/agreements/microsoft-openai/amendments", body: `{"agreement":"microsoft-openai","effective":"2026-05-02","changes":[{"op":"declare","condition":"review"}]}`, header: map[string]string{"If-Match": tag}}); res.Status != 409 {
		t.Errorf("stale If-Match: %d %s", res.Status, res.Body)
	}
	// As known before the append, the version is the old one.
	if res := s.do(req{path: path + "&known_at=" + time.Now().Add(-24*time.Hour).UTC().Format(time.RFC3339)}); res.Status != 404 {
		t.Errorf("known at yesterday: %d", res.Status)
	}
}

// TestInternalErrors: a failure inside the ledger is a 500 that says only
// that something went wrong; the log has the details.
func TestInternalErrors(t *testing.T) {
	s := newServer(t, true)
	s.L.Close()
	res := s.do(req{method: "POST", path: "/v1/amendments", body: newAgreement})
	if res.Status != http.StatusInternalServerError {
		t.Fatalf("append to a closed ledger: %d %s", res.Status, res.Body)
	}
	kind, _, msg := res.errorDoc(t)
	if kind != "internal" || strings.Contains(msg, "closed") || !strings.Contains(msg, "server log") {
		t.Errorf("error %q %q leaks or is unclear", kind, msg)
	}
	if logs := s.logs.String(); !strings.Contains(logs, "ledger is closed") || !strings.Contains(logs, "level=ERROR") {
		t.Errorf("the log does not have the details:\n%s", logs)
	}
}

func TestMetricsAndLogs(t *testing.T) {
	s := newServer(t, true, withAuth)
	w := writeToken
	s.do(req{method: "POST", path: "/v1/amendments", body: newAgreement, token: w})
	s.do(req{method: "POST", path: "/v1/amendments", body: newAgreement, token: w})                                                  // duplicate
	s.do(req{method: "POST", path: "/v1/amendments", body: secondAmendment, token: w, header: map[string]string{"If-Match": `"5"`}}) // 409
	s.do(req{method: "POST", path: "/v1/amendments", body: `{"agreement":"x"}`, token: w})                                           // invalid
	s.do(req{method: "POST", path: "/v1/amendments", body: conflicting, token: w})                                                   // 2 conflicts
	s.do(req{method: "POST", path: "/v1/amendments?dry_run=true", body: secondAmendment, token: w})                                  // a dry run
	s.do(req{path: "/v1/agreements/microsoft-openai/state?at=2026-03-15", token: readToken})                                         // a query
	s.do(req{path: "/v1/conflicts?at=2026-03-15", token: readToken})                                                                 // another
	res := s.do(req{path: "/metrics", token: readToken})
	if res.Status != 200 {
		t.Fatalf("metrics: %d", res.Status)
	}
	body := string(res.Body)
	for _, want := range []string{
		"ledger_appended_amendments_total 2",
		"ledger_duplicate_amendments_total 1",
		"ledger_version_conflicts_total 1",
		"ledger_invalid_inputs_total 1",
		"ledger_conflicts_introduced_total 1",
		// Each append is timed under its outcome: refusals and dry runs
		// cost little and write nothing.
		`ledger_append_duration_seconds_count{outcome="appended"} 2`,
		`ledger_append_duration_seconds_count{outcome="duplicate"} 1`,
		`ledger_append_duration_seconds_count{outcome="conflict"} 1`,
		`ledger_append_duration_seconds_count{outcome="invalid"} 1`,
		`ledger_append_duration_seconds_count{outcome="dry_run"} 1`,
		"# HELP ledger_append_duration_seconds Time to answer an append request, by outcome:",
		"ledger_read_model_lag_messages 0",
		"ledger_read_model_applied_sequence 5",
		"ledger_read_model_loading 0",
		`ledger_query_duration_seconds_count{kind="state"} 1`,
		`ledger_query_duration_seconds_count{kind="conflicts"} 1`,
		`ledger_http_requests_total{code="201",route="append"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", body)
	}
	if res := s.do(req{path: "/metrics"}); res.Status != 401 {
		t.Errorf("metrics without a token: %d", res.Status)
	}
	// One log line per request, with method, path, status, duration, bytes.
	lines := 0
	for _, line := range strings.Split(s.logs.String(), "\n") {
		if !strings.Contains(line, `msg="http request"`) {
			continue
		}
		lines++
		for _, key := range []string{"method=", "path=", "status=", "duration=", "bytes="} {
			if !strings.Contains(line, key) {
				t.Errorf("log line lacks %s: %s", key, line)
			}
		}
	}
	if lines != 10 {
		t.Errorf("%d request log lines for 10 requests:\n%s", lines, s.logs.String())
	}
	if !strings.Contains(s.logs.String(), `method=POST path=/v1/amendments status=409`) {
		t.Errorf("no log line for the 409:\n%s", s.logs.String())
	}
}

func TestNoTokensWarns(t *testing.T) {
	s := newServer(t, false)
	if !strings.Contains(s.logs.String(), "authentication is off") {
		t.Errorf("no warning that authentication is off:\n%s", s.logs.String())
	}
	if s.H.AuthEnabled() {
		t.Error("AuthEnabled without tokens")
	}
	// Without tokens everything is allowed, appends included.
	if res := s.do(req{method: "POST", path: "/v1/amendments", body: newAgreement}); res.Status != 201 {
		t.Errorf("append without tokens: %d %s", res.Status, res.Body)
	}
}

func TestSchemaEndpoints(t *testing.T) {
	s := newServer(t, false, withAuth)
	res := s.do(req{path: "/openapi.json"})
	var doc map[string]any
	if err := json.Unmarshal(res.Body, &doc); err != nil || doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi.json: %v %v", err, doc["openapi"])
	}
	res = s.do(req{path: "/v1/schema/amendment.json"})
	if res.Status != 200 || res.Header.Get("Content-Type") != "application/schema+json" || !bytes.Contains(res.Body, []byte("2020-12")) {
		t.Fatalf("schema: %d %q", res.Status, res.Header.Get("Content-Type"))
	}
}

// TestHead: GET endpoints answer HEAD.
func TestHead(t *testing.T) {
	s := newServer(t, true)
	for _, p := range []string{"/healthz", "/v1/agreements", "/"} {
		hr, _ := http.NewRequest(http.MethodHead, s.URL+p, nil)
		res, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("HEAD %s: %d", p, res.StatusCode)
		}
	}
}

// TestHistoryFullRoundTrip: GET …/history?full=true answers the amendments
// as stored; posted to another store they are stored byte for byte as they
// were — the same ids, canonical bodies and hashes — and answer the same.
func TestHistoryFullRoundTrip(t *testing.T) {
	from := newServer(t, true)
	from.do(req{method: "POST", path: "/v1/amendments", body: newAgreement})
	from.do(req{method: "POST", path: "/v1/amendments", body: secondAmendment})
	to := newServer(t, false)
	for _, name := range []string{"microsoft-openai", "openai-amazon", "acme-globex"} {
		export := from.do(req{path: "/v1/agreements/" + name + "/history?full=true"})
		if export.Status != 200 || export.Header.Get("Content-Type") != "application/json" || !json.Valid(export.Body) {
			t.Fatalf("%s: export %d %q %s", name, export.Status, export.Header.Get("Content-Type"), export.Body)
		}
		if res := to.do(req{method: "POST", path: "/v1/amendments", body: string(export.Body)}); res.Status != 201 {
			t.Fatalf("%s: import %d %s", name, res.Status, res.Body)
		}
		again := to.do(req{path: "/v1/agreements/" + name + "/history?full=true"})
		if !bytes.Equal(again.Body, export.Body) {
			t.Errorf("%s: the re-imported amendments differ:\n%s\nwant\n%s", name, again.Body, export.Body)
		}
		// The hashes chain the stored bytes: equal hashes, equal bodies.
		var h1, h2 struct {
			Amendments []struct{ ID, Hash string }
		}
		_ = json.Unmarshal(from.do(req{path: "/v1/agreements/" + name + "/history"}).Body, &h1)
		_ = json.Unmarshal(to.do(req{path: "/v1/agreements/" + name + "/history"}).Body, &h2)
		if len(h1.Amendments) == 0 || fmt.Sprint(h1) != fmt.Sprint(h2) {
			t.Errorf("%s: ids and hashes %v, re-imported %v", name, h1, h2)
		}
		for _, at := range []string{"2026-03-15", "2027-01-01", "2031-06-01"} {
			s1 := from.do(req{path: "/v1/agreements/" + name + "/state?at=" + at})
			s2 := to.do(req{path: "/v1/agreements/" + name + "/state?at=" + at})
			if !bytes.Equal(s1.Body, s2.Body) {
				t.Errorf("%s at %s: state %s, re-imported %s", name, at, s1.Body, s2.Body)
			}
		}
	}
	if res := from.do(req{path: "/v1/agreements/acme-globex/history?full=perhaps"}); res.Status != 400 {
		t.Errorf("full=perhaps: %d", res.Status)
	}
}

// TestKnownAtAnAmendment: known_at may name an amendment, for when it was
// recorded, as the command's --known-at and the NATS service take it, and
// the answer names it beside known_at (known_at_amendment); an id the
// ledger does not know is a 404.
func TestKnownAtAnAmendment(t *testing.T) {
	s := newServer(t, true)
	h, err := s.L.History("microsoft-openai")
	if err != nil {
		t.Fatal(err)
	}
	first := h.Amendments[0]
	byTime := s.do(req{path: "/v1/agreements/microsoft-openai/state?at=2031-06-01&known_at=" + first.Recorded.UTC().Format(time.RFC3339Nano)})
	byID := s.do(req{path: "/v1/agreements/microsoft-openai/state?at=2031-06-01&known_at=" + first.ID.String()})
	doc := byID.JSON(t)
	echo := doc["known_at_amendment"]
	delete(doc, "known_at_amendment")
	if byID.Status != 200 || !reflect.DeepEqual(doc, byTime.JSON(t)) {
		t.Errorf("known_at=%s: %d\n%s\nwant the answer as known at %s:\n%s", first.ID, byID.Status, byID.Body, first.Recorded, byTime.Body)
	}
	if want := map[string]any{"id": first.ID.String(), "agreement": "microsoft-openai", "version": float64(1)}; !reflect.DeepEqual(echo, want) {
		t.Errorf("known_at_amendment %v, want %v", echo, want)
	}
	if _, ok := byTime.JSON(t)["known_at_amendment"]; ok {
		t.Errorf("known_at given as a time names an amendment: %s", byTime.Body)
	}
	if v := doc["version"]; v != float64(1) {
		t.Errorf("as known when version 1 was recorded, the version is %v", v)
	}
	// Every answer with a known_at names it.
	id := first.ID.String()
	for _, path := range []string{
		"/v1/agreements/microsoft-openai/timeline?known_at=" + id,
		"/v1/agreements/microsoft-openai/diff?from=2020-01-01&to=2027-01-01&known_at=" + id,
		"/v1/conflicts?at=2026-03-15&known_at=" + id,
		"/v1/avails?product=frontier&channel=api&from=2026-01-01&to=2027-01-01&known_at=" + id,
		"/v1/avails?holder=microsoft&from=2026-01-01&to=2027-01-01&known_at=" + id,
		"/v1/calendar?from=2026-01-01&to=2027-01-01&known_at=" + id,
		"/v1/check?party=amazon&product=frontier&channel=api&at=2027-01-01&known_at=" + id,
	} {
		res := s.do(req{path: path})
		if got := res.JSON(t)["known_at_amendment"]; res.Status != 200 || !reflect.DeepEqual(got, echo) {
			t.Errorf("%s: %d, known_at_amendment %v, want %v", path, res.Status, got, echo)
		}
	}
	if res := s.do(req{path: "/v1/conflicts?at=2026-03-15&known_at=" + ulid.Make().String()}); res.Status != 404 {
		t.Errorf("an unknown amendment id: %d %s", res.Status, res.Body)
	}
}

// clauses writes the clauses of a JSON list of decisions: "agreement/clause,…".
func clauses(list any) string {
	var out []string
	ds, _ := list.([]any)
	for _, d := range ds {
		m, _ := d.(map[string]any)
		out = append(out, fmt.Sprint(m["agreement"], "/", m["clause"]))
	}
	return strings.Join(out, ",")
}
