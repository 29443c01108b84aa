package main

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

// composeFile is the part of docker-compose.yml the test reads.
type composeFile struct {
	Services map[string]struct {
		Image   string   `yaml:"image"`
		Command []string `yaml:"command"`
		Volumes []string `yaml:"volumes"`
		Ports   []string `yaml:"ports"`
		Build   struct {
			Context    string `yaml:"context"`
			Dockerfile string `yaml:"dockerfile"`
		} `yaml:"build"`
		DependsOn map[string]any `yaml:"depends_on"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

// flagValues parses a command line of nats-server's "-x value" flags.
func flagValues(args []string) map[string]string {
	out := map[string]string{}
	for i := 0; i < len(args); i++ {
		if !strings.HasPrefix(args[i], "-") {
			continue
		}
		if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			out[args[i]] = args[i+1]
			i++
		} else {
			out[args[i]] = ""
		}
	}
	return out
}

// TestCompose checks that docker-compose.yml is coherent with itself and
// with the command: three clustered JetStream nodes with stores of their
// own, and a ledger whose command line the real command tree accepts, that
// names those nodes, replicates three times and publishes its HTTP port on
// the loopback interface only. No Docker engine runs here.
func TestCompose(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(b, &cf); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}

	nodes := []string{"n1", "n2", "n3"}
	for _, n := range nodes {
		svc, ok := cf.Services[n]
		if !ok {
			t.Fatalf("no service %s", n)
		}
		if !strings.HasPrefix(svc.Image, "nats:2.") {
			t.Errorf("%s: image %q, want the official nats:2.x", n, svc.Image)
		}
		f := flagValues(svc.Command)
		if _, js := f["-js"]; !js {
			t.Errorf("%s: JetStream is off (no -js): %v", n, svc.Command)
		}
		if f["-n"] != n {
			t.Errorf("%s: server name %q", n, f["-n"])
		}
		if f["--cluster_name"] != "ledger" {
			t.Errorf("%s: cluster name %q", n, f["--cluster_name"])
		}
		cluster, err := url.Parse(f["--cluster"])
		if err != nil || cluster.Port() == "" {
			t.Fatalf("%s: --cluster %q", n, f["--cluster"])
		}
		var routed []string
		for _, r := range strings.Split(f["--routes"], ",") {
			u, err := url.Parse(r)
			if err != nil || u.Port() != cluster.Port() {
				t.Errorf("%s: route %q does not reach the cluster port %s", n, r, cluster.Port())
				continue
			}
			routed = append(routed, u.Hostname())
		}
		slices.Sort(routed)
		if !slices.Equal(routed, nodes) {
			t.Errorf("%s: routes reach %v, want all of %v", n, routed, nodes)
		}
		store := f["-sd"]
		if store == "" {
			t.Errorf("%s: no store directory (-sd)", n)
		}
		mounted := false
		for _, v := range svc.Volumes {
			name, dir, _ := strings.Cut(v, ":")
			if _, ok := cf.Volumes[name]; ok && dir == store {
				mounted = true
			}
		}
		if !mounted {
			t.Errorf("%s: its store %s is not on a named volume: %v", n, store, svc.Volumes)
		}
	}

	lg, ok := cf.Services["ledger"]
	if !ok {
		t.Fatal("no ledger service")
	}
	if lg.Build.Dockerfile != "cmd/ledger/Dockerfile" || lg.Build.Context != "." {
		t.Errorf("the ledger is built from %s in %s", lg.Build.Dockerfile, lg.Build.Context)
	}
	dockerfile, err := os.ReadFile(filepath.Join("..", "..", lg.Build.Dockerfile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dockerfile), "FROM golang:1.26") || !strings.Contains(string(dockerfile), "./cmd/ledger") {
		t.Errorf("the Dockerfile does not build ./cmd/ledger with golang:1.26")
	}
	for _, n := range nodes {
		if _, ok := lg.DependsOn[n]; !ok {
			t.Errorf("the ledger does not wait for %s", n)
		}
	}

	// The ledger's command line, parsed by the real command tree: every
	// flag must exist.
	a := &app{stdin: strings.NewReader(""), stdout: os.Stdout, stderr: os.Stderr}
	root := a.rootCommand()
	cmd, rest, err := root.Find(lg.Command)
	if err != nil || cmd.Name() != "serve" {
		t.Fatalf("the ledger runs %v: %v", lg.Command, err)
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Fatalf("the ledger's command line %v: %v", lg.Command, err)
	}
	if args := cmd.Flags().Args(); len(args) > 0 {
		t.Errorf("stray arguments %v", args)
	}
	if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
		t.Error(err)
	}
	flag := func(c *cobra.Command, name string) string {
		f := c.Flags().Lookup(name)
		if f == nil {
			t.Fatalf("no flag --%s", name)
		}
		return f.Value.String()
	}
	if flag(cmd, "replicas") != "3" {
		t.Errorf("--replicas %s, want 3", flag(cmd, "replicas"))
	}
	var natsHosts []string
	for _, u := range strings.Split(flag(cmd, "nats"), ",") {
		p, err := url.Parse(u)
		if err != nil || p.Scheme != "nats" || p.Port() != "4222" {
			t.Errorf("--nats %q", u)
			continue
		}
		natsHosts = append(natsHosts, p.Hostname())
	}
	slices.Sort(natsHosts)
	if !slices.Equal(natsHosts, nodes) {
		t.Errorf("--nats names %v, want the services %v", natsHosts, nodes)
	}
	_, httpPort, err := net.SplitHostPort(flag(cmd, "http"))
	if err != nil {
		t.Fatalf("--http: %v", err)
	}
	published := false
	for _, p := range lg.Ports {
		if p == "127.0.0.1:"+httpPort+":"+httpPort {
			published = true
		}
	}
	if !published {
		t.Errorf("the HTTP port %s is not published on 127.0.0.1: %v", httpPort, lg.Ports)
	}
}
