package ledger

import (
	"fmt"

	"github.com/agreement-ledger/ledger/events"
	"github.com/nats-io/nats.go"
)

// Connect opens a NATS connection to cfg.URL with cfg's credentials and
// TLS, as the ledger connects, for a program that talks to the ledger over
// NATS without opening it (a client of its NATS service).
func Connect(cfg Config, name string) (*nats.Conn, error) {
	cfg = cfg.withDefaults()
	if cfg.URL == "" {
		return nil, events.Errorf(events.Invalid, "connecting to NATS: no URL")
	}
	nc, err := nats.Connect(cfg.URL, append(connectOptions(cfg), nats.Name(name))...)
	if err != nil {
		return nil, &events.Error{Kind: events.Internal, Message: fmt.Sprintf("connecting to NATS at %s", cfg.URL), Err: err}
	}
	return nc, nil
}
