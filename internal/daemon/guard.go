package daemon

import (
	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
)

// Subject is a pending transaction as the daemon's guard sees it before
// signing: the API's fields, the intent decoded from the very bytes the
// chain's signer will sign (never from the API's description of them), and
// the derivation indexes its keys come from. The policy and the approval
// service decide on it.
type Subject struct {
	Tx PendingTx
	// Intent is what the transaction does, decoded by the chain's codec.
	Intent intent.Intent
	// Indexes are the derivation indexes of the keys that sign (tx.index or
	// each signatures[].index); empty for private-key wallets.
	Indexes []uint32
	// Decoded reports that Intent was decoded. The daemon decodes every
	// transaction before deciding on it; a Subject built elsewhere without
	// an intent is refused by the policy and by approval v2.
	Decoded bool

	// decodedTx is what Intent was read from on a chain.Decoder, and what the
	// daemon signs (chain.SignRequest.Decoded): the decision is on the
	// transaction signed, not on another reading of the same bytes.
	decodedTx chain.Decoded
	// sum is the hex SHA-256 of Tx.SerializedTransaction, taken once by
	// subject: the audit log's events about the transaction and the
	// approval request all name the bytes by it (txDigest).
	sum string
}

// txDigest is the hex SHA-256 of the bytes s signs.
func (s Subject) txDigest() string {
	if s.sum != "" {
		return s.sum
	}
	return digest(s.Tx.SerializedTransaction)
}

// subject decodes tx on chain sc into what the guard decides on; dec is
// tx's decoding (PendingTx.decode).
func (d *Daemon) subject(sc signingChain, tx PendingTx, dec *decoding) (Subject, error) {
	s := Subject{Tx: tx, sum: digest(tx.SerializedTransaction)}
	if tx.Index != nil {
		s.Indexes = append(s.Indexes, *tx.Index)
	}
	for _, sig := range tx.Signatures {
		if sig.Index != nil {
			s.Indexes = append(s.Indexes, *sig.Index)
		}
	}
	// New refuses a chain that is not an Intender: the daemon signs only
	// what it can decode.
	s.Decoded = true
	extra := d.cfg.ExtraChainIDs[sc.c.Info().Code]
	var err error
	switch {
	case dec.err != nil:
		err = dec.err
	case dec.tx != nil:
		s.Intent, err = dec.tx.Intent(d.cfg.Testnet, extra...)
		s.decodedTx = dec.tx
	default:
		s.Intent, err = sc.c.(chain.Intender).Intent(tx.SerializedTransaction, d.cfg.Testnet, extra...)
	}
	if err != nil {
		return Subject{}, err
	}
	// The approval request names the chain and network from the intent.
	if s.Intent.Chain == "" {
		s.Intent.Chain = sc.c.Info().Code
	}
	if s.Intent.Network == "" {
		s.Intent.Network = chain.NetworkName(d.cfg.Testnet)
	}
	return s, nil
}
