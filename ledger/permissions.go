package ledger

// Permissions are the NATS subject permissions a ledger process needs, and
// those it must never be given: with them a deployment's ledger user can
// append and read, but not delete, purge or reconfigure the stream.
type Permissions struct {
	PublishAllow   []string `json:"publish_allow"`
	PublishDeny    []string `json:"publish_deny"`
	SubscribeAllow []string `json:"subscribe_allow"`
}

// ClientPermissions returns the permissions for a ledger using cfg's stream
// and subject (defaults filled in). The snapshot bucket may be purged and
// updated: it is a cache, rebuilt from the stream when missing.
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
		SubscribeAllow: []string{"_INBOX.>"},
	}
}
