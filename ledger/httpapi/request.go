package httpapi

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger"
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

// paramError is a bad query parameter or header, naming it.
func paramError(name, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &events.Error{Kind: events.BadParameter, Message: fmt.Sprintf("bad %s: %s", name, msg), Fields: []events.FieldError{{Path: name, Message: msg}}}
}

// params reads a request's query parameters, refusing unknown ones (a
// mistyped known_at must not silently answer another question).
type params struct {
	q   url.Values
	err error
}

func newParams(r *http.Request, known ...string) *params {
	p := &params{q: r.URL.Query()}
	var unknown []string
	for name := range p.q {
		if !slices.Contains(known, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		expected := "none"
		if len(known) > 0 {
			expected = strings.Join(known, ", ")
		}
		p.err = paramError(unknown[0], "is not a parameter of this endpoint (it takes: %s)", expected)
	}
	for name, vs := range p.q {
		if len(vs) > 1 && p.err == nil {
			p.err = paramError(name, "is given %d times", len(vs))
		}
	}
	return p
}

func (p *params) str(name string) string { return strings.TrimSpace(p.q.Get(name)) }

// time reads a date or RFC 3339 time; an absent parameter is def.
func (p *params) time(name string, def time.Time) time.Time {
	s := p.str(name)
	if s == "" || p.err != nil {
		return def
	}
	t, err := events.ParseTime(s)
	if err != nil {
		p.err = paramError(name, "%v", err)
		return def
	}
	return t
}

// required reads a time that must be given.
func (p *params) required(name string) time.Time {
	if p.str(name) == "" && p.err == nil {
		p.err = paramError(name, "is required (a date such as 2026-03-15 or an RFC 3339 time)")
	}
	return p.time(name, time.Time{})
}

// slug reads a slug parameter; required says whether it must be given.
func (p *params) slug(name string, required bool) string {
	s := p.str(name)
	switch {
	case p.err != nil:
	case s == "" && required:
		p.err = paramError(name, "is required")
	case s != "" && !events.ValidSlug(s):
		p.err = paramError(name, "%q is not a slug (lower-case letters, digits and '-', at most 63)", s)
	}
	return s
}

// damaged is the options of allow_damaged=true: answer about a damaged
// agreement from its intact prefix, marked.
func (p *params) damaged() []ledger.QueryOption {
	if p.bool("allow_damaged") {
		return []ledger.QueryOption{ledger.AllowDamaged()}
	}
	return nil
}

// bool reads true/false/1/0; absent is false.
func (p *params) bool(name string) bool {
	s := p.str(name)
	if s == "" || p.err != nil {
		return false
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		p.err = paramError(name, "%q is not true or false", s)
	}
	return b
}

// uint reads an unsigned integer; ok is false when it is absent.
func (p *params) uint(name string) (uint64, bool) {
	s := p.str(name)
	if s == "" || p.err != nil {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		p.err = paramError(name, "%q is not a non-negative integer", s)
		return 0, false
	}
	return n, true
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
