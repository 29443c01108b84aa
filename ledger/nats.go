package ledger

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// lockFile and urlFile live in the data directory: the first keeps two
// processes from opening one store, the second tells a second process where
// the first listens, so it can share the store through it.
const (
	lockFile = "ledger.lock"
	urlFile  = "ledger.url"
)

// embedded is an in-process nats-server and the lock on its data directory.
type embedded struct {
	srv  *server.Server
	lock *os.File
	dir  string // the data directory
	url  string // where it listens, or ""
}

// startEmbedded starts a JetStream server storing in cfg.DataDir, fsyncing
// every write. It returns errInUse when another process holds the directory.
func startEmbedded(cfg Config) (*embedded, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("ledger: data directory: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(cfg.DataDir, lockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("ledger: data directory: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, errInUse
	}
	opts := &server.Options{
		ServerName: "ledger",
		JetStream:  true,
		StoreDir:   cfg.DataDir,
		SyncAlways: true, // an ack means the amendment is on disk
		NoSigs:     true,
		NoLog:      true,
		DontListen: cfg.Listen == "",
		JetStreamLimits: server.JSLimitOpts{
			Duplicates: max(cfg.DuplicateWindow, 2*time.Minute),
		},
		JetStreamMaxStore: cfg.MaxStore,
	}
	if cfg.Listen != "" {
		host, port, err := net.SplitHostPort(cfg.Listen)
		if err != nil {
			lock.Close()
			return nil, events.Errorf(events.Invalid, "listen address %q: %v", cfg.Listen, err)
		}
		opts.Host = host
		if opts.Port, err = strconv.Atoi(port); err != nil {
			lock.Close()
			return nil, events.Errorf(events.Invalid, "listen address %q: bad port", cfg.Listen)
		}
		if opts.Port == 0 {
			opts.Port = server.RANDOM_PORT // NATS reads 0 as its default port, 4222
		}
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("ledger: embedded server: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		lock.Close()
		return nil, errors.New("ledger: embedded server did not start within 30s")
	}
	e := &embedded{srv: srv, lock: lock, dir: cfg.DataDir}
	if cfg.Listen != "" {
		e.url = srv.ClientURL()
		if err := os.WriteFile(filepath.Join(cfg.DataDir, urlFile), []byte(e.url+"\n"), 0o644); err != nil {
			e.stop()
			return nil, fmt.Errorf("ledger: %w", err)
		}
	}
	return e, nil
}

var errInUse = errors.New("data directory in use")

func (e *embedded) stop() {
	if e.url != "" {
		os.Remove(filepath.Join(e.dir, urlFile)) // not srv.StoreDir(): that is dir/jetstream
	}
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
	syscall.Flock(int(e.lock.Fd()), syscall.LOCK_UN)
	e.lock.Close()
}

// sharedURL returns the URL another ledger process holding dir listens on.
func sharedURL(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, urlFile))
	if err != nil {
		return "", events.Errorf(events.Internal, "the data directory %s is in use by another ledger process that does not listen for connections; stop it, or start it with --listen (e.g. ledger serve --listen 127.0.0.1:4222) and run this command again", dir)
	}
	return strings.TrimSpace(string(b)), nil
}

// connectOptions turns the credentials and TLS settings into client options.
func connectOptions(cfg Config) []nats.Option {
	opts := []nats.Option{
		nats.Timeout(cfg.Timeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
	}
	if cfg.User != "" {
		opts = append(opts, nats.UserInfo(cfg.User, cfg.Password))
	}
	if cfg.Token != "" {
		opts = append(opts, nats.Token(cfg.Token))
	}
	if cfg.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(cfg.CredsFile))
	}
	if cfg.NKeyFile != "" {
		if o, err := nats.NkeyOptionFromSeed(cfg.NKeyFile); err == nil {
			opts = append(opts, o)
		}
	}
	if cfg.CAFile != "" {
		opts = append(opts, nats.RootCAs(cfg.CAFile))
	}
	if cfg.CertFile != "" {
		opts = append(opts, nats.ClientCert(cfg.CertFile, cfg.KeyFile))
	}
	return opts
}

// streamConfig is the stream the ledger creates: one literal subject per
// agreement, file storage, nothing ever deleted, purged, rolled up or
// discarded, atomic batches allowed.
func streamConfig(cfg Config) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:               cfg.Stream,
		Description:        "agreement ledger: one immutable message per amendment",
		Subjects:           []string{cfg.Subject + ".*"},
		Storage:            jetstream.FileStorage,
		Retention:          jetstream.LimitsPolicy,
		Discard:            jetstream.DiscardNew,
		MaxAge:             0,
		MaxMsgs:            -1,
		MaxBytes:           -1,
		MaxMsgsPerSubject:  -1,
		Replicas:           cfg.Replicas,
		Duplicates:         cfg.DuplicateWindow,
		DenyDelete:         true,
		DenyPurge:          true,
		AllowRollup:        false,
		AllowAtomicPublish: true,
	}
}

// unsafeSettings lists the settings of a stream that would let history be
// lost or rewritten, or keep the ledger from appending safely.
func unsafeSettings(sc jetstream.StreamConfig, subject string) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if sc.Storage != jetstream.FileStorage {
		bad("storage is %s, not file: a restart would lose every amendment", sc.Storage)
	}
	if sc.Retention != jetstream.LimitsPolicy {
		bad("retention is %s, not limits: messages would be removed once consumed", sc.Retention)
	}
	if !sc.DenyDelete {
		bad("deny_delete is false: single amendments could be deleted")
	}
	if !sc.DenyPurge {
		bad("deny_purge is false: the history could be purged")
	}
	if sc.AllowRollup {
		bad("allow_rollup_hdrs is true: a rollup would erase an agreement's history")
	}
	if sc.MaxAge != 0 {
		bad("max_age is %s: amendments would expire", sc.MaxAge)
	}
	if sc.MaxMsgs > 0 {
		bad("max_msgs is %d: old amendments would be discarded or appends refused", sc.MaxMsgs)
	}
	if sc.MaxBytes > 0 {
		bad("max_bytes is %d: old amendments would be discarded or appends refused", sc.MaxBytes)
	}
	if sc.MaxMsgsPerSubject > 0 {
		bad("max_msgs_per_subject is %d: an agreement's older amendments would be discarded", sc.MaxMsgsPerSubject)
	}
	if sc.Discard != jetstream.DiscardNew {
		bad("discard is old: a limit set later would silently drop the oldest amendments")
	}
	if sc.AllowMsgTTL {
		bad("allow_msg_ttl is true: a message could carry a TTL and expire")
	}
	if sc.Sealed {
		bad("the stream is sealed: it accepts no new amendments")
	}
	if sc.Mirror != nil {
		bad("the stream is a mirror: it cannot be appended to")
	}
	if sc.PersistMode == jetstream.AsyncPersistMode {
		bad("persist_mode is async: an acknowledged amendment could be lost in a crash")
	}
	covered := false
	for _, s := range sc.Subjects {
		if s == subject+".*" || s == subject+".>" || s == ">" {
			covered = true
		}
	}
	if !covered {
		bad("its subjects %v do not include %s.*", sc.Subjects, subject)
	}
	return out
}

// codeNoPeers is JetStream's answer when a cluster has too few known nodes
// for a stream's replicas.
const codeNoPeers = 10005

// ensureStream creates the stream, or checks an existing one and refuses it
// when it could lose or rewrite history. Atomic publish is switched on if
// it is off (an update JetStream allows).
func ensureStream(ctx context.Context, js jetstream.JetStream, cfg Config) (jetstream.Stream, error) {
	st, err := js.Stream(ctx, cfg.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		// A cluster that has just started may not know all its nodes yet:
		// it finds no peers for the replicas until it does (for a few
		// seconds; longer, it has fewer nodes than replicas).
		for give := time.Now().Add(5 * time.Second); ; {
			st, err = js.CreateStream(ctx, streamConfig(cfg))
			if !errors.Is(err, &jetstream.APIError{ErrorCode: codeNoPeers}) || ctx.Err() != nil || time.Now().After(give) {
				break
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
		if errors.Is(err, &jetstream.APIError{ErrorCode: codeNoPeers}) {
			return nil, fmt.Errorf("ledger: creating stream %s with %d replicas: %w (does the cluster have that many JetStream nodes?)", cfg.Stream, cfg.Replicas, err)
		}
		if err != nil {
			return nil, fmt.Errorf("ledger: creating stream %s: %w", cfg.Stream, err)
		}
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: looking up stream %s: %w", cfg.Stream, err)
	}
	sc := st.CachedInfo().Config
	if problems := unsafeSettings(sc, cfg.Subject); len(problems) > 0 {
		return nil, events.Errorf(events.Internal, "refusing to use stream %s: %s", cfg.Stream, strings.Join(problems, "; "))
	}
	if !sc.AllowAtomicPublish {
		sc.AllowAtomicPublish = true
		if st, err = js.UpdateStream(ctx, sc); err != nil {
			return nil, fmt.Errorf("ledger: stream %s does not allow atomic publish and could not be updated to: %w", cfg.Stream, err)
		}
	}
	return st, nil
}
