package projections

// Damage marks an agreement whose history the store can no longer read
// whole: its amendments from Version on are missing or unreadable, so its
// answers can come only from the versions before (the intact prefix). The
// ledger finds it (package ledger); here it is only carried by the answers.
type Damage struct {
	Agreement string `json:"agreement"`
	// Version is the first version the store cannot give: the intact
	// prefix ends at Version-1.
	Version uint64 `json:"version"`
	// Seq is the first stream sequence affected (the unreadable message,
	// when the stream shows where it was), LastSeq the last message of the
	// agreement seen beyond the intact prefix.
	Seq     uint64 `json:"seq"`
	LastSeq uint64 `json:"last_seq"`
	// Beyond counts the agreement's messages after the intact prefix that
	// could be read but not chained to it (they are the ledger's own).
	Beyond  int    `json:"beyond"`
	Problem string `json:"problem"`
}
