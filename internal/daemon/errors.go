package daemon

import (
	"errors"
	"fmt"
)

var (
	// ErrLedgerLocked is returned by OpenLedger when another daemon process holds the ledger.
	ErrLedgerLocked = errors.New("ledger is in use by another daemon process")
	// ErrNotApproved is wrapped when the approval service did not answer 2xx in time.
	ErrNotApproved = errors.New("transaction not approved")
	// ErrRefused is wrapped, together with ErrNotApproved, when the approval
	// service said no for good (HTTP 403, 409 or 410): the transaction is ended
	// instead of being asked about again. Its message starts the reason
	// reported to the API, which names who refused (refused.go).
	ErrRefused = errors.New("refused by the approval service")
	// ErrSealed is returned by a split-protected key source before k
	// holders have unsealed it: the daemon waits, signing nothing.
	ErrSealed = errors.New("wallet store is sealed: waiting for its shares (custos unseal)")
	// ErrUnknownWallet is wrapped when a pending transaction names a signature ID the key source does not hold.
	ErrUnknownWallet = errors.New("unknown wallet")
	// ErrWalletMismatch is wrapped when a wallet's chain or network differs from the transaction's.
	ErrWalletMismatch = errors.New("wallet does not match the transaction's chain or network")
	// ErrNoIndex is wrapped when a mnemonic wallet is named without the index to derive at.
	ErrNoIndex = errors.New("mnemonic wallet needs an index")
	// ErrNoSigner is wrapped when the chain cannot sign (its signer has not been built).
	ErrNoSigner = errors.New("chain has no signer")
	// ErrNoIntent is wrapped when the chain cannot decode what it signs
	// (it is not a chain.Intender): the policy and the approval service
	// decide on the decoded intent, so such a chain is never signed for.
	ErrNoIntent = errors.New("chain cannot decode its transactions into an intent")
	// ErrAmbiguousJSON is wrapped when a pending transaction, or its JSON
	// serializedTransaction, has a duplicate or case-variant key: an approver
	// and the signer could read different transactions, so it is refused
	// for good, as the policy refuses (refused.go).
	ErrAmbiguousJSON = errors.New("ambiguous JSON (duplicate or case-variant key)")
	// ErrWalletNotAllowed is wrapped when a transaction names a wallet
	// outside --wallets: the daemon signs only with the wallets it is given.
	ErrWalletNotAllowed = errors.New("wallet not in --wallets")
	// ErrRemoteKey is wrapped when a transaction's wallets hold their keys
	// outside the process where private keys are needed (custos sign), or
	// mix such wallets with wallets holding their keys.
	ErrRemoteKey = errors.New("wallet's key is held outside the process")
	// ErrNoExternalSigner is wrapped when a wallet's key is held outside the
	// process and its chain cannot sign with such a key.
	ErrNoExternalSigner = errors.New("chain cannot sign with a key held outside the process")
	// ErrConfig is wrapped by configuration errors; the message names the field at fault.
	ErrConfig = errors.New("invalid daemon configuration")
)

// HTTPError is an API answer outside 2xx. Callers branch on Status (a 4xx is
// final, a 5xx is retried); Code and Message come from the API's error body.
type HTTPError struct {
	Method, Path string
	Status       int
	Code         string
	Message      string
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("%s %s: HTTP %d", e.Method, e.Path, e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Temporary reports whether retrying the same request may succeed.
func (e *HTTPError) Temporary() bool { return e.Status >= 500 || e.Status == 429 }

// codeTxFailed is the API's errorCode (api.CodeTxFailed) for a broadcast the
// node refused for a reason no retry heals: the API ends the transaction.
const codeTxFailed = "broadcast.failed"

// TxFailed reports whether the API answered that the transaction's attempts
// are over: submitting the same bytes again can never succeed.
func (e *HTTPError) TxFailed() bool { return e.Code == codeTxFailed }
