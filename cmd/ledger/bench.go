package main

import (
	"io"
	"os"
	"time"

	"github.com/agreement-ledger/ledger/ledger/bench"
	"github.com/spf13/cobra"
)

func (a *app) benchCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench [--quick]",
		Short: "Measure the ledger beside raw JetStream, in one run",
		Long: `bench runs each ledger path beside the raw JetStream operation it is built
on, in one process, on fresh temporary stores with the same durability
settings (embedded server, file storage, every write fsynced), and prints
their rates and ratios: p1 single durable appends, p2 bulk import, p3
concurrent writers (group commit), p4 rebuilding the read model, p5
point-in-time state queries, p6 conflicts over every agreement, p7 memory
per amendment, p8 restart from a snapshot. Ratios are what to compare
across machines; absolute rates depend on the machine and its load.

The full run loads a million amendments and takes several minutes; --quick
uses smaller sizes and finishes in about a minute.`,
		Args: args(0, 0),
	}
	var quick bool
	var dir string
	cmd.Flags().BoolVar(&quick, "quick", false, "smaller sizes, under a minute")
	cmd.Flags().StringVar(&dir, "tmp", "", "directory for the temporary stores (default: the system's)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		sizes := bench.Full()
		if quick {
			sizes = bench.Quick()
		}
		sizes.Dir = dir
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
	cmd.AddCommand(a.benchChildCommand())
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
