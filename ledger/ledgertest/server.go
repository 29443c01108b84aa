package ledgertest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Server starts a standalone JetStream server of options o on 127.0.0.1 (a
// random port, a temporary store, quiet), stopped by t.Cleanup.
func Server(t testing.TB, o *server.Options) *server.Server {
	t.Helper()
	o.Host, o.Port, o.JetStream, o.StoreDir = "127.0.0.1", server.RANDOM_PORT, true, t.TempDir()
	return start(t, o)
}

// ServerFromConfig starts a server as an operator would: from a
// configuration file, written with config into dir. The configuration
// must load; the server is stopped by t.Cleanup.
func ServerFromConfig(t testing.TB, dir, config string) *server.Server {
	t.Helper()
	conf := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(conf, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := server.ProcessConfigFile(conf)
	if err != nil {
		t.Fatalf("the configuration does not load: %v\n%s", err, config)
	}
	return start(t, o)
}

func start(t testing.TB, o *server.Options) *server.Server {
	t.Helper()
	o.NoLog, o.NoSigs = true, true
	s, err := server.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("the server did not start")
	}
	return s
}
