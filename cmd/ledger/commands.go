package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/render"
	"github.com/agreement-ledger/ledger/projections"
	"github.com/spf13/cobra"
)

func (a *app) stateCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:               "state AGREEMENT [--at T] [--known-at K]",
		Short:             "What an agreement said at T (default now), as known at K",
		Args:              args(1, 1),
		ValidArgsFunction: a.completeAgreements,
	}
	at := timeVar(cmd.Flags(), "at", "valid time: when the answer applies (default now)")
	known := knownVar(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return a.with(cmd, func(ctx context.Context, l *ledger.Ledger) error {
			k, err := known.in(l)
			if err != nil {
				return err
			}
			s, err := l.State(args[0], at.orNow(), k)
			if err != nil {
				return err
			}
			return a.emit(s, func(w io.Writer) error { return render.State(w, s) })
		})
	}
	return cmd
}

func (a *app) conflictsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "conflicts [--at T] [--known-at K]",
		Short: "Exclusive grants that collide at T (default now), across all agreements",
		Args:  args(0, 0),
	}
	at := timeVar(cmd.Flags(), "at", "valid time (default now)")
	known := knownVar(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return a.with(cmd, func(ctx context.Context, l *ledger.Ledger) error {
			k, err := known.in(l)
			if err != nil {
				return err
			}
			r, err := l.Conflicts(at.orNow(), k)
			if err != nil {
				return err
			}
			return a.emit(r, func(w io.Writer) error { return render.Conflicts(w, r) })
		})
	}
	return cmd
}

func (a *app) checkCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check --party P --product X --channel C [--platform] [--territory] [--at T] [--known-at K]",
		Short: "May a party offer a product on a channel at T? Exit 0 allowed, 3 denied",
		Args:  args(0, 0),
	}
	var party, product, channel, platform, territory string
	f := cmd.Flags()
	f.StringVar(&party, "party", "", "the party that would offer it")
	f.StringVar(&product, "product", "", "the product")
	f.StringVar(&channel, "channel", "", "the channel, e.g. api")
	f.StringVar(&platform, "platform", "", "the platform (default any)")
	f.StringVar(&territory, "territory", "", "the territory (default any)")
	at := timeVar(f, "at", "valid time (default now)")
	known := knownVar(f)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := required(cmd, "party", "product", "channel"); err != nil {
			return err
		}
		for _, d := range [][2]string{{"party", party}, {"product", product}, {"channel", channel}, {"platform", platform}, {"territory", territory}} {
			if cmd.Flags().Changed(d[0]) && !events.ValidSlug(d[1]) {
				return invalid("--%s %q is not a slug (lower-case letters, digits and '-')", d[0], d[1])
			}
		}
		// One value per dimension given; a dimension not given means any.
		scope := &events.Scope{Products: []string{product}, Channels: []string{channel}}
		if platform != "" {
			scope.Platforms = []string{platform}
		}
		if territory != "" {
			scope.Territories = []string{territory}
		}
		return a.with(cmd, func(ctx context.Context, l *ledger.Ledger) error {
			k, err := known.in(l)
			if err != nil {
				return err
			}
			q := projections.RightsQuery{Party: party, Scope: scope, At: at.orNow(), KnownAt: k}
			r, err := l.Check(q)
			if err != nil {
				return err
			}
			if err := a.emit(r, func(w io.Writer) error { return render.Rights(w, q, r) }); err != nil {
				return err
			}
			if !r.Allowed {
				return exitStatus{ledger.ExitDenied}
			}
			return nil
		})
	}
	return cmd
}

func (a *app) historyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:               "history AGREEMENT",
		Short:             "An agreement's amendments: version, recorded, effective, summary",
		Args:              args(1, 1),
		ValidArgsFunction: a.completeAgreements,
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return a.with(cmd, func(ctx context.Context, l *ledger.Ledger) error {
			h, err := l.History(args[0])
			if err != nil {
				return err
			}
			return a.emit(h, func(w io.Writer) error { return render.History(w, h) })
		})
	}
	return cmd
}

func (a *app) diffCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:               "diff AGREEMENT --from T1 [--to T2] [--known-at K]",
		Short:             "What changed in an agreement between two valid times",
		Args:              args(1, 1),
		ValidArgsFunction: a.completeAgreements,
	}
	from := timeVar(cmd.Flags(), "from", "the earlier valid time")
	to := timeVar(cmd.Flags(), "to", "the later valid time (default now)")
	known := knownVar(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := required(cmd, "from"); err != nil {
			return err
		}
		return a.with(cmd, func(ctx context.Context, l *ledger.Ledger) error {
			k, err := known.in(l)
			if err != nil {
				return err
			}
			d, err := l.Diff(args[0], from.t, to.orNow(), k)
			if err != nil {
				return err
			}
			return a.emit(d, func(w io.Writer) error { return render.Diff(w, d) })
		})
	}
	return cmd
}

func (a *app) timelineCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:               "timeline AGREEMENT [--svg FILE] [--known-at K]",
		Short:             "An agreement's clauses as bars over time; --svg draws them",
		Args:              args(1, 1),
		ValidArgsFunction: a.completeAgreements,
	}
	var svg string
	var width int
	cmd.Flags().StringVar(&svg, "svg", "", "also write the timeline as an SVG drawing to FILE")
	cmd.Flags().IntVar(&width, "width", 60, "columns of the text bars")
	known := knownVar(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if width < 10 || width > 1000 {
			return invalid("--width %d: use 10 to 1000 columns", width)
		}
		return a.with(cmd, func(ctx context.Context, l *ledger.Ledger) error {
			k, err := known.in(l)
			if err != nil {
				return err
			}
			tl, err := l.Timeline(args[0], k)
			if err != nil {
				return err
			}
			if svg != "" {
				if err := writeFile(svg, func(w io.Writer) error {
					return render.TimelineSVG(tl, w, render.SVGOptions{Now: time.Now()})
				}); err != nil {
					return err
				}
			}
			return a.emit(tl, func(w io.Writer) error {
				if err := render.Timeline(w, tl, render.TimelineOptions{Width: width}); err != nil {
					return err
				}
				if svg != "" {
					_, err = fmt.Fprintf(w, "\nSVG drawing written to %s\n", svg)
				}
				return err
			})
		})
	}
	return cmd
}

// writeFile writes a file through fn, replacing it only when fn succeeds.
func writeFile(name string, fn func(w io.Writer) error) error {
	tmp := name + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, name)
}

func (a *app) agreementsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agreements [--at T]",
		Short: "The agreements recorded, with their status at T (default now)",
		Args:  args(0, 0),
	}
	at := timeVar(cmd.Flags(), "at", "valid time of the status (default now)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return a.with(cmd, func(ctx context.Context, l *ledger.Ledger) error {
			ss, err := l.Agreements(at.orNow())
			if err != nil {
				return err
			}
			return a.emit(ss, func(w io.Writer) error { return render.Agreements(w, ss) })
		})
	}
	return cmd
}

func (a *app) verifyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify [--heads FILE]",
		Short: "Check every hash chain and the stream's append-only settings",
		Long: `verify reads the whole stream again, walks every agreement's hash chain and
checks that the stream cannot lose or rewrite history. It exits 1 when
something is wrong.

Keep the heads it prints (verify -o json > heads.json): verify --heads
heads.json proves later that nothing before them was rewritten.`,
		Args: args(0, 0),
	}
	var headsFile string
	cmd.Flags().StringVar(&headsFile, "heads", "", "a JSON file of heads from an earlier verify -o json, to check are still in their chains")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		var heads []ledger.Head
		if headsFile != "" {
			var err error
			if heads, err = readHeads(headsFile); err != nil {
				return err
			}
		}
		return a.with(cmd, func(ctx context.Context, l *ledger.Ledger) error {
			r, err := l.Verify(ctx, heads)
			if err != nil {
				return err
			}
			if err := a.emit(r, func(w io.Writer) error { return render.Verify(w, r) }); err != nil {
				return err
			}
			if !r.OK {
				return events.Errorf(events.Internal, "verify: the ledger does not verify (%d broken chains, %d unsafe settings)", len(r.Broken), len(r.Settings))
			}
			return nil
		})
	}
	return cmd
}

// readHeads reads the heads of a verify report (or a bare list of heads).
func readHeads(name string) ([]ledger.Head, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, invalid("--heads: %v", err)
	}
	type head struct {
		Agreement string `json:"agreement"`
		Version   uint64 `json:"version"`
		Seq       uint64 `json:"seq"`
		Hash      string `json:"hash"`
	}
	var doc struct {
		Heads []head `json:"heads"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		if err := json.Unmarshal(b, &doc.Heads); err != nil {
			return nil, invalid("--heads %s: not a verify report or a list of heads: %v", name, err)
		}
	}
	out := make([]ledger.Head, len(doc.Heads))
	for i, h := range doc.Heads {
		hash, err := events.ParseHash(h.Hash)
		if err != nil {
			return nil, invalid("--heads %s: heads[%d].hash: %v", name, i, err)
		}
		out[i] = ledger.Head{Agreement: h.Agreement, Version: h.Version, Seq: h.Seq, Hash: hash}
	}
	return out, nil
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of this build",
		Args:  args(0, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			v := map[string]string{"version": version(), "go": runtime.Version()}
			return a.emit(v, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "ledger %s (%s)\n", v["version"], v["go"])
				return err
			})
		},
	}
}

// version is the module version of this build ("devel" in a work tree).
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// completeAgreements offers the agreements recorded as completions.
func (a *app) completeAgreements(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	if err := a.setup(cmd); err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Second)
	defer cancel()
	l, err := a.open(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	defer l.Close()
	ss, _ := l.Agreements(time.Now())
	var out []string
	for _, s := range ss {
		out = append(out, s.Agreement+"\t"+s.Title)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
