package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/synth"
	"github.com/agreement-ledger/ledger/ledger"
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
	r.Ledger, r.Met = r.Figures["state_s"], met
	r.Note = fmt.Sprintf("median wall time of %d runs, largest peak RSS\n", runs) + strings.Join(lines, "\n")
	return r, nil
}

// errKilled is runChild's error when the command took longer than its limit.
var errKilled = errors.New("killed: took longer than its limit")

// runChild runs the ledger binary with args and returns its wall time in
// seconds and its peak resident set size in MB (10⁶ bytes). It kills the
// process after limit (if not 0) and returns errKilled with its figures.
func runChild(ctx context.Context, bin string, args []string, limit time.Duration) (float64, float64, error) {
	if limit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, bin, args...)
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
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start).Seconds()
	if err != nil && ctx.Err() == context.DeadlineExceeded && cmd.ProcessState != nil {
		err = errKilled
	} else if err != nil {
		return 0, 0, fmt.Errorf("bench: ledger %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return wall, 0, err
	}
	rss := float64(ru.Maxrss) * 1024 // KiB on Linux
	if runtime.GOOS == "darwin" {
		rss = float64(ru.Maxrss) // bytes
	}
	return wall, rss / 1e6, err
}
