// Command ledger is the agreement ledger: it records commercial agreements
// as an append-only history of amendments on NATS JetStream and answers what
// an agreement said at a time T, as known at a time K.
//
//	ledger demo                                    the built-in story, in a temporary store
//	ledger append amendments.json                  record amendments (a file, - or stdin)
//	ledger state microsoft-openai --at 2027-01-01  what an agreement said then
//	ledger conflicts --at 2026-03-15               conflicting exclusive grants
//	ledger check --party amazon --product frontier --channel api --at 2027-01-01
//	ledger avails --product frontier --channel api --from 2025-01-01 --to 2028-01-01
//	ledger calendar --from 2026-01-01 --to 2034-01-01 --ics deals.ics
//	ledger serve --listen 127.0.0.1:4222           share the store with other processes
//
// Install it with
//
//	go install github.com/agreement-ledger/ledger/cmd/ledger@latest
//
// This package only parses flags and wires them to the ledger (package
// ledger), its text output (ledger/render) and the demo (ledger/demo).
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
