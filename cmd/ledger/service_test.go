package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events/seed"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/ledgertest"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// servedSeed starts `ledger serve --listen` on a store holding the seed
// history and returns the server and its NATS URL.
func servedSeed(t *testing.T) (*server, string, *store) {
	t.Helper()
	s := newStore(t)
	s.run(0, "append", s.file("seed.json", seed.JSON))
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	srv := serve(t, s.dir, append(s.args, "--listen", addr)...)
	if !strings.Contains(srv.stdout.String(), "NATS service ledger") {
		t.Errorf("serve does not say it serves the NATS service:\n%s", srv.stdout)
	}
	return srv, "nats://" + addr, s
}

// TestServiceFlag: with --service each command that asks the ledger asks
// its NATS service, and says exactly what it says when it opens the stream
// itself — text and -o json, answers, denials and errors, with the same
// exit codes; appends through the service are recorded once and honour
// --expect-version.
func TestServiceFlag(t *testing.T) {
	t.Parallel()
	srv, url, s := servedSeed(t)
	direct := &store{t: t, dir: s.dir, args: []string{"--nats", url}}
	via := &store{t: t, dir: s.dir, args: []string{"--nats", url, "--service"}}
	var h historyDoc
	direct.json(&h, 0, "history", "openai-amazon")
	deal := h.Amendments[0].ID

	for _, c := range []struct {
		code int
		args []string
	}{
		{0, []string{"state", "microsoft-openai", "--at", "2026-03-15"}},
		{0, []string{"state", "microsoft-openai", "--at", "2031-06-30", "--known-at", deal}},
		{0, []string{"state", "microsoft-openai", "--at", "2031-06-30", "--known-at", h.Amendments[0].Recorded}},
		{0, []string{"conflicts", "--at", "2026-03-15"}},
		{0, []string{"conflicts", "--at", "2027-06-01", "--known-at", deal}},
		{3, []string{"check", "--party", "amazon", "--product", "frontier", "--channel", "api", "--at", "2026-03-15"}},
		{0, []string{"check", "--party", "amazon", "--product", "frontier", "--channel", "api", "--at", "2027-01-01"}},
		{3, []string{"check", "--party", "amazon", "--product", "chat", "--channel", "web", "--at", "2027-01-01"}},
		{0, []string{"check", "--party", "amazon", "--product", "chat", "--channel", "web", "--at", "2027-01-01", "--ignore-basis"}},
		{3, []string{"check", "--party", "microsoft", "--product", "frontier", "--channel", "api", "--at", "2027-01-01", "--ignore-basis"}},
		{0, []string{"history", "microsoft-openai"}},
		{0, []string{"diff", "microsoft-openai", "--from", "2026-03-15", "--to", "2027-01-01"}},
		{0, []string{"timeline", "microsoft-openai", "--width", "80"}},
		{0, []string{"diff", "microsoft-openai", "--from", "2026-03-15", "--to", "2027-01-01", "--known-at", deal}},
		{0, []string{"timeline", "microsoft-openai", "--width", "80", "--known-at", deal}},
		{0, []string{"agreements", "--at", "2027-01-01"}},
		{0, []string{"verify"}},
		{0, []string{"avails", "--product", "frontier", "--channel", "api", "--from", "2026-01-01", "--to", "2033-01-01"}},
		{0, []string{"avails", "--product", "frontier", "--channel", "api", "--party", "amazon", "--from", "2026-01-01", "--to", "2033-01-01", "--known-at", deal}},
		{0, []string{"avails", "--holder", "microsoft", "--from", "2019-01-01", "--to", "2033-01-01"}},
		{0, []string{"avails", "--product", "frontier", "--channel", "api", "--party", "amazon", "--from", "2019-01-01", "--to", "2033-01-01", "--ignore-basis"}},
		{0, []string{"calendar", "--from", "2026-01-01", "--to", "2033-01-01"}},
		{0, []string{"calendar", "--agreement", "microsoft-openai", "--from", "2019-01-01", "--to", "2033-01-01", "--known-at", deal}},
		{0, []string{"state", "microsoft-openai", "--at", "2026-03-15", "--allow-damaged"}},
		{1, []string{"state", "nobody", "--at", "2027-01-01"}},
		{1, []string{"calendar", "--agreement", "nobody", "--from", "2026-01-01", "--to", "2027-01-01"}},
		{2, []string{"avails", "--product", "frontier", "--from", "2026-01-01", "--to", "2027-01-01"}},
		{2, []string{"avails", "--holder", "amazon", "--party", "amazon", "--from", "2026-01-01", "--to", "2027-01-01"}},
		{2, []string{"calendar", "--from", "2027-01-01", "--to", "2026-01-01"}},
		{2, []string{"check", "--party", "amazon", "--at", "2027-01-01"}},
		{2, []string{"check", "--party", "Amazon", "--product", "frontier", "--channel", "api"}},
	} {
		for _, form := range [][]string{nil, {"-o", "json"}} {
			args := append(append([]string{}, c.args...), form...)
			want := direct.run(c.code, args...)
			got := via.run(c.code, args...)
			if got.stdout != want.stdout || got.stderr != want.stderr {
				t.Errorf("ledger --service %s:\n%s\nwithout --service:\n%s", strings.Join(args, " "), got, want)
			}
		}
	}
	// A known-at given as an amendment says which it is, both ways.
	for _, st := range []*store{direct, via} {
		r := st.run(0, "state", "microsoft-openai", "--at", "2031-06-30", "--known-at", deal)
		if want := "as known at " + h.Amendments[0].Recorded + " (as of amendment " + deal + ", openai-amazon v1) (version 1)"; !strings.Contains(r.stdout, want) {
			t.Errorf("state --known-at %s does not say %q:\n%s", deal, want, r.stdout)
		}
		r = st.run(0, "conflicts", "--at", "2027-06-01", "--known-at", deal, "-o", "json")
		if want := `"known_at_amendment": {
    "id": "` + deal + `",
    "agreement": "openai-amazon",
    "version": 1
  }`; !strings.Contains(r.stdout, want) {
			t.Errorf("conflicts --known-at %s -o json does not name it:\n%s", deal, r.stdout)
		}
		r = st.run(3, "check", "--party", "microsoft", "--product", "frontier", "--channel", "api", "--at", "2027-06-01", "--known-at", deal)
		if want := "at 2027-06-01, as known at " + h.Amendments[0].Recorded + " (as of amendment " + deal + ", openai-amazon v1)"; !strings.Contains(r.stdout, want) {
			t.Errorf("check --known-at %s does not say %q:\n%s", deal, want, r.stdout)
		}
	}

	// The timeline's drawing too.
	direct.run(0, "timeline", "microsoft-openai", "--svg", "direct.svg")
	via.run(0, "timeline", "microsoft-openai", "--svg", "via.svg")
	a, _ := os.ReadFile(filepath.Join(s.dir, "direct.svg"))
	b, _ := os.ReadFile(filepath.Join(s.dir, "via.svg"))
	if len(a) == 0 || !sameSVG(a, b) {
		t.Errorf("timeline --svg through the service draws otherwise (%d and %d bytes)", len(a), len(b))
	}

	// The calendar file, rendered from the document the service answers.
	direct.run(0, "calendar", "--from", "2026-01-01", "--to", "2033-01-01", "--ics", "direct.ics")
	via.run(0, "calendar", "--from", "2026-01-01", "--to", "2033-01-01", "--ics", "via.ics")
	a, _ = os.ReadFile(filepath.Join(s.dir, "direct.ics"))
	b, _ = os.ReadFile(filepath.Join(s.dir, "via.ics"))
	stamp := regexp.MustCompile(`DTSTAMP:\d{8}T\d{6}Z`)
	if !bytes.Contains(a, []byte("BEGIN:VEVENT")) || !bytes.Equal(stamp.ReplaceAll(a, nil), stamp.ReplaceAll(b, nil)) {
		t.Errorf("calendar --ics through the service writes otherwise:\n%s\nwithout --service:\n%s", b, a)
	}

	// Appends.
	acme := via.file("acme.json", []byte(`{"id":"01KR0000000000000000000042","agreement":"openai-acme","effective":"2027-03-01","changes":[{"op":"open","title":"OpenAI–Acme","parties":["openai","acme"]}]}`))
	var res appendDoc
	via.json(&res, 0, "append", "--dry-run", acme)
	direct.run(1, "history", "openai-acme")
	via.json(&res, 0, "append", acme)
	if len(res.Appended) != 1 || res.Appended[0].Version != 1 || res.Appended[0].Duplicate {
		t.Fatalf("append --service: %+v", res)
	}
	via.json(&res, 0, "append", acme)
	if !res.Appended[0].Duplicate {
		t.Fatalf("the same amendment again through the service: %+v", res)
	}
	end := via.file("end.json", []byte(`{"agreement":"openai-acme","effective":"2027-06-01","changes":[{"op":"close"}]}`))
	if r := via.run(4, "append", "--expect-version", "0", end, "-o", "json"); parseError(t, r).Error.Kind != "conflict" {
		t.Errorf("a stale --expect-version through the service: %s", r)
	}
	bad := via.file("bad.json", []byte(`{"agreement":"openai-acme","effective":"2027-06-01","changes":[{"op":"end","clause":"nothing"}]}`))
	if w, g := direct.run(2, "append", bad), via.run(2, "append", bad); w.stderr != g.stderr {
		t.Errorf("invalid input through the service:\n%s\nwithout:\n%s", g, w)
	}
	via.run(0, "append", "--expect-version", "1", end)
	direct.json(&h, 0, "history", "openai-acme")
	if len(h.Amendments) != 2 {
		t.Errorf("openai-acme has %d amendments, want 2", len(h.Amendments))
	}

	// What --service does not do.
	via.run(2, "append", "--what-if", end)
	via.run(2, "serve")
	via.run(2, "demo")
	if r := (&store{t: t, dir: s.dir, args: s.args}).run(2, "--service", "state", "microsoft-openai"); !strings.Contains(r.stderr, "--nats") {
		t.Errorf("--service without --nats: %s", r)
	}
	if code := srv.stop(); code != 0 {
		t.Errorf("serve exited %d", code)
	}
	if r := via.run(1, "state", "microsoft-openai"); !strings.Contains(r.stderr, "NATS") {
		t.Errorf("--service with nothing serving: %s", r)
	}
}

// TestServiceFlagOnADamagedStore: on a store that lost a message of one
// agreement, --service says what the command says without it: a question
// about that agreement fails (exit 5) unless --allow-damaged, which the
// service is asked with; questions across agreements print their answer,
// marked, and exit 5 unless --allow-damaged.
func TestServiceFlagOnADamagedStore(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.runIn(0, fiftyAmendments(), "append")
	ledgertest.FlipBlock(t, filepath.Join(s.dir, "data"), "LEDGER", 16)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	srv := serve(t, s.dir, append(s.args, "--listen", addr)...)
	defer srv.stop()
	url := "nats://" + addr
	direct := &store{t: t, dir: s.dir, args: []string{"--nats", url}}
	via := &store{t: t, dir: s.dir, args: []string{"--nats", url, "--service"}}
	for _, args := range [][]string{
		{"state", "deal", "--at", "2027-01-01"},
		{"history", "deal"},
		{"timeline", "deal", "--width", "80"},
		{"diff", "deal", "--from", "2026-01-15", "--to", "2027-01-01"},
		{"calendar", "--agreement", "deal", "--from", "2026-01-01", "--to", "2028-01-01"},
		{"calendar", "--from", "2026-01-01", "--to", "2028-01-01"},
		{"agreements", "--at", "2027-01-01"},
		{"conflicts", "--at", "2027-01-01"},
	} {
		for _, allow := range []bool{false, true} {
			code := 5
			if allow {
				code, args = 0, append(args, "--allow-damaged")
			}
			for _, form := range [][]string{nil, {"-o", "json"}} {
				args := append(append([]string{}, args...), form...)
				want := direct.run(code, args...)
				got := via.run(code, args...)
				if got.stdout != want.stdout || got.stderr != want.stderr {
					t.Errorf("ledger --service %s:\n%s\nwithout --service:\n%s", strings.Join(args, " "), got, want)
				}
				if allow && !strings.Contains(got.stdout, "DAMAGED") && !strings.Contains(got.stdout, `"damaged"`) {
					t.Errorf("ledger --service %s is not marked damaged:\n%s", strings.Join(args, " "), got)
				}
			}
		}
	}
}

// sameSVG compares two drawings but for the time they were drawn.
func sameSVG(a, b []byte) bool {
	now := regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)
	return bytes.Equal(now.ReplaceAll(a, nil), now.ReplaceAll(b, nil))
}

// TestClientPermissionsProfile: permissions --client prints a user who may
// only ask the ledger's NATS service. On a server configured with it as
// printed, beside the ledger's own user, that user asks through --service
// (and discovers the service), cannot open the stream itself, and cannot
// publish to it: nothing it tries is stored.
func TestClientPermissionsProfile(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	var doc struct {
		Subject     string                 `json:"subject"`
		User        string                 `json:"user"`
		Permissions natsserver.Permissions `json:"permissions"`
	}
	s.json(&doc, 0, "permissions", "--client")
	want := ledger.ServiceClientPermissions(ledger.Config{})
	if doc.User != "ledger-client" || doc.Subject != "ledger.v1.>" || fmt.Sprint(doc.Permissions.Publish.Allow) != fmt.Sprint(want.PublishAllow) ||
		fmt.Sprint(doc.Permissions.Publish.Deny) != fmt.Sprint(want.PublishDeny) || fmt.Sprint(doc.Permissions.Subscribe.Allow) != fmt.Sprint(want.SubscribeAllow) {
		t.Errorf("permissions --client -o json: %+v", doc)
	}

	// The two users as printed, in one authorization block.
	server := s.run(0, "permissions").stdout
	clientBlock := s.run(0, "permissions", "--client").stdout
	users := regexp.MustCompile(`(?s)  users: \[\n(.*)\n  \]\n}`)
	m := users.FindStringSubmatch(clientBlock)
	if m == nil {
		t.Fatalf("permissions --client is not an authorization block:\n%s", clientBlock)
	}
	port := freePort(t)
	ledgertest.ServerFromConfig(t, s.dir, fmt.Sprintf("%s: \"s3cret\"\n%s: \"asker\"\nlisten: \"127.0.0.1:%d\"\njetstream { store_dir: %q }\n%s", passwordVar, clientPasswordVar, port, filepath.Join(s.dir, "js"),
		strings.Replace(server, "  users: [\n", "  users: [\n    {user: \"admin\", password: \"admin\"}\n"+m[1]+"\n", 1)))
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	ledgerUser := []string{"--nats", url, "--nats-user", "ledger", "--nats-password", "s3cret"}
	serving := serve(t, s.dir, ledgerUser...)
	defer serving.stop()

	asker := &store{t: t, dir: s.dir, args: []string{"--nats", url, "--nats-user", "ledger-client", "--nats-password", "asker", "--service"}}
	asker.run(0, "append", asker.file("seed.json", seed.JSON))
	var st stateDoc
	asker.json(&st, 0, "state", "microsoft-openai", "--at", "2026-03-15")
	if len(st.Licenses) != 1 {
		t.Errorf("state as the client: %+v", st)
	}
	asker.run(3, "check", "--party", "amazon", "--product", "frontier", "--channel", "api", "--at", "2026-03-15")
	violations := make(chan error, 8)
	nc, err := nats.Connect(url, nats.UserInfo("ledger-client", "asker"), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { violations <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Request("$SRV.PING.ledger", nil, 2*time.Second); err != nil {
		t.Errorf("discovery as the client: %v", err)
	}
	// Opening the stream itself (what the command does without --service)
	// needs JetStream, which is not the client's to call.
	cjs, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := cjs.Stream(ctx, "LEDGER"); err == nil {
		t.Error("the client's user could call JetStream")
	}
	nc.Publish("ledger.agreement.microsoft-openai", []byte(`{"forged":true}`))
	select {
	case err := <-violations:
		if !errors.Is(err, nats.ErrPermissionViolation) {
			t.Errorf("the forged publish: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Error("the server did not refuse the client's publish to the stream")
	}
	admin, err := nats.Connect(url, nats.UserInfo("admin", "admin"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	js, _ := jetstream.New(admin)
	info, err := js.Stream(context.Background(), "LEDGER")
	if err != nil || info.CachedInfo().State.Msgs != 3 {
		t.Fatalf("the stream after the client's attempts: %v", err)
	}
}

// TestNATSCommandLine: the `nats` command finds the service and asks it,
// and gets the command's own JSON documents. The nats CLI is installed by
// CI (.ci/run); elsewhere the test needs it on PATH, and skips without it.
func TestNATSCommandLine(t *testing.T) {
	t.Parallel()
	natsCLI, err := exec.LookPath("nats")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the nats CLI is not on PATH; .ci/run installs it")
		}
		t.Skip("the nats CLI is not on PATH (go install github.com/nats-io/natscli/nats@v0.5.1)")
	}
	_, url, s := servedSeed(t)
	natsRun := func(code int, args ...string) result {
		t.Helper()
		cmd := exec.Command(natsCLI, append([]string{"--server", url}, args...)...)
		cmd.Dir = s.dir
		cmd.Env = append(env(), "HOME="+s.dir, "XDG_CONFIG_HOME="+s.dir) // no context of the user's
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		r := result{stdout: stdout.String(), stderr: stderr.String()}
		if ee, ok := err.(*exec.ExitError); ok {
			r.code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if r.code != code {
			t.Fatalf("nats %s: want exit %d, got %s", strings.Join(args, " "), code, r)
		}
		return r
	}

	info := natsRun(0, "micro", "info", "ledger")
	for _, want := range []string{"Service: ledger", "ledger.v1.state", "ledger.v1.append", "ledger.v1.conflicts", "ledger.v1.verify", "stream: LEDGER"} {
		if !strings.Contains(info.stdout, want) {
			t.Errorf("nats micro info ledger does not say %q:\n%s", want, info.stdout)
		}
	}
	state := natsRun(0, "req", "--raw", "ledger.v1.state", `{"agreement": "microsoft-openai", "at": "2026-03-15"}`)
	want := s.run(0, "--nats", url, "state", "microsoft-openai", "--at", "2026-03-15", "-o", "json").stdout
	var a, b bytes.Buffer
	if json.Compact(&a, []byte(state.stdout)) != nil || json.Compact(&b, []byte(want)) != nil || a.String() != b.String() {
		t.Errorf("nats req ledger.v1.state:\n%s\nledger state -o json:\n%s", state.stdout, want)
	}
	missing := natsRun(0, "req", "ledger.v1.state", `{"agreement": "nobody"}`)
	if !strings.Contains(missing.stdout+missing.stderr, "Nats-Service-Error-Code: 404") || !strings.Contains(missing.stdout+missing.stderr, `"not_found"`) {
		t.Errorf("nats req for an unknown agreement:\n%s", missing)
	}
	stats := natsRun(0, "micro", "stats", "ledger", "--json")
	if !strings.Contains(stats.stdout, `"num_requests": 2`) && !strings.Contains(stats.stdout, `"num_requests":2`) {
		t.Errorf("nats micro stats ledger: the state endpoint's two requests are not counted:\n%s", stats.stdout)
	}
}
