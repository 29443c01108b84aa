package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/client"
	"github.com/agreement-ledger/ledger/ledger/render"
	"github.com/agreement-ledger/ledger/projections"
	"github.com/spf13/cobra"
)

// --service: the commands that ask the ledger ask its NATS service (any
// `ledger serve` on the NATS system --nats names) instead of opening the
// stream — for a NATS user that may only send requests (ledger permissions
// --client), or a caller that should not load a read model of its own.
// Each asks what its command asks and writes what it writes.

// serviceCommands adds the --service flag and has the commands that ask
// the ledger ask through the service when it is given.
func (a *app) serviceCommands(root *cobra.Command) {
	root.PersistentFlags().Bool("service", false, "ask the ledger's NATS service (a ledger serve on the NATS system --nats names) instead of opening the stream")
	via := map[string]func(ctx context.Context, cmd *cobra.Command, args []string, c *client.Client) error{
		"append":     a.appendVia,
		"state":      a.stateVia,
		"conflicts":  a.conflictsVia,
		"check":      a.checkVia,
		"avails":     a.availsVia,
		"calendar":   a.calendarVia,
		"history":    a.historyVia,
		"diff":       a.diffVia,
		"timeline":   a.timelineVia,
		"agreements": a.agreementsVia,
		"verify":     a.verifyVia,
	}
	for _, cmd := range root.Commands() {
		run, name := cmd.RunE, cmd.Name()
		ask, ok := via[name]
		switch {
		case ok:
			cmd.RunE = func(cmd *cobra.Command, args []string) error {
				if !viaService(cmd) {
					return run(cmd, args)
				}
				return a.withService(cmd, func(ctx context.Context, c *client.Client) error { return ask(ctx, cmd, args, c) })
			}
		case name == "serve" || name == "demo":
			cmd.RunE = func(cmd *cobra.Command, args []string) error {
				if viaService(cmd) {
					return invalid("--service: %s runs a ledger of its own; it does not ask one", name)
				}
				return run(cmd, args)
			}
		}
	}
}

func viaService(cmd *cobra.Command) bool {
	on, _ := cmd.Flags().GetBool("service")
	return on
}

// withService connects to the NATS system --nats names and runs fn with a
// client of the ledger's service on it. The context ends on SIGINT or
// SIGTERM.
func (a *app) withService(cmd *cobra.Command, fn func(ctx context.Context, c *client.Client) error) error {
	if a.url == "" {
		return invalid("--service asks the ledger's NATS service: give the NATS system it runs on with --nats URL (or $%s)", envNATS)
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	nc, err := ledger.Connect(a.config(), "ledger command")
	if err != nil {
		return err
	}
	defer nc.Close()
	return fn(ctx, client.New(nc, client.Options{}))
}

// askVia asks endpoint and writes its answer as the command does.
func askVia[T any](a *app, ctx context.Context, c *client.Client, endpoint string, p client.Params, text func(io.Writer, *T) error) (*T, error) {
	var v T
	if err := c.Request(ctx, endpoint, p, &v); err != nil {
		return nil, err
	}
	return &v, report(a, &v, text)
}

// timeOf is the value of a command's time flag.
func timeOf(cmd *cobra.Command, name string) *timeFlag {
	return cmd.Flags().Lookup(name).Value.(*timeFlag)
}

// withDamaged adds allow_damaged to p when --allow-damaged is given: to
// the questions about one agreement, as the command passes its options.
func (a *app) withDamaged(p client.Params) client.Params {
	if a.allowDamaged {
		p["allow_damaged"] = true
	}
	return p
}

// withKnown adds the command's --known-at, as given (a time or an
// amendment id, which the service resolves), to p.
func withKnown(cmd *cobra.Command, p client.Params) client.Params {
	if k := cmd.Flags().Lookup("known-at").Value.(*knownFlag); k.set {
		p["known_at"] = k.String()
	}
	return p
}

func (a *app) stateVia(ctx context.Context, cmd *cobra.Command, args []string, c *client.Client) error {
	p := withKnown(cmd, a.withDamaged(client.Params{"agreement": args[0], "at": events.FormatTime(timeOf(cmd, "at").orNow())}))
	_, err := askVia(a, ctx, c, "state", p, render.State)
	return err
}

func (a *app) conflictsVia(ctx context.Context, cmd *cobra.Command, _ []string, c *client.Client) error {
	p := withKnown(cmd, client.Params{"at": events.FormatTime(timeOf(cmd, "at").orNow())})
	_, err := askVia(a, ctx, c, "conflicts", p, render.Conflicts)
	return err
}

func (a *app) checkVia(ctx context.Context, cmd *cobra.Command, _ []string, c *client.Client) error {
	if err := required(cmd, "party", "product", "channel"); err != nil {
		return err
	}
	f := cmd.Flags()
	q := projections.RightsQuery{At: timeOf(cmd, "at").orNow()}
	p := withKnown(cmd, client.Params{"at": events.FormatTime(q.At)})
	scope := &events.Scope{}
	for _, d := range []struct {
		name string
		into *[]string
	}{{"party", nil}, {"product", &scope.Products}, {"channel", &scope.Channels}, {"platform", &scope.Platforms}, {"territory", &scope.Territories}} {
		if !f.Changed(d.name) {
			continue
		}
		v, _ := f.GetString(d.name)
		if !events.ValidSlug(v) {
			return invalid("--%s %q is not a slug (lower-case letters, digits and '-')", d.name, v)
		}
		p[d.name] = v
		if d.into == nil {
			q.Party = v
		} else {
			*d.into = []string{v}
		}
	}
	q.Scope = scope
	if q.IgnoreBasis, _ = f.GetBool("ignore-basis"); q.IgnoreBasis {
		p["ignore_basis"] = true
	}
	r, err := askVia(a, ctx, c, "check", p, func(w io.Writer, r *projections.Rights) error { return render.Rights(w, q, *r) })
	if err == nil && !r.Allowed {
		a.code = exitDenied // a no is an answer, not a failure
	}
	return err
}

func (a *app) historyVia(ctx context.Context, _ *cobra.Command, args []string, c *client.Client) error {
	_, err := askVia(a, ctx, c, "history", a.withDamaged(client.Params{"agreement": args[0]}), render.History)
	return err
}

func (a *app) diffVia(ctx context.Context, cmd *cobra.Command, args []string, c *client.Client) error {
	if err := required(cmd, "from"); err != nil {
		return err
	}
	p := withKnown(cmd, a.withDamaged(client.Params{"agreement": args[0], "from": events.FormatTime(timeOf(cmd, "from").t), "to": events.FormatTime(timeOf(cmd, "to").orNow())}))
	_, err := askVia(a, ctx, c, "diff", p, render.Diff)
	return err
}

func (a *app) timelineVia(ctx context.Context, cmd *cobra.Command, args []string, c *client.Client) error {
	svg, _ := cmd.Flags().GetString("svg")
	width, _ := cmd.Flags().GetInt("width")
	if width < 10 || width > 1000 {
		return invalid("--width %d: use 10 to 1000 columns", width)
	}
	var tl projections.Timeline
	if err := c.Request(ctx, "timeline", withKnown(cmd, a.withDamaged(client.Params{"agreement": args[0]})), &tl); err != nil {
		return err
	}
	if svg != "" {
		if err := writeFile(svg, func(w io.Writer) error { return render.TimelineSVG(&tl, w, render.SVGOptions{Now: time.Now()}) }); err != nil {
			return err
		}
	}
	return report(a, &tl, func(w io.Writer, tl *projections.Timeline) error {
		err := render.Timeline(w, tl, render.TimelineOptions{Width: width})
		if err == nil && svg != "" {
			_, err = fmt.Fprintf(w, "\nSVG drawing written to %s\n", svg)
		}
		return err
	})
}

func (a *app) agreementsVia(ctx context.Context, cmd *cobra.Command, _ []string, c *client.Client) error {
	list, err := c.Agreements(ctx, timeOf(cmd, "at").orNow())
	if err != nil {
		return err
	}
	return report(a, list, render.Agreements)
}

func (a *app) availsVia(ctx context.Context, cmd *cobra.Command, _ []string, c *client.Client) error {
	_, held, err := availsQuery(cmd)
	if err != nil {
		return err
	}
	p := withKnown(cmd, client.Params{"from": events.FormatTime(timeOf(cmd, "from").t), "to": events.FormatTime(timeOf(cmd, "to").t)})
	for _, name := range slices.Concat(scopeDims, []string{"party", "holder"}) {
		if v, _ := cmd.Flags().GetString(name); v != "" {
			p[name] = v
		}
	}
	if ignore, _ := cmd.Flags().GetBool("ignore-basis"); ignore {
		p["ignore_basis"] = true
	}
	if held != nil {
		_, err = askVia(a, ctx, c, "avails", p, render.Holdings)
	} else {
		_, err = askVia(a, ctx, c, "avails", p, render.Avails)
	}
	return err
}

// calendarVia asks for the calendar's document; --ics renders its file
// here, from it.
func (a *app) calendarVia(ctx context.Context, cmd *cobra.Command, _ []string, c *client.Client) error {
	q, err := calendarQuery(cmd)
	if err != nil {
		return err
	}
	p := client.Params{"from": events.FormatTime(q.From), "to": events.FormatTime(q.To)}
	if q.Agreement != "" {
		p["agreement"] = q.Agreement
	}
	var cal projections.Calendar
	if err := c.Request(ctx, "calendar", withKnown(cmd, a.withDamaged(p)), &cal); err != nil {
		return err
	}
	ics, _ := cmd.Flags().GetString("ics")
	if err := writeICS(ics, &cal); err != nil {
		return err
	}
	return report(a, &cal, calendarText(ics))
}

func (a *app) verifyVia(ctx context.Context, cmd *cobra.Command, _ []string, c *client.Client) error {
	since, _ := cmd.Flags().GetString("since")
	exportHeads, _ := cmd.Flags().GetBool("heads")
	var heads []ledger.Head
	if since != "" {
		var err error
		if heads, err = readHeads(since); err != nil {
			return err
		}
	}
	r, err := c.Verify(ctx, heads)
	if err != nil {
		return err
	}
	return a.verified(r, exportHeads)
}

func (a *app) appendVia(ctx context.Context, cmd *cobra.Command, args []string, c *client.Client) error {
	f := cmd.Flags()
	if whatIf, _ := f.GetBool("what-if"); whatIf {
		return invalid("--what-if is not asked through --service: run it against the store (without --service)")
	}
	if f.Changed("known-at") {
		return invalid("--known-at applies to --what-if only")
	}
	maxInput, _ := f.GetInt64("max-input")
	if maxInput < 1 {
		return invalid("--max-input %d: give a positive number of bytes", maxInput)
	}
	name := "-"
	if len(args) == 1 {
		name = args[0]
	}
	as, err := a.readAmendments(name, maxInput)
	if err != nil {
		return err
	}
	var opts ledger.AppendOptions
	opts.DryRun, _ = f.GetBool("dry-run")
	if f.Changed("expect-version") {
		v, _ := f.GetUint64("expect-version")
		opts.ExpectVersion = &v
	}
	res, err := c.Append(ctx, as, opts)
	if err != nil {
		return err
	}
	return a.emit(res, func(w io.Writer) error { return render.Appended(w, res) })
}
