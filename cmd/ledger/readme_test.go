package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestREADME runs every command the README shows, in order, in a fresh
// directory, against the built binary, and checks each exit code: 0, or
// the one a "# exit N" comment on the line announces. Files the README asks
// to save ("… as `NAME`:" before a json block) are written first. Lines the
// test cannot run as written have exact stand-ins:
//
//   - go run ./cmd/ledger ARGS  runs the built binary with ARGS;
//   - ledger serve … &          starts the server and waits until it is ready;
//     kill %1                   stops it with SIGTERM and expects exit 0;
//   - docker compose up         starts a three-node JetStream cluster in this
//     process in place of the compose file's (the first node's client
//     address is the same), docker compose down stops it;
//   - go test, go install, sleep are not run (CI runs the tests; installing
//     needs the network; the test waits for readiness instead of sleeping);
//   - nats … runs the nats CLI when it is on PATH (CI installs it; without
//     it TestNATSCommandLine skips, or fails in CI).
//
// The README's NATS port, 4222, is replaced by a free one. Any other line
// fails the test, so a command added to the README is a command tested.
func TestREADME(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	port := freePort(t)
	text := strings.ReplaceAll(string(readme), "127.0.0.1:4222", fmt.Sprintf("127.0.0.1:%d", port))
	text = strings.ReplaceAll(text, "127.0.0.1:8080", fmt.Sprintf("127.0.0.1:%d", freePort(t)))

	files := regexp.MustCompile("(?s)as `([A-Za-z0-9._-]+\\.jsonl?)`:\\s*\\n+```json\\n(.*?)\\n```").FindAllStringSubmatch(text, -1)
	if len(files) == 0 {
		t.Fatal("the README asks to save no amendment file")
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f[1]), []byte(f[2]), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	blocks := regexp.MustCompile("(?s)```sh\\n(.*?)```").FindAllStringSubmatch(text, -1)
	first := strings.Fields(blocks[0][1])
	if !strings.Contains(blocks[0][1], "go run ./cmd/ledger demo") || !strings.Contains(blocks[0][1], "go test ./...") || len(first) == 0 {
		t.Errorf("the README's first commands should be go run ./cmd/ledger demo and go test ./...:\n%s", blocks[0][1])
	}

	exitRE := regexp.MustCompile(`#\s*exit (\d+)`)
	_, noNATS := exec.LookPath("nats")
	path := filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH")
	var bg *server
	ran := 0
	for _, b := range blocks {
		for _, line := range strings.Split(b[1], "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			want := 0
			if m := exitRE.FindStringSubmatch(line); m != nil {
				want, _ = strconv.Atoi(m[1])
			}
			command := strings.TrimSpace(regexp.MustCompile(`\s+#.*$`).ReplaceAllString(line, ""))
			command = strings.Replace(command, "go run ./cmd/ledger ", "ledger ", 1)
			switch {
			case strings.HasPrefix(command, "go test"), strings.HasPrefix(command, "go install"), strings.HasPrefix(command, "sleep "):
				continue
			case strings.HasPrefix(command, "ledger serve") && strings.HasSuffix(command, "&"):
				args := strings.Fields(strings.TrimSuffix(command, "&"))[2:]
				bg = serve(t, dir, args...)
			case command == "kill %1", command == "docker compose down":
				if bg == nil {
					t.Fatalf("%q with nothing running", command)
				}
				if code := bg.stop(); code != 0 {
					t.Errorf("%q: the server exited %d", command, code)
				}
				bg = nil
			case strings.HasPrefix(command, "docker compose up"):
				stop := startCluster(t, port)
				bg = &server{t: t, stopFn: stop}
			case strings.HasPrefix(command, "curl "):
				// curl -sf URL: the same GET, without needing curl installed.
				f := strings.Fields(command)
				url := strings.Trim(f[len(f)-1], "'")
				resp, err := http.Get(url)
				if err != nil {
					t.Fatalf("README: %s: %v", line, err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || !json.Valid(body) {
					t.Errorf("README: %s: %s\n%s", line, resp.Status, body)
				}
				ran++
			case strings.HasPrefix(command, "nats ") && noNATS != nil:
				continue
			case strings.HasPrefix(command, "ledger "), strings.HasPrefix(command, "nats "):
				cmd := exec.Command("bash", "-c", command)
				cmd.Dir = dir
				cmd.Env = env("PATH=" + path)
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				err := cmd.Run()
				code := 0
				if ee, ok := err.(*exec.ExitError); ok {
					code = ee.ExitCode()
				} else if err != nil {
					t.Fatal(err)
				}
				if code != want {
					t.Errorf("README: %s\nwant exit %d, got %d:\n%s", line, want, code, out.String())
				}
				ran++
			default:
				t.Errorf("README: the test does not know how to run %q", line)
			}
		}
	}
	if bg != nil {
		bg.stop()
	}
	if ran < 20 {
		t.Errorf("ran only %d ledger commands from the README", ran)
	}
}
