// Package pending owns the pending-transaction store of the server: the
// transactions an application queues for signing, the API keys (one tenant
// each) that own them, and their credit meters. Store is the contract every
// backend implements (sqlite and postgres; the storetest suite runs against each).
package pending

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/custoskms/custos/internal/chain"
)

// Signature names a mnemonic wallet and the derivation index whose key must
// sign one input of a transaction (multi-signer UTXO transactions).
type Signature struct {
	ID    string  `json:"id"`
	Index *uint32 `json:"index,omitempty"`
}

// Tx is a pending transaction as the API serves it (PendingTx of the API).
type Tx struct {
	ID                    string          `json:"id"`
	Chain                 string          `json:"chain"`
	SerializedTransaction string          `json:"serializedTransaction"`
	Hashes                []string        `json:"hashes"`
	Index                 *uint32         `json:"index,omitempty"`
	Signatures            []Signature     `json:"signatures,omitempty"`
	WithdrawalID          string          `json:"withdrawalId,omitempty"`
	TxID                  string          `json:"txId,omitempty"`
	WithdrawalResponses   json.RawMessage `json:"withdrawalResponses,omitempty"`
	// State is the transaction's state; Get and Transactions fill it.
	State State `json:"-"`
	// Outcome is what the tracker learned on chain; Get and Transactions fill it.
	Outcome Outcome `json:"-"`
}

// NewTx is what an application queues. The store assigns the id.
type NewTx struct {
	Chain                 string
	SerializedTransaction string
	Hashes                []string
	Index                 *uint32
	Signatures            []Signature
	WithdrawalID          string
	WithdrawalResponses   json.RawMessage
	// Replaces is the pending id of the transaction, in the same tenant,
	// that this one replaces at the same sequence (a speed-up or cancel).
	// Create records the group's first transaction when that one replaced
	// another itself, so that all replacements of one are a single group.
	Replaces string
	// Sequence, when set, puts the transaction in its sender's account
	// sequence (an EVM nonce, an XRP Sequence): Create allocates or records
	// it in the same atomic write that stores the transaction.
	Sequence *SeqRequest
}

// SeqKey names an account sequence: one sender on one chain and network. It
// is not per tenant: two API keys sending from one address share its nonces.
type SeqKey struct {
	Chain   string
	Testnet bool
	// Sender is the account, normalized by the chain (lower-case EVM hex).
	Sender string
}

// String is the key as the stores keep it, "ETH:testnet:0xab…".
func (k SeqKey) String() string {
	network := chain.NetworkName(k.Testnet)
	return k.Chain + ":" + network + ":" + k.Sender
}

// ParseSeqKey reads a key written by SeqKey.String.
func ParseSeqKey(s string) (SeqKey, error) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 || (parts[1] != "mainnet" && parts[1] != "testnet") {
		return SeqKey{}, fmt.Errorf("stored sequence key %q is malformed", s)
	}
	return SeqKey{Chain: parts[0], Testnet: parts[1] == "testnet", Sender: parts[2]}, nil
}

// SeqRequest is how Create places a transaction in its sender's sequence.
// The store keeps, per key, the next sequence it hands out; it is raised past
// every sequence a live transaction holds and never handed out twice while
// that transaction lives.
type SeqRequest struct {
	Key SeqKey
	// Given is the sequence the transaction already carries: kept as it is,
	// and the key's next is raised past it. Nil asks the store to allocate.
	Given *uint64
	// Floor is the lowest sequence the store may allocate: the node's next
	// for the sender, asked before Create so that no store lock waits on a
	// node round trip.
	Floor uint64
	// Render returns the serialized transaction carrying seq, for an
	// allocated sequence. It runs inside the store's write: no I/O.
	Render func(seq uint64) (string, error)
}

// Hole is a sequence freed (its transaction deleted or failed) below one a
// live transaction of the same sender holds: that one can never be mined
// until a transaction takes the freed sequence. The wallet fields are the
// freed transaction's, so that a filler signed by the same key can be queued.
type Hole struct {
	Key        SeqKey
	Seq        uint64
	Hashes     []string
	Index      *uint32
	Signatures []Signature
}

// Stored is t's wallet fields as both stores keep them: the hashes as a
// JSON array ("[]" for none), and the signatures (JSON), withdrawal
// responses, withdrawal ID and index, each nil when absent.
func (t NewTx) Stored() (hashes string, sigs, withdrawalResponses, withdrawalID, index any) {
	h := t.Hashes
	if h == nil {
		h = []string{}
	}
	hj, _ := json.Marshal(h) // strings always encode
	if len(t.Signatures) > 0 {
		b, _ := json.Marshal(t.Signatures)
		sigs = string(b)
	}
	if len(t.WithdrawalResponses) > 0 {
		withdrawalResponses = string(t.WithdrawalResponses)
	}
	if t.WithdrawalID != "" {
		withdrawalID = t.WithdrawalID
	}
	if t.Index != nil {
		index = int64(*t.Index)
	}
	return string(hj), sigs, withdrawalResponses, withdrawalID, index
}

// SignatureIDs returns every signature ID the transaction can be matched by.
func (t NewTx) SignatureIDs() []string {
	ids := make([]string, 0, len(t.Hashes)+len(t.Signatures))
	ids = append(ids, t.Hashes...)
	for _, s := range t.Signatures {
		ids = append(ids, s.ID)
	}
	return ids
}

// PendingQuery selects a tenant's pending transactions of one chain. It is a
// struct so that later options (a signer claiming rows with a lease) extend it
// without changing the method set.
type PendingQuery struct {
	Tenant string
	Chain  string
	// SignatureIDs, when non-nil, keeps only transactions with any of their
	// hashes or signatures[].id in the list. Nil means all of the tenant's.
	SignatureIDs []string
	// Claim, when set, makes the query a signer's claim: only transactions
	// not leased to another signer (or whose lease has expired) are returned,
	// and they are leased to this signer in the same atomic step. Without a
	// claim leases are ignored and nothing is leased.
	Claim *Claim
}

// Claim is a signer's lease request. Several signers holding the same
// wallets then never get the same transaction while a lease runs, and a
// dead signer's work is picked up by another once its leases expire.
type Claim struct {
	// Signer identifies the signer process; its own leases are renewed.
	Signer string
	// Lease is how long the returned transactions stay reserved (at least a millisecond).
	Lease time.Duration
	// Max, when positive, bounds the claim to Max matching transactions, so
	// that signers sharing wallets each take a share of a backlog instead of
	// the first one leasing all of it: the oldest free ones (never leased or
	// lease expired) first, then the signer's own running leases, oldest
	// first, to fill the rest. Free work going first keeps a signer whose Max
	// held transactions keep failing from never reaching newer ones.
	// Zero claims every free match and renews every own lease.
	Max int
}

// CheckRenewal reports a Renew without a signer or a positive lease: a
// caller's bug, refused before anything is written.
func CheckRenewal(signer string, lease time.Duration) error {
	if signer == "" || lease <= 0 {
		return errors.New("renew leases: a renewal needs a signer and a positive lease")
	}
	return nil
}

// InOrder returns the ids that are in renewed, in the order of ids and each
// once: a store's RETURNING has no order, and Renew answers in the caller's.
// It empties renewed as it goes.
func InOrder(ids []string, renewed map[string]bool) []string {
	out := make([]string, 0, len(renewed))
	for _, id := range ids {
		if renewed[id] {
			out = append(out, id)
			delete(renewed, id)
		}
	}
	return out
}

// Deletion is what the store keeps about a deleted transaction with a
// withdrawal, so the application's ledger can return the amount (and the fee
// when Revert is set).
type Deletion struct {
	ID           string
	WithdrawalID string
	Revert       bool
	DeletedAt    time.Time
}

// TxError is a signer's report that it could not process a transaction.
type TxError struct {
	ID      string // pending transaction id
	Message string
}

// APIKey is an API key's record. The secret itself is never stored, only its
// SHA-256 hash.
type APIKey struct {
	ID         string
	SecretHash [32]byte
	Name       string
	Testnet    bool
	// Scopes are the routes the key may call; never empty.
	Scopes    Scopes
	Credits   int64
	CreatedAt time.Time
	RevokedAt *time.Time
}

// TxStore holds pending transactions, each owned by one tenant. A transaction
// of another tenant is reported exactly like an unknown one (ErrNotFound).
type TxStore interface {
	// Create queues transactions for tenant in one atomic write and returns
	// their ids in order.
	Create(ctx context.Context, tenant string, txs ...NewTx) ([]string, error)
	// Get returns a transaction that is not deleted.
	Get(ctx context.Context, tenant, id string) (Tx, error)
	// Pending returns the matching transactions with no txId that are not
	// deleted or failed, oldest first. With q.Claim it returns only those free for the
	// signer (at most q.Claim.Max when positive, free ones before its own
	// renewals, each oldest first) and leases them to it atomically: two
	// concurrent claims of different signers never return the same transaction.
	Pending(ctx context.Context, q PendingQuery) ([]Tx, error)
	// SetTxData records the signed transaction a signer submitted for
	// broadcast. A completed transaction keeps its first txData.
	SetTxData(ctx context.Context, tenant, id, txData string) error
	// TxData returns the signed transaction recorded by SetTxData ("" when none).
	TxData(ctx context.Context, tenant, id string) (string, error)
	// Complete records the blockchain txId. The same txId again is a no-op;
	// a different one is ErrTxIDConflict; a deleted transaction ErrDeleted.
	Complete(ctx context.Context, tenant, id, txID string) error
	// Delete marks a transaction deleted with the revert flag of its
	// withdrawal. ErrCompleted when it already has a txId. A sequence the
	// transaction held is freed (see Fail).
	Delete(ctx context.Context, tenant, id string, revert bool) (*Hole, error)
	// Fail ends a transaction that will never be broadcast (the node refused
	// it for good): it is no longer pending, reason is kept among its Errors,
	// and the sequence it held is freed. When no live transaction of the
	// sender holds a higher sequence, the key's next goes back to one past
	// the highest live one, so that the next allocation reuses it; otherwise
	// the freed sequence is returned as a Hole. Failing a failed transaction
	// again changes nothing; ErrCompleted when it has a txId.
	Fail(ctx context.Context, tenant, id, reason string) (*Hole, error)
	// Deletion returns the deletion record of a deleted transaction.
	Deletion(ctx context.Context, tenant, id string) (Deletion, error)
	// RecordErrors keeps signer error reports for the tenant's transactions and
	// returns how many ids were known; unknown and foreign ids are skipped.
	RecordErrors(ctx context.Context, tenant string, errs []TxError) (int, error)
	// Errors returns the error reports of a transaction, oldest first.
	Errors(ctx context.Context, tenant, id string) ([]string, error)
	// LastError returns a transaction's latest error report (a signer's, or
	// the reason it failed) and how many it has, without reading them all: a
	// signer that reports on every poll piles up thousands. "" and 0 when
	// none, or when the id is unknown or foreign.
	LastError(ctx context.Context, tenant, id string) (last string, count int, err error)
	// Renew moves the leases signer holds on the tenant's transactions ids
	// to end lease from now, in one atomic write, and returns the ids it
	// renewed in the order of ids, each once. A transaction is renewed only
	// while it is pending (no txId, not deleted or failed) and still leased to
	// signer, its lease running or expired: as long as signer is its owner no
	// other signer has claimed it since. The others (unknown, foreign, never
	// leased, another signer's) are left out and keep their lease; that is
	// never an error. Unlike a claim it never leases anything new, so a signer
	// renews exactly the work it holds.
	Renew(ctx context.Context, tenant, signer string, ids []string, lease time.Duration) ([]string, error)
	// NextSequence is the sequence the store would allocate for key with the
	// node's floor at 0: one past the highest it handed out or recorded for
	// a live transaction (lowered again when a failure freed the highest), 0
	// when it holds none. It reads only: nothing is reserved.
	NextSequence(ctx context.Context, key SeqKey) (uint64, error)
}

// KeyStore holds API keys and their credit meters.
type KeyStore interface {
	// CreateKey stores a new key by the SHA-256 hash of its secret, with
	// scopes (ErrScope when empty or unknown).
	CreateKey(ctx context.Context, name string, testnet bool, scopes Scopes, secretHash [32]byte) (APIKey, error)
	// KeyByHash finds an active key; ErrKeyNotFound when unknown or revoked.
	KeyByHash(ctx context.Context, secretHash [32]byte) (APIKey, error)
	// Keys lists every key, revoked ones included, oldest first.
	Keys(ctx context.Context) ([]APIKey, error)
	// RevokeKey revokes a key; ErrKeyNotFound when unknown or already revoked.
	RevokeKey(ctx context.Context, id string) error
	// AddCredits adds n credits to a key's meter.
	AddCredits(ctx context.Context, id string, n int64) error
}

// Store is a complete pending-store backend.
type Store interface {
	TxStore
	KeyStore
	HookStore
	TrackStore
	// Ping reports whether the backend can serve requests (readiness).
	Ping(ctx context.Context) error
	Close() error
}
