package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Backups are JetStream's own stream snapshots ($JS.API.STREAM.SNAPSHOT),
// restored with $JS.API.STREAM.RESTORE: the server writes and reads its
// files, so every message keeps its sequence and timestamp (the recorded
// time). nats.go has no client for them; the protocol is small: chunks
// pushed to an inbox, each acknowledged, an empty message with a status
// to end; a restore sends chunks to the subject the server names, each a
// request, and an empty one to end. The read model's snapshot bucket is
// not backed up: it is a cache, rebuilt from the stream.

// Files of a backup directory.
const (
	backupData  = "stream.snapshot" // the server's snapshot of the stream
	backupMeta  = "stream.json"     // its configuration and state
	backupHeads = "heads.json"      // the chains' heads when it was taken
)

// BackupInfo describes a backup.
type BackupInfo struct {
	Stream   string `json:"stream"`
	Taken    string `json:"taken"`
	Messages uint64 `json:"messages"`
	FirstSeq uint64 `json:"first_seq"`
	LastSeq  uint64 `json:"last_seq"`
	Bytes    int64  `json:"bytes"` // of the snapshot file
	Heads    []Head `json:"heads"`
	Dir      string `json:"dir"`
}

// backupMetaFile is stream.json: what a restore request carries.
type backupMetaFile struct {
	Config json.RawMessage `json:"config"`
	State  json.RawMessage `json:"state"`
}

// Backup writes a backup of the stream into dir, which must not exist or
// be empty: the stream's snapshot, its configuration and state, and the
// heads of its chains (exported as verify --heads does), after checking
// the chains and every message's checksum: a damaged store is not backed
// up as if it were whole.
func (l *Ledger) Backup(ctx context.Context, dir string) (*BackupInfo, error) {
	if err := emptyDir(dir); err != nil {
		return nil, err
	}
	rep, err := l.Verify(ctx, nil)
	if err != nil {
		return nil, err
	}
	if !rep.OK {
		return nil, events.Errorf(events.Damaged, "the store does not verify (see ledger verify): a backup of it would keep what is wrong; recover it first (README, \"Recovering a damaged store\")")
	}
	inbox := l.nc.NewRespInbox()
	sub, err := l.nc.SubscribeSync(inbox)
	if err != nil {
		return nil, unavailable("backing up", err)
	}
	defer sub.Unsubscribe()
	sub.SetPendingLimits(-1, -1)
	req, _ := json.Marshal(map[string]any{"deliver_subject": inbox, "no_consumers": true, "jsck": true})
	resp, err := l.nc.RequestWithContext(ctx, "$JS.API.STREAM.SNAPSHOT."+l.cfg.Stream, req)
	if err != nil {
		return nil, unavailable("backing up", err)
	}
	var sr struct {
		Config json.RawMessage     `json:"config"`
		State  json.RawMessage     `json:"state"`
		Error  *jetstream.APIError `json:"error"`
	}
	if err := json.Unmarshal(resp.Data, &sr); err != nil {
		return nil, fmt.Errorf("ledger: backing up: %w", err)
	}
	if sr.Error != nil {
		return nil, unavailable("backing up", sr.Error)
	}
	var state jetstream.StreamState
	_ = json.Unmarshal(sr.State, &state)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, events.Errorf(events.Invalid, "backup directory: %v", err)
	}
	f, err := os.Create(filepath.Join(dir, backupData))
	if err != nil {
		return nil, events.Errorf(events.Invalid, "backup directory: %v", err)
	}
	n, err := receiveSnapshot(ctx, l.nc, sub, f, l.cfg.Timeout)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncFile(f.Name())
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: backing up: %w", err)
	}
	info := &BackupInfo{Stream: l.cfg.Stream, Taken: time.Now().UTC().Format(time.RFC3339), Messages: state.Msgs, FirstSeq: state.FirstSeq, LastSeq: state.LastSeq, Bytes: n, Heads: rep.Heads, Dir: dir}
	if err := writeJSON(filepath.Join(dir, backupMeta), backupMetaFile{Config: sr.Config, State: sr.State}); err != nil {
		return nil, err
	}
	heads := map[string]any{"stream": l.cfg.Stream, "exported": info.Taken, "heads": rep.Heads}
	if err := writeJSON(filepath.Join(dir, backupHeads), heads); err != nil {
		return nil, err
	}
	return info, nil
}

// receiveSnapshot writes the chunks arriving on sub to w, acknowledging
// each, until the server's end-of-snapshot message.
func receiveSnapshot(ctx context.Context, nc *nats.Conn, sub *nats.Subscription, w io.Writer, timeout time.Duration) (int64, error) {
	var n int64
	for {
		mctx, cancel := context.WithTimeout(ctx, timeout)
		msg, err := sub.NextMsgWithContext(mctx)
		cancel()
		if err != nil {
			return n, fmt.Errorf("the server stopped sending the snapshot: %w", err)
		}
		if len(msg.Data) == 0 {
			// The end: status 204 when whole, else why not.
			if status := msg.Header.Get("Status"); status != "" && status != "204" {
				return n, fmt.Errorf("the server could not finish the snapshot: %s %s", status, msg.Header.Get("Description"))
			}
			return n, nil
		}
		if _, err := w.Write(msg.Data); err != nil {
			return n, err
		}
		n += int64(len(msg.Data))
		if msg.Reply != "" {
			if err := nc.Publish(msg.Reply, nil); err != nil {
				return n, err
			}
		}
	}
}

// Restore restores the backup in dir into the store cfg names, which must
// not hold the stream yet (a fresh --data directory, or a server without
// it). Every message keeps its sequence and recorded time. It then checks
// the restored chains against the heads kept in the backup.
func Restore(ctx context.Context, cfg Config, dir string) (*Report, error) {
	meta, err := os.ReadFile(filepath.Join(dir, backupMeta))
	if err != nil {
		return nil, events.Errorf(events.Invalid, "%s is not a ledger backup: %v", dir, err)
	}
	var m backupMetaFile
	if err := json.Unmarshal(meta, &m); err != nil || len(m.Config) == 0 {
		return nil, events.Errorf(events.Invalid, "%s: %s is not a backup's description", dir, backupMeta)
	}
	var sc jetstream.StreamConfig
	if err := json.Unmarshal(m.Config, &sc); err != nil {
		return nil, events.Errorf(events.Invalid, "%s: %s: %v", dir, backupMeta, err)
	}
	data, err := os.Open(filepath.Join(dir, backupData))
	if err != nil {
		return nil, events.Errorf(events.Invalid, "%s is not a ledger backup: %v", dir, err)
	}
	defer data.Close()
	heads, err := readHeadsFile(filepath.Join(dir, backupHeads))
	if err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if cfg.Stream != sc.Name {
		return nil, events.Errorf(events.Invalid, "the backup is of stream %s, not %s (give --stream %s)", sc.Name, cfg.Stream, sc.Name)
	}
	l := &Ledger{cfg: cfg, rm: newReadModel(cfg.Subject, cfg.Logger), watch: newConnWatch()}
	if err := l.connect(); err != nil {
		return nil, err
	}
	defer l.shutdown()
	octx, cancel := context.WithTimeout(ctx, 4*cfg.Timeout)
	defer cancel()
	if err := l.waitForJetStream(octx); err != nil {
		return nil, err
	}
	if _, err := l.js.Stream(octx, cfg.Stream); err == nil {
		return nil, events.Errorf(events.Invalid, "the store already holds stream %s: restore into a fresh store (a new --data directory)", cfg.Stream)
	} else if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, unavailable("looking up the stream", err)
	}
	req, _ := json.Marshal(map[string]json.RawMessage{"config": m.Config, "state": m.State})
	resp, err := l.nc.RequestWithContext(octx, "$JS.API.STREAM.RESTORE."+cfg.Stream, req)
	if err != nil {
		return nil, unavailable("restoring", err)
	}
	var rr struct {
		DeliverSubject string              `json:"deliver_subject"`
		Error          *jetstream.APIError `json:"error"`
	}
	if err := json.Unmarshal(resp.Data, &rr); err != nil {
		return nil, fmt.Errorf("ledger: restoring: %w", err)
	}
	if rr.Error != nil {
		return nil, unavailable("restoring", rr.Error)
	}
	chunk := make([]byte, 128<<10)
	for {
		n, rerr := io.ReadFull(data, chunk)
		if n > 0 {
			if _, err := l.nc.RequestWithContext(octx, rr.DeliverSubject, chunk[:n]); err != nil {
				return nil, unavailable("restoring", err)
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return nil, fmt.Errorf("ledger: reading the backup: %w", rerr)
		}
	}
	// The empty chunk ends it; the answer is the restored stream, after
	// the server has read it all (as long as the stream is large).
	rctx, rcancel := context.WithTimeout(ctx, 60*cfg.Timeout)
	defer rcancel()
	resp, err = l.nc.RequestWithContext(rctx, rr.DeliverSubject, nil)
	if err != nil {
		return nil, unavailable("restoring", err)
	}
	var done struct {
		Error *jetstream.APIError `json:"error"`
	}
	if err := json.Unmarshal(resp.Data, &done); err != nil {
		return nil, fmt.Errorf("ledger: restoring: %w", err)
	}
	if done.Error != nil {
		return nil, unavailable("restoring", done.Error)
	}
	st, err := l.js.Stream(octx, cfg.Stream)
	if err != nil {
		return nil, unavailable("looking up the restored stream", err)
	}
	l.dense = len(st.CachedInfo().Config.Subjects) == 1 && st.CachedInfo().Config.Subjects[0] == cfg.Subject+".*"
	return l.Verify(ctx, heads)
}

// emptyDir checks that dir does not exist or is empty.
func emptyDir(dir string) error {
	es, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return events.Errorf(events.Invalid, "backup directory: %v", err)
	}
	if len(es) > 0 {
		return events.Errorf(events.Invalid, "backup directory %s is not empty: give a new one", dir)
	}
	return nil
}

func writeJSON(name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(name, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	return syncFile(name)
}

// syncFile flushes a backup file to disk: a backup is kept for the day the
// machine fails.
func syncFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// readHeadsFile reads heads.json of a backup.
func readHeadsFile(name string) ([]Head, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, events.Errorf(events.Invalid, "the backup has no %s: %v", backupHeads, err)
	}
	var doc struct {
		Heads []struct {
			Agreement string `json:"agreement"`
			Version   uint64 `json:"version"`
			Seq       uint64 `json:"seq"`
			Hash      string `json:"hash"`
		} `json:"heads"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, events.Errorf(events.Invalid, "%s: %v", name, err)
	}
	out := make([]Head, len(doc.Heads))
	for i, h := range doc.Heads {
		hash, err := events.ParseHash(h.Hash)
		if err != nil {
			return nil, events.Errorf(events.Invalid, "%s: heads[%d].hash: %v", name, i, err)
		}
		out[i] = Head{Agreement: h.Agreement, Version: h.Version, Seq: h.Seq, Hash: hash}
	}
	return out, nil
}
