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
	cmd := a.agreementCommand("state AGREEMENT [--at T] [--known-at K]", "What an agreement said at T (default now), as known at K")
	at := timeVar(cmd.Flags(), "at", "valid time: when the answer applies (default now)")
	known := knownVar(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return answer(a, cmd, known, func(_ context.Context, l *ledger.Ledger, k time.Time) (*projections.State, error) {
			return l.State(args[0], at.orNow(), k, a.queryOptions()...)
		}, render.State)
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
		return answer(a, cmd, known, func(_ context.Context, l *ledger.Ledger, k time.Time) (*projections.ConflictReport, error) {
			return l.Conflicts(at.orNow(), k)
		}, render.Conflicts)
	}
	return cmd
}

func (a *app) checkCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check --party P --product X --channel C [--platform] [--territory] [--at T] [--known-at K] [--ignore-basis]",
		Short: "May a party offer a product on a channel at T? Exit 0 allowed, 3 denied or no basis",
		Long: `check answers two questions: does the party have the right to offer it (a
basis: a licence, exclusivity or right in force that it holds, or granted,
covering all that is asked), and does another's exclusivity in force keep it
out (blocking)? The verdict is allowed (a basis, nothing blocking; exit 0),
denied (blocked; exit 3) or no_basis (nothing blocking, nothing on record
giving it the right; exit 3). A dimension not given (--platform,
--territory) asks about all of it, so a basis must cover all of it.

--ignore-basis asks only whether another's exclusivity is in the way
(freedom to operate): no_basis then exits 0, and allowed is true unless
denied; the verdict and the clauses are the same.`,
		Args: args(0, 0),
	}
	var party, product, channel, platform, territory string
	var ignoreBasis bool
	f := cmd.Flags()
	f.StringVar(&party, "party", "", "the party that would offer it")
	f.StringVar(&product, "product", "", "the product")
	f.StringVar(&channel, "channel", "", "the channel, e.g. api")
	f.StringVar(&platform, "platform", "", "the platform (default any)")
	f.StringVar(&territory, "territory", "", "the territory (default any)")
	f.BoolVar(&ignoreBasis, "ignore-basis", false, "ask only whether another's exclusivity is in the way: no basis exits 0")
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
		q := projections.RightsQuery{Party: party, Scope: scope, At: at.orNow(), IgnoreBasis: ignoreBasis}
		return answer(a, cmd, known, func(_ context.Context, l *ledger.Ledger, k time.Time) (*projections.Rights, error) {
			q.KnownAt = k
			r, err := l.Check(q)
			if err == nil && !r.Allowed {
				a.code = exitDenied // a no is an answer, not a failure
			}
			return &r, err
		}, func(w io.Writer, r *projections.Rights) error { return render.Rights(w, q, *r) })
	}
	return cmd
}

func (a *app) historyCommand() *cobra.Command {
	cmd := a.agreementCommand("history AGREEMENT [--full]", "An agreement's amendments: version, recorded, effective, summary; --full: the amendments as stored")
	var full bool
	cmd.Flags().BoolVar(&full, "full", false, "print the amendments as stored (JSON Lines; a JSON array with -o json), to append elsewhere byte for byte")
	cmd.PreRunE = func(cmd *cobra.Command, args []string) error {
		if full && viaService(cmd) {
			return invalid("--full is not asked through --service: run it against the store (without --service)")
		}
		return nil
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if full {
			return a.with(cmd, func(_ context.Context, l *ledger.Ledger) error {
				h, err := l.History(args[0], a.queryOptions()...)
				if err != nil {
					return err
				}
				if h.Damaged != nil {
					// Only with --allow-damaged: the export is the intact prefix.
					fmt.Fprintf(a.stderr, "ledger: %s is damaged: these are its versions before %d\n", h.Agreement, h.Damaged.Version)
				}
				_, err = a.stdout.Write(h.Full(a.output == "json"))
				return err
			})
		}
		return answer(a, cmd, nil, func(_ context.Context, l *ledger.Ledger, _ time.Time) (*projections.History, error) {
			return l.History(args[0], a.queryOptions()...)
		}, render.History)
	}
	return cmd
}

func (a *app) diffCommand() *cobra.Command {
	cmd := a.agreementCommand("diff AGREEMENT --from T1 [--to T2] [--known-at K]", "What changed in an agreement between two valid times")
	from := timeVar(cmd.Flags(), "from", "the earlier valid time")
	to := timeVar(cmd.Flags(), "to", "the later valid time (default now)")
	known := knownVar(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := required(cmd, "from"); err != nil {
			return err
		}
		return answer(a, cmd, known, func(_ context.Context, l *ledger.Ledger, k time.Time) (*projections.Diff, error) {
			return l.Diff(args[0], from.t, to.orNow(), k, a.queryOptions()...)
		}, render.Diff)
	}
	return cmd
}

func (a *app) timelineCommand() *cobra.Command {
	cmd := a.agreementCommand("timeline AGREEMENT [--svg FILE] [--known-at K]", "An agreement's clauses as bars over time; --svg draws them")
	var svg string
	var width int
	cmd.Flags().StringVar(&svg, "svg", "", "also write the timeline as an SVG drawing to FILE")
	cmd.Flags().IntVar(&width, "width", 60, "columns of the text bars")
	known := knownVar(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if width < 10 || width > 1000 {
			return invalid("--width %d: use 10 to 1000 columns", width)
		}
		return answer(a, cmd, known, func(_ context.Context, l *ledger.Ledger, k time.Time) (*projections.Timeline, error) {
			tl, err := l.Timeline(args[0], k, a.queryOptions()...)
			if err == nil && svg != "" {
				projections.EchoKnownAt(tl, known.amendmentOf()) // the drawing says it too
				err = writeFile(svg, func(w io.Writer) error { return render.TimelineSVG(tl, w, render.SVGOptions{Now: time.Now()}) })
			}
			return tl, err
		}, func(w io.Writer, tl *projections.Timeline) error {
			err := render.Timeline(w, tl, render.TimelineOptions{Width: width})
			if err == nil && svg != "" {
				_, err = fmt.Fprintf(w, "\nSVG drawing written to %s\n", svg)
			}
			return err
		})
	}
	return cmd
}

// agreementCommand is a command about one agreement, named by its one
// argument (completed with the agreements recorded).
func (a *app) agreementCommand(use, short string) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: args(1, 1), ValidArgsFunction: a.completeAgreements}
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
		return answer(a, cmd, nil, func(_ context.Context, l *ledger.Ledger, _ time.Time) ([]projections.Summary, error) {
			return l.Agreements(at.orNow())
		}, render.Agreements)
	}
	return cmd
}

func (a *app) verifyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify [--since FILE] [--heads]",
		Short: "Check every hash chain and the stream's append-only settings; export or check chain heads",
		Long: `verify reads the whole stream again, walks every agreement's hash chain and
checks that the stream cannot lose or rewrite history. It exits 1 when
something is wrong, naming the first broken link of each agreement.

A chain that verifies proves only that it is consistent: whoever can write
the store can rewrite a history and chain it anew. Export the heads (each
agreement's last version and hash) and keep them elsewhere:

  ledger verify --heads > heads.json

Later, verify --since heads.json checks that each of those heads is still
in its chain: that nothing up to them was rewritten, reordered or removed.
It takes the file --heads writes, a whole verify -o json report, or a bare
JSON list of heads. The two combine: verify --since old.json --heads >
new.json checks the kept heads and, only when everything verifies, exports
the current ones.`,
		Args: func(cmd *cobra.Command, given []string) error {
			if exportHeads, _ := cmd.Flags().GetBool("heads"); exportHeads && len(given) == 1 {
				return invalid("verify --heads exports the heads (ledger verify --heads > %s); to check heads kept in a file, use --since %s", given[0], given[0])
			}
			return args(0, 0)(cmd, given)
		},
	}
	var since string
	var exportHeads bool
	cmd.Flags().BoolVar(&exportHeads, "heads", false, "print each agreement's chain head as JSON, to keep and check later with --since")
	cmd.Flags().StringVar(&since, "since", "", "check that the heads in FILE (from verify --heads, or a verify -o json report) are still in their chains")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		var heads []ledger.Head
		if since != "" {
			var err error
			if heads, err = readHeads(since); err != nil {
				return err
			}
		}
		return a.with(cmd, func(ctx context.Context, l *ledger.Ledger) error {
			r, err := l.Verify(ctx, heads)
			if err != nil {
				return err
			}
			return a.verified(r, exportHeads)
		})
	}
	return cmd
}

// verified prints a verify report, or with exportHeads the heads to keep,
// and fails when the ledger does not verify.
func (a *app) verified(r *ledger.Report, exportHeads bool) error {
	if exportHeads {
		// Heads of a ledger that does not verify would bless what is
		// wrong with it: nothing is exported then.
		if !r.OK {
			return verifyFailed(r, "no heads exported")
		}
		doc := headsDoc{Stream: r.Stream, Exported: time.Now().UTC().Format(time.RFC3339), Heads: r.Heads}
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(a.stdout, "%s\n", b)
		return err
	}
	if err := a.emit(r, func(w io.Writer) error { return render.Verify(w, r) }); err != nil {
		return err
	}
	if !r.OK {
		return verifyFailed(r, "")
	}
	return nil
}

// headsDoc is what verify --heads prints: the heads to keep.
type headsDoc struct {
	Stream   string        `json:"stream"`
	Exported string        `json:"exported"`
	Heads    []ledger.Head `json:"heads"`
}

// verifyFailed is the error of a verify that found problems: it names the
// first broken link, so that the one line on stderr says where to look.
func verifyFailed(r *ledger.Report, also string) error {
	msg := fmt.Sprintf("verify: the ledger does not verify (%s, %s, %s, %s)",
		render.Plural(len(r.Damaged), "damaged agreement", "damaged agreements"), render.Plural(len(r.Unreadable), "unreadable range", "unreadable ranges"),
		render.Plural(len(r.Broken), "broken link", "broken links"), render.Plural(len(r.Settings), "unsafe setting", "unsafe settings"))
	switch {
	case len(r.Damaged) > 0:
		d := r.Damaged[0]
		msg += fmt.Sprintf(": %s is damaged from version %d (stream sequences %d-%d): %s; see the README's \"Recovering a damaged store\"", d.Agreement, d.Version, d.Seq, d.LastSeq, d.Problem)
	case len(r.Unreadable) > 0:
		msg += fmt.Sprintf(": stream sequence %s cannot be read", r.Unreadable[0])
	case r.Lost != nil:
		msg += fmt.Sprintf(": the server reports %d bytes of the stream lost", r.Lost.Bytes)
	case len(r.Broken) > 0:
		b := r.Broken[0]
		msg += fmt.Sprintf(": %s version %d (stream sequence %d): %s", b.Agreement, b.Version, b.Seq, b.Problem)
	case len(r.Settings) > 0:
		msg += ": " + r.Settings[0]
	}
	if also != "" {
		msg += "; " + also
	}
	return events.Errorf(events.Internal, "%s", msg)
}

// readHeads reads heads kept from an earlier verify: the document verify
// --heads prints, a verify -o json report, or a bare list of heads.
func readHeads(name string) ([]ledger.Head, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, invalid("--since: %v", err)
	}
	type head struct {
		Agreement string `json:"agreement"`
		Version   uint64 `json:"version"`
		Seq       uint64 `json:"seq"`
		Hash      string `json:"hash"`
	}
	var doc struct {
		Heads *[]head `json:"heads"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || doc.Heads == nil {
		var list []head
		if err := json.Unmarshal(b, &list); err != nil {
			return nil, invalid("--since %s: not the output of verify --heads, a verify -o json report or a list of heads", name)
		}
		doc.Heads = &list
	}
	out := make([]ledger.Head, len(*doc.Heads))
	for i, h := range *doc.Heads {
		if !events.ValidSlug(h.Agreement) {
			return nil, invalid("--since %s: heads[%d].agreement: %q is not an agreement name", name, i, h.Agreement)
		}
		if h.Version == 0 {
			return nil, invalid("--since %s: heads[%d].version: a head has a version of 1 or more", name, i)
		}
		hash, err := events.ParseHash(h.Hash)
		if err != nil {
			return nil, invalid("--since %s: heads[%d].hash: %v", name, i, err)
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
