package service_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/client"
	"github.com/agreement-ledger/ledger/ledger/ledgertest"
	"github.com/agreement-ledger/ledger/ledger/service"
	"github.com/nats-io/nats.go"
)

// instance is one `ledger serve`: a ledger and its service.
type instance struct {
	l *ledgertest.Ledger
	s *service.Service
}

// requests is how many state requests the instance's service answered.
func (in *instance) requests() int {
	for _, e := range in.s.Stats().Endpoints {
		if e.Name == "state" {
			return e.NumRequests
		}
	}
	return 0
}

// settled reads the instances' request counts until they stop changing:
// micro counts a request after its reply is sent, so the last answers a
// client has received may be counted a moment later.
func settled(ins ...*instance) []int {
	read := func() []int {
		n := make([]int, len(ins))
		for i, in := range ins {
			n[i] = in.requests()
		}
		return n
	}
	last := read()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		now := read()
		if fmt.Sprint(now) == fmt.Sprint(last) {
			return now
		}
		last = now
	}
	return last
}

// TestInstancesShareRequestsAndTakeOver: three instances, each on its own
// node of a three-node cluster (stream R3), share one queue group. An
// append answered by any of them is in the answer of any other right
// after; requests are spread over all three; when one stops, the others
// answer its share with no change to the client and no request lost.
func TestInstancesShareRequestsAndTakeOver(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	c := ledgertest.NewCluster(t)
	urls := strings.Split(c.URL(), ",")
	ins := make([]*instance, 3)
	for i := range ins {
		l := ledgertest.New(t, ledger.Config{URL: urls[i], Replicas: 3, SnapshotEvery: -1, Timeout: 5 * time.Second})
		s, err := service.Start(l.Conn(), l.Ledger, service.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ins[i] = &instance{l: l, s: s}
	}
	t.Cleanup(func() {
		for _, in := range ins {
			in.s.Stop()
		}
	})
	nc, err := nats.Connect(urls[0])
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	cl := client.New(nc, client.Options{Timeout: 2 * time.Second, Attempts: 5})
	ctx := context.Background()
	appendVia := func(src string) string {
		t.Helper()
		res, err := cl.Append(ctx, ins[0].l.Amendments(src), ledger.AppendOptions{})
		if err != nil {
			t.Fatalf("append through the service: %v", err)
		}
		return res.Appended[0].ID
	}
	appendVia(`{"agreement":"deal","effective":"2026-01-01","changes":[{"op":"open","title":"Deal","parties":["acme","globex"]}]}`)
	obligation := func(i int) string {
		return fmt.Sprintf(`{"agreement":"deal","effective":"2026-02-01","changes":[{"op":"add","clause":{"id":"o-%d","kind":"obligation","obligor":"acme","beneficiary":"globex","what":"deliver lot %d"}}]}`, i, i)
	}
	inForce := func(clause string) bool {
		t.Helper()
		st, err := cl.State(ctx, "deal", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Time{})
		if err != nil {
			t.Fatalf("state through the service: %v", err)
		}
		return st.Clause(clause) != nil
	}

	// Appends and queries, each answered by whichever instance the queue
	// group picks: the query sees the append every time.
	for i := range 30 {
		appendVia(obligation(i))
		if !inForce(fmt.Sprintf("o-%d", i)) {
			t.Fatalf("o-%d, appended through the service, is not in the state the service answers right after", i)
		}
	}
	for i, in := range ins {
		if in.requests() == 0 {
			t.Errorf("instance %d answered none of 30 state requests: they are not shared", i)
		}
	}

	// An append made by instance 0 itself, while its service is stopped:
	// the answer necessarily comes from another instance, and has it.
	if err := ins[0].s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := ins[0].l.Append(ctx, ins[0].l.Amendments(obligation(100)), ledger.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	if !inForce("o-100") {
		t.Fatal("another instance does not answer with an append instance 0 has just made")
	}
	if ins[0].s, err = service.Start(ins[0].l.Conn(), ins[0].l.Ledger, service.Options{}); err != nil {
		t.Fatal(err)
	}

	// Queries without pause while instance 2 stops altogether: none fails,
	// and afterwards the other two answer everything.
	var sent, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				sent.Add(1)
				if _, err := cl.State(ctx, "deal", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Time{}); err != nil {
					failed.Add(1)
					t.Errorf("a query while an instance stopped: %v", err)
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	ins[2].s.Stop()
	ins[2].l.Close()
	stoppedAt := sent.Load()
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failed.Load() > 0 || sent.Load()-stoppedAt < 10 {
		t.Fatalf("%d of %d queries failed; %d sent after the instance stopped", failed.Load(), sent.Load(), sent.Load()-stoppedAt)
	}
	before := settled(ins...)
	for i := range 20 {
		appendVia(obligation(200 + i))
		if !inForce(fmt.Sprintf("o-%d", 200+i)) {
			t.Fatalf("o-%d is not seen after instance 2 stopped", 200+i)
		}
	}
	after := settled(ins...)
	if after[2] != before[2] {
		t.Errorf("the stopped instance answered %d more", after[2]-before[2])
	}
	if got := after[0] - before[0] + after[1] - before[1]; got != 20 {
		t.Errorf("the two instances left answered %d of 20 queries", got)
	}
	t.Logf("%d queries while instance 2 stopped, %d after; shares of the last 20: %d and %d", sent.Load(), sent.Load()-stoppedAt,
		after[0]-before[0], after[1]-before[1])
}
