package projections

import (
	"github.com/agreement-ledger/ledger/events"
	"github.com/oklog/ulid/v2"
)

// Kept is a batch of amendments that a writer checked and left applied to
// their agreements' views, so that its work is not done twice: when the
// stream hands the amendments back, Add recognises each (by its id and its
// *events.Amendment) and only notes its sequence and recorded time.
//
// Until then the batch is tentative. Its records carry sequences above
// every real one (from keptSeq), so a query reads a held agreement as known
// at the last sequence added: the view up to the batch, or, where the batch
// changed history behind later records, a view folded without it. Abort
// takes the batch back; so does an Add of another record to a held
// agreement (another writer got in first, and the batch's write will fail).
//
// An index holds one batch at a time: the ledger resolves each before it
// checks the next. Dry runs wait until it is resolved.
type Kept struct {
	ix     *Index
	trials map[string]*trial
	recs   map[ulid.ULID]*events.Record // not added yet
	// For agreements the batch opens: not in the index until their first
	// record is added.
	fresh map[string]*trial
	over  bool // added whole, or aborted
	freed chan struct{}
}

// keptSeq is the first sequence a tentative record is given: no stream
// reaches it, so cuts at real sequences leave tentative records out.
const keptSeq = 1 << 62

// hold keeps trials applied: called by preview, under the write lock, once
// they have been checked. A trial that folded a view of its own replaces
// the agreement's view now (or, for an agreement not yet recorded, when
// its first record is added).
func (ix *Index) hold(trials []*trial) *Kept {
	k := &Kept{ix: ix, trials: map[string]*trial{}, recs: map[ulid.ULID]*events.Record{}, fresh: map[string]*trial{}, freed: make(chan struct{})}
	for _, t := range trials {
		k.trials[t.name] = t
		t.left = len(t.recs)
		for _, r := range t.recs {
			k.recs[r.ID] = r
		}
		if t.live {
			t.v.stopWatching()
			t.done()
			continue
		}
		a := ix.agreements[t.name]
		if a == nil {
			k.fresh[t.name] = t
			continue
		}
		ix.install(a, t.v)
	}
	ix.kept = k
	return k
}

// install makes v, folded apart from the index, a's live view.
func (ix *Index) install(a *agreement, v *view) {
	if a.v != nil {
		ix.grants.leave(a.v)
		a.v.gi = nil
	}
	v.gi, v.own = ix.grants, a
	ix.grants.join(a, v)
	a.v = v
}

// held reports whether a's view holds tentative records.
func (ix *Index) held(a *agreement) bool {
	return ix.kept != nil && ix.kept.trials[a.name] != nil
}

// addKept adds r, a record of the held batch read back from the stream:
// the tentative record takes r's sequence, recorded time and hashes. It
// reports false when r is not the batch's (the caller adds it as any
// record). The caller holds the write lock and has checked r's sequence.
func (ix *Index) addKept(r *events.Record) bool {
	k := ix.kept
	if k == nil {
		return false
	}
	kr := k.recs[r.ID]
	if kr == nil || kr.Amendment != r.Amendment {
		return false
	}
	t := k.trials[r.Agreement]
	a := ix.agreements[r.Agreement]
	if a == nil {
		if k.fresh[r.Agreement] == nil {
			return false
		}
		delete(k.fresh, r.Agreement)
		a = &agreement{name: r.Agreement}
		ix.agreements[r.Agreement] = a
		ix.install(a, t.v)
	}
	if kr.Version != uint64(len(a.records)+1) {
		return false // not the record the batch expected next
	}
	kr.Seq, kr.Recorded, kr.Hash = r.Seq, r.Recorded, r.Hash
	delete(k.recs, r.ID)
	t.left--
	for _, c := range kr.Changes {
		if c.Op == events.Retract {
			a.retract(c.Of().Target, kr)
		}
	}
	a.records = append(a.records, kr)
	ix.nameParties(a, kr)
	ix.byID.put(kr)
	ix.all = append(ix.all, kr)
	ix.addTime(kr.Recorded)
	if t.left == 0 {
		a.v.fixSeqMax(a.v.earliest(t.recs))
	}
	if len(k.recs) == 0 {
		ix.release()
	}
	return true
}

// release ends the held batch.
func (ix *Index) release() {
	k := ix.kept
	k.over = true
	ix.kept = nil
	close(k.freed)
}

// Abort takes back what is left of a held batch: the records not added
// are taken out of their agreements' views. It does nothing once the
// batch was added whole or aborted, and on a nil Kept.
func (k *Kept) Abort() {
	if k == nil {
		return
	}
	ix := k.ix
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.abort(k)
}

func (ix *Index) abort(k *Kept) {
	if k.over || ix.kept != k {
		return
	}
	for name, t := range k.trials {
		if k.fresh[name] != nil || t.left == 0 {
			continue // not in the index yet, or added whole
		}
		a := ix.agreements[name]
		if t.live && t.left == len(t.recs) { // nothing of it added
			t.v.rollback(t.keep)
			for _, r := range t.rest {
				t.v.push(r, nil)
			}
			t.live = false
			continue
		}
		ix.refold(a)
	}
	ix.release()
}

// waitUnheld waits, with the write lock held, until no batch is held.
func (ix *Index) waitUnheld() {
	for ix.kept != nil {
		ch := ix.kept.freed
		ix.mu.Unlock()
		<-ch
		ix.mu.Lock()
	}
}

// fixSeqMax recomputes seqMax from folded[from] on, after tentative
// sequences there became real ones (the old maxima were too high: safe for
// prefix, but they would make it scan).
func (v *view) fixSeqMax(from int) {
	k := from / seqBlock
	if k >= len(v.seqMax) {
		return
	}
	v.seqMax = v.seqMax[:k]
	m := uint64(0)
	if k > 0 {
		m = v.seqMax[k-1]
	}
	for i := k * seqBlock; i < len(v.folded); i++ {
		m = max(m, v.folded[i].Seq)
		if (i+1)%seqBlock == 0 || i == len(v.folded)-1 {
			v.seqMax = append(v.seqMax, m)
		}
	}
}

// readUnheld takes the read lock, as read does, once no batch is held: for
// questions that try amendments against the live views and the grant index.
func (ix *Index) readUnheld() (unlock func()) {
	for {
		unlock := ix.read()
		k := ix.kept
		if k == nil {
			return unlock
		}
		unlock()
		<-k.freed
	}
}
