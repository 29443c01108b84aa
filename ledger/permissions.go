package ledger

// Permissions are the NATS subject permissions a ledger process needs, and
// those it must never be given: with them a deployment's ledger user can
// append and read, but not delete, purge or reconfigure the stream.
type Permissions struct {
	PublishAllow   []string `json:"publish_allow"`
	PublishDeny    []string `json:"publish_deny"`
	SubscribeAllow []string `json:"subscribe_allow"`
	// AllowResponses lets the user answer the requests it receives (publish
	// to their reply subjects) without being allowed to publish to every
	// inbox: nats-server's allow_responses.
	AllowResponses bool `json:"allow_responses,omitempty"`
}

// The ledger's NATS service (ledger/service): its name in the services
// framework and the prefix of its endpoints' subjects (ledger.v1.state, …).
const (
	ServiceName   = "ledger"
	ServicePrefix = "ledger.v1"
)

// ClientPermissions returns the permissions for a ledger using cfg's stream
// and subject (defaults filled in). The snapshot bucket may be purged and
// updated: it is a cache, rebuilt from the stream when missing. A ledger
// that serves (ledger serve) also answers the NATS service's requests and
// the services framework's discovery ($SRV), each on its reply subject.
func ClientPermissions(cfg Config) Permissions {
	cfg = cfg.withDefaults()
	s, snaps := cfg.Stream, "OBJ_"+cfg.Stream+"_SNAPSHOTS"
	return Permissions{
		PublishAllow: []string{
			cfg.Subject + ".*",
			"$JS.API.INFO",
			"$JS.API.STREAM.INFO." + s,
			"$JS.API.STREAM.CREATE." + s,
			"$JS.API.STREAM.MSG.GET." + s,
			"$JS.API.DIRECT.GET." + s + ".>",
			"$JS.API.CONSUMER.CREATE." + s + ".>",
			"$JS.API.CONSUMER.INFO." + s + ".>",
			"$JS.API.CONSUMER.MSG.NEXT." + s + ".>",
			"$JS.API.CONSUMER.DELETE." + s + ".>",
			"$JS.API.STREAM.INFO." + snaps,
			"$JS.API.STREAM.CREATE." + snaps,
			"$JS.API.STREAM.PURGE." + snaps,
			"$JS.API.STREAM.MSG.GET." + snaps,
			"$JS.API.DIRECT.GET." + snaps + ".>",
			"$JS.API.CONSUMER.CREATE." + snaps + ".>",
			"$JS.API.CONSUMER.INFO." + snaps + ".>",
			"$JS.API.CONSUMER.MSG.NEXT." + snaps + ".>",
			"$JS.API.CONSUMER.DELETE." + snaps + ".>",
			"$O." + cfg.Stream + "_SNAPSHOTS.>",
		},
		PublishDeny: []string{
			"$JS.API.STREAM.DELETE." + s,
			"$JS.API.STREAM.PURGE." + s,
			"$JS.API.STREAM.UPDATE." + s,
			"$JS.API.STREAM.MSG.DELETE." + s,
		},
		SubscribeAllow: []string{"_INBOX.>", ServicePrefix + ".>", "$SRV.>"},
		AllowResponses: true,
	}
}

// ServiceClientPermissions returns the permissions of a user who may only
// ask the ledger's NATS service: requests to its endpoints and the services
// framework's discovery ($SRV.PING, INFO, STATS), replies on its inboxes.
// It cannot publish to the stream's subjects or call JetStream at all: the
// denials say so explicitly, the allow list alone would.
func ServiceClientPermissions(cfg Config) Permissions {
	cfg = cfg.withDefaults()
	return Permissions{
		PublishAllow:   []string{ServicePrefix + ".>", "$SRV.>"},
		PublishDeny:    []string{cfg.Subject + ".>", "$JS.>", "$O.>", "$KV.>"},
		SubscribeAllow: []string{"_INBOX.>"},
	}
}
