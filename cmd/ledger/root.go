package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/render"
	"github.com/agreement-ledger/ledger/projections"
	"github.com/oklog/ulid/v2"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Environment variables that stand for global flags.
const (
	envData = "LEDGER_DATA"
	envNATS = "LEDGER_NATS_URL"
)

// app is one run of the command: its streams and global options.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	data, url, output, stream string
	maxStore                  string
	replicas                  int
	verbose                   bool
	allowDamaged              bool
	nats                      natsAuth

	// code is the exit code of a command that did what it was asked: not
	// exitOK when its answer is no (a rights check that denies).
	code int
}

// natsAuth are the credentials and TLS files for an external NATS server.
type natsAuth struct {
	user, password, token, creds, nkey, ca, cert, key string
}

// Exit codes of the ledger command.
const (
	exitOK       = 0
	exitInternal = 1
	exitInvalid  = 2
	exitDenied   = 3 // a rights check said no
	exitConflict = 4
	exitDamaged  = 5 // the answer would rest on a damaged history
)

// exitCode is the exit code of a command that failed with err, by its
// kind: the one place errors become exit codes.
func exitCode(err error) int {
	switch events.KindOf(err).Base() {
	case events.Invalid:
		return exitInvalid
	case events.Conflict:
		return exitConflict
	case events.Damaged:
		return exitDamaged
	}
	return exitInternal
}

// run executes the command line and returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		a.printError(err)
		return exitCode(err)
	}
	return a.code
}

// printError writes err on stderr: one line, or the JSON error document.
func (a *app) printError(err error) {
	if a.output == "json" {
		b, _ := json.MarshalIndent(ledger.Document(err, true), "", "  ")
		fmt.Fprintf(a.stderr, "%s\n", b)
		return
	}
	msg := strings.Join(strings.Fields(err.Error()), " ")
	fmt.Fprintf(a.stderr, "ledger: %s\n", strings.TrimPrefix(msg, "ledger: "))
}

// invalid is an error about the command line: exit code 2.
func invalid(format string, args ...any) error {
	return &events.Error{Kind: events.Invalid, Message: fmt.Sprintf(format, args...)}
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "ledger",
		Short: "An event-sourced ledger of commercial agreements",
		Long: `ledger records commercial agreements as an append-only history of amendments
on NATS JetStream and answers what an agreement said at a time T, as known at a
time K: state, conflicting exclusive grants, rights checks and avails,
the deal calendar, timelines, diffs.

New here? Run "ledger demo".

Times are RFC 3339 date-times or dates (2026-03-15 is midnight UTC).
Exit codes: 0 ok, 1 error, 2 invalid input (nothing written), 3 rights check
denied, 4 concurrency conflict (--expect-version did not match), 5 the store
is damaged and the answer would rest on a broken chain (--allow-damaged).`,
		Version:       version(),
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			msg := fmt.Sprintf("unknown command %q", args[0])
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, ", "))
			}
			return invalid("%s; see ledger --help", msg)
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error { return a.setup(cmd) },
	}
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return invalid("%v (see %s --help)", err, cmd.CommandPath())
	})
	root.SetVersionTemplate("ledger {{.Version}}\n")

	f := root.PersistentFlags()
	f.StringVar(&a.data, "data", "./ledger-data", "directory of the embedded store (env "+envData+")")
	f.StringVar(&a.url, "nats", "", "URL of an external NATS server or cluster, comma-separated (env "+envNATS+"); no embedded store")
	f.StringVar(&a.nats.user, "nats-user", "", "NATS user name")
	f.StringVar(&a.nats.password, "nats-password", "", "NATS password")
	f.StringVar(&a.nats.token, "nats-token", "", "NATS token")
	f.StringVar(&a.nats.creds, "nats-creds", "", "NATS credentials (.creds) file")
	f.StringVar(&a.nats.nkey, "nats-nkey", "", "NATS nkey seed file")
	f.StringVar(&a.nats.ca, "nats-ca", "", "CA certificate to trust for NATS TLS")
	f.StringVar(&a.nats.cert, "nats-cert", "", "client certificate for NATS TLS")
	f.StringVar(&a.nats.key, "nats-key", "", "client key for NATS TLS")
	f.StringVar(&a.stream, "stream", "LEDGER", "JetStream stream name")
	f.StringVar(&a.maxStore, "max-store", "", "the most the embedded store may hold on disk, e.g. 512M or 20G (default: three quarters of the disk's free space); past it appends fail as out of space, writing nothing")
	f.IntVar(&a.replicas, "replicas", 1, "replicas of the stream when the ledger creates it (3 on a cluster)")
	f.StringVarP(&a.output, "output", "o", "text", "output format: text for people, json for programs")
	f.BoolVarP(&a.verbose, "verbose", "v", false, "log what the ledger does on stderr")
	f.BoolVar(&a.allowDamaged, "allow-damaged", false, "answer about a damaged agreement from the versions the store can still read, marked damaged, instead of failing with exit 5")
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))

	root.AddCommand(
		a.appendCommand(),
		a.stateCommand(),
		a.conflictsCommand(),
		a.checkCommand(),
		a.availsCommand(),
		a.calendarCommand(),
		a.historyCommand(),
		a.diffCommand(),
		a.timelineCommand(),
		a.agreementsCommand(),
		a.verifyCommand(),
		a.backupCommand(),
		a.restoreCommand(),
		a.permissionsCommand(),
		a.serveCommand(),
		a.demoCommand(),
		a.versionCommand(),
		a.benchCommand(),
	)
	a.serviceCommands(root)
	return root
}

// setup checks the global options and applies the environment.
func (a *app) setup(cmd *cobra.Command) error {
	f := cmd.Flags()
	if v := os.Getenv(envData); v != "" && !f.Changed("data") {
		a.data = v
	}
	if v := os.Getenv(envNATS); v != "" && !f.Changed("nats") {
		a.url = v
	}
	switch a.output {
	case "text", "json":
	default:
		out := a.output
		a.output = "text"
		return invalid("--output %q: use text or json", out)
	}
	if a.replicas < 1 || a.replicas > 5 {
		return invalid("--replicas %d: a stream has 1 to 5 replicas", a.replicas)
	}
	if _, err := parseSize(a.maxStore); err != nil {
		return invalid("--max-store %q: %v", a.maxStore, err)
	}
	return nil
}

// parseSize reads a size in bytes with an optional K, M, G or T suffix
// (powers of 1024); "" is 0.
func parseSize(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	mult := int64(1)
	switch strings.ToUpper(s[len(s)-1:]) {
	case "K":
		mult = 1 << 10
	case "M":
		mult = 1 << 20
	case "G":
		mult = 1 << 30
	case "T":
		mult = 1 << 40
	}
	digits := s
	if mult > 1 {
		digits = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("give a positive number of bytes, with K, M, G or T for KiB, MiB, GiB or TiB")
	}
	return n * mult, nil
}

// config is the ledger configuration the global options describe.
func (a *app) config() ledger.Config {
	cfg := ledger.Config{
		DataDir:   a.data,
		URL:       a.url,
		User:      a.nats.user,
		Password:  a.nats.password,
		Token:     a.nats.token,
		CredsFile: a.nats.creds,
		NKeyFile:  a.nats.nkey,
		CAFile:    a.nats.ca,
		CertFile:  a.nats.cert,
		KeyFile:   a.nats.key,
		Stream:    a.stream,
		Replicas:  a.replicas,
	}
	cfg.MaxStore, _ = parseSize(a.maxStore) // checked in setup
	if a.verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return cfg
}

// open opens the ledger the global options name, for one command: its read
// model is loaded only if the command needs all of it (Config.Lazy).
func (a *app) open(ctx context.Context) (*ledger.Ledger, error) {
	cfg := a.config()
	cfg.Lazy = true
	return ledger.Open(ctx, cfg)
}

// with opens the ledger, runs fn and closes the ledger. SIGINT or SIGTERM
// ends fn's context; fn then has stopGrace to return (an append, to have
// its batch in flight acknowledged or abandoned) before the command stops
// without it, and the ledger is closed without writing a snapshot.
func (a *app) with(cmd *cobra.Command, fn func(ctx context.Context, l *ledger.Ledger) error) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	l, err := a.open(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return interruptedErr()
		}
		return err
	}
	done := make(chan error, 1)
	go func() { done <- fn(ctx, l) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		select {
		case err = <-done:
		case <-time.After(stopGrace):
			err = interruptedErr()
		}
	}
	if ctx.Err() != nil {
		// Closed without a snapshot, and not waited for long: a check of a
		// large input still running holds the ledger, and the store, with
		// every acknowledged write on disk, needs no orderly close.
		closed := make(chan struct{})
		go func() { l.CloseNow(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(time.Second):
		}
		if err == nil {
			err = interruptedErr()
		}
		return err
	}
	l.Close()
	return err
}

// stopGrace is how long a command has to finish after SIGINT or SIGTERM:
// enough for an append's batch in flight (the ledger abandons it after a
// second), short enough that the command stops within about a second.
const stopGrace = 1200 * time.Millisecond

func interruptedErr() error {
	return events.Errorf(events.Internal, "interrupted")
}

// answer opens the ledger, asks it a question and writes the answer (see
// emit). The time the --known-at flag known names (zero without the flag,
// or with a nil known) is resolved on the ledger and given to ask; the
// answer echoes the amendment it was given as, if it was.
func answer[T any](a *app, cmd *cobra.Command, known *knownFlag, ask func(ctx context.Context, l *ledger.Ledger, knownAt time.Time) (T, error), text func(io.Writer, T) error) error {
	return a.with(cmd, func(ctx context.Context, l *ledger.Ledger) error {
		k, err := known.in(l)
		if err != nil {
			return err
		}
		v, err := ask(ctx, l, k)
		if err != nil {
			return err
		}
		projections.EchoKnownAt(v, known.amendmentOf())
		return report(a, v, text)
	})
}

// report writes an answer (see emit), marked when it rests on damaged
// agreements, whether the ledger answered it in process or through its
// service.
func report[T any](a *app, v T, text func(io.Writer, T) error) error {
	ds := damageOf(v)
	err := a.emit(v, func(w io.Writer) error {
		if err := render.Damaged(w, ds); err != nil {
			return err
		}
		return text(w, v)
	})
	if err == nil && len(ds) > 0 && !a.allowDamaged {
		// A question about several agreements is answered with the
		// damaged ones' intact prefixes: the answer is printed, marked,
		// and the exit code says it is not whole.
		return &events.Error{Kind: events.Damaged, Message: fmt.Sprintf("the answer above rests on %s whose history the store cannot read whole (first: %s from version %d); run ledger verify, recover the store as the README's \"Recovering a damaged store\" says, or accept it with --allow-damaged",
			render.Plural(len(ds), "agreement", "agreements"), ds[0].Agreement, ds[0].Version)}
	}
	return err
}

// damageOf returns the damaged agreements an answer rests on.
func damageOf(v any) []projections.Damage {
	one := func(d *projections.Damage) []projections.Damage {
		if d == nil {
			return nil
		}
		return []projections.Damage{*d}
	}
	switch v := v.(type) {
	case *projections.State:
		return one(v.Damaged)
	case *projections.History:
		return one(v.Damaged)
	case *projections.Timeline:
		return one(v.Damaged)
	case *projections.Diff:
		return one(v.Damaged)
	case *projections.ConflictReport:
		return v.Damaged
	case *projections.Rights:
		return v.Damaged
	case *projections.Avails:
		return v.Damaged
	case *projections.Holdings:
		return v.Damaged
	case *projections.Calendar:
		return v.Damaged
	case []projections.Summary:
		var out []projections.Damage
		for _, s := range v {
			out = append(out, one(s.Damaged)...)
		}
		return out
	}
	return nil
}

// queryOptions are the options of a question about one agreement.
func (a *app) queryOptions() []ledger.QueryOption {
	if a.allowDamaged {
		return []ledger.QueryOption{ledger.AllowDamaged()}
	}
	return nil
}

// emit writes v as its JSON document with -o json, or as text for people.
func (a *app) emit(v any, text func(w io.Writer) error) error {
	if a.output == "json" {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(a.stdout, "%s\n", b)
		return err
	}
	return text(a.stdout)
}

// timeFlag is a flag holding a time: RFC 3339, a date, or "now".
type timeFlag struct {
	t   time.Time
	set bool
}

func (f *timeFlag) String() string {
	if !f.set {
		return ""
	}
	return events.FormatTime(f.t)
}

func (f *timeFlag) Set(s string) error {
	if s == "now" {
		f.t, f.set = time.Now().UTC(), true
		return nil
	}
	t, err := events.ParseTime(s)
	if err != nil {
		return err
	}
	f.t, f.set = t, true
	return nil
}

func (f *timeFlag) Type() string { return "time" }

// orNow is the flag's time, or now when it was not given.
func (f *timeFlag) orNow() time.Time {
	if f.set {
		return f.t
	}
	return time.Now().UTC()
}

// knownFlag is a --known-at flag: a time, or the id of an amendment, which
// stands for the time it was recorded ("as known when it was recorded").
type knownFlag struct {
	timeFlag
	id ulid.ULID
	// amendment is the amendment id names, once in has found it.
	amendment *projections.AmendmentRef
}

func (f *knownFlag) Set(s string) error {
	if id, err := ulid.ParseStrict(s); err == nil && len(s) == ulid.EncodedSize {
		f.id, f.set = id, true
		return nil
	}
	return f.timeFlag.Set(s)
}

func (f *knownFlag) Type() string { return "time|amendment-id" }

func (f *knownFlag) String() string {
	if f.id != (ulid.ULID{}) {
		return f.id.String()
	}
	return f.timeFlag.String()
}

// in resolves the flag against l: zero when not given (everything
// recorded) or f is nil, the time given, or when the amendment named was
// recorded (then amendmentOf names it).
func (f *knownFlag) in(l *ledger.Ledger) (time.Time, error) {
	if f == nil {
		return time.Time{}, nil
	}
	if f.id == (ulid.ULID{}) {
		return f.t, nil
	}
	r, err := l.Amendment(f.id)
	if err != nil {
		return time.Time{}, err
	}
	f.amendment = projections.RefOf(r)
	return r.Recorded, nil
}

// amendmentOf is the amendment the flag was given as, once in has found
// it; nil for a time, no flag, or a nil f.
func (f *knownFlag) amendmentOf() *projections.AmendmentRef {
	if f == nil {
		return nil
	}
	return f.amendment
}

// knownVar adds a --known-at flag to fs.
func knownVar(fs *pflag.FlagSet) *knownFlag {
	f := &knownFlag{}
	fs.Var(f, "known-at", "transaction time: count only amendments recorded by then, given as a time or as an amendment id (when it was recorded); default everything")
	return f
}

// timeVar adds a time flag to fs.
func timeVar(fs *pflag.FlagSet, name, usage string) *timeFlag {
	f := &timeFlag{}
	fs.Var(f, name, usage)
	return f
}

// args checks the positional arguments: between min and max of them,
// named in the usage.
func args(min, max int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < min:
			return invalid("%s: missing argument (usage: %s)", cmd.CommandPath(), cmd.UseLine())
		case len(args) > max:
			return invalid("%s: too many arguments: %s (usage: %s)", cmd.CommandPath(), strings.Join(args[max:], " "), cmd.UseLine())
		}
		return nil
	}
}

// required checks that flags were given.
func required(cmd *cobra.Command, names ...string) error {
	var missing []string
	for _, n := range names {
		if !cmd.Flags().Changed(n) {
			missing = append(missing, "--"+n)
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return invalid("%s: %s is required (usage: %s)", cmd.CommandPath(), missing[0], cmd.UseLine())
	}
	return invalid("%s: %s are required (usage: %s)", cmd.CommandPath(), strings.Join(missing, ", "), cmd.UseLine())
}
