package httpapi_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/agreement-ledger/ledger/ledger/httpapi"
)

func TestParseTokens(t *testing.T) {
	for _, c := range []struct {
		in   string
		want httpapi.Tokens
		err  string
	}{
		{"tok1:write,tok2:read", httpapi.Tokens{"tok1": httpapi.Write, "tok2": httpapi.Read}, ""},
		{" tok1 : WRITE , ", httpapi.Tokens{"tok1": httpapi.Write}, ""},
		{"", httpapi.Tokens{}, ""},
		{"tok1", nil, "item 1: expected token:role"},
		{"tok1:admin", nil, `role "admin" is not read or write`},
		{":read", nil, "empty token"},
		{"a:read,a:write", nil, "given twice"},
	} {
		got, err := httpapi.ParseTokens(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseTokens(%q) error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseTokens(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

func TestLoadTokens(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tokens")
	if err := os.WriteFile(file, []byte("# deploy tokens\nalpha write\n\n  beta   read  \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(httpapi.TokensEnv, "gamma:read")
	got, err := httpapi.LoadTokens(file)
	want := httpapi.Tokens{"alpha": httpapi.Write, "beta": httpapi.Read, "gamma": httpapi.Read}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("LoadTokens = %v, %v; want %v", got, err, want)
	}
	// Only the environment.
	if got, err := httpapi.LoadTokens(""); err != nil || !reflect.DeepEqual(got, httpapi.Tokens{"gamma": httpapi.Read}) {
		t.Errorf("LoadTokens(\"\") = %v, %v", got, err)
	}
	// Neither: no tokens.
	t.Setenv(httpapi.TokensEnv, "")
	if got, err := httpapi.LoadTokens(""); err != nil || len(got) != 0 {
		t.Errorf("no tokens: %v, %v", got, err)
	}
	// Errors name the line, and a token may not change role.
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("alpha write\nbeta\n"), 0o600)
	if _, err := httpapi.LoadTokens(bad); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad file: %v", err)
	}
	t.Setenv(httpapi.TokensEnv, "alpha:read")
	if _, err := httpapi.LoadTokens(file); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("a token with two roles: %v", err)
	}
	if _, err := httpapi.LoadTokens(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file is not an error")
	}
}

func TestCheckBind(t *testing.T) {
	for _, c := range []struct {
		addr             string
		tokens, insecure bool
		ok               bool
	}{
		{"127.0.0.1:8080", false, false, true},
		{"127.0.0.2:8080", false, false, true},
		{"localhost:8080", false, false, true},
		{"[::1]:8080", false, false, true},
		{":8080", false, false, false},
		{"0.0.0.0:8080", false, false, false},
		{"[::]:8080", false, false, false},
		{"192.168.1.10:8080", false, false, false},
		{"ledger.example:8080", false, false, false},
		{":8080", true, false, true},
		{"0.0.0.0:8080", false, true, true},
		{"nonsense", true, true, false},
	} {
		err := httpapi.CheckBind(c.addr, c.tokens, c.insecure)
		if (err == nil) != c.ok {
			t.Errorf("CheckBind(%q, tokens=%v, insecure=%v) = %v, want ok=%v", c.addr, c.tokens, c.insecure, err, c.ok)
		}
		if err != nil && c.addr != "nonsense" && !strings.Contains(err.Error(), "--insecure") {
			t.Errorf("the refusal does not say how to proceed: %v", err)
		}
	}
}

// TestAuthRoles: each role against each kind of endpoint.
func TestAuthRoles(t *testing.T) {
	s := newServer(t, true, withAuth)
	for _, c := range []struct {
		path, method, token string
		status              int
	}{
		{"/v1/conflicts", "GET", readToken, 200},
		{"/v1/conflicts", "GET", writeToken, 200},
		{"/v1/conflicts", "GET", "", 401},
		{"/v1/conflicts", "GET", "nope", 401},
		{"/v1/agreements/microsoft-openai/state", "GET", readToken, 200},
		{"/ui/agreements", "GET", readToken, 200},
		{"/ui/agreements", "GET", "", 401},
		{"/metrics", "GET", readToken, 200},
		{"/healthz", "GET", "", 200},
		{"/openapi.json", "GET", "", 200},
		{"/", "GET", "", 200},
		{"/v1/amendments", "POST", readToken, 403},
		{"/v1/amendments", "POST", "", 401},
		{"/v1/agreements/acme-globex/amendments", "POST", readToken, 403},
		{"/v1/agreements/acme-globex/amendments", "POST", writeToken, 201},
	} {
		r := req{method: c.method, path: c.path, token: c.token}
		if c.method == "POST" {
			r.body = newAgreement
		}
		res := s.do(r)
		if res.Status != c.status {
			t.Errorf("%s %s with %q: %d, want %d: %s", c.method, c.path, c.token, res.Status, c.status, res.Body)
			continue
		}
		if c.status == 401 && res.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s %s: 401 without WWW-Authenticate", c.method, c.path)
		}
	}
	// A lower-case scheme is fine; a token in another scheme is not.
	if res := s.do(req{path: "/v1/conflicts", header: map[string]string{"Authorization": "bearer " + readToken}}); res.Status != 200 {
		t.Errorf("lower-case bearer: %d", res.Status)
	}
	if res := s.do(req{path: "/v1/conflicts", header: map[string]string{"Authorization": "Basic " + readToken}}); res.Status != 401 {
		t.Errorf("basic: %d", res.Status)
	}
}

// TestAuthRefusalsWriteNothing: every append a token may not make is
// refused — 401 without a valid bearer token, 403 with a read token —
// with a JSON error document, and writes nothing; reads need a token too.
// The same append with the write token is recorded, so the check of the
// stream can see a write.
func TestAuthRefusalsWriteNothing(t *testing.T) {
	s := newServer(t, false, withAuth)
	before := s.streamState()
	for _, c := range []struct {
		name, path, token string
		header            map[string]string
		status            int
		kind, says        string
	}{
		{"no token", "/v1/amendments", "", nil, 401, "unauthorized", "bearer token is required"},
		{"unknown token", "/v1/amendments", "w-token-01234567890", nil, 401, "unauthorized", "not valid"},
		{"prefix of the write token", "/v1/amendments", writeToken[:len(writeToken)-1], nil, 401, "unauthorized", "not valid"},
		{"write token in another scheme", "/v1/amendments", "", map[string]string{"Authorization": "Basic " + writeToken}, 401, "unauthorized", "bearer token is required"},
		{"write token without a scheme", "/v1/amendments", "", map[string]string{"Authorization": writeToken}, 401, "unauthorized", "bearer token is required"},
		{"read token", "/v1/amendments", readToken, nil, 403, "forbidden", "a read token may not do this; it needs a write token"},
		{"read token, dry run", "/v1/amendments?dry_run=true", readToken, nil, 403, "forbidden", "needs a write token"},
		{"read token, one agreement", "/v1/agreements/acme-globex/amendments", readToken, nil, 403, "forbidden", "needs a write token"},
		{"read token with If-Match", "/v1/agreements/acme-globex/amendments", readToken, map[string]string{"If-Match": `"0"`}, 403, "forbidden", "needs a write token"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := s.do(req{method: "POST", path: c.path, body: newAgreement, token: c.token, header: c.header})
			if res.Status != c.status {
				t.Fatalf("status %d, want %d: %s", res.Status, c.status, res.Body)
			}
			kind, _, message := res.errorDoc(t)
			if kind != c.kind || !strings.Contains(message, c.says) {
				t.Errorf("error document: kind %q, message %q; want %q saying %q", kind, message, c.kind, c.says)
			}
			if c.status == 401 && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without a Bearer challenge: %q", res.Header.Get("WWW-Authenticate"))
			}
			if strings.Contains(string(res.Body), writeToken) || strings.Contains(string(res.Body), readToken) {
				t.Errorf("the response repeats a token: %s", res.Body)
			}
		})
	}
	if after := s.streamState(); after.LastSeq != before.LastSeq || after.Msgs != before.Msgs {
		t.Fatalf("a refused append wrote to the stream: before %+v, after %+v", before, after)
	}
	if n := s.historyLen("acme-globex"); n != 0 {
		t.Fatalf("a refused append is in the history: %d amendments", n)
	}

	// Reads need a token; the event stream and the page's data too.
	for _, path := range []string{"/v1/verify", "/v1/agreements", "/v1/events", "/ui/agreements"} {
		if res := s.doRaw(req{path: path}); res.Status != 401 {
			t.Errorf("GET %s without a token: %d", path, res.Status)
		}
	}
	if res := s.do(req{path: "/v1/verify", token: readToken}); res.Status != 200 {
		t.Errorf("GET /v1/verify with the read token: %d %s", res.Status, res.Body)
	}

	// The write token appends; the stream moves.
	if res := s.do(req{method: "POST", path: "/v1/amendments", body: newAgreement, token: writeToken}); res.Status != 201 {
		t.Fatalf("the write token: %d %s", res.Status, res.Body)
	}
	if after := s.streamState(); after.Msgs != before.Msgs+1 || s.historyLen("acme-globex") != 1 {
		t.Fatalf("the write token's append: stream %+v, history %d", after, s.historyLen("acme-globex"))
	}
}
