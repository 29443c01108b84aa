package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestBackupAndRestoreThroughTheCommand: ledger backup DIR, then ledger
// --data NEW restore DIR: the restored store answers the same history
// (sequences and recorded times), and verify --since the heads exported
// before the backup passes on it.
func TestBackupAndRestoreThroughTheCommand(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.runIn(0, fiftyAmendments(), "append")
	heads := s.file("heads.json", []byte(s.run(0, "verify", "--heads").stdout))
	history := s.run(0, "history", "deal", "-o", "json").stdout
	backup := filepath.Join(s.dir, "backup")
	r := s.run(0, "backup", backup)
	if !strings.Contains(r.stdout, "backed up stream LEDGER into "+backup+": 50 messages (sequences 1-50)") {
		t.Errorf("backup: %s", r)
	}
	s.run(2, "backup", backup) // not empty: refused
	s.runIn(0, obligationFor("deal", 50), "append")

	restored := &store{t: t, dir: s.dir, args: []string{"--data", filepath.Join(s.dir, "restored")}}
	r = restored.run(0, "restore", backup)
	if !strings.Contains(r.stdout, "restored stream LEDGER from "+backup) || !strings.Contains(r.stdout, "exported heads: 1 head checked") {
		t.Errorf("restore: %s", r)
	}
	if got := restored.run(0, "history", "deal", "-o", "json").stdout; got != history {
		t.Errorf("the restored history differs:\n%s\nwant\n%s", got, history)
	}
	restored.run(0, "verify", "--since", heads)
	if r := restored.run(2, "restore", backup); !strings.Contains(r.stderr, "restore into a fresh store") {
		t.Errorf("a restore into a store that has the stream: %s", r)
	}
	restored.runIn(0, obligationFor("deal", 50), "append")
}
