package httpapi_test

import (
	"encoding/json"
	"testing"
)

// TestMoneyOverHTTP: a dry run of a report that reaches a cap, a diff across reports, a cap
// reached and a tranche funded, and the state of a capped share, through
// the API: each document is checked against the OpenAPI document (by
// server.do), and says what moved.
func TestMoneyOverHTTP(t *testing.T) {
	s := newServer(t, false)
	history := `[
{"agreement": "acme-initech", "effective": "2026-01-01", "changes": [
  {"op": "open", "title": "Acme–Initech resale", "parties": ["acme", "initech"]},
  {"op": "add", "clause": {"id": "resale-share", "kind": "revenue_share", "payer": "acme", "payee": "initech", "rate": "0.30", "cap": {"amount": "10000000", "currency": "EUR"}}},
  {"op": "add", "clause": {"id": "initech-investment", "kind": "investment", "investor": "acme", "investee": "initech",
    "tranches": [{"id": "seed", "amount": {"amount": "2000000", "currency": "EUR"}}, {"id": "growth", "amount": {"amount": "8000000", "currency": "EUR"}, "condition": "growth"}]}}]},
{"agreement": "acme-initech", "effective": "2026-04-01", "changes": [
  {"op": "report", "clause": "resale-share", "period": {"start": "2026-01-01", "end": "2026-04-01"}, "base": {"amount": "12500000", "currency": "EUR"}},
  {"op": "fund", "clause": "initech-investment", "tranche": "seed"}]}]`
	if res := s.do(req{method: "POST", path: "/v1/amendments", body: history}); res.Status != 201 {
		t.Fatalf("append: %d %s", res.Status, res.Body)
	}
	over := `{"agreement": "acme-initech", "effective": "2026-07-01", "changes": [
  {"op": "report", "clause": "resale-share", "period": {"start": "2026-04-01", "end": "2026-07-01"}, "base": {"amount": "30000000", "currency": "EUR"}}]}`
	var dry struct {
		Effects []struct {
			Amendment string `json:"amendment"`
			Diff      struct {
				Accruals []struct {
					Reports []struct {
						Amendment *string `json:"amendment"`
					} `json:"reports"`
					CapReached *struct {
						Amendment *string `json:"amendment"`
						Op        string  `json:"op"`
					} `json:"cap_reached"`
				} `json:"accruals"`
			} `json:"diff"`
		} `json:"effects"`
	}
	res := s.do(req{method: "POST", path: "/v1/amendments?dry_run=true", body: over})
	if res.Status != 200 {
		t.Fatalf("dry run: %d %s", res.Status, res.Body)
	}
	if err := json.Unmarshal(res.Body, &dry); err != nil {
		t.Fatal(err)
	}
	if len(dry.Effects) != 1 || len(dry.Effects[0].Diff.Accruals) != 1 {
		t.Fatalf("dry run: %s", res.Body)
	}
	// the ledger gives the amendment its id before it tries it
	e := dry.Effects[0]
	if a := e.Diff.Accruals[0]; len(a.Reports) != 1 || a.Reports[0].Amendment == nil || *a.Reports[0].Amendment != e.Amendment ||
		a.CapReached == nil || a.CapReached.Op != "report" || a.CapReached.Amendment == nil || *a.CapReached.Amendment != e.Amendment {
		t.Errorf("dry run: the report and the cap it reaches, by amendment %s: %s", e.Amendment, res.Body)
	}
	if res := s.do(req{method: "POST", path: "/v1/amendments", body: over}); res.Status != 201 {
		t.Fatalf("append: %d %s", res.Status, res.Body)
	}

	var d struct {
		Accruals []struct {
			ID      string            `json:"id"`
			Reports []json.RawMessage `json:"reports"`
			Accrued struct {
				Change string `json:"change"`
			} `json:"accrued"`
			CapReached *struct{ Op string } `json:"cap_reached"`
		} `json:"accruals"`
		Funding []struct {
			ID       string `json:"id"`
			Tranches []struct {
				ID string `json:"id"`
			} `json:"tranches"`
			Funded struct {
				Change string `json:"change"`
			} `json:"funded"`
		} `json:"funding"`
	}
	res = s.do(req{path: "/v1/agreements/acme-initech/diff?from=2026-02-01&to=2026-08-01"})
	if res.Status != 200 {
		t.Fatalf("diff: %d %s", res.Status, res.Body)
	}
	if err := json.Unmarshal(res.Body, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Accruals) != 1 || len(d.Accruals[0].Reports) != 2 || d.Accruals[0].Accrued.Change != "10000000" || d.Accruals[0].CapReached == nil ||
		len(d.Funding) != 1 || len(d.Funding[0].Tranches) != 1 || d.Funding[0].Tranches[0].ID != "seed" || d.Funding[0].Funded.Change != "2000000" {
		t.Errorf("diff: %s", res.Body)
	}

	var st struct {
		Shares []struct {
			Uncapped struct{ Amount string } `json:"uncapped"`
			CappedAt struct{ Op, At string } `json:"capped_at"`
		} `json:"revenue_shares"`
	}
	res = s.do(req{path: "/v1/agreements/acme-initech/state?at=2026-08-01"})
	if res.Status != 200 {
		t.Fatalf("state: %d %s", res.Status, res.Body)
	}
	if err := json.Unmarshal(res.Body, &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Shares) != 1 || st.Shares[0].Uncapped.Amount != "12750000" || st.Shares[0].CappedAt.Op != "report" || st.Shares[0].CappedAt.At != "2026-07-01" {
		t.Errorf("state: %s", res.Body)
	}
}
