package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/seed"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/oklog/ulid/v2"
)

// TestVerifyExportsAndChecksHeads exports the chain heads with verify
// --heads, appends more, and checks them with verify --since. Then it
// tampers in two ways. A message published around the ledger with a wrong
// prev: verify and verify --since exit 1 naming the agreement and version,
// and --heads exports nothing. A history rewritten and chained anew on
// another store: plain verify cannot tell, but verify --since names the
// agreement and version that was rewritten.
func TestVerifyExportsAndChecksHeads(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	srv := serve(t, dir, "--data", filepath.Join(dir, "data"), "--listen", addr)
	s := &store{t: t, dir: dir, args: []string{"--nats", "nats://" + addr}}
	before, renegotiation := splitSeed(t)
	s.runIn(0, string(before), "append")

	// Export: JSON whatever the output format, to keep.
	exported := s.run(0, "verify", "--heads").stdout
	var doc struct {
		Stream   string `json:"stream"`
		Exported string `json:"exported"`
		Heads    []struct {
			Agreement string `json:"agreement"`
			Version   uint64 `json:"version"`
			Hash      string `json:"hash"`
		} `json:"heads"`
	}
	if err := json.Unmarshal([]byte(exported), &doc); err != nil {
		t.Fatalf("verify --heads does not print JSON: %v\n%s", err, exported)
	}
	if doc.Stream != "LEDGER" || len(doc.Heads) != 2 || doc.Heads[0].Agreement != "microsoft-openai" || doc.Heads[0].Version != 1 || len(doc.Heads[0].Hash) != 64 {
		t.Fatalf("exported heads: %s", exported)
	}
	if _, err := time.Parse(time.RFC3339, doc.Exported); err != nil {
		t.Errorf("exported: %v", err)
	}
	if again := s.run(0, "verify", "--heads", "-o", "json").stdout; !strings.Contains(again, `"heads"`) {
		t.Errorf("verify --heads -o json: %s", again)
	}
	heads := s.file("heads.json", []byte(exported))

	// More history: the heads are still in their chains, in each form the
	// heads can be kept in.
	s.runIn(0, string(renegotiation), "append")
	r := s.run(0, "verify", "--since", heads)
	if !strings.Contains(r.stdout, "exported heads: 2 heads checked, each still in its chain") {
		t.Errorf("verify --since: %s", r)
	}
	var v verifyDoc
	s.json(&v, 0, "verify", "--since", heads)
	if !v.OK || v.Checked != 2 {
		t.Errorf("verify --since -o json: %+v", v)
	}
	report := s.file("report.json", []byte(s.run(0, "verify", "-o", "json", "--since", heads).stdout))
	s.run(0, "verify", "--since", report)
	list, _ := json.Marshal(doc.Heads)
	s.run(0, "verify", "--since", s.file("list.json", list))
	// The rolling form: check the kept heads, export the current ones.
	if r := s.run(0, "verify", "--since", heads, "--heads"); !strings.Contains(r.stdout, `"version": 2`) {
		t.Errorf("verify --since --heads: %s", r)
	}

	// The old --heads FILE, and files that hold no heads, are refused.
	if r := s.run(2, "verify", "--heads", heads); !strings.Contains(r.stderr, "--since "+heads) {
		t.Errorf("verify --heads FILE: %s", r)
	}
	s.run(2, "verify", "--since", s.file("garbage.json", []byte(`{"nothing": "here"}`)))
	s.run(2, "verify", "--since", s.file("bad-hash.json", []byte(`[{"agreement":"microsoft-openai","version":1,"hash":"abc"}]`)))
	s.run(2, "verify", "--since", filepath.Join(dir, "missing.json"))

	// Tamper: a message around the ledger, on microsoft-openai's subject,
	// chained to the wrong amendment.
	nc, err := nats.Connect("nats://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	forged, err := events.Decode([]byte(`{"agreement":"microsoft-openai","effective":"2027-06-01","changes":[{"op":"declare","condition":"agi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	forged[0].ID = ulid.Make()
	data, err := events.Encode(forged[0], events.Hash{1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(context.Background(), "ledger.agreement.microsoft-openai", data); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	for _, args := range [][]string{{"verify"}, {"verify", "--since", heads}} {
		r := s.run(1, args...)
		if !strings.Contains(r.stdout, "BROKEN  microsoft-openai version 3") || !strings.Contains(r.stderr, "microsoft-openai version 3") {
			t.Errorf("ledger %s after a message with a wrong prev: %s", strings.Join(args, " "), r)
		}
	}
	if r := s.run(1, "verify", "--heads"); r.stdout != "" || !strings.Contains(r.stderr, "no heads exported") || !strings.Contains(r.stderr, "microsoft-openai version 3") {
		t.Errorf("verify --heads of a ledger that does not verify: %s", r)
	}
	if code := srv.stop(); code != 0 {
		t.Errorf("serve exited %d", code)
	}

	// Tamper: the same history rewritten — the first amendment's summary
	// changed — and chained anew, on a store of its own. Every chain holds.
	var items []map[string]any
	if err := json.Unmarshal(seed.JSON, &items); err != nil {
		t.Fatal(err)
	}
	items[0]["summary"] = "Rewritten: " + items[0]["summary"].(string)
	rewritten, _ := json.Marshal(items)
	other := &store{t: t, dir: dir, args: []string{"--data", filepath.Join(dir, "rewritten")}}
	other.runIn(0, string(rewritten), "append")
	if r := other.run(0, "verify"); !strings.Contains(r.stdout, "hash chains: intact") {
		t.Errorf("the rewritten history does not verify on its own: %s", r)
	}
	r = other.run(1, "verify", "--since", heads)
	if !strings.Contains(r.stdout, "BROKEN  microsoft-openai version 1") || !strings.Contains(r.stdout, "rewritten") || !strings.Contains(r.stderr, "microsoft-openai version 1") {
		t.Errorf("verify --since of a rewritten history: %s", r)
	}
	other.json(&v, 1, "verify", "--since", heads)
	if v.OK || len(v.Broken) != 1 || v.Broken[0].Agreement != "microsoft-openai" || v.Broken[0].Version != 1 {
		t.Errorf("verify --since -o json of a rewritten history: %+v", v)
	}
}
