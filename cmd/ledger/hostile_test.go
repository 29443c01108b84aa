package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger/ledgertest"
)

// TestHostileInputThroughTheCommand runs every input of the hostile corpus
// through "ledger append FILE", as text and as -o json: each exits 2, says
// on stderr which field is wrong and what is wrong with it, prints nothing
// on stdout, and the stream is exactly as it was — same messages, same
// chain heads.
func TestHostileInputThroughTheCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	srv := serve(t, dir, "--data", filepath.Join(dir, "data"), "--listen", addr)
	defer srv.stop()
	s := &store{t: t, dir: dir, args: []string{"--nats", "nats://" + addr}}
	s.runIn(0, string(ledgertest.HostileSetup()), "append")
	streamState := func() string {
		t.Helper()
		var v verifyDoc
		s.json(&v, 0, "verify")
		if !v.OK || v.Messages == 0 {
			t.Fatalf("verify: %+v", v)
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	before := streamState()

	cases := ledgertest.HostileCases(t)
	if len(cases) < 60 {
		t.Fatalf("the corpus has %d cases, want at least 60", len(cases))
	}
	t.Run("corpus", func(t *testing.T) {
		for _, c := range cases {
			file := s.file(c.File, c.Body)
			t.Run(c.Name, func(t *testing.T) {
				t.Parallel()
				r := ledgerIn(t, dir, "", append(s.args, "append", file)...)
				if r.code != 2 || r.stdout != "" {
					t.Fatalf("want exit 2 and nothing on stdout: %s", r)
				}
				line := strings.TrimSpace(r.stderr)
				if !strings.HasPrefix(line, "ledger: ") || strings.Contains(line, "\n") {
					t.Errorf("want one line on stderr: %q", r.stderr)
				}
				if c.Field != "" && !strings.Contains(line, c.Field+": ") {
					t.Errorf("stderr does not name the field %s: %s", c.Field, line)
				}
				if !strings.Contains(line, c.Says) {
					t.Errorf("stderr does not say %q: %s", c.Says, line)
				}
				r = ledgerIn(t, dir, "", append(s.args, "append", file, "-o", "json")...)
				if r.code != 2 || r.stdout != "" {
					t.Fatalf("-o json: want exit 2 and nothing on stdout: %s", r)
				}
				var doc struct {
					Error struct {
						Kind    string              `json:"kind"`
						Message string              `json:"message"`
						Fields  []events.FieldError `json:"fields"`
					} `json:"error"`
				}
				if err := json.Unmarshal([]byte(r.stderr), &doc); err != nil || doc.Error.Kind != "invalid" {
					t.Fatalf("-o json: stderr is not an invalid-input error document (%v): %s", err, r.stderr)
				}
				found := false
				for _, f := range doc.Error.Fields {
					found = found || f.Path == c.Field && strings.Contains(f.Message, c.Says)
				}
				if !found && !(c.Field == "" && strings.Contains(doc.Error.Message, c.Says)) {
					t.Errorf("-o json: no field error at %q saying %q: %s", c.Field, c.Says, r.stderr)
				}
			})
		}
	})
	if after := streamState(); after != before {
		t.Fatalf("hostile input changed the stream:\nbefore %s\nafter  %s", before, after)
	}
}

// repeatReader yields a pattern over and over, n bytes in all, without
// holding them.
type repeatReader struct {
	pattern []byte
	n, off  int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n-r.off)]
	for i := range p {
		p[i] = r.pattern[(r.off+int64(i))%int64(len(r.pattern))]
	}
	r.off += int64(len(p))
	return len(p), nil
}

// TestOversizeInputThroughTheCommand: a 50 MB file is refused unread with
// exit 2 and a message saying what to do; 200 MB on standard input is
// refused after the limit, in bounded memory; one amendment over 256 KiB is
// refused naming its size and the limit — and nothing is written.
func TestOversizeInputThroughTheCommand(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.run(0, "append", s.file("seed.json", ledgertest.HostileSetup()))
	var before verifyDoc
	s.json(&before, 0, "verify")

	// run runs append with stdin and reports what it did, how long it took
	// and its peak memory.
	run := func(stdin io.Reader, args ...string) (result, time.Duration, int64) {
		t.Helper()
		cmd := exec.Command(bin, append(append([]string{}, s.args...), args...)...)
		cmd.Dir, cmd.Env, cmd.Stdin = s.dir, env(), stdin
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		err := cmd.Run()
		took := time.Since(start)
		r := result{stdout: stdout.String(), stderr: stderr.String()}
		if ee, ok := err.(*exec.ExitError); ok {
			r.code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024 // KiB on Linux
		return r, took, rss
	}
	// The child's peak memory counts this process's at the moment it
	// started (Go starts children with vfork, and Linux keeps the larger
	// of the two across exec): a child over bound is a child that used
	// more than bound itself only if it is over this process's peak too.
	over := func(rss, bound int64) bool {
		var self syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &self); err != nil {
			t.Fatal(err)
		}
		return rss > max(bound, self.Maxrss*1024)
	}
	const mb = 1 << 20
	big := filepath.Join(s.dir, "big.json")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	// One amendment whose summary is 50 MB long.
	body := io.MultiReader(strings.NewReader(`[{"agreement":"x","effective":"2027-01-01","summary":"`),
		&repeatReader{pattern: []byte("A"), n: 50 * mb}, strings.NewReader(`","changes":[{"op":"close"}]}]`))
	if _, err := io.Copy(f, body); err != nil {
		t.Fatal(err)
	}
	f.Close()

	r, took, rss := run(nil, "append", big)
	t.Logf("50 MB file: exit %d in %v, peak memory %d MB: %s", r.code, took, rss/mb, strings.TrimSpace(r.stderr))
	if r.code != 2 || !strings.Contains(r.stderr, "larger than") || !strings.Contains(r.stderr, "--max-input") || !strings.Contains(r.stderr, "nothing was written") {
		t.Errorf("50 MB file: want exit 2 saying it is too large and what to do: %s", r)
	}
	if took > 10*time.Second || over(rss, 100*mb) {
		t.Errorf("50 MB file: took %v and %d MB; it should be refused before it is read", took, rss/mb)
	}
	// Raising the limit reads it, and the decoder refuses it.
	r, took, rss = run(nil, "append", "--max-input", fmt.Sprint(64*mb), big)
	t.Logf("50 MB file with --max-input 64 MiB: exit %d in %v, peak memory %d MB", r.code, took, rss/mb)
	if r.code != 2 || !strings.Contains(r.stderr, "amendment is too large") {
		t.Errorf("50 MB file with --max-input 64 MiB: %s", r)
	}

	r, took, rss = run(&repeatReader{pattern: []byte(`{"agreement":"x","effective":"2027-01-01","changes":[]}` + "\n"), n: 200 * mb}, "append", "-")
	t.Logf("200 MB on stdin: exit %d in %v, peak memory %d MB", r.code, took, rss/mb)
	if r.code != 2 || !strings.Contains(r.stderr, "standard input is larger than") {
		t.Errorf("200 MB on stdin: %s", r)
	}
	if took > 20*time.Second || over(rss, 200*mb) {
		t.Errorf("200 MB on stdin: took %v and %d MB; reading should stop at the limit", took, rss/mb)
	}

	one := ledgertest.OversizeAmendment()
	if len(one) <= events.MaxAmendment {
		t.Fatalf("the oversize amendment has %d bytes", len(one))
	}
	r = s.runIn(2, one, "append")
	if !strings.Contains(r.stderr, "too large") || !strings.Contains(r.stderr, fmt.Sprint(events.MaxAmendment)) {
		t.Errorf("an amendment over 256 KiB: %s", r)
	}
	agi := `{"agreement":"microsoft-openai","effective":"2027-01-01","changes":[{"op":"declare","condition":"agi"}]}`
	r = s.runIn(2, "["+agi+","+one+"]", "append", "-o", "json")
	if doc := parseError(t, r); doc.Error.Field != "[1]" || !strings.Contains(doc.Error.Message, "too large") {
		t.Errorf("an amendment over 256 KiB as the second of two: %+v", doc)
	}

	var after verifyDoc
	s.json(&after, 0, "verify")
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("oversize input changed the stream:\nbefore %+v\nafter  %+v", before, after)
	}
}
