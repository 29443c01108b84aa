package main

import (
	"io"
	"os"

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
	return cmd
}
