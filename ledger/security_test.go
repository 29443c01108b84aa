package ledger_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events/seed"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/ledgertest"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// selfSigned returns a TLS config for a server on 127.0.0.1 and the path
// of a PEM file holding the certificate, to trust as a CA.
func selfSigned(t *testing.T) (*tls.Config, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ledger test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}, ca
}

func TestTLSOnlyPasswordProtectedServer(t *testing.T) {
	tlsConfig, ca := selfSigned(t)
	s := ledgertest.Server(t, &server.Options{TLS: true, TLSConfig: tlsConfig, TLSTimeout: 2, Username: "ledger", Password: "s3cret"})
	url := strings.Replace(s.ClientURL(), "nats://", "tls://", 1)
	cases := []struct {
		name string
		cfg  ledger.Config
		want string // "" for success, else part of the error
	}{
		{"right password and CA", ledger.Config{URL: url, User: "ledger", Password: "s3cret", CAFile: ca}, ""},
		{"wrong password", ledger.Config{URL: url, User: "ledger", Password: "guess", CAFile: ca}, "authorization"},
		{"untrusted certificate", ledger.Config{URL: url, User: "ledger", Password: "s3cret"}, "certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Timeout = 2 * time.Second
			tc.cfg.SnapshotEvery = -1
			l, err := ledger.Open(context.Background(), tc.cfg)
			if tc.want != "" {
				if err == nil || !strings.Contains(strings.ToLower(err.Error()), tc.want) {
					t.Fatalf("open: %v; want an error about %s", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if _, err := l.Append(context.Background(), seed.Amendments(), ledger.AppendOptions{}); err != nil {
				t.Fatal(err)
			}
			if st, err := l.State("microsoft-openai", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Time{}); err != nil || st.Clause("ip-license") == nil {
				t.Fatalf("state over TLS: %v", err)
			}
		})
	}
}

func TestRestrictedUserCannotDeleteOrPurge(t *testing.T) {
	perms := ledger.ClientPermissions(ledger.Config{})
	s := ledgertest.Server(t, &server.Options{Users: []*server.User{
		{Username: "admin", Password: "admin"},
		{Username: "ledger", Password: "ledger", Permissions: &server.Permissions{
			Publish:   &server.SubjectPermission{Allow: perms.PublishAllow, Deny: perms.PublishDeny},
			Subscribe: &server.SubjectPermission{Allow: perms.SubscribeAllow},
		}},
	}})
	cfg := ledger.Config{URL: s.ClientURL(), User: "ledger", Password: "ledger", Timeout: 2 * time.Second}
	l, err := ledger.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open as the restricted user: %v", err)
	}
	if _, err := l.Append(context.Background(), seed.Amendments(), ledger.AppendOptions{}); err != nil {
		t.Fatalf("append as the restricted user: %v", err)
	}
	if rep, err := l.Verify(context.Background(), nil); err != nil || !rep.OK {
		t.Fatalf("verify as the restricted user: %+v %v", rep, err)
	}
	l.Close()
	l, err = ledger.Open(context.Background(), cfg) // loads the snapshot written on close
	if err != nil {
		t.Fatalf("reopen as the restricted user: %v", err)
	}
	defer l.Close()

	nc, err := nats.Connect(s.ClientURL(), nats.UserInfo("ledger", "ledger"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	st, err := js.Stream(ctx, "LEDGER")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		try  func(ctx context.Context) error
	}{
		{"delete the stream", func(ctx context.Context) error { return js.DeleteStream(ctx, "LEDGER") }},
		{"purge the stream", func(ctx context.Context) error { return st.Purge(ctx) }},
		{"delete a message", func(ctx context.Context) error { return st.DeleteMsg(ctx, 1) }},
		{"loosen the stream", func(ctx context.Context) error {
			c := st.CachedInfo().Config
			c.DenyDelete, c.MaxAge = false, time.Hour
			_, err := js.UpdateStream(ctx, c)
			return err
		}},
	} {
		// A denied request gets no answer: the attempt times out.
		ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		if err := tc.try(ctx); err == nil {
			t.Errorf("the restricted user could %s", tc.name)
		}
		cancel()
	}
	if info, err := st.Info(ctx); err != nil || info.State.Msgs != 3 {
		t.Fatalf("stream after the attempts: %+v %v", info, err)
	}
}
