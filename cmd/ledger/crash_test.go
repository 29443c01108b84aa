package main

// Crash tests: the real binary serves a store ("ledger serve --listen"),
// clients append as fast as they can, and the server is killed with
// SIGKILL at a random moment — no shutdown, no flush, no snapshot — then
// restarted on the same directory. What was acknowledged must be there,
// once; what was not may be there or not, but never in part.

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/oklog/ulid/v2"
)

// crashStore is a store served by a "ledger serve --listen" child that a
// test kills and restarts on the same directory and address.
type crashStore struct {
	t               *testing.T
	dir, data, addr string
	srv             *server
	starts          int
}

func newCrashStore(t *testing.T) *crashStore {
	t.Helper()
	dir := t.TempDir()
	return &crashStore{t: t, dir: dir, data: filepath.Join(dir, "data"), addr: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
}

func (c *crashStore) url() string { return "nats://" + c.addr }

// start runs "ledger serve --listen ADDR --data DIR" and waits until it is
// ready: after a crash, until it has recovered the store.
func (c *crashStore) start() {
	c.t.Helper()
	c.srv = serve(c.t, c.dir, "--data", c.data, "--listen", c.addr)
	c.starts++
}

// kill ends the server with SIGKILL.
func (c *crashStore) kill() {
	c.t.Helper()
	if err := c.srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		c.t.Fatal(err)
	}
	select {
	case <-c.srv.done:
	case <-time.After(10 * time.Second):
		c.t.Fatal("the killed server did not exit within 10s")
	}
}

// cli runs the command against the served store through its URL and fails
// the test unless it exits with code.
func (c *crashStore) cli(code int, args ...string) result {
	c.t.Helper()
	r := ledgerIn(c.t, c.dir, "", append([]string{"--nats", c.url()}, args...)...)
	if r.code != code {
		c.t.Fatalf("ledger %s: want exit %d, got %s", strings.Join(args, " "), code, r)
	}
	return r
}

// verifyDoc is the part of a verify report the tests read.
type verifyDoc struct {
	OK         bool `json:"ok"`
	Messages   int  `json:"messages"`
	Amendments int  `json:"amendments"`
	Foreign    int  `json:"foreign"`
	Broken     []struct {
		Agreement string `json:"agreement"`
		Version   uint64 `json:"version"`
		Problem   string `json:"problem"`
	} `json:"broken"`
	Heads []struct {
		Agreement string `json:"agreement"`
		Version   uint64 `json:"version"`
		Hash      string `json:"hash"`
	} `json:"heads"`
	Checked int `json:"heads_checked"`
}

// verify runs "ledger verify -o json" in a fresh process: every chain
// walked again from the stream, independently of any client's read model.
func (c *crashStore) verify() verifyDoc {
	c.t.Helper()
	r := c.cli(0, "verify", "-o", "json")
	var v verifyDoc
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		c.t.Fatalf("verify -o json: %v\n%s", err, r)
	}
	if !v.OK || v.Foreign != 0 || v.Messages != v.Amendments {
		c.t.Fatalf("verify after a crash: %s", r.stdout)
	}
	return v
}

// history returns the ids of an agreement's amendments in version order,
// read by a fresh process; none when the agreement is not recorded.
func (c *crashStore) history(agreement string) []string {
	c.t.Helper()
	r := ledgerIn(c.t, c.dir, "", "--nats", c.url(), "history", agreement, "-o", "json")
	if r.code == 1 && strings.Contains(r.stderr, "no agreement") {
		return nil
	}
	var h historyDoc
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &h) != nil {
		c.t.Fatalf("history %s: %s", agreement, r)
	}
	var ids []string
	for i, a := range h.Amendments {
		if a.Version != uint64(i+1) {
			c.t.Fatalf("history %s: version %d at position %d", agreement, a.Version, i)
		}
		ids = append(ids, a.ID)
	}
	return ids
}

// client opens a ledger client on the served store.
func (c *crashStore) client() *ledger.Ledger {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := ledger.Open(ctx, ledger.Config{URL: c.url(), Timeout: 3 * time.Second, SnapshotEvery: -1})
	if err != nil {
		c.t.Fatalf("opening a client on %s: %v", c.url(), err)
	}
	return l
}

// amendment decodes one amendment written by the test and gives it a
// fresh id. It panics on a mistake in the test (it runs in goroutines).
func amendment(src string) *events.Amendment {
	as, err := events.Decode([]byte(src))
	if err != nil {
		panic(fmt.Sprintf("a bad amendment in the test: %v", err))
	}
	as[0].ID = ulid.Make()
	return as[0]
}

func openFor(agreement string) string {
	return fmt.Sprintf(`{"agreement":%q,"effective":"2026-01-01","changes":[{"op":"open","title":"Crash test","parties":["acme","globex"]}]}`, agreement)
}

func obligationFor(agreement string, n int) string {
	return fmt.Sprintf(`{"agreement":%q,"effective":"2026-02-01","changes":[{"op":"add","clause":{"id":"o-%d","kind":"obligation","obligor":"acme","beneficiary":"globex","what":"deliver lot %d"}}]}`, agreement, n, n)
}

// retryUntilAcked appends as until they are acknowledged: the same ids
// each time, so a retry never stores one twice.
func retryUntilAcked(t *testing.T, l *ledger.Ledger, as []*events.Amendment, within time.Duration) *ledger.AppendResult {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		res, err := l.Append(ctx, as, ledger.AppendOptions{})
		cancel()
		if err == nil {
			return res
		}
		if events.KindOf(err) == events.Invalid || time.Now().After(deadline) {
			t.Fatalf("append after the restart: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitUsable waits until a client that lost its server has reconnected and
// its read model has caught up with the stream.
func waitUsable(t *testing.T, l *ledger.Ledger) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err := l.Sync(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the client did not catch up with the restarted server in 30s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestCrashWhileAppending kills the serving process with SIGKILL while
// four writers append as fast as they can, five times. After each restart
// on the same directory every acknowledged amendment is there exactly once,
// nothing is there that was not sent, the chains verify, and a client
// retrying what was in flight (same ids) gets each stored once.
func TestCrashWhileAppending(t *testing.T) {
	t.Parallel()
	const rounds, writers = 5, 4
	c := newCrashStore(t)
	c.start()
	// One client for the whole test, as an application keeps its
	// connection: it reconnects to the restarted server by itself.
	l := c.client()
	defer l.Close()
	retryUntilAcked(t, l, []*events.Amendment{amendment(openFor("crash"))}, 10*time.Second)

	var (
		mu        sync.Mutex
		acked     = map[string]bool{}
		sent      = map[string]bool{}
		inFlight  []*events.Amendment // unacknowledged when the server died
		next      atomic.Int64
		foundDone int // in flight, found recorded after the restart (the ack was lost)
		retried   int // in flight, not recorded, written by the retry
	)
	for round := 1; round <= rounds; round++ {
		ctx, cancel := context.WithCancel(context.Background())
		var killed atomic.Bool
		var roundAcked atomic.Int64
		var wg sync.WaitGroup
		unexpected := make(chan error, writers)
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					a := amendment(obligationFor("crash", int(next.Add(1))))
					mu.Lock()
					sent[a.ID.String()] = true
					mu.Unlock()
					_, err := l.Append(ctx, []*events.Amendment{a}, ledger.AppendOptions{})
					mu.Lock()
					if err == nil {
						acked[a.ID.String()] = true
					} else {
						inFlight = append(inFlight, a)
					}
					mu.Unlock()
					if err != nil {
						if !killed.Load() {
							unexpected <- err
						}
						return
					}
					roundAcked.Add(1)
				}
			}()
		}
		// Let the writers get going, then kill at a random moment.
		for start := time.Now(); roundAcked.Load() < 20 && time.Since(start) < 10*time.Second; {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(time.Duration(rand.IntN(1000)) * time.Millisecond)
		killed.Store(true)
		c.kill()
		// Appends in flight fail: on the lost connection, or when given up.
		time.Sleep(200 * time.Millisecond)
		cancel()
		wg.Wait()
		close(unexpected)
		for err := range unexpected {
			t.Fatalf("round %d: an append failed before the server was killed: %v", round, err)
		}
		mu.Lock()
		pending := inFlight
		inFlight = nil
		mu.Unlock()
		t.Logf("round %d: killed after %d acknowledged appends, %d in flight", round, roundAcked.Load(), len(pending))

		c.start()
		checkAcked(t, c, "crash", acked, sent)
		// The client reconnects by itself and its read model catches up.
		waitUsable(t, l)
		// What was in flight: retried with the same ids, stored once.
		for _, a := range pending {
			res := retryUntilAcked(t, l, []*events.Amendment{a}, 30*time.Second)
			if res.Appended[0].Duplicate {
				foundDone++
			} else {
				retried++
			}
			acked[a.ID.String()] = true
		}
		checkAcked(t, c, "crash", acked, sent)
	}
	// Appending continues, and the store opens directly (embedded) after
	// the last clean stop.
	retryUntilAcked(t, l, []*events.Amendment{amendment(obligationFor("crash", int(next.Add(1))))}, 10*time.Second)
	if code := c.srv.stop(); code != 0 {
		t.Fatalf("serve exited %d on SIGTERM", code)
	}
	r := ledgerIn(t, c.dir, "", "--data", c.data, "verify", "-o", "json")
	if r.code != 0 {
		t.Fatalf("verify of the store opened directly: %s", r)
	}
	var v verifyDoc
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || !v.OK {
		t.Fatalf("verify of the store opened directly: %v %s", err, r)
	}
	fmt.Printf("crash while appending: %d SIGKILLs survived; %d amendments acknowledged while the writers ran, each found exactly once after every later restart; %d in flight at the kills (%d found recorded, %d written by the retry with the same id); %d amendments in all, chains verified\n",
		rounds, len(acked)-foundDone-retried, foundDone+retried, foundDone, retried, v.Amendments)
}

// checkAcked checks, through fresh processes, that every acknowledged
// amendment of agreement is recorded exactly once, that nothing is recorded
// that was not sent, and that every chain verifies.
func checkAcked(t *testing.T, c *crashStore, agreement string, acked, sent map[string]bool) {
	t.Helper()
	ids := c.history(agreement)
	seen := map[string]int{}
	for _, id := range ids[1:] { // the first opens the agreement
		seen[id]++
		if !sent[id] {
			t.Fatalf("amendment %s is recorded but was never sent", id)
		}
	}
	for id := range acked {
		if seen[id] != 1 {
			t.Fatalf("acknowledged amendment %s is recorded %d times", id, seen[id])
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("amendment %s is recorded %d times", id, n)
		}
	}
	c.verify()
}

// TestCrashDuringImport kills the serving process during an import of 3000
// amendments, which the ledger writes in three atomic batches of 1000:
// after the restart the import is there in whole batches — the first 0,
// 1000, 2000 or 3000 of its amendments, in order, never a part of a batch —
// every batch acknowledged is there, and running the import again
// completes it exactly once.
func TestCrashDuringImport(t *testing.T) {
	t.Parallel()
	const size, batch = 3000, 1000
	c := newCrashStore(t)
	c.start()
	var counts []int
	for round := 1; round <= 3; round++ {
		agreement := fmt.Sprintf("import-%d", round)
		as := []*events.Amendment{amendment(openFor(agreement))}
		for n := 1; n < size; n++ {
			as = append(as, amendment(obligationFor(agreement, n)))
		}
		want := make([]string, len(as))
		for i, a := range as {
			want[i] = a.ID.String()
		}

		l := c.client()
		// Round 1 is killed just after the first batch is acknowledged,
		// round 2 after the second, round 3 at a random moment.
		killAfter := []int{batch, 2 * batch, 0}[round-1]
		var progressed atomic.Int64
		batchDone := make(chan struct{}, 1)
		opts := ledger.AppendOptions{Progress: func(done, total int) {
			progressed.Store(int64(done))
			if done == killAfter {
				batchDone <- struct{}{}
			}
		}}
		ctx, cancel := context.WithCancel(context.Background())
		imported := make(chan error, 1)
		go func() {
			_, err := l.Append(ctx, as, opts)
			imported <- err
		}()
		if killAfter > 0 {
			select {
			case <-batchDone:
			case <-time.After(30 * time.Second):
				t.Fatalf("round %d: the import did not reach %d amendments in 30s", round, killAfter)
			}
			time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
		} else {
			time.Sleep(time.Duration(rand.IntN(800)) * time.Millisecond)
		}
		c.kill()
		time.Sleep(200 * time.Millisecond)
		cancel()
		err := <-imported
		ackedBatches := int(progressed.Load())
		// Closed before the restart: a client that lives on would send
		// what it buffered while disconnected once it reconnects (safe,
		// but it would blur what the crash left).
		l.Close()

		c.start()
		got := c.history(agreement)
		counts = append(counts, len(got))
		t.Logf("round %d: import killed with %d amendments acknowledged (append error: %v); %d recorded", round, ackedBatches, err, len(got))
		if len(got)%batch != 0 && len(got) != size {
			t.Fatalf("round %d: %d amendments of the import are recorded: a batch was written in part", round, len(got))
		}
		if !slices.Equal(got, want[:len(got)]) {
			t.Fatalf("round %d: the recorded amendments are not the first %d of the import, in order", round, len(got))
		}
		if len(got) < ackedBatches {
			t.Fatalf("round %d: %d amendments were acknowledged but only %d are recorded", round, ackedBatches, len(got))
		}
		if err == nil && len(got) != size {
			t.Fatalf("round %d: the import was acknowledged but %d of %d amendments are recorded", round, len(got), size)
		}
		c.verify()

		// Running the same import again completes it, each amendment once.
		l2 := c.client()
		res := retryUntilAcked(t, l2, as, 30*time.Second)
		l2.Close()
		dups := 0
		for _, a := range res.Appended {
			if a.Duplicate {
				dups++
			}
		}
		if dups != len(got) || len(res.Appended) != size {
			t.Fatalf("round %d: the import again: %d of %d reported already recorded, want %d", round, dups, len(res.Appended), len(got))
		}
		if got := c.history(agreement); !slices.Equal(got, want) {
			t.Fatalf("round %d: after the import again %d amendments are recorded, not the import's %d in order", round, len(got), size)
		}
		c.verify()
	}
	if code := c.srv.stop(); code != 0 {
		t.Fatalf("serve exited %d on SIGTERM", code)
	}
	fmt.Printf("crash during import: 3 rounds survived; %d-amendment imports in batches of %d found with %v amendments after the kill, then completed exactly once\n", size, batch, counts)
}
