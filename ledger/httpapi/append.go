package httpapi

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/wire"
)

// Content types an append accepts: one JSON object or array, or JSON Lines.
var appendTypes = []string{"application/json", "application/x-ndjson", "application/jsonl"}

// appendAgreement is POST /v1/agreements/{agreement}/amendments: every
// amendment in the body must be of that agreement.
func (h *Handler) appendAgreement(w http.ResponseWriter, r *http.Request) {
	h.append(w, r, r.PathValue("agreement"))
}

// appendMixed is POST /v1/amendments: amendments of any agreements.
func (h *Handler) appendMixed(w http.ResponseWriter, r *http.Request) {
	h.append(w, r, "")
}

func (h *Handler) append(w http.ResponseWriter, r *http.Request, agreement string) {
	start := time.Now()
	outcome, err := h.doAppend(w, r, agreement)
	if err != nil {
		switch code := wire.Status(err); {
		case code == http.StatusConflict:
			h.m.versionConflicts.Inc()
			outcome = outcomeConflict
		case code < 500:
			h.m.invalid.Inc()
			outcome = outcomeInvalid
		default:
			outcome = outcomeError
		}
		h.fail(w, r, err)
	}
	// By outcome: a refused or dry-run append costs little and writes
	// nothing, and must not hide how long real writes take.
	h.m.appendDuration.WithLabelValues(outcome).Observe(time.Since(start).Seconds())
}

// The outcomes of an append, the label of ledger_append_duration_seconds.
const (
	outcomeAppended  = "appended"  // at least one amendment recorded
	outcomeDuplicate = "duplicate" // every amendment already recorded: nothing written
	outcomeDryRun    = "dry_run"   // checked, nothing written
	outcomeInvalid   = "invalid"   // refused as invalid input (4xx but 409)
	outcomeConflict  = "conflict"  // refused: not at the expected version (409)
	outcomeError     = "error"     // failed in the server or the store (5xx)
)

// doAppend appends and writes the result, saying which outcome it was; on
// failure it returns the error and writes nothing.
func (h *Handler) doAppend(w http.ResponseWriter, r *http.Request, agreement string) (string, error) {
	p := newParams(r, "dry_run")
	dry := p.Bool("dry_run")
	if p.Err != nil {
		return "", p.Err
	}
	var opts ledger.AppendOptions
	opts.DryRun = dry
	if im := strings.TrimSpace(r.Header.Get("If-Match")); im != "" && im != "*" {
		v, ok := etagVersion(im)
		if !ok {
			return "", wire.ParamError("If-Match", "%s is not a version in quotes, such as \"3\" (the ETag of the agreement's state; \"0\" for a new agreement)", im)
		}
		opts.ExpectVersion = &v
	}
	if err := checkContentType(r); err != nil {
		return "", err
	}
	if r.ContentLength > h.maxBody {
		return "", tooLarge(h.maxBody)
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return "", tooLarge(h.maxBody)
		}
		return "", &events.Error{Kind: events.Invalid, Message: "reading the request body: " + err.Error()}
	}
	as, err := events.DecodeFor(data, agreement)
	if err != nil {
		return "", err
	}
	if agreement != "" {
		if err := sameAgreement(as, agreement); err != nil {
			return "", err
		}
	}
	res, err := h.l.Append(r.Context(), as, opts)
	if err != nil {
		return "", err
	}
	res = wire.Appended(res)
	code, outcome := http.StatusOK, outcomeDryRun
	if !res.DryRun {
		outcome = outcomeDuplicate
		fresh := 0
		for _, a := range res.Appended {
			if a.Duplicate {
				h.m.duplicates.Inc()
			} else {
				fresh++
			}
		}
		h.m.appended.Add(float64(fresh))
		h.m.conflictsIntroduced.Add(float64(len(res.Conflicts)))
		if fresh > 0 {
			code, outcome = http.StatusCreated, outcomeAppended
		}
		if name, version, ok := single(res.Appended); ok {
			w.Header().Set("Location", "/v1/agreements/"+url.PathEscape(name)+"/state")
			w.Header().Set("ETag", etag(version))
		}
	}
	h.writeJSON(w, r, code, res)
	return outcome, nil
}

// single returns the agreement all appended amendments belong to, and its
// latest version among them.
func single(as []ledger.Appended) (string, uint64, bool) {
	if len(as) == 0 {
		return "", 0, false
	}
	var v uint64
	for _, a := range as {
		if a.Agreement != as[0].Agreement {
			return "", 0, false
		}
		v = max(v, a.Version)
	}
	return as[0].Agreement, v, true
}

func tooLarge(limit int64) error {
	return &events.Error{Kind: events.TooLarge, Message: fmt.Sprintf("request body is too large (at most %d bytes); split the amendments into several requests", limit)}
}

func checkContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	want := strings.Join(appendTypes, ", ")
	if ct == "" {
		return &events.Error{Kind: events.UnsupportedMediaType, Message: "Content-Type is required: one of " + want}
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return &events.Error{Kind: events.UnsupportedMediaType, Message: fmt.Sprintf("Content-Type %q is malformed: %v", ct, err)}
	}
	ok := false
	for _, t := range appendTypes {
		ok = ok || mt == t
	}
	if !ok {
		return &events.Error{Kind: events.UnsupportedMediaType, Message: fmt.Sprintf("Content-Type %s is not accepted: send one of %s", mt, want)}
	}
	if cs, given := params["charset"]; given && !strings.EqualFold(cs, "utf-8") {
		return &events.Error{Kind: events.UnsupportedMediaType, Message: fmt.Sprintf("charset %s is not accepted: amendments are UTF-8", cs)}
	}
	return nil
}

// sameAgreement checks that every amendment names the agreement of the URL.
func sameAgreement(as []*events.Amendment, agreement string) error {
	var p events.Problems
	for i, a := range as {
		if a.Agreement == agreement {
			continue
		}
		path := "agreement"
		if len(as) > 1 {
			path = fmt.Sprintf("[%d].agreement", i)
		}
		p.Add(path, "is %q but the URL is for agreement %q; post it to /v1/agreements/%s/amendments or to /v1/amendments", a.Agreement, agreement, a.Agreement)
	}
	return p.Err("the amendments do not match the agreement of the URL")
}
