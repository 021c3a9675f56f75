package evm

import (
	"strings"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/strictjson"
)

var _ chain.Decoder = (*Chain)(nil)

// decoded is a transaction Decode read: the one Tx its sequence, its
// intent and its signature are all taken from.
type decoded struct {
	c          *Chain
	serialized string
	t          *Tx
}

// Decode implements chain.Decoder: ParseTx, with a Tatum-format
// transaction's JSON split into its fields by strictjson.Object, which
// refuses what strictjson.Check refuses in the same reading.
//
// The check applies to the bytes as given, to every form the daemon's
// check of a serializedTransaction treats as JSON (one that starts with
// '{' or '[' after JSON whitespace) and to every form ParseTx reads as
// JSON (one that starts with '{' after any Unicode space): a JSON form
// that only ParseTx trims to an object is refused, not read leniently.
func (c *Chain) Decode(serialized string) (chain.Decoded, error) {
	var t *Tx
	var err error
	switch {
	case strings.HasPrefix(strings.TrimSpace(serialized), "{"):
		raw, jerr := strictjson.Object([]byte(serialized))
		if jerr != nil {
			return nil, &chain.AmbiguousJSONError{Err: jerr}
		}
		t, err = c.tatumTx(raw)
	case strings.HasPrefix(strings.TrimLeft(serialized, " \t\r\n"), "["):
		if jerr := strictjson.Check([]byte(serialized)); jerr != nil {
			return nil, &chain.AmbiguousJSONError{Err: jerr}
		}
		t, err = c.ParseTx(serialized) // refused: not a form of this chain
	default:
		t, err = c.ParseTx(serialized)
	}
	if err != nil {
		return nil, err
	}
	return &decoded{c: c, serialized: serialized, t: t}, nil
}

// Sequence implements chain.Decoded: Chain.Sequence of the transaction.
func (d *decoded) Sequence() (string, *uint64, error) { return d.t.sequence() }

// Intent implements chain.Decoded: Chain.Intent of the transaction.
func (d *decoded) Intent(testnet bool, extra ...uint64) (intent.Intent, error) {
	if err := d.c.checkNetwork(d.t, testnet, extra...); err != nil {
		return intent.Intent{}, err
	}
	return d.c.intentOf(d.t, testnet), nil
}

// requestTx is the transaction req signs: its Decoded when set, else
// Serialized parsed.
func (c *Chain) requestTx(req chain.SignRequest) (*Tx, error) {
	if req.Decoded == nil {
		return c.ParseTx(req.Serialized)
	}
	d, ok := req.Decoded.(*decoded)
	if !ok || d.c != c || d.serialized != req.Serialized {
		return nil, ErrForeignDecoded
	}
	return d.t, nil
}
