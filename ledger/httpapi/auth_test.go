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
