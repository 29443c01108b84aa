package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agreement-ledger/ledger/events/seed"
)

type availsDoc struct {
	Scope   map[string][]string `json:"scope"`
	From    string              `json:"from"`
	To      string              `json:"to"`
	KnownAt *string             `json:"known_at"`
	Parties []struct {
		Party     string `json:"party"`
		Intervals []struct {
			From      string     `json:"from"`
			Until     string     `json:"until"`
			Verdict   string     `json:"verdict"`
			Allowed   bool       `json:"allowed"`
			Basis     []partyDoc `json:"basis"`
			DecidedBy []partyDoc `json:"decided_by"`
		} `json:"intervals"`
	} `json:"parties"`
}

type calendarDoc struct {
	Entries []struct {
		At, Agreement, Clause, Kind, UID string
	} `json:"entries"`
	Standing []struct {
		At, Agreement, Clause, Kind string
	} `json:"standing"`
}

// TestAvailsAndCalendar asks the command, on the seed history, when Amazon
// may serve Frontier by API, what Microsoft held exclusively, and what falls
// due; writes the calendar file; and refuses bad windows and flags with
// exit 2, naming the flag, before it opens the store.
func TestAvailsAndCalendar(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	before, reneg := splitSeed(t)
	s.run(0, "append", s.file("before.jsonl", before))
	s.run(0, "append", s.file("renegotiation.json", reneg))
	amazonDeal := "01KJFFGMG0KX5V8WQ8KXDH917J" // recorded before the renegotiation

	var av availsDoc
	r := s.json(&av, 0, "avails", "--product", "frontier", "--channel", "api", "--party", "amazon", "--from", "2019-01-01", "--to", "2031-01-01")
	keys(t, r.stdout, "scope", "party", "from", "to", "known_at", "ignore_basis", "parties")
	if len(av.Parties) != 1 || len(av.Parties[0].Intervals) != 4 {
		t.Fatalf("amazon's avails: %s", r)
	}
	iv := av.Parties[0].Intervals
	if iv[0].Until != "2019-07-22" || iv[0].Allowed || iv[0].Verdict != "no_basis" || len(iv[0].DecidedBy) != 0 {
		t.Errorf("before the partnership nothing gives amazon the right: %+v", iv[0])
	}
	for _, i := range []int{1, 2} {
		if iv[i].Allowed || iv[i].Verdict != "denied" || len(iv[i].DecidedBy) != 1 || iv[i].DecidedBy[0].Clause != "azure-api-exclusivity" {
			t.Errorf("amazon is kept out until the renegotiation by Azure's exclusivity: %+v", iv[i])
		}
	}
	if iv[1].From != "2019-07-22" || iv[2].From != seed.AmazonDeal || iv[2].Until != seed.Renegotiation || len(iv[2].Basis) != 1 || iv[2].Basis[0].Clause != "frontier-exclusivity" {
		t.Errorf("amazon holds its own exclusivity from the Amazon deal: %+v", iv[2])
	}
	if iv[3].From != seed.Renegotiation || !iv[3].Allowed || iv[3].Verdict != "allowed" || iv[3].Until != "2031-01-01" {
		t.Errorf("amazon may serve Frontier by API from the renegotiation: %+v", iv[3])
	}
	// As known when the Amazon deal was recorded, before the renegotiation:
	// kept out throughout.
	r = s.json(&av, 0, "avails", "--product", "frontier", "--channel", "api", "--party", "amazon", "--from", "2019-01-01", "--to", "2031-01-01", "--known-at", amazonDeal)
	if iv := av.Parties[0].Intervals; len(iv) != 3 || iv[2].Until != "2031-01-01" || iv[2].Allowed {
		t.Errorf("amazon as known before the renegotiation: %s", r.stdout)
	}
	// Ignoring the basis, the years before the partnership are allowed.
	r = s.json(&av, 0, "avails", "--product", "frontier", "--channel", "api", "--party", "amazon", "--from", "2019-01-01", "--to", "2031-01-01", "--ignore-basis")
	if iv := av.Parties[0].Intervals; len(iv) != 4 || !iv[0].Allowed || iv[0].Verdict != "no_basis" || iv[1].Allowed {
		t.Errorf("amazon ignoring the basis: %s", r.stdout)
	}
	r = s.run(0, "avails", "--product", "frontier", "--channel", "api", "--from", "2025-01-01", "--to", "2028-01-01")
	for _, want := range []string{"amazon", "microsoft", "openai", "DENIED", "kept out by openai-amazon/frontier-exclusivity (exclusive to amazon)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("avails text lacks %q:\n%s", want, r.stdout)
		}
	}
	r = s.run(0, "avails", "--holder", "microsoft", "--from", "2025-01-01", "--to", "2028-01-01")
	if !strings.Contains(r.stdout, "azure-api-exclusivity") || !strings.Contains(r.stdout, "2026-04-27  2028-01-01  -") {
		t.Errorf("what microsoft holds:\n%s", r.stdout)
	}

	var cal calendarDoc
	ics := filepath.Join(s.dir, "deals.ics")
	r = s.json(&cal, 0, "calendar", "--from", "2026-01-01", "--to", "2034-01-01", "--ics", ics)
	keys(t, r.stdout, "agreement", "from", "to", "known_at", "entries", "standing")
	if len(cal.Entries) != 10 || cal.Entries[9].Clause != "ip-license" || cal.Entries[9].At != "2033-01-01" || len(cal.Standing) != 4 {
		t.Errorf("the seed's calendar: %s", r.stdout)
	}
	file, err := os.ReadFile(ics)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(file, []byte("BEGIN:VEVENT")) != 10 || !bytes.Contains(file, []byte("UID:"+cal.Entries[9].UID+"\r\n")) {
		t.Errorf("the calendar file:\n%s", file)
	}
	r = s.run(0, "calendar", "--agreement", "openai-amazon", "--from", "2026-01-01", "--to", "2034-01-01")
	if !strings.Contains(r.stdout, "3 dated entries, 1 standing risk") || strings.Contains(r.stdout, "microsoft-openai") {
		t.Errorf("openai-amazon's calendar:\n%s", r.stdout)
	}
	r = s.run(1, "calendar", "--agreement", "nobody", "--from", "2026-01-01", "--to", "2034-01-01", "-o", "json")
	if doc := parseError(t, r); doc.Error.Kind != "not_found" {
		t.Errorf("calendar of an agreement not recorded: %s", r)
	}

	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"avails", "--product", "frontier", "--channel", "api", "--from", "2027-01-01", "--to", "2027-01-01"}, "--to"},
		{[]string{"avails", "--product", "frontier", "--channel", "api", "--from", "2027-01-01", "--to", "2026-01-01"}, "--to"},
		{[]string{"avails", "--product", "Frontier", "--channel", "api", "--from", "2026-01-01", "--to", "2027-01-01"}, "--product"},
		{[]string{"avails", "--product", "frontier", "--from", "2026-01-01", "--to", "2027-01-01"}, "--channel"},
		{[]string{"avails", "--product", "frontier", "--channel", "api", "--to", "2027-01-01"}, "--from"},
		{[]string{"avails", "--product", "frontier", "--channel", "api", "--from", "2026-13-01", "--to", "2027-01-01"}, "--from"},
		{[]string{"avails", "--holder", "amazon", "--party", "amazon", "--from", "2026-01-01", "--to", "2027-01-01"}, "--holder"},
		{[]string{"avails", "--holder", "amazon", "--ignore-basis", "--from", "2026-01-01", "--to", "2027-01-01"}, "--ignore-basis"},
		{[]string{"avails", "--holder", "Amazon!", "--from", "2026-01-01", "--to", "2027-01-01"}, "--holder"},
		{[]string{"calendar", "--from", "2027-01-01", "--to", "2026-01-01", "--ics", filepath.Join(s.dir, "never.ics")}, "--to"},
		{[]string{"calendar", "--from", "2026-01-01"}, "--to"},
		{[]string{"calendar", "--agreement", "Bad Name", "--from", "2026-01-01", "--to", "2027-01-01"}, "--agreement"},
	} {
		r := s.run(2, append([]string{"-o", "json"}, c.args...)...)
		if doc := parseError(t, r); doc.Error.Kind != "invalid" || !strings.Contains(doc.Error.Message, c.flag) {
			t.Errorf("ledger %s: want an invalid-input error naming %s, got %+v", strings.Join(c.args, " "), c.flag, doc.Error)
		}
		if r.stdout != "" {
			t.Errorf("ledger %s wrote %q", strings.Join(c.args, " "), r.stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(s.dir, "never.ics")); err == nil {
		t.Error("a refused calendar wrote its file")
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(s.run(0, "calendar", "--from", "2030-01-01", "--to", "2030-02-01", "-o", "json").stdout), &raw); err != nil || len(raw["entries"].([]any)) != 0 {
		t.Errorf("an empty month: %v %v", raw, err)
	}
}
