package chain

import "github.com/custoskms/custos/intent"

// Decoder is a chain that decodes a transaction once into a value every
// later step reads: the signer daemon orders a run by its sequence, decides
// on its intent and signs it (SignRequest.Decoded), so that the transaction
// the policy and the approval service saw is, by construction, the one
// signed, and the bytes are read once rather than once for each step.
//
// Decode reads a JSON form as strictly as the daemon's ambiguity check
// (strictjson.Check) and in the same reading: a duplicate or case-variant
// key, or JSON that does not parse, is refused with an
// *AmbiguousJSONError. Its other errors are those Intender.Intent returns
// for a malformed transaction; the network is checked by Decoded.Intent and
// by Sign, as the network is a wallet's, not the transaction's.
type Decoder interface {
	Decode(serialized string) (Decoded, error)
}

// Decoded is a transaction as its chain's Decoder read it. It is read, never
// changed, by the steps that follow, one at a time.
type Decoded interface {
	// Sequence is Sequencer.Sequence of the transaction.
	Sequence() (sender string, seq *uint64, err error)
	// Intent is Intender.Intent of the transaction.
	Intent(testnet bool, extraChainIDs ...uint64) (intent.Intent, error)
}

// AmbiguousJSONError is a Decoder's refusal of a JSON form that readers
// could read differently; Err is the check's own error.
type AmbiguousJSONError struct{ Err error }

func (e *AmbiguousJSONError) Error() string { return "ambiguous JSON: " + e.Err.Error() }
func (e *AmbiguousJSONError) Unwrap() error { return e.Err }
