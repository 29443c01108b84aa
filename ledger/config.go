package ledger

import (
	"log/slog"
	"time"
)

// Config says where the ledger keeps its stream and how it connects.
type Config struct {
	// DataDir is where the embedded server keeps its store. Default "ledger-data".
	DataDir string
	// Listen, for the embedded server, is a TCP address such as
	// "127.0.0.1:4222" on which other processes may reach it. Empty: no
	// listener; the ledger talks to its server in-process.
	Listen string

	// URL of an external NATS server or cluster (comma-separated). When set,
	// no server is embedded and DataDir is not used.
	URL string
	// Credentials for an external server: user and password, a token, a
	// .creds file or an nkey seed file.
	User, Password, Token, CredsFile, NKeyFile string
	// TLS for an external server: CA to trust, and a client certificate.
	CAFile, CertFile, KeyFile string

	// MaxStore, for the embedded server, is the most its store may hold on
	// disk, in bytes: past it appends fail as out of space, with nothing
	// of the input written, before the disk itself fills (and whatever
	// else uses it). Zero: JetStream's default, three quarters of the
	// disk's free space when the server starts.
	MaxStore int64

	// Stream is the JetStream stream name. Default "LEDGER".
	Stream string
	// Subject is the subject prefix; agreement A is stored on Subject+"."+A.
	// Default "ledger.agreement".
	Subject string
	// Replicas of the stream when the ledger creates it. Default 1; use 3
	// on a cluster.
	Replicas int
	// DuplicateWindow is JetStream's duplicate window. Idempotency does not
	// depend on it (every append carries its agreement's expected last
	// sequence, and the read model remembers every id), but retries inside
	// it are answered by JetStream itself. The server holds every id of the
	// window in memory and reads the window again when it restarts, so a
	// long window costs after a large import. Default 30 seconds, three
	// times the default Timeout.
	DuplicateWindow time.Duration

	// Timeout bounds each request to JetStream. Default 10 seconds.
	Timeout time.Duration
	// GroupWindow is how long a commit of concurrent appends (it holds
	// several, or the last commit did) waits for more to join its atomic
	// batch: JetStream stages each atomic batch of a single-replica stream
	// on disk, at about the same cost for 2 messages as for 32. A lone
	// writer is never delayed. Default 500µs; negative: commit what has
	// arrived at once.
	GroupWindow time.Duration
	// SnapshotEvery writes a snapshot of the read model after this many new
	// amendments (and on Close). Default 10000; negative disables snapshots.
	SnapshotEvery int

	// Lazy defers loading the read model until a call needs all of it (a
	// cross-agreement question, an append, Ready). A short command that
	// asks about one agreement then reads only that agreement's messages:
	// on a large store it costs what its answer needs.
	Lazy bool

	// Logger receives warnings (messages skipped by the read model,
	// snapshots ignored). Default: discard.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.DataDir == "" {
		c.DataDir = "ledger-data"
	}
	if c.Stream == "" {
		c.Stream = "LEDGER"
	}
	if c.Subject == "" {
		c.Subject = "ledger.agreement"
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.DuplicateWindow == 0 {
		c.DuplicateWindow = 30 * time.Second
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.GroupWindow == 0 {
		c.GroupWindow = 500 * time.Microsecond
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = 10000
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
