package api

import (
	"context"
	"fmt"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
)

// checkSigned refuses a broadcast whose signed transaction (txData) is not
// the queued one (serialized) before it is stored or reaches the node: both
// are decoded by the chain's codec (chain.Intender for the queued bytes,
// chain.SignedIntender for the signed ones) and intent.CheckSigned compares
// them: chain id, signers, transfers, calls, memo and spent outputs equal,
// fee and sequence within what the queued transaction allows. A mismatch is
// a *intent.MismatchError (403 broadcast.mismatch naming the field), a
// txData the codec cannot decode a 400. A chain without a SignedIntender is
// not checked: the check applies to it once its codec has one.
//
// A sequence the store allocated is in the stored transaction (the store
// renders it there in the write that allocates it, docs/design.md §4.10),
// so comparing with the queued intent checks it; a queued transaction
// without one (a row queued before the server allocated sequences) lets the
// signer fill it, as Tatum's signers do.
func (s *Server) checkSigned(ctx context.Context, code string, testnet bool, serialized, txData string) error {
	c, err := s.lookupChain(code)
	if err != nil {
		return nil
	}
	si, ok := c.(chain.SignedIntender)
	if !ok {
		return nil
	}
	qi, ok := c.(chain.Intender)
	if !ok {
		return nil
	}
	extra := s.extraChainIDs[testnet][code]
	signed, err := si.SignedIntent(txData, testnet, extra...)
	if err != nil {
		return invalid("txData: " + err.Error())
	}
	queued, err := qi.Intent(serialized, testnet, extra...)
	if err != nil {
		// It was valid when it was queued: a codec that no longer reads it
		// cannot vouch for what is sent, so nothing is.
		s.log.ErrorContext(ctx, "a queued transaction no longer decodes: its broadcast is refused", "chain", code, "err", err)
		return forbidden(CodeTxMismatch, fmt.Sprintf("The queued transaction cannot be decoded to check the signed one against it: %v.", err))
	}
	return intent.CheckSigned(queued, signed)
}
