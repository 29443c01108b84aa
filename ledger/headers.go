package ledger

import (
	"fmt"
	"strconv"

	"github.com/agreement-ledger/ledger/events"
	"github.com/nats-io/nats.go"
)

// Headers that make a stream message self-describing: a consumer that does
// not know the ledger (nats stream get, a mirror, an audit job) can tell
// what the message is and where it chains without parsing the body. They
// repeat what the canonical body says and are not hashed: the body is the
// record. Messages written before them have none and read the same.
const (
	// HeaderContentType is application/json: the body is one amendment's
	// canonical JSON.
	HeaderContentType = "Content-Type"
	// HeaderSchema is the body's schema version, its "v".
	HeaderSchema = "Ledger-Schema"
	// HeaderPrev is the chain hash: the hex SHA-256 of the agreement's
	// previous message, the body's "prev"; absent, as prev is, on an
	// agreement's first message.
	HeaderPrev = "Ledger-Prev"
)

// setSelfDescribing sets the headers of a message whose body chains to prev.
func setSelfDescribing(h nats.Header, prev events.Hash) {
	h.Set(HeaderContentType, "application/json")
	h.Set(HeaderSchema, strconv.Itoa(events.SchemaVersion))
	if !prev.IsZero() {
		h.Set(HeaderPrev, prev.String())
	}
}

// headerMismatch says how a message's headers disagree with its body (its
// prev), or "" when they agree or it has none (written before them).
func headerMismatch(h nats.Header, prev events.Hash) string {
	if h == nil || h.Get(HeaderSchema) == "" && h.Get(HeaderPrev) == "" {
		return ""
	}
	if v := h.Get(HeaderSchema); v != strconv.Itoa(events.SchemaVersion) {
		return fmt.Sprintf("its %s header is %q but its body is of schema version %d", HeaderSchema, v, events.SchemaVersion)
	}
	want := ""
	if !prev.IsZero() {
		want = prev.String()
	}
	if got := h.Get(HeaderPrev); got != want {
		return fmt.Sprintf("its %s header is %q but its body's prev is %q (header or body altered)", HeaderPrev, got, want)
	}
	return ""
}
