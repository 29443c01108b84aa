package httpapi

import (
	"context"
	"crypto/sha256"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger/wire"
	"github.com/oklog/ulid/v2"
)

// recorder remembers the status and size of a response.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Flush lets streaming handlers flush through the recorder.
func (r *recorder) Flush() {
	r.wrote = true
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

type routeKey struct{}

func withRoute(ctx context.Context, name *string) context.Context {
	return context.WithValue(ctx, routeKey{}, name)
}

func setRoute(ctx context.Context, name string) {
	if p, ok := ctx.Value(routeKey{}).(*string); ok {
		*p = name
	}
}

func sha256Sum(s string) [32]byte { return sha256.Sum256([]byte(s)) }

// newParams reads a request's query parameters by the rules the NATS
// service shares (wire.Params); a parameter given twice is refused too.
func newParams(r *http.Request, known ...string) *wire.Params {
	q := r.URL.Query()
	p := wire.NewParams(func(name string) (string, error) { return q.Get(name), nil }, slices.Collect(maps.Keys(q)), known)
	for name, vs := range q {
		if len(vs) > 1 && p.Err == nil {
			p.Err = wire.ParamError(name, "is given %d times", len(vs))
		}
	}
	return p
}

// knownAt reads known_at: a time, or an amendment's id for when it was
// recorded (see ledger.Recorded).
func (h *Handler) knownAt(r *http.Request, p *wire.Params) time.Time {
	return p.Known(func(id ulid.ULID) (*events.Record, error) { return h.l.Recorded(r.Context(), id) })
}

// etagVersion reads a version from an entity tag: "3" or W/"3".
func etagVersion(tag string) (uint64, bool) {
	tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
	if len(tag) < 2 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		return 0, false
	}
	n, err := strconv.ParseUint(tag[1:len(tag)-1], 10, 64)
	return n, err == nil
}

// etag is the entity tag of an agreement version.
func etag(version uint64) string { return `"` + strconv.FormatUint(version, 10) + `"` }

// noneMatch reports whether an If-None-Match header matches tag.
func noneMatch(header, tag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == tag {
			return true
		}
	}
	return false
}
