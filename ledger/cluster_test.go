package ledger_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/ledgertest"
	"github.com/nats-io/nats-server/v2/server"
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
	// Let the returning node catch up and the cluster settle before
	// reading everything back.
	settled := time.Now().Add(30 * time.Second)
	for {
		lead := c.StreamLeader("LEDGER")
		if lead >= 0 {
			want, _ := replicaState(t, c.Servers[lead], "LEDGER")
			if got, ok := replicaState(t, c.Servers[second], "LEDGER"); ok && got.LastSeq == want.LastSeq {
				break
			}
		}
		if time.Now().After(settled) {
			t.Fatal("the returning node did not catch up within 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}

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

// replicaState is the state of a node's own replica of the stream, as
// that node's store has it (not as the stream leader reports it).
func replicaState(t *testing.T, s *server.Server, stream string) (server.StreamState, bool) {
	t.Helper()
	if !s.Running() {
		return server.StreamState{}, false
	}
	acc, err := s.JszAccount(&server.JSzOptions{Account: server.DEFAULT_GLOBAL_ACCOUNT, Streams: true})
	if err != nil {
		return server.StreamState{}, false
	}
	for _, sd := range acc.Streams {
		if sd.Name == stream {
			return sd.State, true
		}
	}
	return server.StreamState{}, false
}

// TestRestartedNodeCatchesUp stops a node that is not the stream leader,
// appends while it is down (single amendments and an import of 1500 in
// atomic batches), restarts it, and checks that its own replica reaches
// the leader's last sequence, message count and size within seconds. Then
// the old leader stops: the restarted node and the third carry on, and
// every amendment is there once.
func TestRestartedNodeCatchesUp(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	c := ledgertest.NewCluster(t)
	l := ledgertest.New(t, ledger.Config{URL: c.URL(), Replicas: 3, Timeout: 2 * time.Second, SnapshotEvery: -1})
	l.Given(openDeal)
	appendUntilAcked := func(as []*events.Amendment) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			_, err := l.Append(context.Background(), as, ledger.AppendOptions{})
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("append: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	n := 0
	next := func() *events.Amendment {
		n++
		return l.Amendments(obligation(n))[0]
	}
	for range 10 {
		appendUntilAcked([]*events.Amendment{next()})
	}
	leader := c.StreamLeader("LEDGER")
	if leader < 0 {
		t.Fatal("no stream leader")
	}
	down := (leader + 1) % 3
	c.Stop(down)
	for range 20 {
		appendUntilAcked([]*events.Amendment{next()})
	}
	var batch []*events.Amendment
	for range 1500 {
		batch = append(batch, next())
	}
	appendUntilAcked(batch)
	if err := l.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	want, ok := replicaState(t, c.Servers[c.StreamLeader("LEDGER")], "LEDGER")
	if !ok || want.Msgs != 1531 {
		t.Fatalf("the leader's replica: %+v", want)
	}

	c.Restart(down)
	start := time.Now()
	var got server.StreamState
	for {
		if got, ok = replicaState(t, c.Servers[down], "LEDGER"); ok {
			if got.LastSeq == want.LastSeq && got.Msgs == want.Msgs && got.Bytes == want.Bytes && got.FirstSeq == want.FirstSeq {
				break
			}
		}
		if time.Since(start) > 15*time.Second {
			t.Fatalf("15s after its restart node n%d's replica is at %+v, the leader's at %+v", down+1, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(start)
	t.Logf("node n%d caught up %v after its restart: last sequence %d, %d messages", down+1, took, got.LastSeq, got.Msgs)

	// The old leader goes: the restarted node is one of the two that carry on.
	c.Stop(leader)
	appendUntilAcked([]*events.Amendment{next()})
	if err := l.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	h, err := l.History("deal")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range h.Amendments {
		seen[e.ID.String()] = true
	}
	if len(h.Amendments) != n+1 || len(seen) != n+1 {
		t.Fatalf("after the old leader stopped: %d amendments (%d ids), want %d", len(h.Amendments), len(seen), n+1)
	}
	if rep, err := l.Verify(context.Background(), nil); err != nil || !rep.OK {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	if got, _ := replicaState(t, c.Servers[down], "LEDGER"); got.Msgs != uint64(n+1) {
		t.Errorf("the restarted node's replica has %d messages, want %d", got.Msgs, n+1)
	}
	fmt.Printf("cluster: a node down for %d appends caught up %v after its restart (%d messages); it and the third carried on when the old leader stopped\n", 1520, took.Round(time.Millisecond), want.Msgs)
}
