package main

// Operator faults, tried with the built binary as an operator would: a
// damaged message block, a torn write, two processes on one store.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/ledger/ledgertest"
)

// fiftyAmendments is the input: 50 amendments to one agreement.
func fiftyAmendments() string {
	var b strings.Builder
	b.WriteString(openFor("deal") + "\n")
	for i := 1; i < 50; i++ {
		b.WriteString(obligationFor("deal", i) + "\n")
	}
	return b.String()
}

// TestDamagedBlockThroughTheCommand is the case with the binary:
// 50 amendments, bytes flipped in the middle of msgs/1.blk. Before, state
// exited 0 with version 25 and no warning, verify spoke of 24 messages not
// written by the ledger, and append went on (exit 0) while state kept
// answering version 25.
func TestDamagedBlockThroughTheCommand(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.runIn(0, fiftyAmendments(), "append")
	ledgertest.FlipBlock(t, filepath.Join(s.dir, "data"), "LEDGER", 16)

	r := s.run(5, "state", "deal", "--at", "2027-01-01")
	if !strings.Contains(r.stderr, "agreement deal is damaged from version") || !strings.Contains(r.stderr, "stream sequence") || !strings.Contains(r.stderr, "Recovering a damaged store") || r.stdout != "" {
		t.Errorf("state of the damaged agreement: %s", r)
	}
	r = s.run(0, "state", "deal", "--at", "2027-01-01", "--allow-damaged")
	if !strings.HasPrefix(r.stdout, "DAMAGED  deal: the store cannot read its history from version") {
		t.Errorf("state --allow-damaged does not begin with the marker: %s", r)
	}
	var doc struct {
		Version uint64 `json:"version"`
		Damaged *struct {
			Version uint64 `json:"version"`
			Seq     uint64 `json:"seq"`
		} `json:"damaged"`
	}
	s.json(&doc, 0, "state", "deal", "--at", "2027-01-01", "--allow-damaged")
	if doc.Damaged == nil || doc.Version != doc.Damaged.Version-1 || doc.Damaged.Seq != doc.Damaged.Version {
		t.Errorf("state -o json --allow-damaged: %+v", doc)
	}
	bad := doc.Damaged.Version
	for _, args := range [][]string{{"history", "deal"}, {"timeline", "deal"}, {"diff", "deal", "--from", "2026-01-01"}} {
		if r := s.run(5, args...); !strings.Contains(r.stderr, fmt.Sprintf("damaged from version %d", bad)) {
			t.Errorf("%v: %s", args, r)
		}
	}
	r = s.run(5, "agreements")
	if !strings.Contains(r.stdout, "DAMAGED  deal") || !strings.Contains(r.stderr, "--allow-damaged") {
		t.Errorf("agreements: %s", r)
	}
	s.run(0, "conflicts", "--allow-damaged")
	// A rights check rests on every agreement: marked, and exit 5 unless
	// damage is allowed (then its own verdict's code: no basis, 3).
	r = s.run(5, "check", "--party", "acme", "--product", "lot", "--channel", "post")
	if !strings.Contains(r.stdout, "DAMAGED  deal") || !strings.Contains(r.stderr, "--allow-damaged") {
		t.Errorf("check: %s", r)
	}
	s.run(3, "check", "--party", "acme", "--product", "lot", "--channel", "post", "--allow-damaged")

	r = s.run(1, "verify")
	if !strings.Contains(r.stdout, fmt.Sprintf("DAMAGED  deal from version %d: stream sequences %d-50", bad, bad)) ||
		!strings.Contains(r.stdout, fmt.Sprintf("UNREADABLE  stream sequence %d", bad)) || strings.Contains(r.stdout, "not written by the ledger") {
		t.Errorf("verify: %s", r)
	}

	// An append to it is refused with the same message; nothing is written.
	r = s.runIn(5, obligationFor("deal", 100), "append")
	if !strings.Contains(r.stderr, fmt.Sprintf("agreement deal is damaged from version %d", bad)) {
		t.Errorf("append: %s", r)
	}
	var v verifyDoc
	s.json(&v, 1, "verify")
	if v.Messages != 49 || v.Foreign != 0 {
		t.Errorf("after the refused append: %+v", v)
	}
}

// TestTornWriteLosesOnlyTheLastRecord: a block cut short in its last record
// (a write torn by a machine crash) loses that record alone; plain verify
// is clean (the chains that remain are whole), and verify --since with
// heads exported before names the loss.
func TestTornWriteLosesOnlyTheLastRecord(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.runIn(0, fiftyAmendments(), "append")
	heads := s.file("heads.json", []byte(s.run(0, "verify", "--heads").stdout))
	blk := ledgertest.BlockFile(filepath.Join(s.dir, "data"), "LEDGER")
	st, err := os.Stat(blk)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(blk, st.Size()-40); err != nil {
		t.Fatal(err)
	}
	var v verifyDoc
	s.json(&v, 0, "verify")
	if !v.OK || v.Messages != 49 || v.Amendments != 49 {
		t.Errorf("verify after the torn write: %+v", v)
	}
	r := s.run(1, "verify", "--since", heads)
	if !strings.Contains(r.stderr, "deal version 50") || !strings.Contains(r.stderr, "the exported head is missing: the agreement has 49 amendments now") {
		t.Errorf("verify --since: %s", r)
	}
}

// TestSecondProcessWithoutListenRefuses: a process that holds a store
// without --listen keeps others out at once, saying what to do.
func TestSecondProcessWithoutListenRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	srv := serve(t, dir, "--data", data)
	defer srv.stop()
	start := time.Now()
	r := ledgerIn(t, dir, "", "--data", data, "agreements")
	if r.code != 1 || !strings.Contains(r.stderr, "is in use by another ledger process that does not listen") || !strings.Contains(r.stderr, "--listen") {
		t.Errorf("a second process: %s", r)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the refusal took %s", took)
	}
	var e errorDoc
	r = ledgerIn(t, dir, "", "--data", data, "agreements", "-o", "json")
	if err := json.Unmarshal([]byte(r.stderr), &e); err != nil || e.Error.Kind != "internal" {
		t.Errorf("-o json: %s", r)
	}
}
