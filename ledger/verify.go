package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/projections"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Report is what Verify found.
type Report struct {
	OK         bool     `json:"ok"`
	Stream     string   `json:"stream"`
	Settings   []string `json:"settings_problems"` // stream settings that could lose or rewrite history
	Messages   int      `json:"messages"`
	Amendments int      `json:"amendments"`
	Agreements int      `json:"agreements"`
	Broken     []Break  `json:"broken"`  // the first broken link of each agreement that has one
	Foreign    int      `json:"foreign"` // messages the ledger did not write
	// Damaged lists the agreements whose histories the store cannot read
	// whole; their messages past the damage are the ledger's own, counted
	// in Messages but neither in Amendments nor in Foreign.
	Damaged []projections.Damage `json:"damaged"`
	// Unreadable are stream sequences the stream counts but cannot
	// deliver (see damage.go).
	Unreadable []SeqRange `json:"unreadable"`
	// Lost is what the server itself reports lost when it last recovered
	// the stream's files (it truncates a block at a record it cannot read).
	Lost  *Lost  `json:"lost,omitempty"`
	Heads []Head `json:"heads"`
	// Checked is how many exported heads Verify was given to check; each
	// one no longer in its chain is in Broken.
	Checked int `json:"heads_checked,omitempty"`
}

// Lost is the data the server reports lost from the stream.
type Lost struct {
	Msgs  []uint64 `json:"msgs"`
	Bytes uint64   `json:"bytes"`
}

// Break is a link in an agreement's chain that does not hold.
type Break struct {
	Agreement string `json:"agreement"`
	Version   uint64 `json:"version"` // the version the message would have had
	Seq       uint64 `json:"seq"`
	ID        string `json:"id,omitempty"`
	Expected  string `json:"expected,omitempty"` // the hash prev should have been
	Found     string `json:"found,omitempty"`
	Problem   string `json:"problem"`
}

// Head is the end of an agreement's chain: exported, it lets a user prove
// later that nothing before it was rewritten.
type Head struct {
	Agreement string      `json:"agreement"`
	Version   uint64      `json:"version"`
	Seq       uint64      `json:"seq"`
	Hash      events.Hash `json:"hash"`
}

// Verify reads the whole stream again, independently of the read model,
// walks every agreement's hash chain, checks that ids are unique and the
// stream's settings immutable, and reports the first broken link of each
// agreement. With heads (from an earlier Verify) it also checks that each
// of those heads is still in its chain.
func (l *Ledger) Verify(ctx context.Context, heads []Head) (*Report, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*l.cfg.Timeout)
	defer cancel()
	var st jetstream.Stream
	var info *jetstream.StreamInfo
	var last *jetstream.RawStreamMsg
	err := l.retry(ctx, func(ctx context.Context) error {
		var err error
		if st, err = l.js.Stream(ctx, l.cfg.Stream); err != nil {
			return err
		}
		if info, err = st.Info(ctx); err != nil {
			return err
		}
		last, err = st.GetLastMsgForSubject(ctx, l.cfg.Subject+".*")
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			err = nil
		}
		return err
	})
	if err != nil {
		return nil, unavailable("reading the stream", err)
	}
	rep := &Report{Stream: l.cfg.Stream, Settings: unsafeSettings(info.Config, l.cfg.Subject), Broken: []Break{}, Heads: []Head{}, Unreadable: []SeqRange{}}
	if ld := info.State.Lost; ld != nil && (len(ld.Msgs) > 0 || ld.Bytes > 0) {
		rep.Lost = &Lost{Msgs: ld.Msgs, Bytes: ld.Bytes}
	}
	if rep.Settings == nil {
		rep.Settings = []string{} // the document says [], as the HTTP API does
	}
	type chain struct {
		head    Head
		hashes  []events.Hash // by version - 1
		broken  bool
		foreign int // messages of the agreement counted foreign
	}
	chains := map[string]*chain{}
	ids := map[string]uint64{}
	found := newDamageFinder(l.dense)
	var prevSeq uint64
	visit := func(m message) {
		seq, data := m.seq, m.data
		found.seen(prevSeq, seq)
		prevSeq = seq
		name := strings.TrimPrefix(m.subject, l.cfg.Subject+".")
		c := chains[name]
		if c == nil {
			c = &chain{head: Head{Agreement: name}}
			chains[name] = c
		}
		rep.Messages++
		if found.beyond(name, seq) {
			return
		}
		fail := func(b Break) {
			rep.Foreign++
			c.foreign++
			if !c.broken {
				c.broken = true
				b.Agreement, b.Version, b.Seq = name, c.head.Version+1, seq
				rep.Broken = append(rep.Broken, b)
			}
		}
		a, prev, err := events.DecodeStored(data)
		if err == nil && a.Agreement == name && prev != c.head.Hash {
			r := &events.Record{Amendment: a, Seq: seq, Hash: events.Sum(data)}
			if d, dropped := found.broken(r, prev, c.head.Version, c.head.Seq); d != nil {
				// The ledger's own messages: not foreign, and no broken
				// link of this agreement stands for them.
				rep.Foreign -= len(dropped)
				c.foreign -= len(dropped)
				if c.foreign == 0 {
					rep.Broken = slices.DeleteFunc(rep.Broken, func(b Break) bool { return b.Agreement == name })
					c.broken = false
				}
				return
			}
		}
		switch {
		case err != nil:
			fail(Break{Problem: "not a ledger amendment: " + err.Error()})
		case a.Agreement != name:
			fail(Break{ID: a.ID.String(), Problem: fmt.Sprintf("names agreement %s but is on the subject of %s", a.Agreement, name)})
		case prev != c.head.Hash:
			fail(Break{ID: a.ID.String(), Expected: c.head.Hash.String(), Found: prev.String(), Problem: "prev does not hash the agreement's previous amendment (inserted, altered or reordered)"})
		case ids[a.ID.String()] != 0:
			fail(Break{ID: a.ID.String(), Problem: fmt.Sprintf("amendment id already recorded at sequence %d", ids[a.ID.String()])})
		default:
			ids[a.ID.String()] = seq
			h := events.Sum(data)
			c.head = Head{Agreement: name, Version: c.head.Version + 1, Seq: seq, Hash: h}
			c.hashes = append(c.hashes, h)
			rep.Amendments++
			// The body chains, so the read model takes it and the chain
			// goes on; headers that contradict it were altered after the
			// ledger wrote them, and a consumer reading them would be misled.
			if problem := headerMismatch(m.header, prev); problem != "" && !c.broken {
				c.broken = true
				rep.Broken = append(rep.Broken, Break{Agreement: name, Version: c.head.Version, Seq: seq, ID: a.ID.String(), Problem: problem})
			}
		}
	}
	if last != nil {
		if err := l.readStream(ctx, l.cfg.Subject+".*", last.Sequence, visit); err != nil {
			return nil, err
		}
	}
	rep.Checked = len(heads)
	for _, h := range heads {
		c := chains[h.Agreement]
		switch {
		case h.Version == 0:
			rep.Broken = append(rep.Broken, Break{Agreement: h.Agreement, Seq: h.Seq, Expected: h.Hash.String(), Problem: "not an exported head: a head has a version of 1 or more"})
		case c == nil || uint64(len(c.hashes)) < h.Version:
			have := 0
			if c != nil {
				have = len(c.hashes)
			}
			rep.Broken = append(rep.Broken, Break{Agreement: h.Agreement, Version: h.Version, Seq: h.Seq, Expected: h.Hash.String(), Problem: fmt.Sprintf("the exported head is missing: the agreement has %d amendments now", have)})
		case c.hashes[h.Version-1] != h.Hash:
			rep.Broken = append(rep.Broken, Break{Agreement: h.Agreement, Version: h.Version, Seq: h.Seq, Expected: h.Hash.String(), Found: c.hashes[h.Version-1].String(), Problem: "the history up to the exported head was rewritten"})
		}
	}
	for _, c := range chains {
		if c.head.Version > 0 {
			rep.Heads = append(rep.Heads, c.head)
		}
	}
	slices.SortFunc(rep.Heads, func(a, b Head) int { return strings.Compare(a.Agreement, b.Agreement) })
	slices.SortFunc(rep.Broken, func(a, b Break) int { return strings.Compare(a.Agreement, b.Agreement) })
	rep.Agreements = len(rep.Heads)
	rep.Damaged = found.list()
	rep.Unreadable = append(rep.Unreadable, found.holes...)
	rep.OK = len(rep.Broken) == 0 && len(rep.Settings) == 0 && len(rep.Damaged) == 0 && len(rep.Unreadable) == 0 && rep.Lost == nil
	return rep, nil
}

// readStall is how long reading the stream (readStream) may go without a
// message before the consumer is replaced: one on a node that has just died
// or rejoined can stay silent for longer than its own recovery is worth.
const readStall = 3 * time.Second

// retry runs fn again while it goes unanswered, until ctx ends, each try
// bounded by the ledger's timeout: on a cluster electing a leader a request
// may go unanswered, and the next one is answered.
func (l *Ledger) retry(ctx context.Context, fn func(ctx context.Context) error) error {
	for {
		tctx, cancel := context.WithTimeout(ctx, l.cfg.Timeout)
		err := fn(tctx)
		unanswered := tctx.Err() != nil || errors.Is(err, nats.ErrNoResponders)
		cancel()
		if err == nil || !unanswered || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// readStream calls visit for every message on subject (a filter: the
// agreements' subjects, or one agreement's), in order, up to sequence last.
// A consumer that stalls is replaced by one starting after the last message
// visited, until ctx ends.
func (l *Ledger) readStream(ctx context.Context, subject string, last uint64, visit func(m message)) error {
	return l.readRange(ctx, subject, 1, last, false, visit)
}

// readRange is readStream from sequence first; with headersOnly the
// messages come without their data.
func (l *Ledger) readRange(ctx context.Context, subject string, first, last uint64, headersOnly bool, visit func(m message)) error {
	done := first - 1 // the last sequence visited
	for {
		var cons jetstream.Consumer
		err := l.retry(ctx, func(ctx context.Context) error {
			var err error
			cons, err = l.js.OrderedConsumer(ctx, l.cfg.Stream, jetstream.OrderedConsumerConfig{
				FilterSubjects: []string{subject},
				DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
				OptStartSeq:    done + 1,
				HeadersOnly:    headersOnly,
			})
			return err
		})
		if err != nil {
			return unavailable("reading the stream", err)
		}
		msgs, err := cons.Messages(jetstream.PullMaxMessages(1000))
		if err != nil {
			return unavailable("reading the stream", err)
		}
		for {
			mctx, cancel := context.WithTimeout(ctx, readStall)
			msg, err := msgs.Next(jetstream.NextContext(mctx))
			cancel()
			if err != nil {
				msgs.Stop()
				if ctx.Err() != nil {
					return unavailable("reading the stream", err)
				}
				break // stalled: a new consumer, from where this one got
			}
			meta, err := msg.Metadata()
			if err != nil {
				msgs.Stop()
				return unavailable("reading the stream", err)
			}
			seq := meta.Sequence.Stream
			if seq <= done {
				continue
			}
			visit(message{seq: seq, time: meta.Timestamp, subject: msg.Subject(), data: msg.Data(), header: msg.Headers()})
			done = seq
			if done >= last {
				msgs.Stop()
				return nil
			}
		}
	}
}
