package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/render"
	"github.com/agreement-ledger/ledger/projections"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func (a *app) availsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "avails --product X --channel C [--platform P] [--territory T] [--party P] --from T1 --to T2 [--known-at K] | avails --holder P --from T1 --to T2",
		Short: "From when to when each party may offer a product on a channel; or what a party holds exclusively",
		Long: `avails answers the rights check (ledger check) as a function of time: for each
party that an exclusive grant covering the product names (or only --party),
the intervals of [--from, --to) in which it may offer it and those in which
it may not, each with the clauses that decide it. Intervals are half-open,
merged where the deciding clauses stay the same and split where they change.

With --holder, it lists what that party holds exclusively (exclusivities and
exclusive licences; --product and the other dimensions narrow it), interval
by interval.`,
		Args: args(0, 0),
	}
	var party, holder string
	f := cmd.Flags()
	dims := scopeFlags(f)
	f.StringVar(&party, "party", "", "only this party (default every party named)")
	f.StringVar(&holder, "holder", "", "list what this party holds exclusively instead")
	from := timeVar(f, "from", "start of the window of valid time")
	to := timeVar(f, "to", "end of the window (not included)")
	known := knownVar(f)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := window(cmd, from, to); err != nil {
			return err
		}
		if err := slugs(cmd, "product", "channel", "platform", "territory", "party", "holder"); err != nil {
			return err
		}
		if holder != "" {
			if cmd.Flags().Changed("party") {
				return invalid("%s: --party and --holder ask different questions; give one (usage: %s)", cmd.CommandPath(), cmd.UseLine())
			}
			q := projections.HoldingsQuery{Holder: holder, Scope: dims.scope(), From: from.t, To: to.t}
			return answer(a, cmd, known, func(_ context.Context, l *ledger.Ledger, k time.Time) (*projections.Holdings, error) {
				q.KnownAt = k
				return l.Holdings(q)
			}, render.Holdings)
		}
		if err := required(cmd, "product", "channel"); err != nil {
			return err
		}
		q := projections.AvailsQuery{Scope: dims.scope(), Party: party, From: from.t, To: to.t}
		return answer(a, cmd, known, func(_ context.Context, l *ledger.Ledger, k time.Time) (*projections.Avails, error) {
			q.KnownAt = k
			return l.Avails(q)
		}, render.Avails)
	}
	return cmd
}

func (a *app) calendarCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "calendar --from T1 --to T2 [--agreement A] [--known-at K] [--ics FILE]",
		Short: "What falls due: clauses starting and ending, caps reached, standing risks; --ics writes a calendar file",
		Long: `calendar lists, in date order, the dated events a deal desk must act on in
[--from, --to): clause terms starting and ending (exclusivities and licences
expiring, commitments' terms ending), revenue shares whose accrued amount
reaches 80% of their cap or the cap (with the report that crossed). Then the
standing risks, which have no date: clauses that end on a condition, caps
whose crossing cannot be computed (and why), conditional tranches not funded.

--ics writes the dated entries as an iCalendar (RFC 5545) file that calendar
applications import; each event's UID is derived from the agreement, the
clause and the kind of entry, so importing a later file again updates the
events rather than adding them twice.`,
		Args: args(0, 0),
	}
	var agreement, ics string
	f := cmd.Flags()
	f.StringVar(&agreement, "agreement", "", "only this agreement (default every one)")
	f.StringVar(&ics, "ics", "", "also write the dated entries as an iCalendar file")
	from := timeVar(f, "from", "start of the window of valid time")
	to := timeVar(f, "to", "end of the window (not included)")
	known := knownVar(f)
	_ = cmd.RegisterFlagCompletionFunc("agreement", func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return a.completeAgreements(cmd, nil, toComplete)
	})
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := window(cmd, from, to); err != nil {
			return err
		}
		if err := slugs(cmd, "agreement"); err != nil {
			return err
		}
		q := projections.CalendarQuery{Agreement: agreement, From: from.t, To: to.t}
		return answer(a, cmd, known, func(_ context.Context, l *ledger.Ledger, k time.Time) (*projections.Calendar, error) {
			q.KnownAt = k
			c, err := l.Calendar(q, a.queryOptions()...)
			if err == nil && ics != "" {
				err = writeFile(ics, func(w io.Writer) error {
					return render.CalendarICS(w, c, render.ICSOptions{Stamp: time.Now()})
				})
			}
			return c, err
		}, func(w io.Writer, c *projections.Calendar) error {
			err := render.Calendar(w, c)
			if err == nil && ics != "" {
				_, err = fmt.Fprintf(w, "\niCalendar file written to %s (%s)\n", ics, render.Plural(len(c.Entries), "event", "events"))
			}
			return err
		})
	}
	return cmd
}

// scopeDims are the --product, --channel, --platform and --territory flags.
type scopeDims struct{ product, channel, platform, territory string }

func scopeFlags(f *pflag.FlagSet) *scopeDims {
	d := &scopeDims{}
	f.StringVar(&d.product, "product", "", "the product")
	f.StringVar(&d.channel, "channel", "", "the channel, e.g. api")
	f.StringVar(&d.platform, "platform", "", "the platform (default any)")
	f.StringVar(&d.territory, "territory", "", "the territory (default any)")
	return d
}

// scope is one value per dimension given; a dimension not given means any.
func (d *scopeDims) scope() *events.Scope {
	one := func(v string) []string {
		if v == "" {
			return nil
		}
		return []string{v}
	}
	s := &events.Scope{Products: one(d.product), Channels: one(d.channel), Platforms: one(d.platform), Territories: one(d.territory)}
	if s.IsAll() {
		return nil
	}
	return s
}

// window checks --from and --to: both given, --to after --from.
func window(cmd *cobra.Command, from, to *timeFlag) error {
	if err := required(cmd, "from", "to"); err != nil {
		return err
	}
	if !to.t.After(from.t) {
		return invalid("--to %s must be after --from %s: a window is [from, to)", events.FormatTime(to.t), events.FormatTime(from.t))
	}
	return nil
}

// slugs checks that the named flags given are slugs.
func slugs(cmd *cobra.Command, names ...string) error {
	for _, n := range names {
		if v, _ := cmd.Flags().GetString(n); cmd.Flags().Changed(n) && !events.ValidSlug(v) {
			return invalid("--%s %q is not a slug (lower-case letters, digits and '-')", n, v)
		}
	}
	return nil
}
