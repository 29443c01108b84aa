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
		Use:   "avails --product X --channel C [--platform P] [--territory T] [--party P] --from T1 --to T2 [--known-at K] [--ignore-basis] | avails --holder P --from T1 --to T2",
		Short: "From when to when each party may offer a product on a channel; or what a party holds exclusively",
		Long: `avails answers the rights check (ledger check) as a function of time: for each
party that an exclusive grant covering the product names (or only --party),
the intervals of [--from, --to) in which it may offer it (allowed), is kept
out (denied) or has no basis (no_basis), each with the clauses that decide
it: what gives it the right and what blocks it. Intervals are half-open,
merged where those clauses stay the same and split where they change.
--ignore-basis asks check's question with --ignore-basis: an interval
without a basis is then allowed in JSON ("allowed": true), its verdict
still no_basis.

With --holder, it lists what that party holds exclusively (exclusivities and
exclusive licences; --product and the other dimensions narrow it), interval
by interval.`,
		Args: args(0, 0),
	}
	f := cmd.Flags()
	scopeFlags(f)
	f.String("party", "", "only this party (default every party named)")
	f.String("holder", "", "list what this party holds exclusively instead")
	f.Bool("ignore-basis", false, "ask only whether another's exclusivity is in the way (as check --ignore-basis)")
	timeVar(f, "from", "start of the window of valid time")
	timeVar(f, "to", "end of the window (not included)")
	known := knownVar(f)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		av, held, err := availsQuery(cmd)
		if err != nil {
			return err
		}
		if held != nil {
			return answer(a, cmd, known, func(_ context.Context, l *ledger.Ledger, k time.Time) (*projections.Holdings, error) {
				held.KnownAt = k
				return l.Holdings(*held)
			}, render.Holdings)
		}
		return answer(a, cmd, known, func(_ context.Context, l *ledger.Ledger, k time.Time) (*projections.Avails, error) {
			av.KnownAt = k
			return l.Avails(*av)
		}, render.Avails)
	}
	return cmd
}

// availsQuery reads and checks the flags of avails, with or without
// --service: the holdings asked for with --holder, else the avails. Its
// known-at is left for the asker.
func availsQuery(cmd *cobra.Command) (*projections.AvailsQuery, *projections.HoldingsQuery, error) {
	from, to := timeOf(cmd, "from"), timeOf(cmd, "to")
	if err := window(cmd, from, to); err != nil {
		return nil, nil, err
	}
	if err := slugs(cmd, "product", "channel", "platform", "territory", "party", "holder"); err != nil {
		return nil, nil, err
	}
	f := cmd.Flags()
	party, _ := f.GetString("party")
	holder, _ := f.GetString("holder")
	if holder != "" {
		if f.Changed("party") || f.Changed("ignore-basis") {
			return nil, nil, invalid("%s: --holder asks another question than --party and --ignore-basis; give one (usage: %s)", cmd.CommandPath(), cmd.UseLine())
		}
		return nil, &projections.HoldingsQuery{Holder: holder, Scope: flagScope(cmd), From: from.t, To: to.t}, nil
	}
	if err := required(cmd, "product", "channel"); err != nil {
		return nil, nil, err
	}
	ignoreBasis, _ := f.GetBool("ignore-basis")
	return &projections.AvailsQuery{Scope: flagScope(cmd), Party: party, From: from.t, To: to.t, IgnoreBasis: ignoreBasis}, nil, nil
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
	f := cmd.Flags()
	f.String("agreement", "", "only this agreement (default every one)")
	f.String("ics", "", "also write the dated entries as an iCalendar file")
	timeVar(f, "from", "start of the window of valid time")
	timeVar(f, "to", "end of the window (not included)")
	known := knownVar(f)
	_ = cmd.RegisterFlagCompletionFunc("agreement", func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return a.completeAgreements(cmd, nil, toComplete)
	})
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		q, err := calendarQuery(cmd)
		if err != nil {
			return err
		}
		ics, _ := cmd.Flags().GetString("ics")
		return answer(a, cmd, known, func(_ context.Context, l *ledger.Ledger, k time.Time) (*projections.Calendar, error) {
			q.KnownAt = k
			c, err := l.Calendar(q, a.queryOptions()...)
			if err == nil {
				err = writeICS(ics, c)
			}
			return c, err
		}, calendarText(ics))
	}
	return cmd
}

// calendarQuery reads and checks the flags of calendar, with or without
// --service. Its known-at is left for the asker.
func calendarQuery(cmd *cobra.Command) (projections.CalendarQuery, error) {
	from, to := timeOf(cmd, "from"), timeOf(cmd, "to")
	if err := window(cmd, from, to); err != nil {
		return projections.CalendarQuery{}, err
	}
	if err := slugs(cmd, "agreement"); err != nil {
		return projections.CalendarQuery{}, err
	}
	agreement, _ := cmd.Flags().GetString("agreement")
	return projections.CalendarQuery{Agreement: agreement, From: from.t, To: to.t}, nil
}

// writeICS writes the calendar's dated entries as an iCalendar file, when
// --ics names one.
func writeICS(ics string, c *projections.Calendar) error {
	if ics == "" {
		return nil
	}
	return writeFile(ics, func(w io.Writer) error {
		return render.CalendarICS(w, c, render.ICSOptions{Stamp: time.Now()})
	})
}

// calendarText writes the calendar for people, saying where --ics wrote
// its file.
func calendarText(ics string) func(io.Writer, *projections.Calendar) error {
	return func(w io.Writer, c *projections.Calendar) error {
		err := render.Calendar(w, c)
		if err == nil && ics != "" {
			_, err = fmt.Fprintf(w, "\niCalendar file written to %s (%s)\n", ics, render.Plural(len(c.Entries), "event", "events"))
		}
		return err
	}
}

// scopeDims are the dimensions of a scope, in the order of events.Scope's
// (Dim), as flags and as the service's parameters.
var scopeDims = []string{"product", "channel", "platform", "territory"}

// scopeFlags adds --product, --channel, --platform and --territory.
func scopeFlags(f *pflag.FlagSet) {
	f.String("product", "", "the product")
	f.String("channel", "", "the channel, e.g. api")
	f.String("platform", "", "the platform (default any)")
	f.String("territory", "", "the territory (default any)")
}

// flagScope is one value per dimension given; a dimension not given means
// any.
func flagScope(cmd *cobra.Command) *events.Scope {
	s := &events.Scope{}
	for i, into := range []*[]string{&s.Products, &s.Channels, &s.Platforms, &s.Territories} {
		if v, _ := cmd.Flags().GetString(scopeDims[i]); v != "" {
			*into = []string{v}
		}
	}
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
