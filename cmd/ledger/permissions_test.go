package main

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
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

// TestPermissions prints the permissions a deployment grants the ledger's
// NATS user: -o json holds ledger.ClientPermissions for the stream named,
// and the text form is a nats-server configuration that works as printed —
// a server started from it lets the ledger command append and verify as
// that user, and refuses that user deleting or purging the stream.
func TestPermissions(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	var doc struct {
		Stream      string                 `json:"stream"`
		Subject     string                 `json:"subject"`
		User        string                 `json:"user"`
		Permissions natsserver.Permissions `json:"permissions"`
	}
	for _, stream := range []string{"LEDGER", "ORDERS"} {
		r := s.json(&doc, 0, "permissions", "--stream", stream)
		want := ledger.ClientPermissions(ledger.Config{Stream: stream})
		p := doc.Permissions
		if doc.Stream != stream || doc.Subject != "ledger.agreement.*" || doc.User != "ledger" || p.Publish == nil || p.Subscribe == nil ||
			!reflect.DeepEqual(p.Publish.Allow, want.PublishAllow) || !reflect.DeepEqual(p.Publish.Deny, want.PublishDeny) || !reflect.DeepEqual(p.Subscribe.Allow, want.SubscribeAllow) {
			t.Errorf("permissions --stream %s -o json: %s", stream, r.stdout)
		}
		if strings.Contains(r.stdout, `\u003e`) {
			t.Errorf("-o json escapes '>': %s", r.stdout)
		}
	}
	if r := s.run(0, "permissions", "--stream", "ORDERS"); !strings.Contains(r.stdout, `"$JS.API.STREAM.PURGE.ORDERS"`) || strings.Contains(r.stdout, ".LEDGER") {
		t.Errorf("permissions --stream ORDERS: %s", r.stdout)
	}
	s.run(2, "permissions", "--user", `a"b`)

	// A server configured with the snippet as printed (the password in a
	// variable, as a deployment would set it in the environment) and an
	// administrator beside the ledger's user.
	snippet := s.run(0, "permissions", "--user", "ledger-svc").stdout
	port := freePort(t)
	ledgertest.ServerFromConfig(t, s.dir, fmt.Sprintf("%s: \"s3cret\"\nlisten: \"127.0.0.1:%d\"\njetstream { store_dir: %q }\n%s", passwordVar, port, filepath.Join(s.dir, "js"),
		strings.Replace(snippet, "  users: [\n", "  users: [\n    {user: \"admin\", password: \"admin\"}\n", 1)))
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)

	svc := &store{t: t, dir: s.dir, args: []string{"--nats", url, "--nats-user", "ledger-svc", "--nats-password", "s3cret"}}
	svc.run(0, "append", svc.file("seed.json", seed.JSON))
	svc.run(0, "verify")
	svc.run(0, "state", "microsoft-openai", "--at", "2027-01-01")
	if r := ledgerIn(t, s.dir, "", "--nats", url, "--nats-user", "ledger-svc", "--nats-password", "wrong", "verify"); r.code == 0 {
		t.Errorf("a wrong password was accepted: %s", r)
	}

	// A denied request gets no answer: the attempt times out, and the
	// server reports the violation (not printed here).
	quiet := nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {})
	nc, err := nats.Connect(url, nats.UserInfo("ledger-svc", "s3cret"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	st, err := js.Stream(context.Background(), "LEDGER")
	if err != nil {
		t.Fatal(err)
	}
	for what, try := range map[string]func(ctx context.Context) error{
		"delete the stream": func(ctx context.Context) error { return js.DeleteStream(ctx, "LEDGER") },
		"purge the stream":  func(ctx context.Context) error { return st.Purge(ctx) },
		"delete a message":  func(ctx context.Context) error { return st.DeleteMsg(ctx, 1) },
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		if err := try(ctx); err == nil {
			t.Errorf("the ledger's user could %s", what)
		}
		cancel()
	}
	// Nothing was lost: the administrator sees the three amendments.
	admin, err := nats.Connect(url, nats.UserInfo("admin", "admin"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ajs, _ := jetstream.New(admin)
	info, err := ajs.Stream(context.Background(), "LEDGER")
	if err != nil || info.CachedInfo().State.Msgs != 3 {
		t.Fatalf("the stream after the attempts: %v", err)
	}
	var v verifyDoc
	svc.json(&v, 0, "verify")
	if !v.OK || v.Messages != 3 {
		t.Errorf("verify as the ledger's user after the attempts: %+v", v)
	}
}
