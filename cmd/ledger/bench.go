package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/agreement-ledger/ledger/ledger/bench"
	"github.com/spf13/cobra"
)

func (a *app) benchCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench [--size quick|full|10m] [--only IDS]",
		Short: "Measure the ledger beside raw JetStream, in one run",
		Long: `bench runs each ledger path beside the raw JetStream operation it is built
on, in one process, on fresh temporary stores with the same durability
settings (embedded server, file storage, every write fsynced), and prints
their rates and ratios: p1 single durable appends, p2 bulk import, p3
concurrent writers (group commit) against raw JetStream's own ceiling, p1c
and p3c the same on a three-node in-process cluster with the stream
replicated three times, p4 rebuilding the read model, p5 point-in-time
state queries, p6 conflicts over every agreement, p7 memory per amendment,
p8 restart from a snapshot until the first query and p8l until the read
model has loaded, p13 one-off commands (state, history, timeline) on a long
agreement, each in a process of this binary (wall time, peak memory).
Ratios are what to compare across machines; absolute rates depend on the
machine and its load.

--size full (the default) loads a million amendments and takes several
minutes; quick (or --quick) uses smaller sizes and finishes in about a
minute; 10m adds p9, the big store's measurements at ten million
amendments over a million agreements (an hour or more on two cores).
--only runs some of the measurements, e.g. --only p1c,p3c or --only p9.`,
		Args: args(0, 0),
	}
	var quick bool
	var size, dir string
	var only []string
	cmd.Flags().StringVar(&size, "size", "full", "sizes: "+strings.Join(bench.SizeNames, ", "))
	cmd.Flags().BoolVar(&quick, "quick", false, "the quick sizes (--size quick)")
	cmd.Flags().StringSliceVar(&only, "only", nil, "run only these measurements: "+strings.Join(bench.IDs, ","))
	cmd.Flags().StringVar(&dir, "tmp", "", "directory for the temporary stores (default: the system's)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if quick {
			if cmd.Flags().Changed("size") && size != "quick" {
				return invalid("--quick and --size %s: choose one", size)
			}
			size = "quick"
		}
		sizes, err := bench.ForSize(size)
		if err != nil {
			return invalid("--size %q: use %s", size, strings.Join(bench.SizeNames, ", "))
		}
		sizes.Dir, sizes.Only = dir, only
		for _, id := range only {
			if !slices.Contains(bench.IDs, id) {
				return invalid("--only %s: no such measurement (%s)", id, strings.Join(bench.IDs, ", "))
			}
			if id == "p9" && sizes.Huge == 0 {
				return invalid("--only p9: p9 is measured with --size 10m only")
			}
		}
		if bin, err := os.Executable(); err == nil {
			sizes.Binary = bin // p13 runs the ledger's own commands
		}
		progress := a.stderr
		if a.output == "json" {
			progress = io.Discard
		}
		rep, err := bench.Run(cmd.Context(), sizes, progress)
		if err != nil {
			return err
		}
		return a.emit(rep, rep.WriteText)
	}
	cmd.AddCommand(a.benchChildCommand(), a.benchRawReadCommand())
	return cmd
}

// benchRawReadCommand is p13's raw JetStream figure (see bench.RawRead),
// run as a process of its own as the commands it is set beside are.
func (a *app) benchRawReadCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:    "raw-read --agreement NAME",
		Short:  "Start the embedded server on a store and read an agreement's messages (for bench)",
		Hidden: true,
		Args:   cobra.NoArgs,
	}
	var agreement string
	cmd.Flags().StringVar(&agreement, "agreement", "", "the agreement whose messages to read")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := required(cmd, "agreement"); err != nil {
			return err
		}
		n, err := bench.RawRead(cmd.Context(), a.data, agreement)
		if err == nil {
			_, err = fmt.Fprintf(a.stdout, "%d messages read\n", n)
		}
		return err
	}
	return cmd
}

// benchChildCommand is p13's intermediate (see bench.Child): the commands
// p13 measures run as children of a fresh process, whose peak memory does
// not count in theirs as the benchmark's would.
func (a *app) benchChildCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:    "child --report FILE [--limit D] -- ARGS...",
		Short:  "Run this binary with ARGS and report its wall time and peak memory (for bench)",
		Hidden: true,
		Args:   cobra.MinimumNArgs(1),
	}
	var report string
	var limit time.Duration
	cmd.Flags().StringVar(&report, "report", "", "file to write the usage to, as JSON")
	cmd.Flags().DurationVar(&limit, "limit", 0, "kill the command after this long (0: never)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := required(cmd, "report"); err != nil {
			return err
		}
		bin, err := os.Executable()
		if err != nil {
			return err
		}
		return bench.Child(cmd.Context(), bin, args, limit, report, a.stdout, a.stderr)
	}
	return cmd
}
