package projections

import (
	"encoding/binary"

	"github.com/agreement-ledger/ledger/events"
	"github.com/oklog/ulid/v2"
)

// idTable finds records by amendment id: an open-addressing hash table of
// record pointers, the key read from the record, so that it holds about 14
// bytes per record where a map[ulid.ULID]*events.Record holds over 30.
type idTable struct {
	slots []*events.Record // a power of two long, at most 3/4 full
	n     int
}

func hashID(id ulid.ULID) uint64 {
	z := binary.LittleEndian.Uint64(id[:8]) ^ binary.LittleEndian.Uint64(id[8:])*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// get returns the record of id, or nil.
func (t *idTable) get(id ulid.ULID) *events.Record {
	if len(t.slots) == 0 {
		return nil
	}
	mask := uint64(len(t.slots) - 1)
	for i := hashID(id) & mask; ; i = (i + 1) & mask {
		r := t.slots[i]
		if r == nil || r.ID == id {
			return r
		}
	}
}

// put adds r, whose id is not in the table.
func (t *idTable) put(r *events.Record) {
	if 4*(t.n+1) > 3*len(t.slots) {
		old := t.slots
		t.slots = make([]*events.Record, max(16, 2*len(old)))
		for _, o := range old {
			if o != nil {
				t.insert(o)
			}
		}
	}
	t.insert(r)
	t.n++
}

func (t *idTable) insert(r *events.Record) {
	mask := uint64(len(t.slots) - 1)
	i := hashID(r.ID) & mask
	for t.slots[i] != nil {
		i = (i + 1) & mask
	}
	t.slots[i] = r
}
