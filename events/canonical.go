package events

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// SchemaVersion is the version of the stored event format. Stored events
// carry it as "v"; a reader refuses versions it does not know rather than
// misreading them.
const SchemaVersion = 1

// schemaVersion is "v" as stored.
var schemaVersion = strconv.Itoa(SchemaVersion)

// Hash is a SHA-256 digest.
type Hash [32]byte

func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is the zero hash (no previous amendment).
func (h Hash) IsZero() bool { return h == Hash{} }

// MarshalJSON writes the hash as lower-case hex.
func (h Hash) MarshalJSON() ([]byte, error) { return json.Marshal(h.String()) }

// ParseHash reads a hash written as 64 hex digits.
func ParseHash(s string) (Hash, error) {
	h, ok := hashOf(s)
	if !ok {
		return h, fmt.Errorf("%s is not a SHA-256 hash (64 hex digits)", quote(s))
	}
	return h, nil
}

// hashOf decodes 64 hex digits, of either case.
func hashOf[T ~string | ~[]byte](s T) (Hash, bool) {
	var h Hash
	if len(s) != 2*len(h) {
		return h, false
	}
	for i := range h {
		hi, lo := unhex(s[2*i]), unhex(s[2*i+1])
		if hi > 0xf || lo > 0xf {
			return Hash{}, false
		}
		h[i] = hi<<4 | lo
	}
	return h, true
}

// unhex is the value of a hex digit, or 0xff.
func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0xff
}

// Record is an amendment as the ledger recorded it.
type Record struct {
	*Amendment
	Seq      uint64    // stream sequence: the authoritative order of recording
	Recorded time.Time // stream timestamp: transaction time
	Version  uint64    // position in its agreement's history, from 1
	Hash     Hash      // SHA-256 of the stored bytes
	// The hash the stored bytes chain to (DecodeStored's prev) is not kept:
	// once the ledger has checked the chain, it is the Hash of the
	// agreement's record before, and a read model holds every record.
}

// MarshalJSON writes the amendment in its canonical input form: the fields
// a user writes, with sorted keys, normalised times and decimals, and no
// insignificant space. Equal amendments have equal bytes.
func (a Amendment) MarshalJSON() ([]byte, error) { return appendAmendment(nil, &a, false, Hash{}), nil }

// MarshalJSON writes a change in its input form.
func (c Change) MarshalJSON() ([]byte, error) { return appendChange(nil, &c), nil }

// ContentHash is the SHA-256 of the amendment's canonical form. Two sends of
// the same amendment id are the same amendment only if their content hashes
// are equal.
func (a *Amendment) ContentHash() Hash {
	return sha256.Sum256(appendAmendment(nil, a, false, Hash{}))
}

// Encode returns the bytes stored on the stream for a: its canonical form
// plus the schema version and prev, the hash of the agreement's previous
// stored amendment (left out for the first). Their SHA-256 is the hash the
// next amendment chains to.
func Encode(a *Amendment, prev Hash) ([]byte, error) {
	if a.ID == (ulid.ULID{}) {
		return nil, Errorf(Internal, "events: amendment has no id")
	}
	return appendAmendment(make([]byte, 0, 1024), a, true, prev), nil
}

type storedFields struct{ prev Hash }

// DecodeStored reads bytes written by Encode. It returns the amendment and
// the prev hash it carries; a version this code does not know, or anything
// Decode would reject, is an error.
func DecodeStored(data []byte) (*Amendment, Hash, error) {
	// What Encode wrote is canonical: the fast path reads it, and the strict
	// reader reads, and reports on, anything else.
	if a, prev, ok := decodeCanonical(data, true); ok {
		return a, prev, nil
	}
	return decodeStoredStrictly(data)
}

// decodeStoredStrictly is DecodeStored by the strict reader alone.
func decodeStoredStrictly(data []byte) (*Amendment, Hash, error) {
	var p Problems
	var sf storedFields
	if !json.Valid(data) {
		return nil, Hash{}, &Error{Kind: Invalid, Message: "stored event is not valid JSON"}
	}
	a, ok := readAmendment(data, "", &p, &sf, "")
	if err := p.Err("invalid stored event"); err != nil {
		return nil, Hash{}, err
	}
	if !ok || a.ID == (ulid.ULID{}) {
		return nil, Hash{}, &Error{Kind: Invalid, Message: "stored event has no id"}
	}
	return a, sf.prev, nil
}

// checkShare checks every workers-th amendment from the w-th: by the fast
// path if it reads the JSON, else by the strict reader, which says what is
// wrong with it. Neither keeps the bytes: one buffer takes them all.
func checkShare(as, out []*Amendment, probs []Problems, w, workers int) {
	buf := make([]byte, 0, 1024)
	for i := w; i < len(as); i += workers {
		buf = appendAmendment(buf[:0], as[i], false, Hash{})
		if a, _, ok := decodeCanonical(buf, false); ok {
			out[i] = a
			continue
		}
		path := ""
		if len(as) > 1 {
			path = index("", i)
		}
		out[i], _ = readAmendment(buf, path, &probs[i], nil, "")
	}
}

// Sum is the hash of stored bytes.
func Sum(stored []byte) Hash { return sha256.Sum256(stored) }

// Check reads amendments built in code as Decode would read their JSON: it
// returns copies with times and decimals normalised, or every problem at
// once, each at its path ("[2].changes[0].clause.cap.amount"; without the
// index for a single amendment). Every rule lives in the reader, so what
// passes Check is what Decode accepts, and a stored amendment that passed
// it reads back.
func Check(as []*Amendment) ([]*Amendment, error) {
	out := make([]*Amendment, len(as))
	probs := make([]Problems, len(as))
	// Large imports are checked on every core; the caller's goroutine takes
	// a share (all of a few amendments: a hand-off would cost as much).
	workers := min(runtime.GOMAXPROCS(0), len(as)/256+1)
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Go(func() { checkShare(as, out, probs, w, workers) })
	}
	checkShare(as, out, probs, 0, workers)
	wg.Wait()
	var p Problems
	for _, q := range probs {
		p.list = append(p.list, q.list...)
	}
	if err := p.Err("invalid amendment"); err != nil {
		return nil, err
	}
	return out, nil
}
