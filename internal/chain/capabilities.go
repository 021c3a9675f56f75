package chain

import (
	"context"
	"errors"
	"io"
	"math/big"

	"github.com/custoskms/custos/intent"
)

// Deriver is Tatum-compatible key derivation: the same mnemonic gives the same
// xpub, addresses and private-key strings as Tatum KMS, quirks included.
// Mnemonic-based methods take the BIP-39 seed (see Seed) so callers that derive
// many keys pay for PBKDF2 once.
type Deriver interface {
	// XPub is the account-level extended public key Tatum shows for a mnemonic
	// wallet. ErrNoXPub for chains without one (EGLD, SOL, keypair chains).
	XPub(seed []byte, testnet bool) (string, error)
	// AddressFromXPub derives the address at index from an xpub. ErrNoXPub where the chain has none.
	AddressFromXPub(xpub string, index uint32, testnet bool) (string, error)
	// AddressFromSeed derives the address at index of a mnemonic wallet.
	AddressFromSeed(seed []byte, index uint32, testnet bool) (string, error)
	// PrivateKey derives the private key at index, in the chain's string form (Tatum's).
	PrivateKey(seed []byte, index uint32, testnet bool) (string, error)
	// AddressFromPrivateKey validates a private key or secret in the chain's
	// string form and returns its address. ErrInvalidKey when it is not valid.
	AddressFromPrivateKey(key string, testnet bool) (string, error)
	// GeneratePrivateKey makes a random private key or secret in the chain's string form.
	GeneratePrivateKey(rand io.Reader, testnet bool) (string, error)
}

// TxValidator checks a pending transaction's serializedTransaction when it is
// queued (POST /v3/kms), so that garbage is refused with a 400 before any signer
// sees it. The error says what is wrong, never echoing secrets. extraChainIDs
// are network ids accepted beyond the chain's public ones for the network, as
// in SignRequest; they come with each call because they are configuration of
// one server, never of the chain value all callers share.
type TxValidator interface {
	ValidateTx(serialized string, testnet bool, extraChainIDs ...uint64) error
}

// SignRequest is one pending transaction to sign with resolved keys.
type SignRequest struct {
	// Serialized is the pending transaction's serializedTransaction.
	Serialized string
	// Testnet is the network of the wallets holding Keys.
	Testnet bool
	// Keys are private keys in the chain's string form: the key of hashes[0]
	// (with index) for account chains; one per input signer for UTXO chains.
	Keys []string
	// ExtraChainIDs are network ids accepted beyond the chain's public ones for
	// this network (an EVM dev chain's id, from configuration).
	ExtraChainIDs []uint64
	// Decoded, when set, is what the chain's Decoder returned for
	// Serialized: the chain signs that value instead of reading Serialized
	// again, so that what was decided on is what is signed. A Decoder
	// refuses a Decoded that is not its own decoding of Serialized; other
	// chains are never given one.
	Decoded Decoded
}

// Signed is a signed transaction as the chain's node accepts it, and its id as the chain defines it.
type Signed struct {
	TxData string `json:"txData"`
	TxID   string `json:"txId"`
}

// Signer signs pending transactions offline. Signatures are deterministic
// (RFC 6979 ECDSA, ed25519) so signing the same request twice gives the same bytes.
type Signer interface {
	Sign(ctx context.Context, req SignRequest) (Signed, error)
}

// Completer is a chain whose queued transactions may leave out fields that
// only the chain's node knows (an EVM gas price, an XRP fee, a TRON reference
// block, a SOL recent blockhash). The signer has no node, so the server fills
// them when the transaction is queued, before it is stored.
type Completer interface {
	// MissingFields names the fields serialized lacks, by the names of the
	// transaction's JSON (Tatum's form); nil when it is complete.
	MissingFields(serialized string) ([]string, error)
	// CompleteFromNode returns serialized with those fields filled from node,
	// the server's node client for the network (it must implement the chain
	// package's node interface, or the error says which methods it lacks).
	// extra are chain ids accepted beyond the public ones. Errors wrap
	// ErrInvalidTx or ErrWrongNetwork when the transaction cannot be completed
	// as given, broadcast.ErrRejected when the node refuses it, and anything
	// else when the node could not be asked.
	CompleteFromNode(ctx context.Context, node any, serialized string, testnet bool, extra ...uint64) (string, error)
}

// Sequencer is a chain whose transactions carry an account sequence (an EVM
// nonce, an XRP Sequence, an XLM sequence number, an EGLD nonce). When a
// transaction is queued without one, the server allocates the sender's next
// sequence atomically in its store, never below what the node reports and
// never one another live transaction of the sender holds; an explicit one is
// kept as given and taken into account.
type Sequencer interface {
	// Sequence returns the account whose sequence the transaction uses,
	// normalized so that two spellings of one account are one sender (an EVM
	// address in lower-case hex), and the sequence it carries, nil when it
	// leaves it out. A transaction that leaves the sequence out must name its
	// sender, or the error (wrapping ErrInvalidTx) names the missing field.
	Sequence(serialized string, testnet bool) (sender string, seq *uint64, err error)
	// WithSequence returns serialized with its sequence set to seq, in the
	// form the chain's codec stores (an EVM nonce as a hex string, "0x1f").
	WithSequence(serialized string, seq uint64) (string, error)
	// NextSequence asks node (the server's node client for the network) for
	// the sender's next usable sequence: the pending transaction count of an
	// EVM account, an XRP account's Sequence, an XLM account's sequence + 1,
	// an EGLD account's nonce. Errors as CompleteFromNode's.
	NextSequence(ctx context.Context, node any, sender string) (uint64, error)
}

// Filler is a Sequencer whose chain has a no-op transaction: the server
// queues one at a sequence freed below a live one of the sender (a deleted,
// refused or failed transaction), since the chain takes an account's
// transactions only in sequence order and the sender's later ones would
// otherwise wait forever. The filler is completed from the node like any
// queued transaction, then signed and approved like any other.
type Filler interface {
	// Filler returns the no-op transaction of sender at seq in the form the
	// chain's ValidateTx accepts (an EVM zero-value self-transfer, an XRP
	// AccountSet without flags, an XLM BUMP_SEQUENCE to 0, an EGLD zero-value
	// self-transfer), leaving to CompleteFromNode what the node knows.
	Filler(sender string, seq uint64) (string, error)
}

// Replacer is a chain whose nodes let a transaction still waiting in their
// pool be replaced by another that pays more: of the same sender at the
// same sequence (an EVM speed-up or cancel), or spending the same inputs (a
// UTXO speed-up, BIP 125); whichever is mined first takes the sequence or
// the inputs and the other can never be mined. The replacement is queued,
// approved and signed like any other transaction.
type Replacer interface {
	// Replacement returns the transaction that replaces r's, in the form
	// the chain's ValidateTx accepts, leaving to CompleteFromNode what the
	// node knows (a cancel's gas). node is the server's node client for the
	// network, asked for the current fee where the chain has one. Errors
	// wrap ErrInvalidTx when no replacement can be built as asked (a fee
	// below the node's replacement minimum or above r.MaxFee, an unknown
	// sender for a cancel, an incomplete transaction).
	Replacement(ctx context.Context, node any, r ReplaceRequest) (string, error)
}

// ReplaceRequest is a transaction to replace and how.
type ReplaceRequest struct {
	// Serialized is the queued transaction; Signed the signed one as it was
	// broadcast ("" when the signer completed it by itself), which says
	// what the node holds and who sent it.
	Serialized, Signed string
	// Rivals are the signed transactions of earlier replacements of the
	// same transaction (or of the one it replaced) that were broadcast:
	// the node's pool holds whichever it took last, so each fee is raised
	// over the highest of them all.
	Rivals []string
	// Cancel replaces the transaction with the chain's no-op (Filler's)
	// instead of the same transaction at a higher fee.
	Cancel bool
	// Fees are what the caller asks the replacement to pay, by the
	// transaction's field names (EVM gasPrice, maxFeePerGas,
	// maxPriorityFeePerGas; UTXO fee, the whole fee), each at least the replacement minimum; a fee
	// left out is the minimum, or the node's current price when higher.
	Fees map[string]*big.Int
	// MaxFee bounds every fee of the replacement (the server's ceiling);
	// nil bounds none.
	MaxFee        *big.Int
	Testnet       bool
	ExtraChainIDs []uint64
}

// Windowed is a chain whose transactions are valid only for a while (a SOL
// recent blockhash, a TRON expiration, a VET blockRef + expiration, an XRP
// LastLedgerSequence, XLM time bounds). A transaction whose window passed is
// marked expired and reported, never silently re-completed: its approval
// covered it as it was.
type Windowed interface {
	// Expired reports whether no block or ledger can include the transaction
	// any more, asking node (the server's node client for the network) where
	// the chain needs it. An incomplete transaction is never expired.
	Expired(ctx context.Context, node any, serialized string) (bool, error)
}

var (
	// ErrNoXPub is returned by chains that have no extended public key.
	ErrNoXPub = errors.New("chain has no xpub")
	// ErrInvalidKey is returned for a private key or secret that is not valid for the chain.
	ErrInvalidKey = errors.New("invalid private key for chain")
	// ErrKeypairWallet is returned by the mnemonic methods of chains whose wallets
	// are single random keypairs (XLM, XRP, BNB): Tatum derives nothing from a mnemonic there.
	ErrKeypairWallet = errors.New("chain uses keypair wallets, not mnemonic derivation")
	// ErrInvalidMnemonic is returned for a mnemonic with an unknown word or a bad checksum.
	ErrInvalidMnemonic = errors.New("invalid mnemonic")
	// ErrInvalidTx is wrapped by TxValidator and Signer errors about a malformed transaction.
	ErrInvalidTx = errors.New("invalid transaction")
	// ErrWrongNetwork is wrapped when a transaction's network (chain id, passphrase) does not match.
	ErrWrongNetwork = errors.New("transaction is for another network")
	// ErrWrongSigner is wrapped by Signer errors when the account that must sign
	// the transaction (sender, source account, fee payer, owner) is not the
	// managed wallet whose key was resolved: nothing is signed then.
	ErrWrongSigner = errors.New("transaction signer is not the managed wallet")
)

// Intender decodes a transaction, in every format the chain's codec accepts,
// into what it does (intent.Intent): the signer daemon evaluates its policy
// on the intent and shows it to the approval service with the bytes it
// signs. It decodes exactly what Sign would sign, refusing what Sign would
// refuse (errors wrap ErrInvalidTx or ErrWrongNetwork), and never needs a
// key or a node.
type Intender interface {
	Intent(serialized string, testnet bool, extraChainIDs ...uint64) (intent.Intent, error)
}

// SignedIntender decodes a signed transaction (Signed.TxData, as the chain's
// node takes it) into its intent, with Signers taken from the signatures
// themselves where the chain allows it (an EVM sender recovered from v, r,
// s; the public keys of ed25519 signatures), so that the server can check at
// broadcast that what a signer sends is the transaction that was queued
// (docs/design.md §9). It needs no key and no node; errors wrap ErrInvalidTx
// or ErrWrongNetwork.
type SignedIntender interface {
	SignedIntent(txData string, testnet bool, extraChainIDs ...uint64) (intent.Intent, error)
}

// KeyBatchGenerator makes many random private keys with their addresses at
// once, for generatemanagedprivatekeybatch: cheaper per key than
// GeneratePrivateKey followed by AddressFromPrivateKey where the chain can
// share work between keys (one field inversion for all the public keys of a
// batch). Each key and address are those the two calls would give.
type KeyBatchGenerator interface {
	GenerateKeys(rand io.Reader, testnet bool, keys, addrs []string) error
}

// XPubAddresser derives the addresses of many indexes of one xpub, parsed
// once: a parse (base58, checksum, the parent point's square root, the
// chain code's HMAC state) costs several child derivations, and nothing is
// cached between AddressFromXPub calls. The returned function gives what
// AddressFromXPub(xpub, index, testnet) would, and may be called from
// several goroutines.
type XPubAddresser interface {
	XPubAddresses(xpub string, testnet bool) (func(index uint32) (string, error), error)
}
