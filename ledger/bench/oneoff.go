package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/synth"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// OneOff measures p13: the wall time and peak resident memory of the ledger
// binary (sz.Binary) answering one-off commands about an agreement of
// sz.OneOff amendments, alone in an embedded store written through the
// ledger: state at a time (the row), history and timeline --svg (notes).
// Each command runs sz.OneOffRuns times, in a process of its own; the
// median wall time and the largest peak are reported. A run that takes
// longer than sz.OneOffLimit is killed (the benchmark's own time stays
// bounded) and reported as taking at least that long. Without a binary
// the result says p13 was skipped.
func OneOff(ctx context.Context, sz Sizes) (*Result, error) {
	r := &Result{ID: "p13", Name: fmt.Sprintf("one-off `ledger state` of an agreement of %d amendments (process)", sz.OneOff), Unit: "s",
		Target: "≤ 0.5 s and ≤ 100 MB (state, history)"}
	if sz.Binary == "" {
		r.Skipped = "no ledger binary to run"
		return r, nil
	}
	dir, err := os.MkdirTemp(sz.Dir, "ledger-bench-oneoff-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	data := filepath.Join(dir, "data")
	const name = "one-off"
	// Written as a user would: through the ledger, snapshots as configured
	// by default.
	l, err := ledger.Open(ctx, ledger.Config{DataDir: data})
	if err != nil {
		return nil, err
	}
	as := synth.New(int64(sz.Seed)).Agreement(name, sz.OneOff)
	for len(as) > 0 {
		n := min(len(as), 5000)
		if _, err := l.Append(ctx, as[:n], ledger.AppendOptions{}); err != nil {
			l.Close()
			return nil, err
		}
		as = as[n:]
	}
	tl, err := l.Timeline(name, time.Time{})
	l.Close() // one process owns a data directory
	if err != nil {
		return nil, err
	}
	at := tl.Span[0].Add(tl.Span[1].Sub(tl.Span[0]) / 2)

	commands := []struct {
		key  string
		args []string
	}{
		{"state", []string{"state", name, "--at", events.FormatTime(at)}},
		{"history", []string{"history", name}},
		{"timeline", []string{"timeline", name, "--svg", filepath.Join(dir, "timeline.svg")}},
	}
	r.Figures = map[string]float64{}
	runs := max(sz.OneOffRuns, 1)
	var lines []string
	met := true
	for _, c := range commands {
		var walls []float64
		var peak float64
		killed := false
		for range runs {
			wall, rss, err := runChild(ctx, sz.Binary, append([]string{"--data", data}, c.args...), sz.OneOffLimit)
			if errors.Is(err, errKilled) {
				killed = true
			} else if err != nil {
				return nil, err
			}
			walls = append(walls, wall)
			peak = max(peak, rss)
			if killed {
				break // once is enough to know
			}
		}
		slices.Sort(walls)
		wall := walls[len(walls)/2]
		r.Figures[c.key+"_s"] = wall
		r.Figures[c.key+"_rss_mb"] = peak
		took := fmt.Sprintf("%.2f s", wall)
		if killed {
			r.Figures[c.key+"_killed"] = 1
			took = fmt.Sprintf("killed after %.0f s", sz.OneOffLimit.Seconds())
		}
		lines = append(lines, fmt.Sprintf("%s: %s, %.0f MB peak RSS", strings.Join(append([]string{"ledger"}, c.args[:2]...), " "), took, peak))
		if c.key == "state" || c.key == "history" {
			met = met && !killed && wall <= 0.5 && peak <= 100
		}
	}
	// Raw JetStream on the same task, in a process of its own: start the
	// embedded server on the store and read the agreement's messages.
	var raws []float64
	var rawPeak float64
	for range runs {
		wall, rss, err := runChild(ctx, sz.Binary, []string{"bench", "raw-read", "--data", data, "--agreement", name}, sz.OneOffLimit)
		if err != nil {
			return nil, err
		}
		raws = append(raws, wall)
		rawPeak = max(rawPeak, rss)
	}
	slices.Sort(raws)
	raw := raws[len(raws)/2]
	lines = append(lines, fmt.Sprintf("raw JetStream in a process: the embedded server started on the store, then the agreement's %d messages read by an ordered consumer: %.2f s, %.0f MB peak RSS", sz.OneOff, raw, rawPeak))
	r.Ledger, r.Met = r.Figures["state_s"], met
	// A time: the ratio is raw over the ledger's, so that below 1 is slower,
	// as for the rates.
	r.Raw, r.Ratio = ptr(raw), ptr(raw/r.Ledger)
	r.Note = "median wall time of each command's runs, largest peak RSS (" + strconv.Itoa(runs) + " runs each)\n" + strings.Join(lines, "\n")
	return r, nil
}

// RawRead is `ledger bench raw-read`, p13's raw JetStream figure: it starts
// an embedded server on the ledger's store at dir, as the ledger does (file
// storage, fsync on), and reads every message of agreement with an ordered
// consumer, touching each message's data; it returns how many it read.
func RawRead(ctx context.Context, dir, agreement string) (int, error) {
	srv, err := server.NewServer(&server.Options{ServerName: "ledger", JetStream: true, StoreDir: dir, SyncAlways: true,
		NoSigs: true, NoLog: true, DontListen: true})
	if err != nil {
		return 0, err
	}
	srv.Start()
	defer srv.Shutdown()
	if !srv.ReadyForConnections(30 * time.Second) {
		return 0, errors.New("bench: the embedded server did not start")
	}
	nc, err := nats.Connect("", nats.InProcessServer(srv))
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, err
	}
	const stream = "LEDGER" // the ledger's default stream and subjects (ledger.Config)
	subject := "ledger.agreement." + agreement
	st, err := js.Stream(ctx, stream)
	if err != nil {
		return 0, err
	}
	last, err := st.GetLastMsgForSubject(ctx, subject)
	if err != nil {
		return 0, err
	}
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		return 0, err
	}
	msgs, err := cons.Messages(jetstream.PullMaxMessages(1000))
	if err != nil {
		return 0, err
	}
	defer msgs.Stop()
	n, size := 0, 0
	for {
		m, err := msgs.Next()
		if err != nil {
			return n, err
		}
		n, size = n+1, size+len(m.Data())
		meta, err := m.Metadata()
		if err != nil {
			return n, err
		}
		if meta.Sequence.Stream >= last.Sequence {
			return n, nil
		}
	}
}

// errKilled is runChild's error when the command took longer than its limit.
var errKilled = errors.New("killed: took longer than its limit")

// runChild runs the ledger binary with args and returns its wall time in
// seconds and its peak resident set size in MB (10⁶ bytes). It kills the
// process after limit (if not 0) and returns errKilled with its figures.
//
// The command does not run as a child of this process but of a fresh one
// (the binary's `bench child`, see Child): on Linux a process's peak RSS
// starts from that of the process it was started from (exec records the
// parent's high-water mark, which os/exec's vfork shares), and this one
// has held a big store. The intermediate's own few MB are the floor.
func runChild(ctx context.Context, bin string, args []string, limit time.Duration) (float64, float64, error) {
	f, err := os.CreateTemp("", "ledger-bench-child-")
	if err != nil {
		return 0, 0, err
	}
	report := f.Name()
	f.Close()
	defer os.Remove(report)
	ctx, cancel := context.WithTimeout(ctx, limit+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"bench", "child", "--report", report, "--limit", limit.String(), "--"}, args...)...)
	// The child's store is the one named on its command line, never one
	// the environment would name instead.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LEDGER_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return 0, 0, err
	}
	defer devnull.Close()
	cmd.Stdout = devnull
	failed := func(err error) error {
		return fmt.Errorf("bench: ledger %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	if err := cmd.Run(); err != nil {
		return 0, 0, failed(err)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		return 0, 0, failed(err)
	}
	var u usage
	if err := json.Unmarshal(b, &u); err != nil {
		return 0, 0, failed(fmt.Errorf("its usage report %q: %v", b, err))
	}
	switch {
	case u.Killed:
		err = errKilled
	case u.Exit != 0:
		return 0, 0, failed(fmt.Errorf("exit status %d", u.Exit))
	}
	return u.Wall, float64(u.MaxRSS) / 1e6, err
}

// usage is what Child reports of the command it ran.
type usage struct {
	Wall   float64 `json:"wall_s"` // seconds from start to exit
	MaxRSS int64   `json:"maxrss"` // peak resident set size, bytes
	Exit   int     `json:"exit"`   // its exit code (-1: killed by a signal)
	Killed bool    `json:"killed"` // it ran past its limit and was killed
}

// Child is `ledger bench child`, p13's intermediate: it runs bin (this
// binary) with args as its own child, with the same standard streams, kills
// it after limit (if not 0), and writes its wall time, peak RSS and exit
// code to report as JSON. It fails only when it could not run or measure
// the command.
func Child(ctx context.Context, bin string, args []string, limit time.Duration, report string, stdout, stderr io.Writer) error {
	if limit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, stdout, stderr
	start := time.Now()
	err := cmd.Run()
	u := usage{Wall: time.Since(start).Seconds()}
	if cmd.ProcessState == nil {
		return err // it did not start
	}
	u.Exit = cmd.ProcessState.ExitCode()
	u.Killed = err != nil && ctx.Err() == context.DeadlineExceeded
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		u.MaxRSS = int64(ru.Maxrss) * 1024 // KiB on Linux
		if runtime.GOOS == "darwin" {
			u.MaxRSS = int64(ru.Maxrss) // bytes
		}
	}
	b, _ := json.Marshal(u)
	return os.WriteFile(report, b, 0o644)
}
