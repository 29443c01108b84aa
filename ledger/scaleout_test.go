package ledger_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/ledgertest"
)

// TestMain lets the test binary act as a writer process for
// TestManyProcessesAppend.
func TestMain(m *testing.M) {
	if url := os.Getenv("LEDGER_TEST_WRITER_URL"); url != "" {
		os.Exit(writerProcess(url))
	}
	os.Exit(m.Run())
}

// writerProcess appends LEDGER_TEST_WRITER_N obligations, numbered from
// LEDGER_TEST_WRITER_FROM, to the agreement deal through url.
func writerProcess(url string) int {
	n, _ := strconv.Atoi(os.Getenv("LEDGER_TEST_WRITER_N"))
	from, _ := strconv.Atoi(os.Getenv("LEDGER_TEST_WRITER_FROM"))
	agreement := os.Getenv("LEDGER_TEST_WRITER_AGREEMENT")
	l, err := ledger.Open(context.Background(), ledger.Config{URL: url, SnapshotEvery: -1})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer l.Close()
	for i := from; i < from+n; i++ {
		src := obligation(i)
		if agreement != "deal" {
			src = obligationFor(agreement, i)
		}
		as, err := decode(src)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if _, err := l.Append(context.Background(), as, ledger.AppendOptions{}); err != nil {
			fmt.Fprintln(os.Stderr, "append:", err)
			return 1
		}
	}
	return 0
}

func TestManyProcessesAppend(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	l := ledgertest.New(t, ledger.Config{Listen: "127.0.0.1:-1"})
	l.Given(openDeal, `{"agreement":"openai-amazon","effective":"2026-02-27","changes":[{"op":"open","title":"T","parties":["openai","amazon"]}]}`)
	const procs, each = 6, 40
	var wg sync.WaitGroup
	for p := 0; p < procs; p++ {
		agreement := "deal"
		if p%2 == 1 {
			agreement = "openai-amazon"
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "LEDGER_TEST_WRITER_URL="+l.ClientURL(), "LEDGER_TEST_WRITER_N="+strconv.Itoa(each),
			"LEDGER_TEST_WRITER_FROM="+strconv.Itoa(p*each), "LEDGER_TEST_WRITER_AGREEMENT="+agreement)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("writer process %d: %v\n%s", p, err, out)
			}
		}()
	}
	wg.Wait()
	if err := l.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"deal", "openai-amazon"} {
		h, err := l.History(name)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(h.Amendments), 1+procs/2*each; got != want {
			t.Errorf("%s has %d amendments, want %d (a lost or doubled update)", name, got, want)
		}
		for i, e := range h.Amendments {
			if e.Version != uint64(i+1) {
				t.Fatalf("%s: version %d at position %d", name, e.Version, i)
			}
		}
	}
	rep, err := l.Verify(context.Background(), nil)
	if err != nil || !rep.OK {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

func TestTwoLedgersOnOneServerSeeEachOther(t *testing.T) {
	a := ledgertest.New(t, ledger.Config{Listen: "127.0.0.1:-1"})
	b := ledgertest.New(t, ledger.Config{URL: a.ClientURL()})
	a.Given(openDeal)
	b.Given(obligation(1))
	for _, tc := range []struct {
		name     string
		writer   *ledgertest.Ledger
		reader   *ledgertest.Ledger
		obligate int
	}{{"a to b", a, b, 2}, {"b to a", b, a, 3}} {
		tc.writer.Given(obligation(tc.obligate))
		deadline := time.Now().Add(time.Second)
		for tc.reader.StateAt("deal", "2026-03-01").Clause(fmt.Sprintf("o-%d", tc.obligate)) == nil {
			if time.Now().After(deadline) {
				t.Fatalf("%s: a write was not visible through the other ledger within a second", tc.name)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}
