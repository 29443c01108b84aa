package ledgertest

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is three in-process JetStream servers clustered over routes on
// 127.0.0.1, each with its own store, for tests of replicated streams.
type Cluster struct {
	t       testing.TB
	Servers []*server.Server
	opts    []*server.Options
}

// NewCluster starts a three-node cluster and waits until it has a
// JetStream meta leader. The servers are shut down by t.Cleanup.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	c := &Cluster{t: t}
	ports := freePorts(t, 6)
	var routes []string
	for _, p := range ports[:3] {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
	}
	dir := t.TempDir()
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("n%d", i+1)
		o := &server.Options{
			ServerName: name,
			Host:       "127.0.0.1",
			Port:       ports[3+i],
			JetStream:  true,
			StoreDir:   filepath.Join(dir, name),
			SyncAlways: true,
			NoSigs:     true,
			NoLog:      true,
			Cluster:    server.ClusterOpts{Name: "ledger", Host: "127.0.0.1", Port: ports[i]},
			Routes:     server.RoutesFromStr(strings.Join(routes, ",")),
		}
		c.opts = append(c.opts, o)
		c.Servers = append(c.Servers, c.start(o))
	}
	t.Cleanup(c.Shutdown)
	c.waitForLeader()
	return c
}

func (c *Cluster) start(o *server.Options) *server.Server {
	c.t.Helper()
	s, err := server.NewServer(o.Clone())
	if err != nil {
		c.t.Fatalf("ledgertest: cluster server %s: %v", o.ServerName, err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		c.t.Fatalf("ledgertest: cluster server %s did not start", o.ServerName)
	}
	return s
}

func (c *Cluster) waitForLeader() {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, s := range c.Servers {
			if s.Running() && s.JetStreamIsLeader() {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatal("ledgertest: the cluster elected no JetStream meta leader in 20s")
}

// URL lists the client URLs of all three servers, comma-separated.
func (c *Cluster) URL() string {
	var urls []string
	for _, o := range c.opts {
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", o.Port))
	}
	return strings.Join(urls, ",")
}

// Stop shuts server i down.
func (c *Cluster) Stop(i int) {
	c.Servers[i].Shutdown()
	c.Servers[i].WaitForShutdown()
}

// Restart starts server i again on its store and ports.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	c.Servers[i] = c.start(c.opts[i])
}

// StreamLeader returns the index of the server leading stream, or -1.
func (c *Cluster) StreamLeader(stream string) int {
	for i, s := range c.Servers {
		if s.Running() && s.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, stream) {
			return i
		}
	}
	return -1
}

// Shutdown stops every server.
func (c *Cluster) Shutdown() {
	for _, s := range c.Servers {
		if s.Running() {
			s.Shutdown()
			s.WaitForShutdown()
		}
	}
}

// freePorts finds n free TCP ports on 127.0.0.1.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}
