package ledger_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/ledgertest"
	"github.com/oklog/ulid/v2"
)

func TestClusterKeepsEveryAcknowledgedAmendment(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	c := ledgertest.NewCluster(t)
	l := ledgertest.New(t, ledger.Config{URL: c.URL(), Replicas: 3, Timeout: 2 * time.Second})
	l.Given(openDeal)

	// appendUntilAcked retries one amendment (same id) until it is acknowledged.
	appendUntilAcked := func(a *events.Amendment, within time.Duration) (time.Duration, error) {
		start := time.Now()
		for {
			_, err := l.Append(context.Background(), []*events.Amendment{a}, ledger.AppendOptions{})
			if err == nil {
				return time.Since(start), nil
			}
			if time.Since(start) > within {
				return 0, err
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	var acked []ulid.ULID
	next := func(n int) *events.Amendment {
		a := l.Amendments(obligation(n))[0]
		a.ID = ulid.Make()
		return a
	}
	for n := 0; n < 30; n++ {
		a := next(n)
		if _, err := appendUntilAcked(a, 10*time.Second); err != nil {
			t.Fatalf("append %d: %v", n, err)
		}
		acked = append(acked, a.ID)
	}

	leader := c.StreamLeader("LEDGER")
	if leader < 0 {
		t.Fatal("no stream leader")
	}
	c.Stop(leader)
	a := next(30)
	took, err := appendUntilAcked(a, 10*time.Second)
	if err != nil {
		t.Fatalf("appends did not resume within 10s of losing the stream leader: %v", err)
	}
	t.Logf("appends resumed %v after the stream leader (n%d) stopped", took, leader+1)
	acked = append(acked, a.ID)
	for n := 31; n < 60; n++ {
		a := next(n)
		if _, err := appendUntilAcked(a, 10*time.Second); err != nil {
			t.Fatalf("append %d after failover: %v", n, err)
		}
		acked = append(acked, a.ID)
	}

	// With two of three nodes down there is no quorum: an append fails
	// with a clear error in bounded time, and succeeds once a node returns.
	second := (leader + 1) % 3
	c.Stop(second)
	start := time.Now()
	a = next(60)
	_, err = l.Append(context.Background(), []*events.Amendment{a}, ledger.AppendOptions{})
	if err == nil {
		t.Fatal("append succeeded without a quorum")
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Fatalf("append without quorum took %v to fail", took)
	}
	t.Logf("without quorum, append failed after %v: %v", time.Since(start), err)
	c.Restart(leader)
	if _, err := appendUntilAcked(a, 30*time.Second); err != nil {
		t.Fatalf("append did not succeed after a node returned: %v", err)
	}
	acked = append(acked, a.ID)
	c.Restart(second)

	if err := l.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	h, err := l.History("deal")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for i, e := range h.Amendments {
		seen[e.ID.String()]++
		if e.Version != uint64(i+1) {
			t.Fatalf("version %d at position %d", e.Version, i)
		}
	}
	for _, id := range acked {
		if seen[id.String()] != 1 {
			t.Errorf("acknowledged amendment %s is stored %d times", id, seen[id.String()])
		}
	}
	rep, err := l.Verify(context.Background(), nil)
	if err != nil || !rep.OK {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	fmt.Printf("cluster: %d acknowledged amendments, all present once; chain verified\n", len(acked))
}
