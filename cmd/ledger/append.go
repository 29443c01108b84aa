package main

import (
	"context"
	"io"
	"os"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/render"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// progressOver is the input size from which append shows a progress bar:
// past one atomic batch.
const progressOver = 1000

func (a *app) appendCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "append [FILE|-]",
		Short: "Record amendments from a file or standard input",
		Long: `append records amendments written as one JSON object, a JSON array or JSON
Lines, read from FILE or, without one or with "-", from standard input.

The whole input is checked before anything is written: on invalid input it
exits 2, names each problem by its JSON path, and writes nothing. Large
inputs are written in atomic batches of 1000. An amendment whose id is
already recorded with the same content is reported as a duplicate and not
written again, so appending the same file twice is safe.

It prints each amendment's id and version, and the conflicts it introduced.`,
		Args: args(0, 1),
	}
	var expect uint64
	var dryRun, whatIf bool
	f := cmd.Flags()
	f.Uint64Var(&expect, "expect-version", 0, "fail with exit 4 unless the agreement is at this version (0: not yet recorded)")
	f.BoolVar(&dryRun, "dry-run", false, "check and show what would change, writing nothing")
	f.BoolVar(&whatIf, "what-if", false, "show what the amendments would change had they been recorded, even retroactively, writing nothing")
	known := knownVar(f)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		name := "-"
		if len(args) == 1 {
			name = args[0]
		}
		as, err := a.readAmendments(name)
		if err != nil {
			return err
		}
		if whatIf && (dryRun || cmd.Flags().Changed("expect-version")) {
			return invalid("--what-if cannot be combined with --dry-run or --expect-version")
		}
		if known.set && !whatIf {
			return invalid("--known-at applies to --what-if only")
		}
		return a.with(cmd, func(ctx context.Context, l *ledger.Ledger) error {
			if whatIf {
				k, err := known.in(l)
				if err != nil {
					return err
				}
				pv, err := l.WhatIf(as, k)
				if err != nil {
					return err
				}
				return a.emit(pv, func(w io.Writer) error { return render.Preview(w, pv) })
			}
			opts := ledger.AppendOptions{DryRun: dryRun}
			if cmd.Flags().Changed("expect-version") {
				opts.ExpectVersion = &expect
			}
			bar := a.progress(len(as))
			if bar != nil {
				opts.Progress = bar.Update
			}
			res, err := l.Append(ctx, as, opts)
			if bar != nil {
				bar.Clear()
			}
			if err != nil {
				return err
			}
			return a.emit(res, func(w io.Writer) error { return render.Appended(w, res) })
		})
	}
	return cmd
}

// readAmendments reads and decodes the input: a file, or "-" for stdin.
func (a *app) readAmendments(name string) ([]*events.Amendment, error) {
	var data []byte
	var err error
	if name == "-" {
		if f, ok := a.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			a.note("reading amendments from standard input (end with Ctrl-D)")
		}
		data, err = io.ReadAll(a.stdin)
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, invalid("reading %s: %v", name, err)
	}
	return events.Decode(data)
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
