// Package ledgertest runs a real agreement ledger for tests: an in-process
// JetStream server on a temporary directory, started in one call and shut
// down by t.Cleanup. Tests state history with Given, act with When, and
// assert on state, conflicts and errors at (valid time, known-at time).
//
//	l := ledgertest.New(t)
//	l.Given(`{"agreement":"a","effective":"2026-01-01","changes":[…]}`)
//	err := l.When(`{"agreement":"a","effective":"2026-02-01","changes":[…]}`)
//	l.InForce("a", "exclusivity-1", "2026-03-01")
package ledgertest

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/projections"
)

// Ledger is a ledger under test.
type Ledger struct {
	*ledger.Ledger
	t   testing.TB
	cfg ledger.Config
}

// New opens a ledger on a fresh temporary directory. cfg may override the
// defaults (its DataDir is replaced unless set).
func New(t testing.TB, cfg ...ledger.Config) *Ledger {
	t.Helper()
	var c ledger.Config
	if len(cfg) > 0 {
		c = cfg[0]
	}
	if c.DataDir == "" && c.URL == "" {
		c.DataDir = t.TempDir()
	}
	l := &Ledger{t: t, cfg: c}
	l.open()
	t.Cleanup(func() { l.Close() })
	return l
}

func (l *Ledger) open() {
	l.t.Helper()
	lg, err := ledger.Open(context.Background(), l.cfg)
	if err != nil {
		l.t.Fatalf("ledgertest: open: %v", err)
	}
	l.Ledger = lg
}

// Restart closes the ledger and opens it again on the same directory.
func (l *Ledger) Restart() {
	l.t.Helper()
	l.Close()
	l.open()
}

// Reopen opens l again after it was closed, on the same directory.
func Reopen(t testing.TB, l *Ledger) {
	t.Helper()
	l.open()
}

// Dir is the ledger's data directory.
func (l *Ledger) Dir() string { return l.cfg.DataDir }

// Amendments decodes amendments written as JSON (an object, an array or
// JSON Lines per argument), or passes *events.Amendment values through.
func (l *Ledger) Amendments(in ...any) []*events.Amendment {
	l.t.Helper()
	var out []*events.Amendment
	for _, x := range in {
		switch v := x.(type) {
		case *events.Amendment:
			out = append(out, v)
		case []*events.Amendment:
			out = append(out, v...)
		case string:
			as, err := events.Decode([]byte(v))
			if err != nil {
				l.t.Fatalf("ledgertest: bad amendment in test: %v", err)
			}
			out = append(out, as...)
		default:
			l.t.Fatalf("ledgertest: cannot use %T as an amendment", x)
		}
	}
	return out
}

// Given appends amendments that must be accepted.
func (l *Ledger) Given(in ...any) *ledger.AppendResult {
	l.t.Helper()
	res, err := l.Append(context.Background(), l.Amendments(in...), ledger.AppendOptions{})
	if err != nil {
		l.t.Fatalf("ledgertest: Given: %v", err)
	}
	return res
}

// When appends amendments and returns the error, if any.
func (l *Ledger) When(in ...any) (*ledger.AppendResult, error) {
	l.t.Helper()
	return l.Append(context.Background(), l.Amendments(in...), ledger.AppendOptions{})
}

// Time parses a date or RFC 3339 time; "" is the zero time.
func (l *Ledger) Time(s string) time.Time {
	l.t.Helper()
	if s == "" {
		return time.Time{}
	}
	t, err := events.ParseTime(s)
	if err != nil {
		l.t.Fatalf("ledgertest: %v", err)
	}
	return t
}

// StateAt returns the state of agreement at valid time at, as known at
// knownAt (optional).
func (l *Ledger) StateAt(agreement, at string, knownAt ...string) *projections.State {
	l.t.Helper()
	k := ""
	if len(knownAt) > 0 {
		k = knownAt[0]
	}
	s, err := l.State(agreement, l.Time(at), l.Time(k))
	if err != nil {
		l.t.Fatalf("ledgertest: state of %s at %s: %v", agreement, at, err)
	}
	return s
}

// InForce fails the test unless clause is in force in agreement at at.
func (l *Ledger) InForce(agreement, clause, at string, knownAt ...string) *projections.ClauseState {
	l.t.Helper()
	c := l.StateAt(agreement, at, knownAt...).Clause(clause)
	if c == nil {
		l.t.Fatalf("clause %s of %s is not in force at %s", clause, agreement, at)
	}
	return c
}

// NotInForce fails the test if clause is in force in agreement at at.
func (l *Ledger) NotInForce(agreement, clause, at string, knownAt ...string) {
	l.t.Helper()
	if c := l.StateAt(agreement, at, knownAt...).Clause(clause); c != nil {
		l.t.Fatalf("clause %s of %s is in force at %s, expected not", clause, agreement, at)
	}
}

// ConflictsAt returns the conflicts at valid time at (as known at knownAt).
func (l *Ledger) ConflictsAt(at string, knownAt ...string) []projections.Conflict {
	l.t.Helper()
	k := ""
	if len(knownAt) > 0 {
		k = knownAt[0]
	}
	r, err := l.Conflicts(l.Time(at), l.Time(k))
	if err != nil {
		l.t.Fatalf("ledgertest: conflicts: %v", err)
	}
	return r.Conflicts
}

// IsError fails the test unless err is an *events.Error of kind whose
// fields include field (when field is not empty).
func (l *Ledger) IsError(err error, kind events.ErrorKind, field string) {
	l.t.Helper()
	var e *events.Error
	if !errors.As(err, &e) {
		l.t.Fatalf("expected a %s error, got %v", kind, err)
	}
	if e.Kind != kind {
		l.t.Fatalf("expected a %s error, got %s: %v", kind, e.Kind, err)
	}
	if field == "" {
		return
	}
	for _, f := range e.Fields {
		if f.Path == field {
			return
		}
	}
	l.t.Fatalf("expected a problem at %s, got %v", field, err)
}

// JSON marshals v for comparisons in tests.
func JSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Ids returns the ids of an append's amendments, in input order.
func Ids(r *ledger.AppendResult) []string {
	var out []string
	for _, a := range r.Appended {
		out = append(out, a.ID)
	}
	return out
}

// Contains reports whether s contains every part.
func Contains(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
