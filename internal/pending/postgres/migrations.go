package postgres

// migrations are applied in order, each in its own transaction; the
// schema_migrations table records the versions that ran. Never edit a
// released entry: append a new one.
var migrations = []string{
	// 1: transactions, the pending index, signer error reports, API keys.
	`
CREATE TABLE api_keys (
	id          text PRIMARY KEY,
	name        text NOT NULL,
	secret_hash bytea NOT NULL UNIQUE,
	testnet     boolean NOT NULL,
	credits     bigint NOT NULL DEFAULT 0,
	created_at  timestamptz NOT NULL,
	revoked_at  timestamptz
);
CREATE TABLE txs (
	seq                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id                   text NOT NULL UNIQUE,
	tenant               text NOT NULL,
	chain                text NOT NULL,
	serialized           text NOT NULL,
	hashes               text NOT NULL,
	idx                  bigint,
	signatures           text,
	withdrawal_id        text,
	withdrawal_responses text,
	tx_id                text,
	tx_data              text,
	created_at           timestamptz NOT NULL,
	deleted_at           timestamptz,
	revert               boolean
);
CREATE INDEX txs_pending ON txs (tenant, chain, seq) WHERE tx_id IS NULL AND deleted_at IS NULL;
-- One row per signature ID of each pending transaction, removed on complete or
-- delete. k is a 64-bit hash of (tenant, chain, signature ID), so a signer's
-- list travels as one bigint array and is matched against this primary key;
-- the rare hash collision is filtered out after the lookup.
CREATE TABLE pending_keys (
	k   bigint NOT NULL,
	seq bigint NOT NULL,
	PRIMARY KEY (k, seq)
);
CREATE TABLE tx_errors (
	n       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	seq     bigint NOT NULL REFERENCES txs (seq),
	at      timestamptz NOT NULL,
	message text NOT NULL
);
CREATE INDEX tx_errors_seq ON tx_errors (seq);
`,
	// 2: signer leases. A claim sets both; a lease whose lease_until has
	// passed (by the database's clock, shared by every replica) is free again.
	`
ALTER TABLE txs ADD COLUMN lease_owner text;
ALTER TABLE txs ADD COLUMN lease_until timestamptz;
`,
	// 3: room in each page for a lease's new row version beside the old one,
	// so that claiming (which changes no indexed column) updates rows in
	// place (HOT) instead of adding an entry to every index of txs.
	`
ALTER TABLE txs SET (fillfactor = 70);
`,
	// 4: account sequences, as SQLite's migration 3: each sender's next
	// sequence, the key and number a transaction holds, the live ones of a
	// sender indexed, and failed transactions out of the pending index.
	`
ALTER TABLE txs ADD COLUMN seq_key text;
ALTER TABLE txs ADD COLUMN seq_num bigint;
ALTER TABLE txs ADD COLUMN failed_at timestamptz;
CREATE TABLE sequences (
	seq_key text PRIMARY KEY,
	next    bigint NOT NULL
);
CREATE INDEX txs_seq ON txs (seq_key, seq_num) WHERE seq_key IS NOT NULL AND deleted_at IS NULL AND failed_at IS NULL;
DROP INDEX txs_pending;
CREATE INDEX txs_pending ON txs (tenant, chain, seq) WHERE tx_id IS NULL AND deleted_at IS NULL AND failed_at IS NULL;
`,
	// 5: API key scopes, as SQLite's migration 4: every key made before
	// holds every scope.
	`
ALTER TABLE api_keys ADD COLUMN scopes text NOT NULL DEFAULT 'queue,sign,admin';
`,
	// 6: webhooks, as SQLite's migration 5: the state a failed transaction
	// failed with, each tenant's subscriptions and HMAC secret, the outbox of
	// events and one delivery per subscription, leased by the database's
	// clock as the signers' claims are.
	`
ALTER TABLE txs ADD COLUMN fail_state text;
CREATE TABLE hook_secrets (
	tenant text PRIMARY KEY,
	secret text NOT NULL
);
CREATE TABLE subscriptions (
	id         text PRIMARY KEY,
	tenant     text NOT NULL,
	type       text NOT NULL,
	url        text NOT NULL,
	created_at timestamptz NOT NULL
);
CREATE INDEX subscriptions_tenant ON subscriptions (tenant, type);
CREATE TABLE events (
	n          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id         text NOT NULL UNIQUE,
	tenant     text NOT NULL,
	tx_seq     bigint NOT NULL,
	pending_id text NOT NULL,
	type       text NOT NULL,
	body       text NOT NULL,
	created_at timestamptz NOT NULL
);
CREATE TABLE deliveries (
	id          text PRIMARY KEY,
	event_n     bigint NOT NULL REFERENCES events (n),
	sub_id      text NOT NULL,
	tenant      text NOT NULL,
	tx_seq      bigint NOT NULL,
	url         text NOT NULL,
	state       smallint NOT NULL DEFAULT 0,
	attempts    integer NOT NULL DEFAULT 0,
	next_at     timestamptz NOT NULL,
	lease_owner text,
	lease_until timestamptz,
	last_error  text,
	done_at     timestamptz
);
CREATE INDEX deliveries_due ON deliveries (next_at) WHERE state = 0;
CREATE INDEX deliveries_order ON deliveries (tx_seq, url, event_n) WHERE state = 0;
CREATE INDEX deliveries_dead ON deliveries (tenant, event_n) WHERE state = 2;
`,
	// 7: outcome tracking, as SQLite's migration 6: when the state last
	// changed, when the tracker checks a completed transaction next (it
	// leases it with lease_owner/lease_until, which only pending rows used
	// before), and what it learned. Completed rows made before are not tracked.
	`
ALTER TABLE txs ADD COLUMN state_at timestamptz;
ALTER TABLE txs ADD COLUMN track_state text;
ALTER TABLE txs ADD COLUMN track_next_at timestamptz;
ALTER TABLE txs ADD COLUMN track_checks integer NOT NULL DEFAULT 0;
ALTER TABLE txs ADD COLUMN block_number bigint;
ALTER TABLE txs ADD COLUMN confirmations bigint;
ALTER TABLE txs ADD COLUMN fee text;
ALTER TABLE txs ADD COLUMN track_error text;
ALTER TABLE txs ADD COLUMN final_at timestamptz;
ALTER TABLE txs ADD COLUMN rebroadcasts integer NOT NULL DEFAULT 0;
UPDATE txs SET state_at = coalesce(failed_at, created_at);
CREATE INDEX txs_track ON txs (track_next_at) WHERE track_next_at IS NOT NULL;
CREATE INDEX txs_changed ON txs (tenant, state_at, seq) WHERE deleted_at IS NULL;
`,
	// 8: replacements, as SQLite's migration 7.
	`
ALTER TABLE txs ADD COLUMN replaces text;
ALTER TABLE txs ADD COLUMN replaced_by text;
CREATE INDEX txs_replaces ON txs (tenant, replaces) WHERE replaces IS NOT NULL;
`,
}
