// Package daemon owns the signer daemon: the loop that fetches pending
// transactions for the managed wallets, asks the operator's approval service,
// signs offline, records what it signed in a local ledger, submits the signed
// transaction to the API and reports failures. It also owns the resolution of a
// pending transaction's signature IDs to private keys, shared with the offline
// `custos sign` command.
//
// The daemon talks to the outside through small interfaces declared here (API,
// Keys), so it can be wired to the HTTP client of this package and to the
// wallet store, or to test doubles.
package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/custoskms/custos/approval"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/remotekey"
	"github.com/custoskms/custos/internal/strictjson"
)

// Signature is one entry of a pending transaction's signatures[]: a mnemonic
// wallet and the index to derive at (UTXO inputs signed by different keys).
type Signature struct {
	ID    string  `json:"id"`
	Index *uint32 `json:"index,omitempty"`
}

// PendingTx is a pending transaction as the API serves it (docs/design.md §4.2).
type PendingTx struct {
	ID                    string          `json:"id"`
	Chain                 string          `json:"chain"`
	SerializedTransaction string          `json:"serializedTransaction"`
	Hashes                []string        `json:"hashes"`
	Index                 *uint32         `json:"index,omitempty"`
	Signatures            []Signature     `json:"signatures,omitempty"`
	WithdrawalID          string          `json:"withdrawalId,omitempty"`
	TxID                  string          `json:"txId,omitempty"`
	WithdrawalResponses   json.RawMessage `json:"withdrawalResponses,omitempty"`

	// QueuedBy is the id of the API key that queued the transaction, from
	// the API's answer header (approval.HeaderAPIKeyID); empty when the API
	// did not name it. Not part of the transaction's JSON.
	QueuedBy string `json:"-"`

	// raw is the JSON the API sent, posted unchanged to a v1 approval service.
	raw json.RawMessage
	// bad is why the transaction was refused when parsed; set, nothing but
	// ID is.
	bad error
	// dec is the transaction's decoding for a run, once it was decoded
	// (decode).
	dec *decoding
}

// ParsePendingTx decodes one PendingTx and checks what the daemon relies on.
// It is the parser of untrusted input for both the daemon and `custos sign`.
// JSON that two decoders could read differently is refused (ErrAmbiguousJSON):
// a duplicate or case-variant key in the transaction or in a JSON
// serializedTransaction.
func ParsePendingTx(b []byte) (PendingTx, error) {
	tx, err := parsePending(b, true)
	if err != nil {
		return PendingTx{}, err
	}
	return tx, nil
}

// parsePending is ParsePendingTx for the API client. A transaction refused
// for ambiguous JSON whose id is not itself ambiguous comes back with the
// error as well: only its id and that error (bad), so that the daemon
// ends it as refused instead of skipping it in silence.
//
// Without serialized, a JSON serializedTransaction of a transaction that is
// otherwise whole is left to decode to check, in the reading that decodes
// it: a chain.Decoder reads it once for the check and everything after. An
// incomplete one, which the daemon skips, is still checked here, so that an
// ambiguous one is refused rather than skipped.
func parsePending(b []byte, serialized bool) (PendingTx, error) {
	var tx PendingTx
	if err := json.Unmarshal(b, &tx); err != nil {
		return PendingTx{}, err
	}
	if tx.ID == "" {
		return PendingTx{}, errMissing("id")
	}
	if !validPendingID(tx.ID) {
		// The id goes into the approval URL and the ledger: an API that
		// answers "../../health" must not steer the approval request elsewhere.
		return PendingTx{}, errBadID
	}
	if err := strictjson.Check(b); err != nil {
		err = fmt.Errorf("pending transaction: %w: %w", ErrAmbiguousJSON, err)
		var de *strictjson.DuplicateKeyError
		if errors.As(err, &de) && de.Depth == 0 && strings.EqualFold(de.Key, "id") {
			return PendingTx{}, err // no id to report it under
		}
		return PendingTx{ID: tx.ID, bad: err}, err
	}
	missing := tx.missing()
	if serialized || missing != nil {
		if err := checkSerialized(tx.SerializedTransaction); err != nil {
			return PendingTx{ID: tx.ID, bad: err}, err
		}
	}
	if missing != nil {
		return PendingTx{}, missing
	}
	tx.raw = append(json.RawMessage(nil), b...)
	return tx, nil
}

// missing names the first field the daemon needs that tx lacks.
func (tx PendingTx) missing() error {
	switch {
	case tx.Chain == "":
		return errMissing("chain")
	case tx.SerializedTransaction == "":
		return errMissing("serializedTransaction")
	case len(tx.Hashes) == 0 && len(tx.Signatures) == 0:
		return errMissing("hashes")
	}
	return nil
}

// checkSerialized refuses a JSON serializedTransaction (one that starts
// with '{' or '[') holding a duplicate or case-variant key: the chains decode
// theirs with Go's case-insensitive decoder, which would sign what another
// reader of the same text does not show. Any Unicode space before it counts,
// not only JSON's: a chain's parser that trims such spaces would otherwise
// read, leniently, JSON this check never saw; the check reads the bytes as
// given, so such a prefix is refused.
func checkSerialized(s string) error {
	t := strings.TrimLeftFunc(s, unicode.IsSpace)
	if t == "" || t[0] != '{' && t[0] != '[' {
		return nil
	}
	return ambiguousSerialized(strictjson.Check([]byte(s)))
}

// ambiguousSerialized is the refusal of a serializedTransaction whose JSON
// check found err; nil when err is.
func ambiguousSerialized(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("serializedTransaction: %w: %w", ErrAmbiguousJSON, err)
}

// decoding is a transaction as the daemon read it for a run.
type decoding struct {
	// tx is the chain.Decoder's decoding: the transaction the guard decides
	// on and the signer signs. nil on other chains (their Intender and
	// Signer read SerializedTransaction each) and when err is set.
	tx chain.Decoded
	// err is why the chain.Decoder could not decode it, reported when the
	// transaction is decided on.
	err error
}

// decode is the last look at a transaction before the daemon decides on and
// signs it, and on a chain.Decoder its one decoding: the error refuses a
// transaction refused when it was parsed (bad), or whose JSON
// serializedTransaction is ambiguous, found in the reading that decodes it
// (strictjson.Check on other chains). The decoding made by inSequence for
// the run is reused.
func (tx PendingTx) decode(c chain.Chain) (*decoding, error) {
	if tx.bad != nil {
		return nil, tx.bad
	}
	if tx.dec != nil {
		return tx.dec, nil
	}
	dc, ok := c.(chain.Decoder)
	if !ok {
		if err := checkSerialized(tx.SerializedTransaction); err != nil {
			return nil, err
		}
		return &decoding{}, nil
	}
	d, err := dc.Decode(tx.SerializedTransaction)
	if ae := (*chain.AmbiguousJSONError)(nil); errors.As(err, &ae) {
		return nil, ambiguousSerialized(ae.Err)
	}
	return &decoding{tx: d, err: err}, nil
}

// signatureIDs lists the wallets tx names: hashes[], then signatures[] ids
// not already listed.
func (tx PendingTx) signatureIDs() []string {
	ids := append([]string{}, tx.Hashes...)
	for _, s := range tx.Signatures {
		if !slices.Contains(ids, s.ID) {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// validPendingID reports whether id has the API's id form: exactly 24
// characters of [0-9a-zA-Z].
func validPendingID(id string) bool { return approval.ValidID(id) }

var errBadID = errors.New("pending transaction: id is not 24 characters of [0-9a-zA-Z]")

type missingFieldError string

func (e missingFieldError) Error() string { return "pending transaction: missing " + string(e) }

func errMissing(field string) error { return missingFieldError(field) }

// JSON returns the transaction as the API sent it (or re-encoded when built in code).
func (tx PendingTx) JSON() []byte {
	if len(tx.raw) > 0 {
		return tx.raw
	}
	b, _ := json.Marshal(tx)
	return b
}

// TxError is one failure reported to POST /v3/tatum/kms/batch.
type TxError struct {
	SignatureID string `json:"signatureId"` // the pending transaction's id, as Tatum names it
	Error       string `json:"error"`
	// Refused marks a final refusal (the approval service's, the policy's,
	// or of ambiguous JSON; Error names who refused, refused.go): the API
	// ends the transaction instead of keeping it pending. Left out
	// otherwise, so that the body stays Tatum's.
	Refused bool `json:"refused,omitempty"`
}

// API is what the daemon needs of the pending-transaction API (docs/design.md §4.1).
type API interface {
	// Pending answers POST /v3/kms/pending/{chain} for one chunk of signature
	// IDs. When the client claims (a signer id) and limit is positive, the
	// API returns and leases at most limit transactions, the oldest first.
	Pending(ctx context.Context, chain string, signatureIDs []string, limit int) ([]PendingTx, error)
	// Broadcast submits a signed transaction for pending transaction id through
	// POST /v3/{slug}/broadcast and returns the chain's txId.
	Broadcast(ctx context.Context, slug, txData, id string) (string, error)
	// ReportErrors posts failures to POST /v3/tatum/kms/batch.
	ReportErrors(ctx context.Context, errs []TxError) error
}

// WalletRef names a managed wallet without its secret.
type WalletRef struct {
	SignatureID string
	Chain       string
	Testnet     bool
}

// Wallet is a managed wallet with its secret: exactly one of Mnemonic and
// PrivateKey is set. Callers must not log it.
type Wallet struct {
	WalletRef
	Mnemonic   string
	PrivateKey string
	// Remote, set instead of a key, is a key held outside the process.
	Remote *remotekey.Ref
}

// Keys is the daemon's source of managed wallets. The daemon calls List at the
// start of every period, so wallets added by the CLI are seen without a restart.
type Keys interface {
	// List returns every managed wallet (no secrets).
	List(ctx context.Context) ([]WalletRef, error)
	// Wallet returns one wallet with its secret; ErrUnknownWallet when absent.
	Wallet(ctx context.Context, signatureID string) (Wallet, error)
}

// Preloader is an optional capability of Keys: Preload returns Keys that
// answer Wallet for ids from one read of the source made now, the others as
// the source does. A run preloads the wallets of the transactions it is
// about to sign, so that a wallet costs one query per run rather than one per
// transaction; wallets the CLI adds or removes are seen at the next run,
// as with List.
type Preloader interface {
	Preload(ctx context.Context, ids []string) (Keys, error)
}
