package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/oklog/ulid/v2"
)

// importWithIDs is an import of n amendments to agreement, each with its
// id, as JSON Lines.
func importWithIDs(agreement string, n int) string {
	var b strings.Builder
	for i := range n {
		src := openFor(agreement)
		if i > 0 {
			src = obligationFor(agreement, i)
		}
		b.WriteString(`{"id":"` + ulid.Make().String() + `",` + src[1:] + "\n")
	}
	return b.String()
}

// background is a command running in the background.
type background struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan struct{}
	code           int
}

func start(t *testing.T, dir, stdin string, args ...string) *background {
	t.Helper()
	b := &background{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	b.cmd.Dir, b.cmd.Env = dir, env()
	b.cmd.Stdin = strings.NewReader(stdin)
	b.cmd.Stdout, b.cmd.Stderr = &b.stdout, &b.stderr
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		b.cmd.Wait()
		b.code = b.cmd.ProcessState.ExitCode()
		close(b.done)
	}()
	t.Cleanup(func() {
		b.cmd.Process.Kill()
		<-b.done
	})
	return b
}

// goroutines stops a command that hangs with SIGQUIT and returns what it
// wrote to stderr, its goroutines among it: read only once it has exited.
func (b *background) goroutines() string {
	b.cmd.Process.Signal(syscall.SIGQUIT)
	<-b.done
	return b.stderr.String()
}

// waitRecorded waits until the stream behind url holds at least n messages.
func waitRecorded(t *testing.T, url string, n uint64) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		st, err := js.Stream(ctx, "LEDGER")
		if err == nil {
			var info *jetstream.StreamInfo
			if info, err = st.Info(ctx); err == nil && info.State.Msgs >= n {
				cancel()
				return
			}
		}
		cancel()
	}
	t.Fatalf("the stream did not reach %d messages in 60s", n)
}

// TestClientNoticesItsServerStopped is the case: an import of
// 20,000 amendments through "serve --listen", whose server is stopped
// with SIGTERM during the import. The client used to hang for 112 s and
// more (and "timeout -s TERM 25" could not stop it). It now says within a
// few seconds that the connection was lost, how many amendments were
// recorded, and that running the same input again completes it — which it
// does, each amendment once.
func TestClientNoticesItsServerStopped(t *testing.T) {
	t.Parallel()
	c := newCrashStore(t)
	c.start()
	in := importWithIDs("lost", 20000)
	client := start(t, c.dir, in, "--data", c.data, "append")
	// Two batches stored: the client sends a batch only once the one
	// before it was acknowledged, so it has had at least one answer.
	waitRecorded(t, c.url(), 2000)
	stopped := time.Now()
	if code := c.srv.stop(); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	select {
	case <-client.done:
	case <-time.After(8 * time.Second):
		t.Fatalf("the client did not notice in 8s that its server stopped:\n%s", client.goroutines())
	}
	took := time.Since(stopped)
	msg := client.stderr.String()
	if client.code != 1 || !strings.Contains(msg, fmt.Sprintf("the connection to NATS at %s was lost", c.url())) ||
		!strings.Contains(msg, "of the 20000 amendments of this input were recorded, in whole batches") ||
		!strings.Contains(msg, "running the same input again records the rest exactly once") {
		t.Fatalf("exit %d after %s:\n%s", client.code, took, msg)
	}
	t.Logf("the client noticed %s after its server stopped: %s", took.Round(time.Millisecond), strings.TrimSpace(msg))

	c.start()
	got := c.history("lost")
	if len(got)%1000 != 0 || len(got) == 0 || len(got) == 20000 {
		t.Fatalf("%d amendments recorded: not whole batches of an interrupted import", len(got))
	}
	r := ledgerIn(t, c.dir, in, "--data", c.data, "append", "-o", "json")
	if r.code != 0 || strings.Count(r.stdout, `"duplicate": true`) != len(got) {
		t.Fatalf("the same input again: %d duplicates reported, want %d:\n%s", strings.Count(r.stdout, `"duplicate": true`), len(got), r.stderr)
	}
	if got := c.history("lost"); len(got) != 20000 {
		t.Fatalf("after running it again: %d amendments, want 20000", len(got))
	}
	c.verify()
}

// TestSignalStopsAnImportWithinASecond: SIGINT or SIGTERM to an import
// stops it within about a second, after the batch in flight is
// acknowledged or abandoned, saying how much was recorded; the input then
// completes exactly once.
func TestSignalStopsAnImportWithinASecond(t *testing.T) {
	t.Parallel()
	c := newCrashStore(t)
	c.start()
	defer c.srv.stop()
	for round, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		agreement := "signal-" + strings.ToLower(strings.TrimPrefix(sig.String(), "SIG"))
		agreement = strings.ReplaceAll(agreement, " ", "-")
		in := importWithIDs(agreement, 20000)
		client := start(t, c.dir, in, "--nats", c.url(), "append")
		waitRecorded(t, c.url(), uint64(20000*round+2000)) // one batch acknowledged (see above)
		signalled := time.Now()
		if err := client.cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		select {
		case <-client.done:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: the import did not stop in 5s:\n%s", sig, client.goroutines())
		}
		took := time.Since(signalled)
		msg := client.stderr.String()
		if client.code != 1 || !strings.Contains(msg, "interrupted") || !strings.Contains(msg, "running the same input again records the rest exactly once") {
			t.Fatalf("%s: exit %d:\n%s", sig, client.code, msg)
		}
		if took > 2*time.Second {
			t.Errorf("%s: the import took %s to stop", sig, took)
		}
		t.Logf("%s: stopped in %s: %s", sig, took.Round(time.Millisecond), strings.TrimSpace(msg))
		got := c.history(agreement)
		if len(got)%1000 != 0 {
			t.Fatalf("%s: %d amendments recorded: not whole batches", sig, len(got))
		}
		r := ledgerIn(t, c.dir, in, "--nats", c.url(), "append")
		if r.code != 0 {
			t.Fatalf("%s: the same input again: %s", sig, r)
		}
		if got := c.history(agreement); len(got) != 20000 {
			t.Fatalf("%s: after running it again: %d amendments, want 20000", sig, len(got))
		}
	}
	c.verify()
}
