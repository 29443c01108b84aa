package service

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/wire"
	"github.com/agreement-ledger/ledger/projections"
	"github.com/nats-io/nats.go/micro"
	"github.com/oklog/ulid/v2"
)

// Each answer reads its parameters first (a bad one is refused before
// anything else), then catches up with the stream as far as its question
// needs (see catchUp), then asks the ledger.

// catchUp refuses the first bad parameter in p, then waits until the
// ledger has what the stream holds for agreement, or for every agreement
// when agreement is "".
func (s *Service) catchUp(ctx context.Context, p *params, agreement string) error {
	if p.Err != nil {
		return p.Err
	}
	if agreement == "" {
		return s.l.Sync(ctx)
	}
	return s.l.SyncAgreement(ctx, agreement)
}

// knownAt reads known_at: a time, or an amendment's id for when it was
// recorded — maybe just now, by another process: the ledger catches up
// before it says there is no such amendment.
func (s *Service) knownAt(ctx context.Context, p *params) time.Time {
	return p.Known(func(id ulid.ULID) (*events.Record, error) { return s.l.Recorded(ctx, id) })
}

func (s *Service) append(ctx context.Context, req micro.Request, _ *params) (any, error) {
	var opts ledger.AppendOptions
	h := req.Headers()
	if v := strings.TrimSpace(h.Get(wire.ExpectVersionHeader)); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return nil, wire.ParamError(wire.ExpectVersionHeader, "%q is not a version (a non-negative integer; 0 for a new agreement)", v)
		}
		opts.ExpectVersion = &n
	}
	if v := strings.TrimSpace(h.Get(wire.DryRunHeader)); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, wire.ParamError(wire.DryRunHeader, "%q is not true or false", v)
		}
		opts.DryRun = b
	}
	as, err := events.Decode(req.Data())
	if err != nil {
		return nil, err
	}
	res, err := s.l.Append(ctx, as, opts)
	if err != nil {
		return nil, err
	}
	return wire.Appended(res), nil
}

func (s *Service) agreements(ctx context.Context, _ micro.Request, p *params) (any, error) {
	at := p.Time("at", s.defaultAt())
	if err := s.catchUp(ctx, p, ""); err != nil {
		return nil, err
	}
	list, err := s.l.Agreements(at)
	if err != nil {
		return nil, err
	}
	return wire.Agreements(at, list), nil
}

func (s *Service) state(ctx context.Context, _ micro.Request, p *params) (any, error) {
	a := p.Slug("agreement", true)
	at := p.Time("at", s.defaultAt())
	known := s.knownAt(ctx, p)
	opts := p.Damaged()
	if err := s.catchUp(ctx, p, a); err != nil {
		return nil, err
	}
	return s.l.State(a, at, known, opts...)
}

func (s *Service) history(ctx context.Context, _ micro.Request, p *params) (any, error) {
	a := p.Slug("agreement", true)
	opts := p.Damaged()
	if err := s.catchUp(ctx, p, a); err != nil {
		return nil, err
	}
	return s.l.History(a, opts...)
}

func (s *Service) timeline(ctx context.Context, _ micro.Request, p *params) (any, error) {
	a := p.Slug("agreement", true)
	known := s.knownAt(ctx, p)
	opts := p.Damaged()
	if err := s.catchUp(ctx, p, a); err != nil {
		return nil, err
	}
	return s.l.Timeline(a, known, opts...)
}

func (s *Service) diff(ctx context.Context, _ micro.Request, p *params) (any, error) {
	a := p.Slug("agreement", true)
	from := p.Required("from")
	to := p.Required("to")
	known := s.knownAt(ctx, p)
	opts := p.Damaged()
	if err := s.catchUp(ctx, p, a); err != nil {
		return nil, err
	}
	return s.l.Diff(a, from, to, known, opts...)
}

func (s *Service) conflicts(ctx context.Context, _ micro.Request, p *params) (any, error) {
	at := p.Time("at", s.defaultAt())
	known := s.knownAt(ctx, p)
	if err := s.catchUp(ctx, p, ""); err != nil {
		return nil, err
	}
	return s.l.Conflicts(at, known)
}

// check asks as the HTTP API does: one value per dimension given, a
// dimension not given meaning any.
func (s *Service) check(ctx context.Context, _ micro.Request, p *params) (any, error) {
	q := p.RightsQuery(s.defaultAt(), func() time.Time { return s.knownAt(ctx, p) })
	if err := s.catchUp(ctx, p, ""); err != nil {
		return nil, err
	}
	r, err := s.l.Check(q)
	return &r, err
}

// avails asks as the HTTP API does: when, over the window, parties may
// offer what the scope describes (product and channel required); or, with
// holder, what that party holds exclusively (the holdings document).
func (s *Service) avails(ctx context.Context, _ micro.Request, p *params) (any, error) {
	aq, hq := p.AvailsQuery(func() time.Time { return s.knownAt(ctx, p) })
	if err := s.catchUp(ctx, p, ""); err != nil {
		return nil, err
	}
	if hq != nil {
		return s.l.Holdings(*hq)
	}
	return s.l.Avails(*aq)
}

// calendar answers the calendar's JSON document (a calendar file is
// rendered from it by the asker): of one agreement, or of every one.
func (s *Service) calendar(ctx context.Context, _ micro.Request, p *params) (any, error) {
	q := projections.CalendarQuery{Agreement: p.Slug("agreement", false)}
	q.From, q.To = p.Window()
	q.KnownAt = s.knownAt(ctx, p)
	opts := p.Damaged()
	if err := s.catchUp(ctx, p, q.Agreement); err != nil {
		return nil, err
	}
	return s.l.Calendar(q, opts...)
}

// verify reads the stream again, as the HTTP API's; heads, if given, are
// heads exported earlier (ledger verify --heads) to check.
func (s *Service) verify(ctx context.Context, _ micro.Request, p *params) (any, error) {
	var heads []ledger.Head
	p.decode("heads", &heads)
	for i, h := range heads {
		if p.Err != nil {
			break
		}
		switch {
		case !events.ValidSlug(h.Agreement):
			p.Err = wire.ParamError(fmt.Sprintf("heads[%d].agreement", i), "%q is not an agreement name", h.Agreement)
		case h.Version == 0:
			p.Err = wire.ParamError(fmt.Sprintf("heads[%d].version", i), "a head has a version of 1 or more")
		}
	}
	if p.Err != nil {
		return nil, p.Err
	}
	return s.l.Verify(ctx, heads)
}
