package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/ledgertest"
)

// TestDamagedStoreOverHTTP: a store whose message block lost a record
// (bytes flipped in the middle of it) answers a question about the
// damaged agreement with 503 naming the version and sequence, or with the
// intact prefix marked damaged when allow_damaged=true; cross-agreement
// answers list it; an append to it is refused and writes nothing;
// /healthz, without a token, says degraded and why.
func TestDamagedStoreOverHTTP(t *testing.T) {
	l := ledgertest.New(t, ledger.Config{SnapshotEvery: -1})
	l.Given(`{"agreement":"deal","effective":"2026-01-01","changes":[{"op":"open","title":"Deal","parties":["acme","globex"]}]}`)
	for i := 1; i < 50; i++ {
		l.Given(fmt.Sprintf(`{"agreement":"deal","effective":"2026-02-01","changes":[{"op":"add","clause":{"id":"o-%d","kind":"obligation","obligor":"acme","beneficiary":"globex","what":"lot %d"}}]}`, i, i))
	}
	l.Close()
	ledgertest.FlipBlock(t, l.Dir(), "LEDGER", 16)
	ledgertest.Reopen(t, l)
	s := newServerOn(t, l, withAuth)
	// Until the read model has read the stream, /healthz cannot know
	// (it says "loading").
	if err := l.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}

	res := s.do(req{path: "/healthz"})
	doc := res.JSON(t)
	if res.Status != 200 || doc["status"] != "degraded" || !strings.Contains(string(res.Body), "agreement deal is damaged from version") {
		t.Errorf("healthz: %d %s", res.Status, res.Body)
	}
	for _, path := range []string{"/v1/agreements/deal/state?at=2027-01-01", "/v1/agreements/deal/history", "/v1/agreements/deal/timeline", "/v1/agreements/deal/diff?from=2026-01-01&to=2027-01-01"} {
		res := s.do(req{path: path, token: readToken})
		kind, _, msg := res.errorDoc(t)
		if res.Status != 503 || kind != "damaged" || !strings.Contains(msg, "agreement deal is damaged from version") || !strings.Contains(msg, "stream sequence") {
			t.Errorf("%s: %d %s", path, res.Status, res.Body)
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		res = s.do(req{path: path + sep + "allow_damaged=true", token: readToken})
		if res.Status != 200 || !strings.Contains(string(res.Body), `"damaged":{"agreement":"deal"`) {
			t.Errorf("%s with allow_damaged: %d %s", path, res.Status, res.Body)
		}
	}
	for _, path := range []string{"/v1/conflicts", "/v1/check?party=acme&product=x&channel=api", "/v1/agreements"} {
		res := s.do(req{path: path, token: readToken})
		if res.Status != 200 || !strings.Contains(string(res.Body), `"damaged":`) {
			t.Errorf("%s: %d %s", path, res.Status, res.Body)
		}
	}
	res = s.do(req{method: "POST", path: "/v1/agreements/deal/amendments", token: writeToken,
		body: `{"agreement":"deal","effective":"2026-03-01","changes":[{"op":"add","clause":{"id":"o-100","kind":"obligation","obligor":"acme","beneficiary":"globex","what":"lot 100"}}]}`})
	if kind, _, _ := res.errorDoc(t); res.Status != 503 || kind != "damaged" {
		t.Errorf("append to the damaged agreement: %d %s", res.Status, res.Body)
	}
	if st := l.Status(); st.Applied != 50 {
		t.Errorf("the refused append wrote: the stream is at %d", st.Applied)
	}
	res = s.do(req{path: "/v1/verify", token: readToken})
	if doc := res.JSON(t); res.Status != 200 || doc["ok"] != false || doc["foreign"] != 0.0 || !strings.Contains(string(res.Body), `"unreadable":[{"first"`) {
		t.Errorf("verify: %d %s", res.Status, res.Body)
	}
}
