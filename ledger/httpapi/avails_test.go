package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/seed"
	"github.com/agreement-ledger/ledger/projections"
)

// TestAvailsAndCalendar asks the API when Amazon may serve Frontier by API,
// what Microsoft held exclusively, and what falls due, as JSON and as an
// iCalendar file; the same answers the projections give; and bad windows
// and parameters are 400s naming the parameter.
func TestAvailsAndCalendar(t *testing.T) {
	s := newServer(t, true, withAuth)
	r := readToken

	res := s.do(req{path: "/v1/avails?product=frontier&channel=api&party=amazon&from=2019-01-01&to=2031-01-01", token: r})
	if res.Status != 200 {
		t.Fatalf("avails: %d %s", res.Status, res.Body)
	}
	var av struct {
		Parties []struct {
			Party     string
			Intervals []struct {
				From, Until, Verdict string
				Allowed              bool
			}
		}
	}
	if err := json.Unmarshal(res.Body, &av); err != nil {
		t.Fatal(err)
	}
	// no basis before the partnership, denied by Azure's exclusivity (its
	// own coming in force from the Amazon deal), allowed from the renegotiation
	if iv := av.Parties[0].Intervals; len(av.Parties) != 1 || len(iv) != 4 || iv[0].Verdict != "no_basis" || iv[0].Allowed ||
		iv[2].From != seed.AmazonDeal || iv[2].Verdict != "denied" || iv[3].From != seed.Renegotiation || !iv[3].Allowed || iv[3].Verdict != "allowed" {
		t.Errorf("amazon's avails: %s", res.Body)
	}
	// Ignoring the basis, the interval without one is allowed.
	freeRes := s.do(req{path: "/v1/avails?product=frontier&channel=api&party=amazon&from=2019-01-01&to=2031-01-01&ignore_basis=true", token: r})
	var free struct {
		IgnoreBasis bool `json:"ignore_basis"`
		Parties     []struct {
			Intervals []struct {
				Verdict string
				Allowed bool
			}
		}
	}
	if err := json.Unmarshal(freeRes.Body, &free); err != nil || freeRes.Status != 200 || !free.IgnoreBasis || len(free.Parties) != 1 ||
		free.Parties[0].Intervals[0].Verdict != "no_basis" || !free.Parties[0].Intervals[0].Allowed || free.Parties[0].Intervals[1].Allowed {
		t.Errorf("amazon's avails ignoring the basis: %d %.400s", freeRes.Status, freeRes.Body)
	}
	// The document is the projection's, as -o json prints it.
	ix := projections.NewIndex()
	for i, a := range seed.Amendments() {
		if err := ix.Add(&events.Record{Amendment: a, Seq: uint64(i + 1), Recorded: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	want, err := ix.Avails(projections.AvailsQuery{Scope: &events.Scope{Products: []string{"frontier"}, Channels: []string{"api"}}, Party: "amazon",
		From: time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(want); strings.TrimSpace(string(res.Body)) != string(b) {
		t.Errorf("avails document:\n got  %s\n want %s", res.Body, b)
	}

	res = s.do(req{path: "/v1/avails?holder=microsoft&from=2025-01-01&to=2028-01-01", token: r})
	if res.Status != 200 || !strings.Contains(string(res.Body), `"holder":"microsoft"`) || !strings.Contains(string(res.Body), "azure-api-exclusivity") {
		t.Errorf("holdings: %d %s", res.Status, res.Body)
	}

	res = s.do(req{path: "/v1/calendar?from=2026-01-01&to=2034-01-01", token: r})
	doc := res.JSON(t)
	if res.Status != 200 || len(doc["entries"].([]any)) != 10 || len(doc["standing"].([]any)) != 4 {
		t.Errorf("calendar: %d %.500s", res.Status, res.Body)
	}
	for _, c := range []req{
		{path: "/v1/calendar?from=2026-01-01&to=2034-01-01", token: r, header: map[string]string{"Accept": "text/calendar"}},
		{path: "/v1/calendar.ics?from=2026-01-01&to=2034-01-01", token: r},
	} {
		res := s.do(c)
		body := string(res.Body)
		if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/calendar") || strings.Count(body, "BEGIN:VEVENT") != 10 ||
			!strings.HasPrefix(body, "BEGIN:VCALENDAR\r\n") || !strings.Contains(res.Header.Get("Content-Disposition"), "deal-calendar.ics") {
			t.Errorf("%s (Accept %q): %d %q\n%.300s", c.path, c.header["Accept"], res.Status, res.Header.Get("Content-Type"), body)
		}
	}
	res = s.do(req{path: "/v1/calendar?agreement=openai-amazon&from=2026-01-01&to=2034-01-01", token: r})
	if doc := res.JSON(t); res.Status != 200 || len(doc["entries"].([]any)) != 3 || doc["agreement"] != "openai-amazon" {
		t.Errorf("openai-amazon's calendar: %d %.300s", res.Status, res.Body)
	}

	for _, c := range []struct {
		path, field string
		status      int
	}{
		{"/v1/avails?product=frontier&channel=api&from=2027-01-01&to=2027-01-01", "to", 400},
		{"/v1/avails?product=frontier&channel=api&from=2027-01-01&to=2026-01-01", "to", 400},
		{"/v1/avails?product=Frontier&channel=api&from=2026-01-01&to=2027-01-01", "product", 400},
		{"/v1/avails?product=frontier&from=2026-01-01&to=2027-01-01", "channel", 400},
		{"/v1/avails?product=frontier&channel=api&to=2027-01-01", "from", 400},
		{"/v1/avails?holder=amazon&party=amazon&from=2026-01-01&to=2027-01-01", "holder", 400},
		{"/v1/avails?holder=amazon&ignore_basis=true&from=2026-01-01&to=2027-01-01", "ignore_basis", 400},
		{"/v1/avails?product=frontier&channel=api&ignore_basis=maybe&from=2026-01-01&to=2027-01-01", "ignore_basis", 400},
		{"/v1/avails?product=frontier&channel=api&from=2026-01-01&to=2027-01-01&at=2026-01-01", "at", 400},
		{"/v1/calendar?from=2027-01-01&to=2026-01-01", "to", 400},
		{"/v1/calendar.ics?from=2027-01-01", "to", 400},
		{"/v1/calendar?agreement=Nope&from=2026-01-01&to=2027-01-01", "agreement", 400},
		{"/v1/calendar?agreement=nope&from=2026-01-01&to=2027-01-01", "", 404},
	} {
		res := s.do(req{path: c.path, token: r})
		if res.Status != c.status {
			t.Errorf("%s: %d, want %d: %s", c.path, res.Status, c.status, res.Body)
			continue
		}
		if _, field, _ := res.errorDoc(t); field != c.field {
			t.Errorf("%s: error names %q, want %q", c.path, field, c.field)
		}
	}
	if res := s.do(req{path: "/v1/avails?product=frontier&channel=api&from=2026-01-01&to=2027-01-01"}); res.Status != 401 {
		t.Errorf("avails without a token: %d", res.Status)
	}
}

// TestAvailsFragment: the page's avails view of Frontier by API is
// well-formed, has a row of bands per party with the deciding clauses in
// each band's details, and the calendar of the window beside it.
func TestAvailsFragment(t *testing.T) {
	s := newServer(t, true)
	res := s.do(req{path: "/ui/avails?product=frontier&channel=api&from=2021-03-15&to=2031-03-15&at=2026-03-15&width=900"})
	body := string(res.Body)
	if res.Status != 200 {
		t.Fatalf("%d %s", res.Status, body)
	}
	wellFormed(t, "the avails view", body)
	for _, want := range []string{
		`data-view="avails"`, `data-product="frontier"`,
		`class="band denied" data-party="amazon" data-from="2021-03-15" data-until="2026-02-27"`,
		`class="band denied" data-party="amazon" data-from="2026-02-27" data-until="2026-04-27"`,
		`class="band allowed" data-party="amazon" data-from="2026-04-27" data-until="2031-03-15"`,
		`<template id="av-0-0">`, "Kept out by", "azure-api-exclusivity", `class="as-of"`,
		"Nothing in force gives amazon the right", "What gives amazon the right", `<span class="key no_basis">`,
		`data-clause="microsoft-openai/azure-api-exclusivity"`, "the exclusivity is ended by an amendment", "Standing risks",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the avails view lacks %q", want)
		}
	}
	if res := s.do(req{path: "/ui/avails?product=frontier&channel=api&from=2031-01-01&to=2021-01-01"}); res.Status != 400 {
		t.Errorf("an empty window: %d", res.Status)
	}
}
