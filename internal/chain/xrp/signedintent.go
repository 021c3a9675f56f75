package xrp

import (
	"encoding/hex"
	"encoding/json"
	"strings"

	binarycodec "github.com/Peersyst/xrpl-go/binary-codec"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
)

var _ chain.SignedIntender = (*Chain)(nil)

// SignedIntent implements chain.SignedIntender on the tx_blob Sign returns
// (hex). The blob is decoded with the XRPL binary codec and must encode back
// to the same bytes (so that what is decoded is what the ledger reads); the
// transaction without its signature is then decoded as Intent decodes the
// queued JSON, and TxnSignature must verify with SigningPubKey over its
// signing data. Signers is the account of SigningPubKey, which is Account
// when the master key signed (as Sign does) and another account when a
// regular key did. Multi-signed transactions and ed25519 keys, which Sign
// never produces, are refused. An issued-currency amount is read as the
// codec writes it back, which may normalize the queued value's spelling.
func (c *Chain) SignedIntent(txData string, testnet bool, _ ...uint64) (intent.Intent, error) {
	blob, err := hex.DecodeString(txData)
	if err != nil || len(blob) == 0 {
		return intent.Intent{}, chain.InvalidTx("signed XRP transaction is not a hex tx_blob")
	}
	tx, err := decodeBlob(blob)
	if err != nil {
		return intent.Intent{}, err
	}
	again, err := encode(binarycodec.Encode, tx)
	if err != nil || !strings.EqualFold(hex.EncodeToString(again), txData) {
		return intent.Intent{}, chain.InvalidTx("tx_blob is not in the XRPL canonical encoding")
	}
	if _, ok := tx["Signers"]; ok {
		return intent.Intent{}, chain.InvalidTx("multi-signed transactions are not decoded")
	}
	sigHex, _ := tx["TxnSignature"].(string)
	pubHex, _ := tx["SigningPubKey"].(string)
	if sigHex == "" || pubHex == "" {
		return intent.Intent{}, chain.InvalidTx("tx_blob is not signed (TxnSignature and SigningPubKey)")
	}
	delete(tx, "TxnSignature")
	signing, err := encode(binarycodec.EncodeForSigning, tx)
	if err != nil {
		return intent.Intent{}, err
	}
	pubBytes, _ := hex.DecodeString(pubHex)
	pub, err := btcec.ParsePubKey(pubBytes)
	if err != nil {
		return intent.Intent{}, chain.InvalidTx("SigningPubKey is not a secp256k1 public key (ed25519 keys are not decoded)")
	}
	sigBytes, _ := hex.DecodeString(sigHex)
	sig, err := ecdsa.ParseDERSignature(sigBytes)
	if err != nil {
		return intent.Intent{}, chain.InvalidTx("TxnSignature is not a DER signature")
	}
	if !sig.Verify(sha512Half(signing), pub) {
		return intent.Intent{}, chain.InvalidTx("TxnSignature does not verify with SigningPubKey")
	}
	unsigned, err := json.Marshal(tx)
	if err != nil {
		return intent.Intent{}, chain.InvalidTx("decoded tx_blob does not encode as JSON")
	}
	in, err := c.Intent(string(unsigned), testnet)
	if err != nil {
		return intent.Intent{}, err
	}
	in.Signers = []string{Address(pub)}
	return in, nil
}

// decodeBlob runs the codec's decoder, which indexes its input without
// checking lengths in places: a panic is a blob that does not decode.
func decodeBlob(blob []byte) (tx map[string]any, err error) {
	defer func() {
		if r := recover(); r != nil {
			tx, err = nil, chain.InvalidTx("tx_blob does not decode")
		}
	}()
	tx, err = binarycodec.Decode(hex.EncodeToString(blob))
	if err != nil || tx == nil {
		return nil, chain.InvalidTx("tx_blob does not decode")
	}
	return tx, nil
}
