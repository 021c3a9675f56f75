package broadcast

import (
	"strings"
	"unicode"
)

// This file sorts each node's refusals into those no retry heals (the caller
// ends the transaction's attempts: ErrPermanent beside ErrRejected) and those
// that may heal (plain ErrRejected, retried with backoff). The lists hold the
// node implementations' documented or source-defined error vocabulary; a
// refusal not listed stays transient, so an unknown message costs retries,
// never a transaction that could still have gone through.

// rejection is a node's refusal: it matches ErrRejected, and ErrPermanent too
// when permanent. Its text is the one a plain ErrRejected wrap would have.
type rejection struct {
	detail    string
	permanent bool
}

func (r *rejection) Error() string { return ErrRejected.Error() + ": " + r.detail }

// Is makes errors.Is(err, ErrRejected) hold, and errors.Is(err, ErrPermanent)
// for a permanent refusal.
func (r *rejection) Is(target error) bool {
	return target == ErrRejected || (r.permanent && target == ErrPermanent)
}

// rejected is the error a client returns for a node's refusal told by detail.
func rejected(permanent bool, detail string) error {
	return &rejection{detail: detail, permanent: permanent}
}

// squash lower-cases s and drops all but letters and digits, so that one
// entry matches a message as each implementation spells it: geth's "nonce too
// low", Besu's NONCE_TOO_LOW and Nethermind's NonceTooLow.
func squash(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, s)
}

// containsAny reports whether the squashed msg contains any squashed entry.
func containsAny(msg string, entries []string) bool {
	m := squash(msg)
	for _, e := range entries {
		if strings.Contains(m, squash(e)) {
			return true
		}
	}
	return false
}

// evmPermanent lists the EVM nodes' refusals of a transaction whose signed
// fields can never become acceptable (go-ethereum's core and txpool errors,
// with Besu's and Nethermind's names where they differ):
//   - the nonce is below the account's: the nonce is spent by another
//     transaction (the client has already checked it is not this one);
//   - the account cannot pay gas × price + value: the rule for a
//     custodial withdrawal is to end it and tell the app, which queues it
//     again once the wallet is funded, rather than to leave it pending;
//   - gas below the intrinsic cost, above the block gas limit, fee fields
//     out of order, a sender that cannot be recovered, a chain id the node
//     does not serve: all signed, so the same bytes are refused forever.
//
// Not listed, so retried: "replacement transaction underpriced" (another
// transaction holds the nonce in the pool; if it is dropped this one can
// enter, if it is mined this one turns into "nonce too low"), "transaction
// underpriced" and "max fee per gas less than block base fee" (the pool's
// floor and the base fee move), "nonce too high" (a gap later transactions
// fill), "txpool is full" and rate limits.
var evmPermanent = []string{
	"nonce too low", "OldNonce", // geth and Besu; Nethermind
	"insufficient funds", "UPFRONT_COST_EXCEEDS_BALANCE", // geth and Nethermind; Besu
	"intrinsic gas too low", "INTRINSIC_GAS_EXCEEDS_GAS_LIMIT", "GasLimitBelowIntrinsicGas",
	"exceeds block gas limit", "BlockGasLimitExceeded",
	"invalid sender", "INVALID_SIGNATURE", "FailedToResolveSender", "InvalidTxSignature",
	"invalid chain id", "WRONG_CHAIN_ID", "InvalidChainId", "chain id mismatch",
	"max priority fee per gas higher than max fee per gas", "MAX_PRIORITY_FEE_PER_GAS_EXCEEDS_MAX_FEE_PER_GAS",
	"oversized data", "negative value", "nonce has max value", "sender not an eoa",
}

// utxoPermanent lists the refusals of bitcoind and its forks (litecoind,
// dogecoind) and of btcd/bchd for a transaction that can never be accepted:
//   - its inputs are missing or spent (bitcoind's -25
//     bad-txns-inputs-missingorspent, "Missing inputs" before 0.21, btcd's
//     orphan that "references outputs of unknown or fully-spent
//     transaction"): another transaction spent them;
//   - its scripts or signatures do not verify (mandatory and non-mandatory
//     script-verify-flag failures);
//   - an output is dust, or it breaks a consensus rule (bad-txns-*, except
//     the two that heal with time, below), or it cannot be decoded.
//
// Not listed, so retried: a fee above the node's own cap (maxfeerate, a
// local setting the operator can raise), fees below the relay floor or the
// mempool minimum
// ("min relay fee not met", "mempool min fee not met", "insufficient fee":
// the mempool drains and the floor drops), "txn-mempool-conflict" (the
// conflicting transaction may be evicted), "non-final", "non-BIP68-final",
// bad-txns-nonfinal and bad-txns-premature-spend-of-coinbase (time or
// maturity heals them), "too-long-mempool-chain".
var utxoPermanent = []string{
	"missingorspent", "missing inputs", "references outputs of unknown or fully-spent",
	"script-verify-flag", "signature not empty on failed checksig", "dust",
	"tx decode failed",
}

// utxoHealing are bad-txns-* reasons that time heals.
var utxoHealing = []string{"bad-txns-nonfinal", "bad-txns-premature-spend-of-coinbase"}

func utxoIsPermanent(msg string) bool {
	m := strings.ToLower(msg)
	if containsAny(m, utxoHealing) {
		return false
	}
	return strings.Contains(m, "bad-txns-") || containsAny(m, utxoPermanent)
}

// stellarPermanent lists Horizon's transaction result codes for an envelope
// that can never be applied: the sequence is not the account's next
// (tx_bad_seq), the signatures or the account do not fit (tx_bad_auth,
// tx_bad_auth_extra, tx_bad_sponsorship), the account cannot pay
// (tx_insufficient_balance), the time bounds are past (tx_too_late), the
// envelope is malformed or unsupported, or it failed (tx_failed: one of its
// operations, e.g. op_underfunded, failed; the transaction was refused or
// applied as failed, and its sequence number cannot be used again either
// way). Fee-bump envelopes are judged by the same codes.
//
// Not listed, so retried: tx_too_early (its time bounds open later),
// tx_insufficient_fee (surge pricing passes), tx_no_source_account (the
// account may yet be created), tx_bad_min_seq_age_or_gap, tx_internal_error.
var stellarPermanent = map[string]bool{
	"tx_bad_seq": true, "tx_bad_auth": true, "tx_bad_auth_extra": true, "tx_bad_sponsorship": true,
	"tx_insufficient_balance": true, "tx_too_late": true, "tx_missing_operation": true, "tx_malformed": true,
	"tx_not_supported": true, "tx_failed": true, "tx_fee_bump_inner_failed": true, "tx_soroban_invalid": true,
}

func stellarIsPermanent(tx, inner string) bool {
	return stellarPermanent[tx] || stellarPermanent[inner]
}

// xrplIsPermanent reports whether a rippled engine result or submit error
// ends the transaction. tec* results are applied: the fee is claimed and the
// sequence consumed, so the transaction can never do what it was for. tef*
// results "could not succeed in any future ledger" (tefPAST_SEQ: the
// sequence is used; tefMAX_LEDGER: LastLedgerSequence has passed), except
// rippled's own failures (tefINTERNAL, tefEXCEPTION, tefFAILURE). tem*
// results are malformed transactions, and the submit errors
// invalidTransaction and invalidParams a blob the server cannot read. ter*
// (terPRE_SEQ waits for an earlier sequence, terNO_ACCOUNT for funding,
// terQUEUED is accepted) and tel* (local: fee, load, queue) may heal.
func xrplIsPermanent(result string) bool {
	switch result {
	case "tefINTERNAL", "tefEXCEPTION", "tefFAILURE":
		return false
	case "invalidTransaction", "invalidParams":
		return true
	}
	return strings.HasPrefix(result, "tec") || strings.HasPrefix(result, "tef") || strings.HasPrefix(result, "tem")
}

// multiversxPermanent lists the gateway's refusals (mx-chain-go's process
// errors, as the proxy relays them) that no retry heals: the nonce is below
// the account's, the account cannot pay, the gas limit is below the
// transaction's cost or above the block's, the chain id, version or
// signature is wrong. "higher nonce in transaction" (a gap that earlier
// transactions fill), "insufficient gas price" (the floor can be lowered)
// and "too many transactions" (a per-sender pool limit) stay retried.
var multiversxPermanent = []string{
	"lower nonce in transaction", "insufficient funds", "insufficient balance",
	"insufficient gas limit", "higher gas limit required", "invalid chain id",
	"invalid transaction version", "invalid signature", "signature verification failed",
}

// vechainPermanent lists Thor's refusals of a transaction that can never be
// packed: the "bad tx" class (the chain tag, the signature, the size or the
// gas of the signed transaction is wrong, or its expiration block has
// passed) and, among the "tx rejected" class, an origin (or delegator)
// without the energy the transaction costs, which the issue counts with
// insufficient funds. "tx rejected: pool is full" and a block reference
// ahead of the node stay retried.
var vechainPermanent = []string{"chain tag mismatch", "invalid signature", "invalid signer", "expired",
	"size too large", "intrinsic gas", "gas too large", "insufficient energy"}

func vechainIsPermanent(msg string) bool {
	if containsAny(msg, []string{"too far in future", "future block", "pool is full"}) {
		return false
	}
	return containsAny(msg, vechainPermanent)
}

// tronPermanent lists java-tron's broadcast response codes for a transaction
// that can never be accepted: a bad signature, an expiration that has passed
// or a reference block the node does not hold any more (TAPOS_ERROR), a
// transaction too big, a contract that fails validation (a balance that is
// not enough, an account that does not exist) or execution.
// BANDWITH_ERROR (bandwidth regenerates) and OTHER_ERROR stay retried; the
// busy codes are ErrUnavailable (tronBusy).
var tronPermanent = map[string]bool{
	"SIGERROR": true, "TRANSACTION_EXPIRATION_ERROR": true, "TAPOS_ERROR": true, "TOO_BIG_TRANSACTION_ERROR": true,
	"CONTRACT_VALIDATE_ERROR": true, "CONTRACT_EXE_ERROR": true,
}

// solanaPermanent lists sendTransaction's refusals of a signed transaction
// that can never land: its recent blockhash has expired ("Blockhash not
// found": a transaction is only valid for about 150 blocks after it, and the
// blockhash is signed), the fee payer has no account or cannot pay the fee
// or rent, the signatures do not verify, or the transaction cannot be
// decoded. A node that is behind (-32005) or any other simulation failure
// stays retried.
var solanaPermanent = []string{
	"blockhash not found", "attempt to debit an account but found no record of a prior credit",
	"insufficient funds for fee", "insufficient funds for rent", "insufficient lamports",
	"signature verification failure", "failed to deserialize", "invalid transaction",
}

// flowPermanent lists the Access API's transaction validation errors that no
// retry heals: an expired reference block, a bad or duplicated signature, a
// payer that cannot pay the fee, a transaction missing fields, too big, with
// a gas limit out of range, an invalid address or script. An unknown
// reference block (the node lags), rate limits and an index behind stay
// retried.
var flowPermanent = []string{
	"transaction is expired", "invalid signature", "duplicated signature", "insufficient balance",
	"missing required fields", "gas limit", "invalid address", "invalid script", "byte size",
}
