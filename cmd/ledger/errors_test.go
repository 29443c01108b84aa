package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/seed"
)

// TestErrors checks the exit code and the error document of each kind of
// error, and that invalid input writes nothing.
func TestErrors(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	seedFile := s.file("seed.json", seed.JSON)
	s.run(0, "append", seedFile)
	history := func() string {
		t.Helper()
		var h historyDoc
		return s.json(&h, 0, "history", "microsoft-openai").stdout
	}
	before := history()

	t.Run("invalid input: exit 2, nothing written", func(t *testing.T) {
		// A valid amendment followed by an invalid one: the valid one is
		// not written either.
		in := `{"agreement":"microsoft-openai","effective":"2027-01-01","changes":[{"op":"end","clause":"ip-license"}]}
{"agreement":"microsoft-openai","effective":"2027-02-30","changes":[{"op":"end","clause":"no-such-clause"}]}`
		r := s.runIn(2, in, "append", "-o", "json")
		doc := parseError(t, r)
		if doc.Error.Kind != "invalid" || !strings.HasPrefix(doc.Error.Field, "[1]") {
			t.Errorf("error document: %+v", doc)
		}
		if r.stdout != "" {
			t.Errorf("stdout on error: %q", r.stdout)
		}
		// A clause that does not exist: only the ledger's history can tell.
		in = `{"agreement":"microsoft-openai","effective":"2027-01-01","changes":[{"op":"end","clause":"no-such-clause"}]}`
		r = s.runIn(2, in, "append")
		if !strings.Contains(r.stderr, "no-such-clause") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("want one line naming the clause on stderr: %s", r)
		}
		s.runIn(2, "not json", "append")
		s.runIn(2, "", "append")
		if after := history(); after != before {
			t.Errorf("invalid input changed the history:\nbefore %s\nafter %s", before, after)
		}
	})

	t.Run("a rate as a percentage: exit 2 saying what a rate is", func(t *testing.T) {
		in := `{"agreement":"microsoft-openai","effective":"2027-01-01","changes":[{"op":"amend","clause":"openai-revenue-share","set":{"rate":"20%"}}]}`
		want := `changes[0].set.rate: "20%" is a percentage: a rate is a decimal in [0, 1] such as "0.20" ("20%" is "0.2")`
		if r := s.runIn(2, in, "append"); !strings.Contains(r.stderr, want) || r.stdout != "" {
			t.Errorf("stderr %q, stdout %q; want %q", r.stderr, r.stdout, want)
		}
		doc := parseError(t, s.runIn(2, in, "append", "-o", "json"))
		if doc.Error.Kind != "invalid" || doc.Error.Field != "changes[0].set.rate" || !strings.Contains(doc.Error.Message, `a rate is a decimal in [0, 1] such as "0.20"`) {
			t.Errorf("error document: %+v", doc)
		}
		if after := history(); after != before {
			t.Errorf("a refused rate changed the history")
		}
	})

	t.Run("unknown agreement: exit 1, not_found", func(t *testing.T) {
		r := s.run(1, "state", "microsoft-opnai", "--at", "2027-01-01", "-o", "json")
		if doc := parseError(t, r); doc.Error.Kind != "not_found" {
			t.Errorf("error document: %+v", doc)
		}
		r = s.run(1, "history", "nobody")
		if !strings.HasPrefix(r.stderr, "ledger: ") || !strings.Contains(r.stderr, "nobody") {
			t.Errorf("stderr: %q", r.stderr)
		}
	})

	t.Run("expected version mismatch: exit 4, conflict", func(t *testing.T) {
		in := `{"agreement":"openai-amazon","effective":"2026-06-01","changes":[{"op":"fund","clause":"amazon-investment","tranche":"initial"}]}`
		r := s.runIn(4, in, "append", "--expect-version", "0", "-o", "json")
		if doc := parseError(t, r); doc.Error.Kind != "conflict" {
			t.Errorf("error document: %+v", doc)
		}
		var res appendDoc
		r = s.runIn(0, in, "append", "--expect-version", "1", "-o", "json")
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || len(res.Appended) != 1 || res.Appended[0].Version != 2 {
			t.Errorf("append at the expected version: %v %s", err, r)
		}
		var st stateDoc
		s.json(&st, 0, "state", "openai-amazon", "--at", "2026-07-01")
		if len(st.Investments) != 1 {
			t.Fatalf("investments: %+v", st.Investments)
		}
	})

	t.Run("check denied: exit 3", func(t *testing.T) {
		r := s.run(3, "check", "--party", "openai", "--product", "frontier", "--channel", "api", "--at", "2027-01-01")
		if r.stderr != "" {
			t.Errorf("a denial is an answer, not an error: stderr %q", r.stderr)
		}
	})

	t.Run("check without a basis: exit 3, or 0 ignoring the basis", func(t *testing.T) {
		for _, args := range [][]string{nil, {"-o", "json"}} {
			r := s.run(3, append([]string{"check", "--party", "acme", "--product", "frontier", "--channel", "web", "--at", "2027-01-01"}, args...)...)
			if r.stderr != "" || !strings.Contains(r.stdout, "NO BASIS") && !strings.Contains(r.stdout, "no_basis") {
				t.Errorf("no basis is an answer, not an error: %s", r)
			}
			r = s.run(0, append([]string{"check", "--party", "acme", "--product", "frontier", "--channel", "web", "--at", "2027-01-01", "--ignore-basis"}, args...)...)
			if r.stderr != "" {
				t.Errorf("ignoring the basis: %s", r)
			}
		}
	})

	t.Run("check without product or channel: exit 2 naming it", func(t *testing.T) {
		// A check without them asks nothing: it would always be allowed.
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"--party", "amazon"}, "--product, --channel are required"},
			{[]string{"--party", "amazon", "--product", "frontier"}, "--channel is required"},
			{[]string{"--party", "amazon", "--channel", "api"}, "--product is required"},
			{[]string{"--party", "amazon", "--product", "", "--channel", "api"}, `--product "" is not a slug`},
		} {
			r := s.run(2, append([]string{"check", "--at", "2027-01-01"}, c.args...)...)
			if !strings.Contains(r.stderr, c.want) || r.stdout != "" {
				t.Errorf("check %v: stderr %q, stdout %q; want %q", c.args, r.stderr, r.stdout, c.want)
			}
		}
	})

	t.Run("command line: exit 2", func(t *testing.T) {
		for _, args := range [][]string{
			{"state"},
			{"state", "microsoft-openai", "--at", "yesterday"},
			{"state", "microsoft-openai", "--no-such-flag"},
			{"check", "--party", "amazon", "--product", "frontier"},
			{"check", "--party", "Amazon!", "--product", "frontier", "--channel", "api"},
			{"diff", "microsoft-openai"},
			{"stat", "microsoft-openai"},
			{"state", "microsoft-openai", "-o", "yaml"},
			{"append", "no-such-file.json"},
		} {
			r := s.run(2, args...)
			if !strings.HasPrefix(r.stderr, "ledger: ") {
				t.Errorf("ledger %s: stderr %q", strings.Join(args, " "), r.stderr)
			}
		}
	})
}

// TestInputForms appends the seed as a JSON array, then again (idempotent:
// same ids, duplicates, versions unchanged), then as JSON Lines.
func TestInputForms(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	file := s.file("seed.json", seed.JSON)
	var first, again appendDoc
	s.json(&first, 0, "append", file)
	var h1 historyDoc
	s.json(&h1, 0, "history", "microsoft-openai")
	s.json(&again, 0, "append", file)
	if len(first.Appended) != 3 || len(again.Appended) != 3 {
		t.Fatalf("appended %d then %d", len(first.Appended), len(again.Appended))
	}
	for i := range first.Appended {
		a, b := first.Appended[i], again.Appended[i]
		if a.Duplicate || !b.Duplicate || a.ID != b.ID || a.Version != b.Version || a.Agreement != b.Agreement {
			t.Errorf("amendment %d: first %+v, again %+v", i, a, b)
		}
	}
	if len(again.Conflicts) != 0 {
		t.Errorf("a re-append introduces no conflict: %+v", again.Conflicts)
	}
	var h2 historyDoc
	s.json(&h2, 0, "history", "microsoft-openai")
	if len(h1.Amendments) != len(h2.Amendments) {
		t.Errorf("history grew on a re-append: %d → %d", len(h1.Amendments), len(h2.Amendments))
	}
	out := s.run(0, "append", file).stdout
	if !strings.Contains(out, "already recorded") {
		t.Errorf("text output of a re-append:\n%s", out)
	}

	// JSON Lines, through stdin, into another store: the same answers.
	var items []json.RawMessage
	if err := json.Unmarshal(seed.JSON, &items); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, raw := range items {
		b, _ := json.Marshal(raw)
		lines = append(lines, string(b))
	}
	other := newStore(t)
	var res appendDoc
	r := other.runIn(0, strings.Join(lines, "\n")+"\n", "append", "-o", "json")
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for i := range res.Appended {
		got = append(got, res.Appended[i].ID)
		want = append(want, first.Appended[i].ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("JSON Lines recorded %v, the array %v", got, want)
	}
}

// TestExitCodes: the exit code of each kind of error, wrapped or not; the
// sorts of invalid input the HTTP API tells apart exit as invalid input.
func TestExitCodes(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
	}{
		{events.Errorf(events.Invalid, "x"), 2},
		{events.Errorf(events.TooLarge, "x"), 2},
		{events.Errorf(events.BadParameter, "x"), 2},
		{fmt.Errorf("reading: %w", events.Errorf(events.Invalid, "x")), 2},
		{events.Errorf(events.Conflict, "x"), 4},
		{events.Errorf(events.NotFound, "x"), 1},
		{events.Errorf(events.Internal, "x"), 1},
		{events.Errorf(events.Damaged, "x"), 5},
		{events.Errorf(events.NoSpace, "x"), 1},
		{errors.New("x"), 1},
	} {
		if got := exitCode(c.err); got != c.want {
			t.Errorf("exitCode(%v, kind %s) = %d, want %d", c.err, events.KindOf(c.err), got, c.want)
		}
	}
}
