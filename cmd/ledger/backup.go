package main

import (
	"context"
	"fmt"
	"io"

	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/render"
	"github.com/spf13/cobra"
)

func (a *app) backupCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "backup DIR",
		Short: "Back up the stream into DIR (JetStream's own snapshot: sequences and recorded times kept)",
		Long: `backup checks the store (as ledger verify does, with every message's
checksum) and writes into DIR, which must be new or empty, JetStream's
snapshot of the stream (stream.snapshot), its configuration and state
(stream.json) and the heads of its chains (heads.json, as verify --heads
writes them). A store that does not verify is not backed up.

Restore it into a fresh store with ledger --data NEWDIR restore DIR. The
read model's snapshots are not in the backup: they are rebuilt.`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.with(cmd, func(ctx context.Context, l *ledger.Ledger) error {
				info, err := l.Backup(ctx, args[0])
				if err != nil {
					return err
				}
				return a.emit(info, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "backed up stream %s into %s: %s (sequences %d-%d), %s; the heads of its %s are in %s\n",
						info.Stream, info.Dir, render.Plural(int(info.Messages), "message", "messages"), info.FirstSeq, info.LastSeq,
						render.Plural(int(info.Bytes), "byte", "bytes"), render.Plural(len(info.Heads), "chain", "chains"), "heads.json")
					return err
				})
			})
		},
	}
}

func (a *app) restoreCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "restore DIR",
		Short: "Restore a backup into a fresh store, then verify it against the heads kept in the backup",
		Long: `restore restores the backup in DIR (from ledger backup) into the store
--data or --nats names, which must not hold the stream yet: a fresh data
directory, or a server without it. Every amendment keeps its stream
sequence and recorded time. It then verifies the restored chains and that
the heads kept in the backup are in them, and exits 1 if not.`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := ledger.Restore(cmd.Context(), a.config(), args[0])
			if err != nil {
				return err
			}
			if err := a.emit(rep, func(w io.Writer) error {
				if _, err := fmt.Fprintf(w, "restored stream %s from %s\n", rep.Stream, args[0]); err != nil {
					return err
				}
				return render.Verify(w, rep)
			}); err != nil {
				return err
			}
			if !rep.OK {
				return verifyFailed(rep, "the restored store is not the one backed up")
			}
			return nil
		},
	}
}
