package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger/wire"
	"github.com/agreement-ledger/ledger/projections"
)

// heartbeat is how often an idle event stream sends a comment, so that
// proxies and clients see the connection alive.
var heartbeat = 15 * time.Second

// events is GET /v1/events: Server-Sent Events, one "amendment" event per
// recorded amendment, its id the stream sequence and its data the amendment
// as history entries show it, with its agreement. A client resumes with
// Last-Event-ID (what EventSource sends when it reconnects) and gets only
// later amendments; ?after=SEQ starts after a sequence (after=0: from the
// beginning); with neither, the stream starts with the next amendment
// recorded. ?agreement= keeps one agreement's.
func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	p := newParams(r, "after", "agreement")
	after, given := p.Uint("after")
	only := p.Slug("agreement", false)
	if id := strings.TrimSpace(r.Header.Get("Last-Event-ID")); id != "" && p.Err == nil {
		n, err := strconv.ParseUint(id, 10, 64)
		if err != nil {
			p.Err = wire.ParamError("Last-Event-ID", "%q is not a stream sequence (the id of an event this stream sent)", id)
		}
		after, given = n, true
	}
	if p.Err != nil {
		h.fail(w, r, p.Err)
		return
	}
	if !given {
		// New events are those after what the stream held: wait for the
		// read model to hold it.
		if err := h.l.Ready(r.Context()); err != nil {
			h.fail(w, r, err)
			return
		}
		after = h.l.Status().Applied
	}
	rc := http.NewResponseController(w)
	// The stream outlives the server's read timeout: clear the deadlines
	// (a writer that does not support them is fine too).
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	var mu sync.Mutex
	write := func(b []byte) error {
		mu.Lock()
		defer mu.Unlock()
		if _, err := w.Write(b); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := write([]byte("retry: 2000\n: stream of amendments; resume with Last-Event-ID\n\n")); err != nil {
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	// End the stream when the server shuts down (Serve), or when the
	// handler's streams are closed (CloseStreams).
	go func() {
		select {
		case <-shutdownSignal(r.Context()):
		case <-h.streams:
		case <-ctx.Done():
			return
		}
		cancel()
	}()
	go func() {
		t := time.NewTicker(heartbeat)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if write([]byte(": keep-alive\n\n")) != nil {
					cancel()
					return
				}
			}
		}
	}()
	var buf bytes.Buffer
	err := h.l.Watch(ctx, after, func(rec *events.Record) error {
		if only != "" && rec.Agreement != only {
			return nil
		}
		data, err := entryJSON(rec)
		if err != nil {
			return err
		}
		buf.Reset()
		fmt.Fprintf(&buf, "id: %d\nevent: amendment\ndata: %s\n\n", rec.Seq, data)
		return write(buf.Bytes())
	})
	if err != nil && !errors.Is(err, context.Canceled) && ctx.Err() == nil {
		h.log.Warn("http: event stream ended", "err", err)
	}
}

// entryJSON is a record as a history entry shows it, with its agreement.
func entryJSON(rec *events.Record) ([]byte, error) {
	b, err := json.Marshal(projections.Entry{Record: rec})
	if err != nil {
		return nil, err
	}
	name, _ := json.Marshal(rec.Agreement)
	out := make([]byte, 0, len(b)+len(name)+16)
	out = append(out, `{"agreement":`...)
	out = append(out, name...)
	if len(b) > 2 {
		out = append(out, ',')
	}
	return append(out, b[1:]...), nil
}
