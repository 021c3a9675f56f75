package sqlite

// migrations are applied in order; PRAGMA user_version records how many ran.
// Never edit a released entry: append a new one.
var migrations = []string{
	// 1: transactions, the pending index, signer error reports, API keys.
	`
CREATE TABLE api_keys (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	secret_hash BLOB NOT NULL UNIQUE,
	testnet     INTEGER NOT NULL,
	credits     INTEGER NOT NULL DEFAULT 0,
	created_at  INTEGER NOT NULL,
	revoked_at  INTEGER
);
CREATE TABLE txs (
	seq                  INTEGER PRIMARY KEY AUTOINCREMENT,
	id                   TEXT NOT NULL UNIQUE,
	tenant               TEXT NOT NULL,
	chain                TEXT NOT NULL,
	serialized           TEXT NOT NULL,
	hashes               TEXT NOT NULL,
	idx                  INTEGER,
	signatures           TEXT,
	withdrawal_id        TEXT,
	withdrawal_responses TEXT,
	tx_id                TEXT,
	tx_data              TEXT,
	created_at           INTEGER NOT NULL,
	deleted_at           INTEGER,
	revert               INTEGER
);
CREATE INDEX txs_pending ON txs (tenant, chain, seq) WHERE tx_id IS NULL AND deleted_at IS NULL;
-- One row per signature ID of each pending transaction, removed on complete or
-- delete. k is a 64-bit hash of (tenant, chain, signature ID): matching a
-- signer's ID list then probes a small integer index instead of comparing
-- strings; the rare hash collision is filtered out after the lookup.
CREATE TABLE pending_keys (
	k   INTEGER NOT NULL,
	seq INTEGER NOT NULL,
	PRIMARY KEY (k, seq)
) WITHOUT ROWID;
CREATE TABLE tx_errors (
	seq     INTEGER NOT NULL REFERENCES txs (seq),
	at      INTEGER NOT NULL,
	message TEXT NOT NULL
);
CREATE INDEX tx_errors_seq ON tx_errors (seq);
`,
	// 2: signer leases. A claim sets both; a lease whose lease_until (Unix
	// milliseconds) has passed is free again.
	`
ALTER TABLE txs ADD COLUMN lease_owner TEXT;
ALTER TABLE txs ADD COLUMN lease_until INTEGER;
`,
	// 3: account sequences. sequences holds each sender's next sequence
	// (seq_key is pending.SeqKey's string); a transaction placed in a
	// sequence records its key and number, and txs_seq finds the live ones
	// (neither deleted nor failed) of a sender when one is freed. A failed
	// transaction (the node refused it for good) leaves the pending index.
	`
ALTER TABLE txs ADD COLUMN seq_key TEXT;
ALTER TABLE txs ADD COLUMN seq_num INTEGER;
ALTER TABLE txs ADD COLUMN failed_at INTEGER;
CREATE TABLE sequences (
	seq_key TEXT PRIMARY KEY,
	next    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX txs_seq ON txs (seq_key, seq_num) WHERE seq_key IS NOT NULL AND deleted_at IS NULL AND failed_at IS NULL;
DROP INDEX txs_pending;
CREATE INDEX txs_pending ON txs (tenant, chain, seq) WHERE tx_id IS NULL AND deleted_at IS NULL AND failed_at IS NULL;
`,
	// 4: API key scopes (pending.Scopes' comma-separated form). Every key
	// made before holds every scope, as it could call every route.
	`
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'queue,sign,admin';
`,
}
