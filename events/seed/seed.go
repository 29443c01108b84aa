// Package seed holds the built-in history of the demo: the Microsoft–OpenAI–
// Amazon story of DESIGN §7, written as amendments. Dates the article does
// not give are illustrative, and each amendment's summary says so.
package seed

import (
	_ "embed"

	"github.com/agreement-ledger/ledger/events"
)

// JSON is the seed history as a JSON array of amendments.
//
//go:embed seed.json
var JSON []byte

// Amendments decodes the seed history.
func Amendments() []*events.Amendment {
	as, err := events.Decode(JSON)
	if err != nil {
		panic("seed: " + err.Error()) // the embedded file is checked by tests
	}
	return as
}

// The illustrative dates of the seed, for questions about it.
const (
	Partnership   = "2019-07-22" // microsoft-openai opens
	AmazonDeal    = "2026-02-27" // openai-amazon opens
	Renegotiation = "2026-04-27" // microsoft-openai renegotiated
)
