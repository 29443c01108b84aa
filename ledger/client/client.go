// Package client is a Go client of the ledger's NATS service
// (ledger/service): a program uses a remote ledger, served by any number of
// `ledger serve` processes, without embedding one or reading its stream.
//
// Its methods are the ledger's (package ledger) with a context first, and
// answer with the same types; its errors have the kinds the ledger's have
// (events.KindOf), so code written against a *ledger.Ledger reads the same:
//
//	nc, _ := nats.Connect(url)
//	c := client.New(nc, client.Options{})
//	st, err := c.State(ctx, "microsoft-openai", at, time.Time{})
//
// A request no instance answers is sent again while the context allows: a
// query after a timeout or when nobody listens (an instance stopping, its
// share moving to the others), an append only when nobody listens — an
// append that timed out may have been recorded. Append gives amendments
// without an id one before sending them, as the ledger does, so appending
// the same amendments again is safe: they are recorded once.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/wire"
	"github.com/agreement-ledger/ledger/projections"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/oklog/ulid/v2"
)

// Options configure a client.
type Options struct {
	// Prefix of the service's subjects. Default wire.SubjectPrefix.
	Prefix string
	// Timeout bounds each attempt of a request (the context bounds them
	// all). Default 10 seconds.
	Timeout time.Duration
	// Attempts is how many times a request is sent at most (see the
	// package comment). Default 3.
	Attempts int
}

// Client sends requests to the ledger service over a NATS connection.
type Client struct {
	nc   *nats.Conn
	opts Options
}

// New returns a client using nc, which the caller keeps and closes.
func New(nc *nats.Conn, opts Options) *Client {
	if opts.Prefix == "" {
		opts.Prefix = wire.SubjectPrefix
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 3
	}
	return &Client{nc: nc, opts: opts}
}

// Params are the parameters of a request: the members of its JSON object.
type Params map[string]any

// Request sends params to the endpoint ("state", "conflicts", …) and reads
// the answer's document into out. The typed methods are built on it; it
// also takes what they do not, such as an amendment id as known_at.
func (c *Client) Request(ctx context.Context, endpoint string, params Params, out any) error {
	body, err := json.Marshal(params)
	if err != nil {
		return &events.Error{Kind: events.Invalid, Message: "the parameters cannot be written as JSON", Err: err}
	}
	return c.do(ctx, endpoint, nats.Header{}, body, true, out)
}

// do sends one request, again as the package comment says, and reads the
// reply into out.
func (c *Client) do(ctx context.Context, endpoint string, h nats.Header, body []byte, idempotent bool, out any) error {
	subject := c.opts.Prefix + "." + endpoint
	var reply *nats.Msg
	var err error
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
		reply, err = c.nc.RequestMsgWithContext(actx, &nats.Msg{Subject: subject, Header: h, Data: body})
		cancel()
		retry := errors.Is(err, nats.ErrNoResponders) ||
			idempotent && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil
		if err == nil || !retry || attempt >= c.opts.Attempts {
			break
		}
		if errors.Is(err, nats.ErrNoResponders) {
			// Nobody listens right now: an instance may be on its way.
			select {
			case <-ctx.Done():
			case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
			}
		}
	}
	if err != nil {
		return unavailable(subject, err)
	}
	if code := reply.Header.Get(micro.ErrorCodeHeader); code != "" {
		return replyError(code, reply)
	}
	if err := json.Unmarshal(reply.Data, out); err != nil {
		return &events.Error{Kind: events.Internal, Message: fmt.Sprintf("%s answered a document that is not the expected one", subject), Err: err}
	}
	return nil
}

// unavailable is the error of a request nobody answered.
func unavailable(subject string, err error) error {
	msg := fmt.Sprintf("the ledger service did not answer on %s", subject)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		msg += " (no instance is serving: is `ledger serve` running on this NATS system, with this subject prefix?)"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		msg += " in time"
	}
	return &events.Error{Kind: events.Internal, Message: msg, Err: err}
}

// replyError is the error a micro error reply stands for: of the kind its
// code (an HTTP status) and its error document say.
func replyError(code string, reply *nats.Msg) error {
	status, _ := strconv.Atoi(code)
	var doc ledger.ErrorDocument
	if err := json.Unmarshal(reply.Data, &doc); err == nil && doc.Error.Message != "" {
		return wire.Error(status, doc.Error)
	}
	// Not the ledger's error document: the description says what failed.
	return wire.Error(status, ledger.ErrorBody{Kind: events.Internal, Message: reply.Header.Get(micro.ErrorHeader)})
}

// ask sends a request and returns its answer, or nil and the error.
func ask[T any](ctx context.Context, c *Client, endpoint string, p Params) (*T, error) {
	var v T
	if err := c.Request(ctx, endpoint, p, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// timeParam adds a time parameter when it is not zero.
func timeParam(p Params, name string, t time.Time) {
	if !t.IsZero() {
		p[name] = events.FormatTime(t)
	}
}

// damagedParam asks for allow_damaged when the options allow damage.
func damagedParam(p Params, opts []ledger.QueryOption) {
	if ledger.AllowsDamaged(opts) {
		p["allow_damaged"] = true
	}
}

// scopeParams adds a scope's dimensions: the service takes one value per
// dimension, as the command and the HTTP API do.
func scopeParams(p Params, scope *events.Scope) error {
	if scope == nil {
		return nil
	}
	for i, name := range []string{"product", "channel", "platform", "territory"} {
		switch vs := scope.Dim(i); len(vs) {
		case 0:
		case 1:
			p[name] = vs[0]
		default:
			return &events.Error{Kind: events.Invalid, Message: "the service takes one value per dimension of a scope",
				Fields: []events.FieldError{{Path: name, Message: fmt.Sprintf("%d values given", len(vs))}}}
		}
	}
	return nil
}

// Append records amendments, as Ledger.Append: checked against the
// history they join, chained and written durably. Amendments without an id
// are given one first (they are changed in place, as by the ledger).
// opts.Progress is not called: the service answers once, when all is written.
func (c *Client) Append(ctx context.Context, as []*events.Amendment, opts ledger.AppendOptions) (*ledger.AppendResult, error) {
	if len(as) == 0 {
		return nil, events.Errorf(events.Invalid, "nothing to append")
	}
	for _, a := range as {
		if a.ID == (ulid.ULID{}) {
			a.ID = ulid.Make()
		}
	}
	body, err := json.Marshal(as)
	if err != nil {
		return nil, &events.Error{Kind: events.Invalid, Message: "the amendments cannot be written as JSON", Err: err}
	}
	if max := c.nc.MaxPayload(); max > 0 && int64(len(body)) > max {
		return nil, events.Errorf(events.TooLarge, "the amendments are %d bytes, over the %d bytes a NATS message may carry here; nothing was written: append them in parts", len(body), max)
	}
	h := nats.Header{}
	if opts.ExpectVersion != nil {
		h.Set(wire.ExpectVersionHeader, strconv.FormatUint(*opts.ExpectVersion, 10))
	}
	if opts.DryRun {
		h.Set(wire.DryRunHeader, "true")
	}
	var res ledger.AppendResult
	if err := c.do(ctx, "append", h, body, opts.DryRun, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// State returns what an agreement said at valid time at (zero: now), as
// known at knownAt (zero: everything recorded). Of the options,
// AllowDamaged is sent on (as allow_damaged), here and in the other
// questions about one agreement.
func (c *Client) State(ctx context.Context, agreement string, at, knownAt time.Time, opts ...ledger.QueryOption) (*projections.State, error) {
	p := Params{"agreement": agreement}
	timeParam(p, "at", at)
	timeParam(p, "known_at", knownAt)
	damagedParam(p, opts)
	return ask[projections.State](ctx, c, "state", p)
}

// Conflicts returns the conflicts between exclusive grants at (at,
// knownAt); a zero at is now.
func (c *Client) Conflicts(ctx context.Context, at, knownAt time.Time) (*projections.ConflictReport, error) {
	p := Params{}
	timeParam(p, "at", at)
	timeParam(p, "known_at", knownAt)
	return ask[projections.ConflictReport](ctx, c, "conflicts", p)
}

// Check answers whether a party may offer something at a time (zero: now).
// The service takes one value per dimension of the scope, as the command
// and the HTTP API do.
func (c *Client) Check(ctx context.Context, q projections.RightsQuery) (projections.Rights, error) {
	p := Params{"party": q.Party}
	if err := scopeParams(p, q.Scope); err != nil {
		return projections.Rights{}, err
	}
	timeParam(p, "at", q.At)
	timeParam(p, "known_at", q.KnownAt)
	if q.IgnoreBasis {
		p["ignore_basis"] = true
	}
	r, err := ask[projections.Rights](ctx, c, "check", p)
	if err != nil {
		return projections.Rights{}, err
	}
	return *r, nil
}

// History returns an agreement's amendments in recording order; each
// entry's changes are known by their ops (what the document holds).
func (c *Client) History(ctx context.Context, agreement string, opts ...ledger.QueryOption) (*projections.History, error) {
	p := Params{"agreement": agreement}
	damagedParam(p, opts)
	return ask[projections.History](ctx, c, "history", p)
}

// Timeline returns an agreement's clauses as bars over valid time.
func (c *Client) Timeline(ctx context.Context, agreement string, knownAt time.Time, opts ...ledger.QueryOption) (*projections.Timeline, error) {
	p := Params{"agreement": agreement}
	timeParam(p, "known_at", knownAt)
	damagedParam(p, opts)
	return ask[projections.Timeline](ctx, c, "timeline", p)
}

// Diff returns what changed in an agreement between two valid times.
func (c *Client) Diff(ctx context.Context, agreement string, from, to, knownAt time.Time, opts ...ledger.QueryOption) (*projections.Diff, error) {
	p := Params{"agreement": agreement, "from": events.FormatTime(from), "to": events.FormatTime(to)}
	timeParam(p, "known_at", knownAt)
	damagedParam(p, opts)
	return ask[projections.Diff](ctx, c, "diff", p)
}

// Avails answers when, over [q.From, q.To), parties may offer what q.Scope
// describes (one value per dimension; product and channel given).
func (c *Client) Avails(ctx context.Context, q projections.AvailsQuery) (*projections.Avails, error) {
	p := Params{"from": events.FormatTime(q.From), "to": events.FormatTime(q.To)}
	if err := scopeParams(p, q.Scope); err != nil {
		return nil, err
	}
	if q.Party != "" {
		p["party"] = q.Party
	}
	timeParam(p, "known_at", q.KnownAt)
	if q.IgnoreBasis {
		p["ignore_basis"] = true
	}
	return ask[projections.Avails](ctx, c, "avails", p)
}

// Holdings answers what q.Holder holds exclusively over [q.From, q.To).
func (c *Client) Holdings(ctx context.Context, q projections.HoldingsQuery) (*projections.Holdings, error) {
	if q.Holder == "" {
		// Without one the service answers avails.
		return nil, &events.Error{Kind: events.Invalid, Message: "the service answers the holdings of a holder",
			Fields: []events.FieldError{{Path: "holder", Message: "is required"}}}
	}
	p := Params{"holder": q.Holder, "from": events.FormatTime(q.From), "to": events.FormatTime(q.To)}
	if err := scopeParams(p, q.Scope); err != nil {
		return nil, err
	}
	timeParam(p, "known_at", q.KnownAt)
	return ask[projections.Holdings](ctx, c, "avails", p)
}

// Calendar lists what falls due over [q.From, q.To), of q.Agreement or
// ("") of every one; the options are a question about one agreement's.
func (c *Client) Calendar(ctx context.Context, q projections.CalendarQuery, opts ...ledger.QueryOption) (*projections.Calendar, error) {
	p := Params{"from": events.FormatTime(q.From), "to": events.FormatTime(q.To)}
	if q.Agreement != "" {
		p["agreement"] = q.Agreement
	}
	timeParam(p, "known_at", q.KnownAt)
	damagedParam(p, opts)
	return ask[projections.Calendar](ctx, c, "calendar", p)
}

// Agreements lists the agreements with their status at valid time at
// (zero: now).
func (c *Client) Agreements(ctx context.Context, at time.Time) ([]projections.Summary, error) {
	p := Params{}
	timeParam(p, "at", at)
	var doc wire.AgreementList
	if err := c.Request(ctx, "agreements", p, &doc); err != nil {
		return nil, err
	}
	return doc.Summaries()
}

// Verify has the service read the whole stream again and walk every hash
// chain, checking heads exported earlier if given.
func (c *Client) Verify(ctx context.Context, heads []ledger.Head) (*ledger.Report, error) {
	p := Params{}
	if len(heads) > 0 {
		p["heads"] = heads
	}
	return ask[ledger.Report](ctx, c, "verify", p)
}
