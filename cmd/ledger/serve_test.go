package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/agreement-ledger/ledger/events/seed"
)

// TestDemo runs the demo as a newcomer does and looks for its answers.
func TestDemo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := ledgerIn(t, dir, "", "demo")
	if r.code != 0 {
		t.Fatalf("demo: %s", r)
	}
	for _, want := range []string{
		"exclusive, openai → microsoft",     // the licence before
		"non-exclusive, openai → microsoft", // and after
		"azure-api-exclusivity (to microsoft) vs frontier-exclusivity (to amazon)",
		seed.AmazonDeal + "* until " + seed.Renegotiation + "*", // the window, dates marked illustrative
		"openai-revenue-share",
		"undisclosed (USD)",
		"it would end: ip-license, azure-api-exclusivity",
		"it would end: nothing",
		"would no longer apply",
		"8. When may amazon serve frontier on the api channel?",
		"from " + seed.Renegotiation + "*               yes: amazon holds frontier-exclusivity",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the demo does not say %q:\n%s", want, r.stdout)
		}
	}
	if n := strings.Count(r.stdout, "\n"); n > 80 {
		t.Errorf("the demo takes %d lines; it should fit in two screens", n)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the demo left files in the working directory: %v", entries)
	}

	// With --data it keeps the store, and -o json gives the answers to programs.
	data := filepath.Join(dir, "data")
	r = ledgerIn(t, dir, "", "--data", data, "demo", "-o", "json")
	var story struct {
		Licence   string `json:"licence"`
		Conflicts struct {
			Conflicts []conflictDoc `json:"conflicts"`
		} `json:"conflicts"`
		Serve []struct {
			Party  string   `json:"party"`
			At     string   `json:"at"`
			Rights checkDoc `json:"rights"`
		} `json:"serve"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &story); err != nil || r.code != 0 {
		t.Fatalf("demo -o json: %v\n%s", err, r)
	}
	var allowed []string
	for _, c := range story.Serve {
		if c.Rights.Allowed {
			allowed = append(allowed, c.Party+"@"+c.At)
		}
	}
	if story.Licence != "ip-license" || !slices.Equal(allowed, []string{"amazon@2027-06-30"}) {
		t.Errorf("demo -o json: licence %q, allowed %v", story.Licence, allowed)
	}
	var h historyDoc
	s := &store{t: t, dir: dir, args: []string{"--data", data}}
	s.json(&h, 0, "history", "microsoft-openai")
	if len(h.Amendments) != 2 {
		t.Errorf("the demo's store has %d amendments of microsoft-openai", len(h.Amendments))
	}
	// Run again on the same store: everything is already recorded.
	if r := ledgerIn(t, dir, "", "--data", data, "demo"); r.code != 0 {
		t.Errorf("demo again: %s", r)
	}
	s.json(&h, 0, "history", "microsoft-openai")
	if len(h.Amendments) != 2 {
		t.Errorf("a second demo recorded again: %d amendments", len(h.Amendments))
	}
}

// TestTwoProcesses shares one store between a serving process and others:
// one finds it through the data directory, one through its NATS URL.
func TestTwoProcesses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	srv := serve(t, dir, "--data", data, "--listen", addr)
	if !strings.Contains(srv.stdout.String(), "nats://"+addr) {
		t.Errorf("serve does not say where it listens:\n%s", srv.stdout)
	}

	var items []json.RawMessage
	if err := json.Unmarshal(seed.JSON, &items); err != nil {
		t.Fatal(err)
	}
	byDir := &store{t: t, dir: dir, args: []string{"--data", data}}
	byURL := &store{t: t, dir: dir, args: []string{"--nats", "nats://" + addr}}

	// One writer through the data directory, one through the URL.
	var res appendDoc
	byDir.json(&res, 0, "append", byDir.file("a.json", items[0]))
	byURL.json(&res, 0, "append", byURL.file("b.json", items[1]))
	// Each sees the other's write.
	var h historyDoc
	byURL.json(&h, 0, "history", "microsoft-openai")
	if len(h.Amendments) != 1 {
		t.Errorf("through the URL: %d amendments of microsoft-openai", len(h.Amendments))
	}
	byDir.json(&h, 0, "history", "openai-amazon")
	if len(h.Amendments) != 1 {
		t.Errorf("through the data directory: %d amendments of openai-amazon", len(h.Amendments))
	}
	var cr conflictsDoc
	byDir.json(&cr, 0, "conflicts", "--at", "2026-03-15")
	if hasConflict(cr.Conflicts, "azure-api-exclusivity", "frontier-exclusivity") == nil {
		t.Errorf("the conflict between the two writers' amendments is not seen: %+v", cr.Conflicts)
	}
	// LEDGER_NATS_URL stands for --nats.
	r := ledgerEnv(t, dir, []string{envNATS + "=nats://" + addr}, "", "history", "openai-amazon", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"version": 1`) {
		t.Errorf("with %s: %s", envNATS, r)
	}
	// A concurrency check across processes.
	byURL.run(4, "append", "--expect-version", "0", byURL.file("c.json", items[2]))
	byDir.json(&res, 0, "append", "--expect-version", "1", byURL.file("c.json", items[2]))
	var st stateDoc
	byURL.json(&st, 0, "state", "microsoft-openai", "--at", "2027-06-30")
	if len(st.Licenses) != 1 || *st.Licenses[0].Exclusive {
		t.Errorf("the renegotiation written through the directory is not seen through the URL: %+v", st.Licenses)
	}

	if code := srv.stop(); code != 0 {
		t.Errorf("serve exited %d on SIGTERM:\n%s\n%s", code, srv.stdout, &srv.stderr)
	}
	if _, err := os.Stat(filepath.Join(data, "ledger.url")); !os.IsNotExist(err) {
		t.Errorf("serve left ledger.url behind: %v", err)
	}
	// The store is whole after the server stopped.
	byDir.json(&h, 0, "history", "microsoft-openai")
	if len(h.Amendments) != 2 {
		t.Errorf("after the server stopped: %d amendments", len(h.Amendments))
	}
	byDir.run(0, "verify")
}

// TestEnvironment: LEDGER_DATA stands for --data, and the flag wins.
func TestEnvironment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	byEnv := filepath.Join(dir, "by-env")
	r := ledgerEnv(t, dir, []string{envData + "=" + byEnv}, string(seed.JSON), "append")
	if r.code != 0 {
		t.Fatalf("append with %s: %s", envData, r)
	}
	if r := ledgerIn(t, dir, "", "--data", byEnv, "history", "openai-amazon"); r.code != 0 {
		t.Errorf("the store %s named by %s was not used: %s", byEnv, envData, r)
	}
	other := filepath.Join(dir, "by-flag")
	if r := ledgerEnv(t, dir, []string{envData + "=" + byEnv}, "", "--data", other, "history", "openai-amazon"); r.code != 1 {
		t.Errorf("--data should win over %s: %s", envData, r)
	}
	for _, args := range [][]string{{"version"}, {"--version"}, {"completion", "bash"}, {"completion", "zsh"}} {
		if r := ledgerIn(t, dir, "", args...); r.code != 0 || !strings.Contains(r.stdout, "ledger") {
			t.Errorf("ledger %s: %s", strings.Join(args, " "), r)
		}
	}
}

// TestServeHTTP runs serve with the HTTP API: it answers on --http, takes
// appends from the API that the command line then sees, and refuses to
// listen beyond loopback without tokens.
func TestServeHTTP(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	srv := serve(t, dir, "--data", data, "--listen", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--http", addr)
	if !strings.Contains(srv.stdout.String(), "http://"+addr) || !strings.Contains(srv.stdout.String(), "no API tokens") {
		t.Errorf("serve does not say where the API is and that it has no tokens:\n%s", srv.stdout)
	}
	resp, err := http.Post("http://"+addr+"/v1/amendments", "application/json", strings.NewReader(string(seed.JSON)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /v1/amendments: %s", resp.Status)
	}
	var h historyDoc
	(&store{t: t, dir: dir, args: []string{"--data", data}}).json(&h, 0, "history", "microsoft-openai")
	if len(h.Amendments) != 2 {
		t.Errorf("the command line sees %d amendments appended over HTTP, want 2", len(h.Amendments))
	}
	page, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	if page.StatusCode != http.StatusOK || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /: %s %s", page.Status, page.Header.Get("Content-Type"))
	}
	if code := srv.stop(); code != 0 {
		t.Errorf("serve exited %d on SIGTERM:\n%s", code, &srv.stderr)
	}

	r := ledgerIn(t, dir, "", "--data", filepath.Join(dir, "other"), "serve", "--http", "0.0.0.0:0")
	if r.code != 2 || !strings.Contains(r.stderr, "without API tokens") {
		t.Errorf("serve --http 0.0.0.0 without tokens: %s", r)
	}
}
