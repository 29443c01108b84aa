package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestFullDiskThroughTheCommand is the case: a store on a 3 MB
// tmpfs. An append that does not fit used to fail with "appending:
// JetStream did not answer: nats: nats: API error: code=503 err_code=10023
// description=insufficient resources". It now says the store is out of
// space, that nothing of the input was recorded, and exits 1; once the
// file system has grown, the same input is recorded.
func TestFullDiskThroughTheCommand(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root; TestOutOfSpace (ledger) covers the same refusal with a store limit")
	}
	dir := t.TempDir()
	mnt := filepath.Join(dir, "small")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s); TestOutOfSpace (ledger) covers the same refusal with a store limit", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	s := &store{t: t, dir: dir, args: []string{"--data", filepath.Join(mnt, "data")}}
	s.runIn(0, openFor("deal"), "append")
	var r result
	failed := -1
	for file := 0; file < 40; file++ {
		var b strings.Builder
		for i := range 300 {
			b.WriteString(obligationFor("deal", file*300+i+1) + "\n")
		}
		r = ledgerIn(t, dir, b.String(), append(s.args, "append")...)
		if r.code != 0 {
			failed = file
			break
		}
	}
	if failed < 0 {
		t.Fatal("12,000 amendments fit on a 3 MB tmpfs")
	}
	want := fmt.Sprintf("ledger: the store at %s is out of space (JetStream: insufficient resources); nothing of this input was recorded", filepath.Join(mnt, "data"))
	if r.code != 1 || !strings.HasPrefix(r.stderr, want) || strings.Contains(r.stderr, "did not answer") || strings.Contains(r.stderr, "nats:") {
		t.Fatalf("append to the full store: %s\nwant %q", r, want)
	}
	var h historyDoc
	s.json(&h, 0, "history", "deal")
	if len(h.Amendments) != 1+failed*300 {
		t.Errorf("%d amendments recorded; want %d (whole inputs only)", len(h.Amendments), 1+failed*300)
	}
	// The file system grows: the same input is recorded.
	if out, err := exec.Command("mount", "-o", "remount,size=32m", mnt).CombinedOutput(); err != nil {
		t.Fatalf("remount: %v: %s", err, out)
	}
	var b strings.Builder
	for i := range 300 {
		b.WriteString(obligationFor("deal", failed*300+i+1) + "\n")
	}
	s.runIn(0, b.String(), "append")
	s.run(0, "verify")
}
