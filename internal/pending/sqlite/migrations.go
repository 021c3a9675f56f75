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
	// 5: webhooks. A failed transaction records the state it failed with
	// (pending.FailState). subscriptions and hook_secrets are each tenant's
	// webhooks and HMAC secret; events is the outbox the write paths add to
	// in the transaction of the change they report, with one deliveries row
	// per subscription of the event's type. A delivery's state is 0 (to be
	// delivered), 1 (delivered) or 2 (dead-lettered); a claim leases it as
	// the signers' claims lease transactions. deliveries_order finds an
	// earlier event of the same transaction still to be delivered to the
	// same URL, which holds the later ones back.
	`
ALTER TABLE txs ADD COLUMN fail_state TEXT;
CREATE TABLE hook_secrets (
	tenant TEXT PRIMARY KEY,
	secret TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE subscriptions (
	id         TEXT PRIMARY KEY,
	tenant     TEXT NOT NULL,
	type       TEXT NOT NULL,
	url        TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX subscriptions_tenant ON subscriptions (tenant, type);
CREATE TABLE events (
	n          INTEGER PRIMARY KEY AUTOINCREMENT,
	id         TEXT NOT NULL UNIQUE,
	tenant     TEXT NOT NULL,
	tx_seq     INTEGER NOT NULL,
	pending_id TEXT NOT NULL,
	type       TEXT NOT NULL,
	body       TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE TABLE deliveries (
	id          TEXT PRIMARY KEY,
	event_n     INTEGER NOT NULL REFERENCES events (n),
	sub_id      TEXT NOT NULL,
	tenant      TEXT NOT NULL,
	tx_seq      INTEGER NOT NULL,
	url         TEXT NOT NULL,
	state       INTEGER NOT NULL DEFAULT 0,
	attempts    INTEGER NOT NULL DEFAULT 0,
	next_at     INTEGER NOT NULL,
	lease_owner TEXT,
	lease_until INTEGER,
	last_error  TEXT,
	done_at     INTEGER
);
CREATE INDEX deliveries_due ON deliveries (next_at) WHERE state = 0;
CREATE INDEX deliveries_order ON deliveries (tx_seq, url, event_n) WHERE state = 0;
CREATE INDEX deliveries_dead ON deliveries (tenant, event_n) WHERE state = 2;
`,
	// 6: outcome tracking. state_at is when the state last changed (the
	// listing's time; rows made before take their creation). A completed
	// transaction gets track_next_at, when the tracker checks it next
	// (NULL: not tracked, or final); the tracker leases it with
	// lease_owner/lease_until, which only pending rows used before, and
	// records the state it reached (track_state), its block, confirmations,
	// fee and error, when it became final, its rebroadcasts and checks.
	// Completed rows made before are not tracked.
	`
ALTER TABLE txs ADD COLUMN state_at INTEGER;
ALTER TABLE txs ADD COLUMN track_state TEXT;
ALTER TABLE txs ADD COLUMN track_next_at INTEGER;
ALTER TABLE txs ADD COLUMN track_checks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE txs ADD COLUMN block_number INTEGER;
ALTER TABLE txs ADD COLUMN confirmations INTEGER;
ALTER TABLE txs ADD COLUMN fee TEXT;
ALTER TABLE txs ADD COLUMN track_error TEXT;
ALTER TABLE txs ADD COLUMN final_at INTEGER;
ALTER TABLE txs ADD COLUMN rebroadcasts INTEGER NOT NULL DEFAULT 0;
UPDATE txs SET state_at = coalesce(failed_at, created_at);
CREATE INDEX txs_track ON txs (track_next_at) WHERE track_next_at IS NOT NULL;
CREATE INDEX txs_changed ON txs (tenant, state_at, seq) WHERE deleted_at IS NULL;
`,
	// 7: replacements (speed-up, cancel). replaces is the pending id of
	// the first transaction of the group a replacement competes with for
	// its sequence; replaced_by the winner's txId once one is replaced.
	`
ALTER TABLE txs ADD COLUMN replaces TEXT;
ALTER TABLE txs ADD COLUMN replaced_by TEXT;
CREATE INDEX txs_replaces ON txs (tenant, replaces) WHERE replaces IS NOT NULL;
`,
	// 8: for the index and the answers kept in memory (index.go,
	// rowcache.go). pending_ends counts the commits that may end pending
	// transactions (complete, delete, fail), so that a process can tell
	// whether another one ended any; the trigger makes a row's answer
	// columns what the cache relies on them being: written once.
	`
CREATE TABLE pending_ends (n INTEGER NOT NULL);
INSERT INTO pending_ends (n) VALUES (0);
CREATE TRIGGER txs_answer_fixed BEFORE UPDATE OF id, tenant, chain, serialized, hashes, idx, signatures, withdrawal_id, withdrawal_responses ON txs
BEGIN
	SELECT RAISE(ABORT, 'a transaction''s answer columns are written once');
END;
`,
}
