package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events/seed"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/client"
	"github.com/agreement-ledger/ledger/ledger/ledgertest"
	"github.com/agreement-ledger/ledger/ledger/service"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
)

func permissions(p ledger.Permissions) *server.Permissions {
	sp := &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: p.PublishAllow, Deny: p.PublishDeny},
		Subscribe: &server.SubjectPermission{Allow: p.SubscribeAllow},
	}
	if p.AllowResponses {
		sp.Response = &server.ResponsePermission{MaxMsgs: 1, Expires: time.Minute}
	}
	return sp
}

// TestServiceClientCanOnlyAsk: on a server whose users have the ledger's
// permissions (ClientPermissions, serving) and a service client's
// (ServiceClientPermissions), the client queries, appends and discovers
// through the service, and cannot publish to the stream's subjects or call
// JetStream: what it tries is not stored.
func TestServiceClientCanOnlyAsk(t *testing.T) {
	srv := ledgertest.Server(t, &server.Options{Users: []*server.User{
		{Username: "admin", Password: "admin"},
		{Username: "ledger", Password: "ledger", Permissions: permissions(ledger.ClientPermissions(ledger.Config{}))},
		{Username: "client", Password: "client", Permissions: permissions(ledger.ServiceClientPermissions(ledger.Config{}))},
	}})
	l, err := ledger.Open(context.Background(), ledger.Config{URL: srv.ClientURL(), User: "ledger", Password: "ledger", Timeout: 2 * time.Second, SnapshotEvery: -1})
	if err != nil {
		t.Fatalf("open as the ledger's user: %v", err)
	}
	defer l.Close()
	s, err := service.Start(l.Conn(), l, service.Options{})
	if err != nil {
		t.Fatalf("serving as the ledger's user: %v", err)
	}
	defer s.Stop()

	violations := make(chan error, 16)
	nc, err := nats.Connect(srv.ClientURL(), nats.UserInfo("client", "client"),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { violations <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := client.New(nc, client.Options{Timeout: 2 * time.Second, Attempts: 1})
	ctx := context.Background()
	if _, err := c.Append(ctx, seed.Amendments(), ledger.AppendOptions{}); err != nil {
		t.Fatalf("append through the service as the client: %v", err)
	}
	st, err := c.State(ctx, "microsoft-openai", time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC), time.Time{})
	if err != nil || st.Clause("ip-license") == nil {
		t.Fatalf("state through the service as the client: %v", err)
	}
	m, err := nc.Request("$SRV.INFO.ledger", nil, 2*time.Second)
	var info micro.Info
	if err != nil || json.Unmarshal(m.Data, &info) != nil || info.Name != "ledger" {
		t.Fatalf("discovery as the client: %v", err)
	}

	// Around the service: a message published to an agreement's subject,
	// and JetStream's API.
	if err := nc.Publish("ledger.agreement.microsoft-openai", []byte(`{"forged":true}`)); err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	tctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if _, err := js.Stream(tctx, "LEDGER"); err == nil {
		t.Error("the client could call JetStream's API")
	}
	if _, err := js.Publish(tctx, "ledger.agreement.openai-amazon", []byte(`{"forged":true}`)); err == nil {
		t.Error("the client could publish to the stream")
	}
	select {
	case err := <-violations:
		if !errors.Is(err, nats.ErrPermissionViolation) {
			t.Errorf("the server's answer to the forged publish: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Error("the server did not refuse the forged publish")
	}
	// Nothing but the seed is on the stream.
	admin, err := nats.Connect(srv.ClientURL(), nats.UserInfo("admin", "admin"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ajs, _ := jetstream.New(admin)
	ast, err := ajs.Stream(ctx, "LEDGER")
	if err != nil || ast.CachedInfo().State.Msgs != uint64(len(seed.Amendments())) {
		t.Fatalf("the stream after the attempts: %+v %v", ast.CachedInfo().State, err)
	}
	if rep, err := c.Verify(ctx, nil); err != nil || !rep.OK || rep.Foreign != 0 {
		t.Fatalf("verify through the service: %+v %v", rep, err)
	}
}
