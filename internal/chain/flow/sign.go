package flow

import (
	"context"
	"crypto/sha256"
	"crypto/sha3"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Signer = (*Chain)(nil)

// ErrTatumForm is wrapped (with chain.ErrInvalidTx) when a Tatum-format FLOW
// transaction ({type, body}) is given to sign: Tatum's SDK builds it against a
// node, signs and sends it in one step, so there is nothing to sign offline.
var ErrTatumForm = errors.New("Tatum FLOW transactions are built and sent by a node-connected SDK; queue the native Flow transaction JSON instead")

// transactionDomainTag prefixes every message a Flow account key signs for
// a transaction: "FLOW-V0.0-transaction" right-padded with zeros to 32 bytes.
var transactionDomainTag = func() []byte {
	t := make([]byte, 32)
	copy(t, "FLOW-V0.0-transaction")
	return t
}()

// Hash algorithms an account key may name (Flow's names).
const (
	HashSHA3 = "SHA3_256"
	HashSHA2 = "SHA2_256"
)

// Signature is one transaction signature.
type Signature struct {
	Address   [8]byte
	KeyIndex  uint32
	Signature []byte
}

// Signer names the account key the managed wallet holds; it travels with a
// native transaction as its "signer" member, because a Flow account's address
// cannot be derived from its key.
type Signer struct {
	Address   [8]byte
	KeyIndex  uint32
	PublicKey string // Tatum's FLOW "address": 128 hex digits
	HashAlgo  string
}

// Tx is a Flow transaction in its signing form.
type Tx struct {
	Script             []byte
	Arguments          [][]byte
	ReferenceBlockID   [32]byte
	GasLimit           uint64
	ProposalAddress    [8]byte
	ProposalKeyIndex   uint32
	ProposalSequence   uint64
	Payer              [8]byte
	Authorizers        [][8]byte
	PayloadSignatures  []Signature
	EnvelopeSignatures []Signature
	Signer             *Signer
}

type payloadForm struct {
	Script                    []byte
	Arguments                 [][]byte
	ReferenceBlockID          []byte
	GasLimit                  uint64
	ProposalKeyAddress        []byte
	ProposalKeyIndex          uint64
	ProposalKeySequenceNumber uint64
	Payer                     []byte
	Authorizers               [][]byte
}

type sigForm struct {
	SignerIndex uint64
	KeyIndex    uint64
	Signature   []byte
}

// Sign implements chain.Signer for the native form: the Access API REST
// transaction JSON with a "signer" member {address, key_index, public_key,
// hash_algorithm}. The public key must be the wallet key's and the signer
// account the proposer (with the proposal key) or the payer; a payer signs the
// envelope, last, anyone else the payload. The output is the REST JSON with
// the signature added and "signer" removed, as POST /v1/transactions takes it.
func (c *Chain) Sign(ctx context.Context, req chain.SignRequest) (chain.Signed, error) {
	if err := ctx.Err(); err != nil {
		return chain.Signed{}, err
	}
	if len(req.Keys) != 1 {
		return chain.Signed{}, fmt.Errorf("%w: a FLOW signature is made with one key, got %d keys", chain.ErrInvalidKey, len(req.Keys))
	}
	priv, err := chain.ParseHexKey(req.Keys[0], true)
	if err != nil {
		return chain.Signed{}, err
	}
	defer priv.Zero()
	tx, obj, err := ParseTx(req.Serialized)
	if err != nil {
		return chain.Signed{}, err
	}
	s := tx.Signer
	if s == nil {
		return chain.Signed{}, chain.InvalidTx(`missing "signer" (the account address, key index and public key the wallet signs as)`)
	}
	if !strings.EqualFold(s.PublicKey, PublicKeyHex(priv.PubKey())) {
		return chain.Signed{}, fmt.Errorf("%w: signer.public_key is not the wallet key's public key", chain.ErrWrongSigner)
	}
	isProposer, isPayer := s.Address == tx.ProposalAddress, s.Address == tx.Payer
	switch {
	case !isProposer && !isPayer:
		return chain.Signed{}, fmt.Errorf("%w: the signer account is neither the proposer nor the payer", chain.ErrWrongSigner)
	case isProposer && s.KeyIndex != tx.ProposalKeyIndex:
		return chain.Signed{}, fmt.Errorf("%w: the proposal key is key %d, the wallet holds key %d", chain.ErrWrongSigner, tx.ProposalKeyIndex, s.KeyIndex)
	}
	var msg []byte
	if isPayer {
		for _, a := range tx.signers() {
			if a != tx.Payer && !slices.ContainsFunc(tx.PayloadSignatures, func(g Signature) bool { return g.Address == a }) {
				return chain.Signed{}, chain.InvalidTx("account %x has not signed the payload yet; the payer signs last", a)
			}
		}
		msg, err = tx.EnvelopeMessage()
	} else {
		msg, err = tx.PayloadMessage()
	}
	if err != nil {
		return chain.Signed{}, err
	}
	h, err := digest(s.HashAlgo, append(append([]byte{}, transactionDomainTag...), msg...))
	if err != nil {
		return chain.Signed{}, err
	}
	compact := ecdsa.SignCompact(priv, h, false)
	sig := Signature{Address: s.Address, KeyIndex: s.KeyIndex, Signature: compact[1:]}
	member := "payload_signatures"
	if isPayer {
		tx.EnvelopeSignatures = append(tx.EnvelopeSignatures, sig)
		member = "envelope_signatures"
	} else {
		tx.PayloadSignatures = append(tx.PayloadSignatures, sig)
	}
	if err := tx.sortSignatures(); err != nil {
		return chain.Signed{}, err
	}
	id, err := tx.ID()
	if err != nil {
		return chain.Signed{}, err
	}
	list := tx.PayloadSignatures
	if isPayer {
		list = tx.EnvelopeSignatures
	}
	obj[member], _ = json.Marshal(restSignatures(list))
	delete(obj, "signer")
	out, err := json.Marshal(obj)
	if err != nil {
		return chain.Signed{}, fmt.Errorf("encode FLOW transaction: %w", err)
	}
	return chain.Signed{TxData: string(out), TxID: id}, nil
}

func digest(algo string, m []byte) ([]byte, error) {
	switch algo {
	case HashSHA3, "":
		h := sha3.Sum256(m)
		return h[:], nil
	case HashSHA2:
		h := sha256.Sum256(m)
		return h[:], nil
	}
	return nil, chain.InvalidTx("hash_algorithm %q is not %s or %s", algo, HashSHA3, HashSHA2)
}

type restSig struct {
	Address   string `json:"address"`
	KeyIndex  string `json:"key_index"`
	Signature string `json:"signature"`
}

func restSignatures(list []Signature) []restSig {
	out := make([]restSig, len(list))
	for i, s := range list {
		out[i] = restSig{hex.EncodeToString(s.Address[:]), fmt.Sprint(s.KeyIndex), base64.StdEncoding.EncodeToString(s.Signature)}
	}
	return out
}

// signers is Flow's signer list: proposer, payer, then authorizers, each
// account once, in order of first appearance.
func (t *Tx) signers() [][8]byte {
	var out [][8]byte
	add := func(a [8]byte) {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	add(t.ProposalAddress)
	add(t.Payer)
	for _, a := range t.Authorizers {
		add(a)
	}
	return out
}

func (t *Tx) signerIndex(a [8]byte) (uint64, error) {
	i := slices.Index(t.signers(), a)
	if i < 0 {
		return 0, chain.InvalidTx("a signature is by account %x, which is not a signer of the transaction", a)
	}
	return uint64(i), nil
}

// sortSignatures orders both lists by signer index, then key index, as Flow's
// canonical form does.
func (t *Tx) sortSignatures() error {
	for _, list := range [][]Signature{t.PayloadSignatures, t.EnvelopeSignatures} {
		var bad error
		slices.SortStableFunc(list, func(a, b Signature) int {
			ia, err1 := t.signerIndex(a.Address)
			ib, err2 := t.signerIndex(b.Address)
			if bad == nil {
				bad = errors.Join(err1, err2)
			}
			if ia != ib {
				return int(ia) - int(ib)
			}
			return int(a.KeyIndex) - int(b.KeyIndex)
		})
		if bad != nil {
			return bad
		}
	}
	return nil
}

func (t *Tx) payload() payloadForm {
	auth := make([][]byte, len(t.Authorizers))
	for i := range t.Authorizers {
		auth[i] = t.Authorizers[i][:]
	}
	args := t.Arguments
	if args == nil {
		args = [][]byte{}
	}
	return payloadForm{t.Script, args, t.ReferenceBlockID[:], t.GasLimit, t.ProposalAddress[:],
		uint64(t.ProposalKeyIndex), t.ProposalSequence, t.Payer[:], auth}
}

func (t *Tx) sigForms(list []Signature) ([]sigForm, error) {
	out := make([]sigForm, len(list))
	for i, s := range list {
		idx, err := t.signerIndex(s.Address)
		if err != nil {
			return nil, err
		}
		out[i] = sigForm{idx, uint64(s.KeyIndex), s.Signature}
	}
	return out, nil
}

// PayloadMessage is the RLP of the payload: what proposer and authorizers sign.
func (t *Tx) PayloadMessage() ([]byte, error) {
	return rlp.EncodeToBytes(t.payload())
}

// EnvelopeMessage is the RLP of the payload and its signatures: what the payer signs.
func (t *Tx) EnvelopeMessage() ([]byte, error) {
	ps, err := t.sigForms(t.PayloadSignatures)
	if err != nil {
		return nil, err
	}
	return rlp.EncodeToBytes([]any{t.payload(), ps})
}

// ID is the transaction id as Flow defines it: SHA3-256 of the RLP of the
// payload, payload signatures and envelope signatures, hex.
func (t *Tx) ID() (string, error) {
	ps, err := t.sigForms(t.PayloadSignatures)
	if err != nil {
		return "", err
	}
	es, err := t.sigForms(t.EnvelopeSignatures)
	if err != nil {
		return "", err
	}
	raw, err := rlp.EncodeToBytes([]any{t.payload(), ps, es})
	if err != nil {
		return "", fmt.Errorf("encode FLOW transaction: %w", err)
	}
	h := sha3.Sum256(raw)
	return hex.EncodeToString(h[:]), nil
}

// ParseTx reads the native form (the Access API REST transaction JSON, with
// an optional "signer") and returns it with its raw members, which Sign writes back.
func ParseTx(s string) (*Tx, chain.JSONObject, error) {
	o, err := chain.ParseJSONObject(s)
	if err != nil {
		return nil, nil, err
	}
	if o.Has("type") || o.Has("body") {
		return nil, nil, fmt.Errorf("%w: %w", chain.ErrInvalidTx, ErrTatumForm)
	}
	if err := checkTx(o); err != nil {
		return nil, nil, err
	}
	t := &Tx{}
	script, _ := o.String("script")
	t.Script, _ = base64.StdEncoding.DecodeString(script)
	if o.Has("arguments") {
		var args []string
		_ = json.Unmarshal(o["arguments"], &args)
		for _, a := range args {
			b, _ := base64.StdEncoding.DecodeString(a)
			t.Arguments = append(t.Arguments, b)
		}
	}
	id, _ := o.String("reference_block_id")
	_, _ = hex.Decode(t.ReferenceBlockID[:], []byte(id))
	t.GasLimit, _ = o.Uint("gas_limit", true)
	t.Payer = mustAddress(o, "payer")
	pk, _ := o.Object("proposal_key")
	t.ProposalAddress = mustAddress(pk, "address")
	if t.ProposalKeyIndex, err = keyIndex(pk); err != nil {
		return nil, nil, err
	}
	t.ProposalSequence, _ = pk.Uint("sequence_number", true)
	var auth []string
	_ = json.Unmarshal(o["authorizers"], &auth)
	for _, a := range auth {
		t.Authorizers = append(t.Authorizers, parseAddress(a))
	}
	if t.PayloadSignatures, err = signatures(o, "payload_signatures"); err != nil {
		return nil, nil, err
	}
	if t.EnvelopeSignatures, err = signatures(o, "envelope_signatures"); err != nil {
		return nil, nil, err
	}
	if o.Has("signer") {
		if t.Signer, err = parseSigner(o); err != nil {
			return nil, nil, err
		}
	}
	if err := t.sortSignatures(); err != nil {
		return nil, nil, err
	}
	return t, o, nil
}

func keyIndex(o chain.JSONObject) (uint32, error) {
	n, err := o.Uint("key_index", true)
	if err != nil {
		return 0, err
	}
	if n > 1<<32-1 {
		return 0, chain.InvalidTx("key_index does not fit in 32 bits")
	}
	return uint32(n), nil
}

func parseAddress(s string) [8]byte {
	var a [8]byte
	_, _ = hex.Decode(a[:], []byte(strings.TrimPrefix(s, "0x")))
	return a
}

// mustAddress reads an address ValidateTx has already checked.
func mustAddress(o chain.JSONObject, key string) [8]byte {
	s, _ := o.String(key)
	return parseAddress(s)
}

func signatures(o chain.JSONObject, key string) ([]Signature, error) {
	if !o.Has(key) {
		return nil, nil
	}
	var raw []json.RawMessage
	if json.Unmarshal(o[key], &raw) != nil {
		return nil, chain.InvalidTx("%s is not an array", key)
	}
	var out []Signature
	for _, r := range raw {
		so, err := chain.ParseJSONObject(string(r))
		if err != nil {
			return nil, chain.InvalidTx("a %s entry is not an object", key)
		}
		if err := address(so, "address"); err != nil {
			return nil, err
		}
		ki, err := keyIndex(so)
		if err != nil {
			return nil, err
		}
		sig, err := so.String("signature")
		if err != nil {
			return nil, err
		}
		b, err := base64.StdEncoding.DecodeString(sig)
		if err != nil || len(b) == 0 {
			return nil, chain.InvalidTx("a signature is not base64")
		}
		out = append(out, Signature{Address: mustAddress(so, "address"), KeyIndex: ki, Signature: b})
	}
	return out, nil
}

func parseSigner(o chain.JSONObject) (*Signer, error) {
	so, err := o.Object("signer")
	if err != nil {
		return nil, err
	}
	if err := address(so, "address"); err != nil {
		return nil, err
	}
	s := &Signer{Address: mustAddress(so, "address"), HashAlgo: HashSHA3}
	if s.KeyIndex, err = keyIndex(so); err != nil {
		return nil, err
	}
	if s.PublicKey, err = so.String("public_key"); err != nil {
		return nil, err
	}
	if len(s.PublicKey) != 128 || !chain.IsHex(s.PublicKey) {
		return nil, chain.InvalidTx("signer.public_key is not 64 bytes of hex")
	}
	if so.Has("hash_algorithm") {
		if s.HashAlgo, err = so.String("hash_algorithm"); err != nil {
			return nil, err
		}
		if _, err := digest(s.HashAlgo, nil); err != nil {
			return nil, err
		}
	}
	return s, nil
}
