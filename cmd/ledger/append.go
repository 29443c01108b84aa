package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/render"
	"github.com/agreement-ledger/ledger/projections"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// progressOver is the input size from which append shows a progress bar:
// past one atomic batch.
const progressOver = 1000

// defaultMaxInput is the largest input append reads unless --max-input says
// otherwise: 32 MiB, some 30,000 amendments of a kilobyte. A larger file is
// refused before it is read, so that a wrong or hostile file cannot make the
// command take unbounded memory; split it, or raise the limit.
const defaultMaxInput = 32 << 20

func (a *app) appendCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "append [FILE|-]",
		Short: "Record amendments from a file or standard input",
		Long: `append records amendments written as one JSON object, a JSON array or JSON
Lines, read from FILE or, without one or with "-", from standard input.

The whole input is checked before anything is written: on invalid input it
exits 2, names each problem by its JSON path, and writes nothing. Large
inputs are written in atomic batches of 1000; an input larger than
--max-input bytes (32 MiB) is refused unread. An amendment whose id is
already recorded with the same content is reported as a duplicate and not
written again, so appending the same file twice is safe.

It prints each amendment's id and version, and the conflicts it introduced.`,
		Args: args(0, 1),
	}
	var expect uint64
	var dryRun, whatIf bool
	var maxInput int64
	f := cmd.Flags()
	f.Int64Var(&maxInput, "max-input", defaultMaxInput, "refuse an input larger than this many bytes (split it, or raise the limit)")
	f.Uint64Var(&expect, "expect-version", 0, "fail with exit 4 unless the agreement is at this version (0: not yet recorded)")
	f.BoolVar(&dryRun, "dry-run", false, "check and show what would change, writing nothing")
	f.BoolVar(&whatIf, "what-if", false, "show what the amendments would change had they been recorded, even retroactively, writing nothing")
	known := knownVar(f)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		name := "-"
		if len(args) == 1 {
			name = args[0]
		}
		if maxInput < 1 {
			return invalid("--max-input %d: give a positive number of bytes", maxInput)
		}
		as, err := a.readAmendments(name, maxInput)
		if err != nil {
			return err
		}
		if whatIf && (dryRun || cmd.Flags().Changed("expect-version")) {
			return invalid("--what-if cannot be combined with --dry-run or --expect-version")
		}
		if known.set && !whatIf {
			return invalid("--known-at applies to --what-if only")
		}
		if whatIf {
			return answer(a, cmd, known, func(_ context.Context, l *ledger.Ledger, k time.Time) (*projections.Preview, error) {
				return l.WhatIf(as, k)
			}, render.Preview)
		}
		opts := ledger.AppendOptions{DryRun: dryRun}
		if cmd.Flags().Changed("expect-version") {
			opts.ExpectVersion = &expect
		}
		return answer(a, cmd, nil, func(ctx context.Context, l *ledger.Ledger, _ time.Time) (*ledger.AppendResult, error) {
			bar := a.progress(len(as))
			if bar != nil {
				opts.Progress = bar.Update
				defer bar.Clear()
			}
			return l.Append(ctx, as, opts)
		}, render.Appended)
	}
	return cmd
}

// readAmendments reads and decodes the input: a file, or "-" for stdin. An
// input larger than limit bytes is refused: a regular file (standard input
// redirected from one too) before it is read, a pipe as soon as more than
// limit bytes arrive.
func (a *app) readAmendments(name string, limit int64) ([]*events.Amendment, error) {
	r := a.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, invalid("reading %s: %v", name, err)
		}
		defer f.Close()
		r = f
	}
	if f, ok := r.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > limit {
			return nil, tooLarge(name, fi.Size(), limit)
		}
		if name == "-" && term.IsTerminal(int(f.Fd())) {
			a.note("reading amendments from standard input (end with Ctrl-D)")
		}
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, invalid("reading %s: %v", name, err)
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(name, -1, limit)
	}
	return events.Decode(data)
}

// tooLarge is the error for an input over the limit; size is -1 when
// unknown (a pipe).
func tooLarge(name string, size, limit int64) error {
	what := name
	if name == "-" {
		what = "standard input"
	}
	if size >= 0 {
		what = fmt.Sprintf("%s (%d bytes)", what, size)
	}
	return invalid("%s is larger than %d bytes (--max-input); nothing was written: split it into several files, or raise --max-input", what, limit)
}

// progress returns a progress bar for an append of n amendments when one is
// worth showing: past one batch, on a terminal, for people.
func (a *app) progress(n int) *render.Progress {
	if n <= progressOver || a.output != "text" {
		return nil
	}
	f, ok := a.stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	if out, ok := a.stdout.(*os.File); !ok || !term.IsTerminal(int(out.Fd())) {
		return nil
	}
	return render.NewProgress(f, "appending")
}

// note writes a line for people on stderr.
func (a *app) note(msg string) {
	io.WriteString(a.stderr, "ledger: "+msg+"\n")
}
