package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/synth"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Cluster is three JetStream servers in this process, clustered over routes
// on 127.0.0.1, each storing in a directory of its own: what p1c and p3c
// run on. Like the compose file's cluster, the servers keep the default
// fsync interval: an acknowledged message is on a majority of them.
// (ledgertest has such a cluster for tests; it needs a testing.TB.)
type Cluster struct {
	dir     string
	servers []*server.Server
	urls    []string
}

// StartCluster starts a three-node cluster storing under a new temporary
// directory in dir ("" = the system's), and waits until it has a JetStream
// meta leader.
func StartCluster(dir string) (*Cluster, error) {
	d, err := os.MkdirTemp(dir, "ledger-bench-cluster-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: d}
	ports, err := freePorts(6)
	if err != nil {
		c.Close()
		return nil, err
	}
	var routes []string
	for _, p := range ports[:3] {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
	}
	for i := range 3 {
		name := fmt.Sprintf("n%d", i+1)
		o := &server.Options{
			ServerName: name,
			Host:       "127.0.0.1",
			Port:       ports[3+i],
			JetStream:  true,
			StoreDir:   filepath.Join(d, name),
			NoSigs:     true,
			NoLog:      true,
			Cluster:    server.ClusterOpts{Name: "bench", Host: "127.0.0.1", Port: ports[i]},
			Routes:     server.RoutesFromStr(strings.Join(routes, ",")),
		}
		s, err := server.NewServer(o)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("bench: cluster server %s: %w", name, err)
		}
		s.Start()
		c.servers = append(c.servers, s)
		if !s.ReadyForConnections(10 * time.Second) {
			c.Close()
			return nil, fmt.Errorf("bench: cluster server %s did not start in 10 s", name)
		}
		c.urls = append(c.urls, fmt.Sprintf("nats://127.0.0.1:%d", ports[3+i]))
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		for _, s := range c.servers {
			if s.JetStreamIsLeader() {
				return c, nil
			}
		}
		if time.Now().After(deadline) {
			c.Close()
			return nil, errors.New("bench: the cluster elected no JetStream meta leader in 30 s")
		}
	}
}

// URL lists the client URLs of the three servers, comma-separated.
func (c *Cluster) URL() string { return strings.Join(c.urls, ",") }

// Close stops the servers and removes their stores.
func (c *Cluster) Close() {
	for _, s := range c.servers {
		s.Shutdown()
		s.WaitForShutdown()
	}
	os.RemoveAll(c.dir)
}

// leader is the name of the server leading stream, or "".
func (c *Cluster) leader(stream string) string {
	for _, s := range c.servers {
		if s.Running() && s.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, stream) {
			return s.Name()
		}
	}
	return ""
}

// colocate moves the leadership of stream to the server leading other, so
// that a raw baseline and the ledger's stream take the same path through
// the cluster (a leader elsewhere than the client's server costs a hop).
// It reports whether they lead on one server.
func (c *Cluster) colocate(ctx context.Context, nc *nats.Conn, stream, other string) bool {
	for try := 0; try < 10 && ctx.Err() == nil; try++ {
		want, have := c.leader(other), c.leader(stream)
		if want != "" && want == have {
			return true
		}
		if want != "" && have != "" {
			req, _ := json.Marshal(server.JSApiLeaderStepdownRequest{Placement: &server.Placement{Preferred: want}})
			nc.Request(fmt.Sprintf(server.JSApiStreamLeaderStepDownT, stream), req, 5*time.Second)
		}
		for wait := time.Now().Add(3 * time.Second); time.Now().Before(wait); time.Sleep(50 * time.Millisecond) {
			if l := c.leader(stream); l != "" && l != have {
				break
			}
		}
	}
	return c.leader(other) == c.leader(stream)
}

// freePorts finds n free TCP ports on 127.0.0.1.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// clusterStore is a ledger with a stream of its own, replicated three
// times on c, and a raw stream of the same settings whose leader is on the
// same server.
type clusterStore struct {
	l     *ledger.Ledger
	js    jetstream.JetStream
	raw   string // the raw stream's subject prefix
	apart bool   // the two streams' leaders are on different servers
}

func openClusterStore(ctx context.Context, c *Cluster, name string) (*clusterStore, error) {
	stream := strings.ToUpper(name)
	l, err := ledger.Open(ctx, ledger.Config{URL: c.URL(), Replicas: 3, Stream: stream, Subject: name + ".agreement", SnapshotEvery: -1})
	if err != nil {
		return nil, err
	}
	s := &clusterStore{l: l, raw: "raw" + name}
	if s.js, err = jetstream.New(l.Conn()); err != nil {
		l.Close()
		return nil, err
	}
	cfg := jetstream.StreamConfig{Name: "RAW" + stream, Subjects: []string{s.raw + ".>"}, Storage: jetstream.FileStorage, Replicas: 3,
		Discard: jetstream.DiscardNew, MaxMsgs: -1, MaxBytes: -1, MaxMsgsPerSubject: -1, DenyDelete: true, DenyPurge: true, AllowAtomicPublish: true}
	for give := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		// A cluster that has just formed may not know all its peers yet.
		_, err = s.js.CreateStream(ctx, cfg)
		if err == nil || !errors.Is(err, &jetstream.APIError{ErrorCode: 10005}) || time.Now().After(give) {
			break
		}
	}
	if err != nil {
		l.Close()
		return nil, err
	}
	s.apart = !c.colocate(ctx, l.Conn(), "RAW"+stream, stream)
	return s, nil
}

// close closes the ledger; its streams stay until the cluster closes.
func (s *clusterStore) close() { s.l.Close() }

// note says where the leaders were when they could not be put together.
func (s *clusterStore) note() string {
	if s.apart {
		return "the raw stream's leader could not be moved to the ledger stream's server: ratios include a hop on one side"
	}
	return ""
}

// publishOneAtATime publishes data synchronously, one message at a time,
// on subject, and returns messages/s.
func publishOneAtATime(ctx context.Context, js jetstream.JetStream, subject string, data [][]byte) (float64, error) {
	start := time.Now()
	for i, d := range data {
		if _, err := js.Publish(ctx, subject, d, jetstream.WithMsgID(strconv.Itoa(i))); err != nil {
			return 0, err
		}
	}
	return float64(len(data)) / time.Since(start).Seconds(), nil
}

// ClusterAppends measures p1c: one append at a time on a stream replicated
// three times, against synchronous publishes of the same bytes, one at a
// time, to a raw stream of the same settings. It returns the raw rate too
// (p3c's baseline).
func ClusterAppends(ctx context.Context, sz Sizes, c *Cluster) (*Result, float64, error) {
	s, err := openClusterStore(ctx, c, "p1c")
	if err != nil {
		return nil, 0, err
	}
	defer s.close()
	as := synth.New(int64(sz.Seed)).Agreement("p1c", sz.ClusterAppends)
	raw, err := publishOneAtATime(ctx, s.js, s.raw+".p1c", encoded(as))
	if err != nil {
		return nil, 0, err
	}
	start := time.Now()
	for _, a := range as {
		if _, err := s.l.Append(ctx, []*events.Amendment{a}, ledger.AppendOptions{}); err != nil {
			return nil, 0, err
		}
	}
	lr := float64(len(as)) / time.Since(start).Seconds()
	r := &Result{ID: "p1c", Name: "one append at a time, three-node cluster (R3)", Ledger: lr, Raw: ptr(raw), Ratio: ptr(lr / raw), Unit: "appends/s",
		Target: "≥ 0.9×", Met: lr >= 0.9*raw, Note: s.note()}
	return r, raw, nil
}

// ClusterWriters measures p3c: sz.Writers concurrent writers on distinct
// agreements, each appending one at a time, on a stream replicated three
// times, against raw, the rate of raw synchronous publishes one at a time
// on such a stream (p1c's; measured here when raw is 0). The ceiling of
// raw atomic batches of one message per writer is a note.
func ClusterWriters(ctx context.Context, sz Sizes, c *Cluster, raw float64) (*Result, error) {
	s, err := openClusterStore(ctx, c, "p3c")
	if err != nil {
		return nil, err
	}
	defer s.close()
	g := synth.New(int64(sz.Seed))
	work := make([][]*events.Amendment, sz.Writers)
	for w := range work {
		work[w] = g.Agreement(fmt.Sprintf("writer-%02d", w), sz.ClusterPerWriter)
	}
	if raw == 0 {
		one := g.Agreement("one-at-a-time", sz.ClusterAppends)
		if raw, err = publishOneAtATime(ctx, s.js, s.raw+".one", encoded(one)); err != nil {
			return nil, err
		}
	}
	lr, err := concurrently(ctx, s.l, work)
	if err != nil {
		return nil, err
	}
	var data [][]byte
	for round := range sz.ClusterPerWriter {
		for w := range work {
			data = append(data, encoded(work[w][round:round+1])...)
		}
	}
	start := time.Now()
	if err := publishBatches(ctx, s.l.Conn(), s.js, s.raw+".p3c", data, sz.Writers); err != nil {
		return nil, err
	}
	ceiling := float64(len(data)) / time.Since(start).Seconds()
	r := &Result{ID: "p3c", Name: fmt.Sprintf("%d concurrent writers, one append each at a time, R3", sz.Writers), Ledger: lr, Raw: ptr(raw), Ratio: ptr(lr / raw),
		Unit: "appends/s", Target: "≥ 5×", Met: lr >= 5*raw, Figures: map[string]float64{"ceiling": ceiling},
		Note: fmt.Sprintf("raw: p1c's publishes one at a time; raw atomic batches of %d (each writer's next) back to back: %s appends/s, %.2f×", sz.Writers, num(ceiling), ceiling/raw)}
	if n := s.note(); n != "" {
		r.Note += "\n" + n
	}
	return r, nil
}
