package egld

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"golang.org/x/crypto/blake2b"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Signer = (*Chain)(nil)

// Tx is a MultiversX transaction in the gateway's JSON form. Data is the raw
// payload (base64 in JSON); Signature is empty until signed.
type Tx struct {
	Nonce     uint64
	Value     *big.Int // in the smallest unit (10^-18 EGLD)
	Receiver  string
	Sender    string
	GasPrice  uint64
	GasLimit  uint64
	Data      []byte
	ChainID   string
	Version   uint32
	Signature []byte
}

// egldDecimals is the number of decimals of an EGLD amount.
const egldDecimals = 18

// Sign implements chain.Signer: ed25519 over MultiversX's canonical signing
// JSON. The sender (native `sender`, Tatum `from`) must be the managed
// wallet's address and the chainID the wallet's network. A Tatum-format
// transaction must have been completed with nonce, gasPrice, gasLimit, chainID
// and version (Tatum's SDK asks a node for them; the signer has none).
func (c *Chain) Sign(ctx context.Context, req chain.SignRequest) (chain.Signed, error) {
	if err := ctx.Err(); err != nil {
		return chain.Signed{}, err
	}
	if len(req.Keys) != 1 {
		return chain.Signed{}, fmt.Errorf("%w: an EGLD transaction has one signer, got %d keys", chain.ErrInvalidKey, len(req.Keys))
	}
	priv, err := ParseKey(req.Keys[0])
	if err != nil {
		return chain.Signed{}, err
	}
	defer clear(priv)
	tx, err := ParseTx(req.Serialized)
	if err != nil {
		return chain.Signed{}, err
	}
	own := Address(priv.Public().(ed25519.PublicKey))
	if tx.Sender == "" {
		tx.Sender = own // Tatum's form may leave the sender to the key
	}
	if tx.Sender != own {
		return chain.Signed{}, fmt.Errorf("%w: sender is not the address of the signing key", chain.ErrWrongSigner)
	}
	if err := checkNetwork(tx.ChainID, req.Testnet); err != nil {
		return chain.Signed{}, err
	}
	tx.Signature = ed25519.Sign(priv, tx.SigningBytes())
	out := tx.JSON()
	return chain.Signed{TxData: string(out), TxID: tx.Hash()}, nil
}

// ParseTx reads either form into a transaction to sign: the gateway JSON
// (native, with `receiver`) or Tatum's {from?, to, value (EGLD), data (text)}
// completed with nonce, gasPrice, gasLimit, chainID and version. A Tatum
// transaction without `from` has an empty Sender: the signing key's address.
func ParseTx(s string) (*Tx, error) {
	o, err := chain.ParseJSONObject(s)
	if err != nil {
		return nil, err
	}
	if err := checkTx(o, false); err != nil && !errors.Is(err, chain.ErrWrongNetwork) {
		return nil, err
	}
	for _, k := range []string{"options", "guardian", "relayer", "senderUsername", "receiverUsername", "signature"} {
		if o.Has(k) {
			return nil, chain.InvalidTx("%q is not supported in a transaction to sign", k)
		}
	}
	tx := &Tx{}
	if o.Has("receiver") {
		tx.Receiver, _ = o.String("receiver")
		tx.Sender, _ = o.String("sender")
		v, _ := o.String("value")
		tx.Value, _ = new(big.Int).SetString(v, 10)
		if o.Has("data") {
			d, _ := o.String("data")
			tx.Data, _ = base64.StdEncoding.DecodeString(d)
		}
	} else {
		if missing := o.Missing("nonce", "gasPrice", "gasLimit", "chainID", "version"); len(missing) > 0 {
			return nil, chain.InvalidTx("missing %s (complete it from the node when the transaction is created)", strings.Join(missing, ", "))
		}
		tx.Receiver, _ = o.String("to")
		if o.Has("from") {
			tx.Sender, _ = o.String("from")
		}
		v, _ := o.String("value")
		if tx.Value, err = parseEGLD(v); err != nil {
			return nil, err
		}
		if o.Has("data") {
			var d string
			_ = json.Unmarshal(o["data"], &d)
			tx.Data = []byte(d)
		}
	}
	if tx.Nonce, err = o.Uint("nonce", false); err != nil {
		return nil, err
	}
	if tx.GasPrice, err = o.Uint("gasPrice", false); err != nil {
		return nil, err
	}
	if tx.GasLimit, err = o.Uint("gasLimit", false); err != nil {
		return nil, err
	}
	v, err := o.Uint("version", false)
	if err != nil {
		return nil, err
	}
	if v == 0 || v > 2 {
		return nil, chain.InvalidTx("version %d is not 1 or 2", v)
	}
	tx.Version = uint32(v)
	if tx.ChainID, err = o.String("chainID"); err != nil {
		return nil, err
	}
	if len(tx.ChainID) > 16 || !printable(tx.ChainID) {
		return nil, chain.InvalidTx("chainID is not a short printable string")
	}
	return tx, nil
}

// printable keeps chainID to characters that JSON encoders write alike (the
// signature is over the JSON text).
func printable(s string) bool {
	for i := range len(s) {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// parseEGLD converts a decimal EGLD amount to the smallest unit, exactly.
func parseEGLD(v string) (*big.Int, error) {
	if !tatumValue.MatchString(v) {
		return nil, chain.InvalidTx("value is not a decimal amount of EGLD")
	}
	whole, frac, _ := strings.Cut(v, ".")
	n, ok := new(big.Int).SetString(whole+frac+strings.Repeat("0", egldDecimals-len(frac)), 10)
	if !ok {
		return nil, chain.InvalidTx("value is not a decimal amount of EGLD")
	}
	return n, nil
}

// SigningBytes is MultiversX's canonical signing JSON: fixed field order,
// data in base64, empty data left out.
func (t *Tx) SigningBytes() []byte { return t.json(false) }

// JSON is the signed transaction as the gateway's /transaction/send takes it.
func (t *Tx) JSON() []byte { return t.json(true) }

func (t *Tx) json(withSig bool) []byte {
	var b bytes.Buffer
	str := func(s string) { q, _ := json.Marshal(s); b.Write(q) }
	fmt.Fprintf(&b, `{"nonce":%d,"value":`, t.Nonce)
	str(t.Value.String())
	b.WriteString(`,"receiver":`)
	str(t.Receiver)
	b.WriteString(`,"sender":`)
	str(t.Sender)
	fmt.Fprintf(&b, `,"gasPrice":%d,"gasLimit":%d`, t.GasPrice, t.GasLimit)
	if len(t.Data) > 0 {
		b.WriteString(`,"data":`)
		str(base64.StdEncoding.EncodeToString(t.Data))
	}
	b.WriteString(`,"chainID":`)
	str(t.ChainID)
	fmt.Fprintf(&b, `,"version":%d`, t.Version)
	if withSig {
		b.WriteString(`,"signature":`)
		str(hex.EncodeToString(t.Signature))
	}
	b.WriteByte('}')
	return b.Bytes()
}

// Hash is the transaction hash as MultiversX defines it: blake2b-256 of the
// protobuf encoding of the signed transaction (mx-chain-core's Transaction
// message), hex.
func (t *Tx) Hash() string {
	rcv, _ := DecodeAddress(t.Receiver)
	snd, _ := DecodeAddress(t.Sender)
	var p []byte
	varint := func(field int, v uint64) {
		if v != 0 {
			p = binary.AppendUvarint(p, uint64(field<<3))
			p = binary.AppendUvarint(p, v)
		}
	}
	bytesField := func(field int, v []byte) {
		if len(v) != 0 {
			p = binary.AppendUvarint(p, uint64(field<<3|2))
			p = binary.AppendUvarint(p, uint64(len(v)))
			p = append(p, v...)
		}
	}
	varint(1, t.Nonce)
	// Value is a sign-and-magnitude big integer: a sign byte (0 = positive)
	// and the magnitude; zero is written as 0x0000.
	value := append([]byte{0}, t.Value.Bytes()...)
	if t.Value.Sign() == 0 {
		value = []byte{0, 0}
	}
	bytesField(2, value)
	bytesField(3, rcv)
	bytesField(5, snd)
	varint(7, t.GasPrice)
	varint(8, t.GasLimit)
	bytesField(9, t.Data)
	bytesField(10, []byte(t.ChainID))
	varint(11, uint64(t.Version))
	bytesField(12, t.Signature)
	h := blake2b.Sum256(p)
	return hex.EncodeToString(h[:])
}

// ParseSigned reads a signed transaction JSON (what Sign returns and the
// gateway takes) and returns it with its signature checked against the sender.
func ParseSigned(s string) (*Tx, error) {
	o, err := chain.ParseJSONObject(s)
	if err != nil {
		return nil, err
	}
	sig, err := o.String("signature")
	if err != nil {
		return nil, err
	}
	raw, err := hex.DecodeString(sig)
	if err != nil || len(raw) != ed25519.SignatureSize {
		return nil, chain.InvalidTx("signature is not 64 bytes of hex")
	}
	delete(o, "signature")
	unsigned, _ := json.Marshal(o)
	if !o.Has("receiver") {
		return nil, chain.InvalidTx(`signed EGLD transaction needs "receiver"`)
	}
	tx, err := ParseTx(string(unsigned))
	if err != nil {
		return nil, err
	}
	pub, _ := DecodeAddress(tx.Sender)
	if !ed25519.Verify(pub, tx.SigningBytes(), raw) {
		return nil, chain.InvalidTx("signature does not verify with the sender's key")
	}
	tx.Signature = raw
	return tx, nil
}
