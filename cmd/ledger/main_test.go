package main

// End-to-end tests: the command is built once (TestMain) and run as a user
// runs it, in temporary directories, each test with stores of its own.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// bin is the ledger binary under test.
var bin string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "ledger-e2e-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		bin = filepath.Join(dir, "ledger")
		goCmd, err := exec.LookPath("go")
		if err != nil {
			goCmd = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		}
		build := exec.Command(goCmd, "build", "-o", bin, ".")
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building the ledger command:", err)
			return 1
		}
		return m.Run()
	}())
}

// result is what one run of the command did.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// env is the environment of the command: the test's, without the ledger's
// own variables, so that only flags say where the store is.
func env(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envData+"=") && !strings.HasPrefix(kv, envNATS+"=") {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

// ledgerIn runs the command in dir with stdin and returns what it did.
func ledgerIn(t *testing.T, dir string, stdin string, args ...string) result {
	t.Helper()
	return ledgerEnv(t, dir, nil, stdin, args...)
}

// ledgerEnv is ledgerIn with more environment variables.
func ledgerEnv(t *testing.T, dir string, extra []string, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = env(extra...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("ledger %s: %v", strings.Join(args, " "), err)
		}
		r.code = ee.ExitCode()
	}
	return r
}

// store is a ledger store in a temporary directory.
type store struct {
	t    *testing.T
	dir  string   // working directory
	args []string // global flags naming the store
}

func newStore(t *testing.T) *store {
	dir := t.TempDir()
	return &store{t: t, dir: dir, args: []string{"--data", filepath.Join(dir, "data")}}
}

// run runs the command on the store and fails the test unless it exits
// with code.
func (s *store) run(code int, args ...string) result {
	s.t.Helper()
	return s.runIn(code, "", args...)
}

func (s *store) runIn(code int, stdin string, args ...string) result {
	s.t.Helper()
	r := ledgerIn(s.t, s.dir, stdin, append(append([]string{}, s.args...), args...)...)
	if r.code != code {
		s.t.Fatalf("ledger %s: want exit %d, got %s", strings.Join(args, " "), code, r)
	}
	return r
}

// json runs the command with -o json, expecting exit code, and decodes
// its standard output into v.
func (s *store) json(v any, code int, args ...string) result {
	s.t.Helper()
	r := s.run(code, append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		s.t.Fatalf("ledger %s -o json: output is not the JSON document: %v\n%s", strings.Join(args, " "), err, r)
	}
	return r
}

// file writes a file in the store's directory and returns its path.
func (s *store) file(name string, data []byte) string {
	s.t.Helper()
	p := filepath.Join(s.dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		s.t.Fatal(err)
	}
	return p
}

// errorDoc is the JSON error document on stderr.
type errorDoc struct {
	Error struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

func parseError(t *testing.T, r result) errorDoc {
	t.Helper()
	var doc errorDoc
	if err := json.Unmarshal([]byte(r.stderr), &doc); err != nil {
		t.Fatalf("stderr is not the JSON error document: %v\n%s", err, r)
	}
	if doc.Error.Message == "" {
		t.Fatalf("error document without a message: %s", r)
	}
	return doc
}

// freePort returns a TCP port on the loopback interface nobody listens on.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// server is a "ledger serve" child process.
type server struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdout *bytes.Buffer
	stderr bytes.Buffer
	done   chan error
	stopFn func() // instead of a process: an in-process cluster
}

// serve starts "ledger serve" with args in dir and waits until it says it
// is ready.
func serve(t *testing.T, dir string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	cmd.Dir = dir
	cmd.Env = env()
	s := &server{t: t, cmd: cmd, stdout: &bytes.Buffer{}, done: make(chan error, 1)}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		said := false
		for sc.Scan() {
			s.stdout.WriteString(sc.Text() + "\n")
			if !said && strings.Contains(sc.Text(), "ready") {
				said = true
				ready <- true
			}
		}
		if !said {
			ready <- false
		}
		s.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-s.done
		}
	})
	select {
	case ok := <-ready:
		if !ok {
			<-s.done
			t.Fatalf("ledger serve exited before it was ready:\n%s\n%s", s.stdout, &s.stderr)
		}
	case <-time.After(30 * time.Second):
		// Its goroutines, on its stderr; read once it has exited.
		cmd.Process.Signal(syscall.SIGQUIT)
		<-s.done
		t.Fatalf("ledger serve did not say it was ready within 30s:\n%s\n%s", s.stdout, &s.stderr)
	}
	return s
}

// stop sends SIGTERM and returns the exit code.
func (s *server) stop() int {
	s.t.Helper()
	if s.stopFn != nil {
		s.stopFn()
		return 0
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				return ee.ExitCode()
			}
			s.t.Fatal(err)
		}
		return 0
	case <-time.After(30 * time.Second):
		s.t.Fatalf("ledger serve did not stop within 30s of SIGTERM:\n%s\n%s", s.stdout, &s.stderr)
	}
	return -1
}

// startCluster starts three clustered JetStream servers in this process,
// the first with its client port at port, as docker-compose.yml runs them.
// It returns a function that stops them.
func startCluster(t *testing.T, port int) func() {
	t.Helper()
	names := []string{"n1", "n2", "n3"}
	routePorts := make([]int, len(names))
	var routes []string
	for i := range names {
		routePorts[i] = freePort(t)
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", routePorts[i]))
	}
	var servers []*natsserver.Server
	for i, name := range names {
		clientPort := port
		if i > 0 {
			clientPort = freePort(t)
		}
		opts := &natsserver.Options{
			ServerName: name,
			Host:       "127.0.0.1",
			Port:       clientPort,
			JetStream:  true,
			StoreDir:   filepath.Join(t.TempDir(), name),
			NoLog:      true,
			NoSigs:     true,
			Cluster:    natsserver.ClusterOpts{Name: "ledger", Host: "127.0.0.1", Port: routePorts[i]},
			Routes:     natsserver.RoutesFromStr(strings.Join(routes, ",")),
		}
		srv, err := natsserver.NewServer(opts)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 && os.Getenv("DEBUG_CLUSTER") != "" {
			opts.NoLog = false
			srv.ConfigureLogger()
		}
		srv.Start()
		servers = append(servers, srv)
	}
	stop := func() {
		for _, s := range servers {
			s.Shutdown()
			s.WaitForShutdown()
		}
	}
	t.Cleanup(stop)
	for _, s := range servers {
		if !s.ReadyForConnections(30 * time.Second) {
			t.Fatalf("cluster node %s did not start", s.Name())
		}
	}
	return stop
}
