package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/ledgertest"
)

// TestOutOfSpaceOverHTTP: an append to a store with no room answers 507
// (kind no_space) saying so, nothing written; the server keeps answering
// queries, and /healthz says degraded.
func TestOutOfSpaceOverHTTP(t *testing.T) {
	l := ledgertest.New(t, ledger.Config{MaxStore: 128 << 10, SnapshotEvery: -1})
	s := newServerOn(t, l)
	body := func(i int) string {
		return fmt.Sprintf(`{"agreement":"deal","effective":"2026-02-01","changes":[{"op":"add","clause":{"id":"o-%d","kind":"obligation","obligor":"acme","beneficiary":"globex","what":"deliver lot %d of the goods"}}]}`, i, i)
	}
	res := s.do(req{method: "POST", path: "/v1/amendments", body: `{"agreement":"deal","effective":"2026-01-01","changes":[{"op":"open","title":"Deal","parties":["acme","globex"]}]}`})
	if res.Status != 201 {
		t.Fatalf("open: %d %s", res.Status, res.Body)
	}
	for i := 1; i < 2000 && res.Status == 201; i++ {
		res = s.do(req{method: "POST", path: "/v1/agreements/deal/amendments", body: body(i)})
	}
	kind, _, msg := res.errorDoc(t)
	if res.Status != 507 || kind != "no_space" || !strings.Contains(msg, "is out of space (JetStream: insufficient resources); nothing of this input was recorded") {
		t.Fatalf("append to a full store: %d %s", res.Status, res.Body)
	}
	if res := s.do(req{path: "/v1/agreements/deal/history"}); res.Status != 200 {
		t.Errorf("history: %d", res.Status)
	}
	res = s.do(req{path: "/healthz"})
	if doc := res.JSON(t); doc["status"] != "degraded" || !strings.Contains(string(res.Body), "out of space") {
		t.Errorf("healthz: %s", res.Body)
	}
}
