package bnb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Signer = (*Chain)(nil)

// Amino type prefixes (the first four bytes of sha256 of the registered
// type name, after skipping zero bytes) of the types a transfer uses.
var (
	prefixStdTx    = []byte{0xF0, 0x62, 0x5D, 0xEE} // auth/StdTx
	prefixMsgSend  = []byte{0x2A, 0x2C, 0x87, 0xFA} // cosmos-sdk/Send
	prefixPubKeyK1 = []byte{0xEB, 0x5A, 0xE9, 0x87} // tendermint/PubKeySecp256k1
)

// Coin is an amount of one token.
type Coin struct {
	Denom  string
	Amount int64
}

// IO is one input or output of a transfer.
type IO struct {
	Address []byte // 20-byte account
	Coins   []Coin
}

// Transfer is a MsgSend with the account data it is signed with.
type Transfer struct {
	Inputs, Outputs []IO
	AccountNumber   int64
	Sequence        int64
	ChainID         string
	Memo            string
	Source          int64
	testnet         bool
}

// Sign implements chain.Signer. Every input must be the managed wallet's
// address (the Beacon Chain's `from`), and the chain id the wallet's network.
// The Tatum form needs accountNumber and sequence (Tatum's SDK asked a node;
// the chain is shut down, so they must be in the transaction); a missing
// chainId is the wallet network's.
func (c *Chain) Sign(ctx context.Context, req chain.SignRequest) (chain.Signed, error) {
	if err := ctx.Err(); err != nil {
		return chain.Signed{}, err
	}
	if len(req.Keys) != 1 {
		return chain.Signed{}, fmt.Errorf("%w: a BNB transaction has one signer, got %d keys", chain.ErrInvalidKey, len(req.Keys))
	}
	priv, err := chain.ParseHexKey(req.Keys[0], false)
	if err != nil {
		return chain.Signed{}, err
	}
	defer priv.Zero()
	t, err := parseOnNetwork(req.Serialized, req.Testnet)
	if err != nil {
		return chain.Signed{}, err
	}
	pub := priv.PubKey()
	own := Address(pub, req.Testnet)
	for _, in := range t.Inputs {
		if chain.Bech32Encode(HRP(req.Testnet), in.Address) != own {
			return chain.Signed{}, fmt.Errorf("%w: an input (from) is not the address of the signing key", chain.ErrWrongSigner)
		}
	}
	return t.sign(priv)
}

// parseOnNetwork is the transfer Sign signs and Intent decodes: either
// form, refused when its chain id is not the wallet network's.
func parseOnNetwork(serialized string, testnet bool) (*Transfer, error) {
	t, err := ParseTransfer(serialized, testnet)
	if err != nil {
		return nil, err
	}
	if want := chainID(testnet); t.ChainID != want {
		return nil, chain.WrongNetwork("chain_id %q, want %q", t.ChainID, want)
	}
	return t, nil
}

func chainID(testnet bool) string {
	if testnet {
		return testnetChainID
	}
	return mainnetChainID
}

func (t *Transfer) sign(priv *btcec.PrivateKey) (chain.Signed, error) {
	h := sha256.Sum256(t.SignBytes())
	// RFC 6979, low s, as the Binance SDK signs; the chain takes r ‖ s.
	compact := ecdsa.SignCompact(priv, h[:], true)
	raw := t.Encode(priv.PubKey().SerializeCompressed(), compact[1:])
	return chain.Signed{TxData: hex.EncodeToString(raw), TxID: TxID(raw)}, nil
}

// TxID is the Beacon Chain's transaction hash: uppercase hex of sha256 of the
// signed transaction bytes as broadcast.
func TxID(raw []byte) string {
	h := sha256.Sum256(raw)
	return strings.ToUpper(hex.EncodeToString(h[:]))
}

// ParseTransfer reads a transfer in either form: Tatum's {msg, signMsg, memo,
// accountNumber, sequence, chainId?} or a StdSignMsg {account_number,
// chain_id, data, memo, msgs, sequence, source}.
func ParseTransfer(s string, testnet bool) (*Transfer, error) {
	o, err := chain.ParseJSONObject(s)
	if err != nil {
		return nil, err
	}
	if err := checkTx(o, testnet); err != nil {
		return nil, err
	}
	t := &Transfer{testnet: testnet}
	if o.Has("memo") {
		_ = json.Unmarshal(o["memo"], &t.Memo)
		if strings.ContainsAny(t.Memo, "\u2028\u2029") {
			return nil, chain.InvalidTx("memo has a line or paragraph separator")
		}
	}
	var msg chain.JSONObject
	accKey, seqKey, idKey := "account_number", "sequence", "chain_id"
	if o.Has("msgs") {
		msgs, _ := o.Array("msgs")
		if len(msgs) != 1 {
			return nil, chain.InvalidTx("a BNB transfer has one message, got %d", len(msgs))
		}
		msg, _ = chain.ParseJSONObject(string(msgs[0]))
		if o.Has("data") {
			return nil, chain.InvalidTx("data must be null")
		}
		if o.Has("source") {
			src, err := o.Uint("source", true)
			if err != nil || src > math.MaxInt64 {
				return nil, chain.InvalidTx(`"source" is not an int64`)
			}
			t.Source = int64(src)
		}
	} else {
		accKey, seqKey, idKey = "accountNumber", "sequence", "chainId"
		var missing []string
		for _, k := range []string{"signMsg", accKey, seqKey} {
			if !o.Has(k) {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			return nil, chain.InvalidTx("missing %s (Tatum's SDK took them from a node; give them in the transaction)", strings.Join(missing, ", "))
		}
		msg, _ = o.Object("signMsg")
	}
	if t.Inputs, err = ios(msg, "inputs", testnet); err != nil {
		return nil, err
	}
	if t.Outputs, err = ios(msg, "outputs", testnet); err != nil {
		return nil, err
	}
	for _, k := range []struct {
		name string
		dst  *int64
	}{{accKey, &t.AccountNumber}, {seqKey, &t.Sequence}} {
		n, err := o.Uint(k.name, true)
		if err != nil {
			return nil, err
		}
		if n > math.MaxInt64 {
			return nil, chain.InvalidTx("%q does not fit in int64", k.name)
		}
		*k.dst = int64(n)
	}
	t.ChainID = chainID(testnet)
	if o.Has(idKey) {
		if t.ChainID, err = o.String(idKey); err != nil {
			return nil, err
		}
	}
	if o.Has("msg") {
		if err := t.sameAsMsg(o); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func ios(msg chain.JSONObject, side string, testnet bool) ([]IO, error) {
	items, _ := msg.Array(side)
	out := make([]IO, 0, len(items))
	for _, it := range items {
		io, _ := chain.ParseJSONObject(string(it))
		a, _ := io.String("address")
		acc, err := DecodeAddress(a, testnet)
		if err != nil {
			return nil, chain.InvalidTx("%s address: %v", side, err)
		}
		coins, err := parseCoins(io)
		if err != nil {
			return nil, err
		}
		out = append(out, IO{Address: acc, Coins: coins})
	}
	return out, nil
}

func parseCoins(io chain.JSONObject) ([]Coin, error) {
	list, err := io.Array("coins")
	if err != nil {
		return nil, err
	}
	coins := make([]Coin, 0, len(list))
	for _, cj := range list {
		co, err := chain.ParseJSONObject(string(cj))
		if err != nil {
			return nil, chain.InvalidTx("a coin is not an object")
		}
		d, err := co.String("denom")
		if err != nil {
			return nil, err
		}
		if strings.ContainsAny(d, " \t\n\"\\<>&") || len(d) > 32 {
			return nil, chain.InvalidTx("denom is not a token symbol")
		}
		n, err := co.Uint("amount", true)
		if err != nil {
			return nil, err
		}
		if n == 0 || n > math.MaxInt64 {
			return nil, chain.InvalidTx("amount is not a positive int64")
		}
		coins = append(coins, Coin{Denom: d, Amount: int64(n)})
	}
	return coins, nil
}

// sameAsMsg checks Tatum's `msg` (what is encoded and broadcast, addresses as
// serialized Buffers) says what signMsg (what is signed) says: the chain
// rejects a signature over anything else.
func (t *Transfer) sameAsMsg(o chain.JSONObject) error {
	var m struct{ Inputs, Outputs []bufferIO }
	if err := json.Unmarshal(o["msg"], &m); err != nil {
		return chain.InvalidTx("msg is not a MsgSend")
	}
	if !sameIOs(m.Inputs, t.Inputs) || !sameIOs(m.Outputs, t.Outputs) {
		return chain.InvalidTx("msg and signMsg differ")
	}
	return nil
}

// bufferIO is an input or output of Tatum's msg: the address is a Node.js
// Buffer as JSON.stringify writes it.
type bufferIO struct {
	Address struct {
		Type string `json:"type"`
		Data []int  `json:"data"`
	} `json:"address"`
	Coins []struct {
		Denom  string          `json:"denom"`
		Amount json.RawMessage `json:"amount"`
	} `json:"coins"`
}

func sameIOs(got []bufferIO, want []IO) bool {
	if len(got) != len(want) {
		return false
	}
	for i, it := range got {
		w := want[i]
		if it.Address.Type != "Buffer" || len(it.Address.Data) != len(w.Address) || len(it.Coins) != len(w.Coins) {
			return false
		}
		for j, b := range it.Address.Data {
			if b != int(w.Address[j]) {
				return false
			}
		}
		for j, c := range it.Coins {
			if c.Denom != w.Coins[j].Denom || strings.Trim(string(c.Amount), `"`) != fmt.Sprint(w.Coins[j].Amount) {
				return false
			}
		}
	}
	return true
}

// SignBytes is the StdSignDoc the signature covers: JSON with keys sorted at
// every level, numbers of the message as JSON numbers, account number,
// sequence and source as strings, data null.
func (t *Transfer) SignBytes() []byte {
	hrp := HRP(t.testnet)
	side := func(list []IO) []any {
		out := make([]any, len(list))
		for i, io := range list {
			coins := make([]any, len(io.Coins))
			for j, c := range io.Coins {
				coins[j] = map[string]any{"amount": c.Amount, "denom": c.Denom}
			}
			out[i] = map[string]any{"address": chain.Bech32Encode(hrp, io.Address), "coins": coins}
		}
		return out
	}
	doc := map[string]any{
		"account_number": fmt.Sprint(t.AccountNumber),
		"chain_id":       t.ChainID,
		"data":           nil,
		"memo":           t.Memo,
		"msgs":           []any{map[string]any{"inputs": side(t.Inputs), "outputs": side(t.Outputs)}},
		"sequence":       fmt.Sprint(t.Sequence),
		"source":         fmt.Sprint(t.Source),
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // JSON.stringify leaves <, > and & alone
	_ = enc.Encode(doc)      // maps are written with sorted keys
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// Encode is the amino binary of the signed StdTx, length-prefixed as the
// chain's broadcast takes it.
func (t *Transfer) Encode(pubCompressed, sig []byte) []byte {
	var msg []byte
	msg = append(msg, prefixMsgSend...)
	for _, in := range t.Inputs {
		msg = field(msg, 1, encodeIO(in))
	}
	for _, out := range t.Outputs {
		msg = field(msg, 2, encodeIO(out))
	}
	var std []byte
	std = field(std, 1, append(append(append([]byte{}, prefixPubKeyK1...), byte(len(pubCompressed))), pubCompressed...))
	std = field(std, 2, sig)
	std = varintField(std, 3, uint64(t.AccountNumber))
	std = varintField(std, 4, uint64(t.Sequence))

	tx := append([]byte{}, prefixStdTx...)
	tx = field(tx, 1, msg)
	tx = field(tx, 2, std)
	tx = field(tx, 3, []byte(t.Memo))
	tx = varintField(tx, 4, uint64(t.Source))
	return append(binary.AppendUvarint(nil, uint64(len(tx))), tx...)
}

func encodeIO(io IO) []byte {
	b := field(nil, 1, io.Address)
	for _, c := range io.Coins {
		b = field(b, 2, varintField(field(nil, 1, []byte(c.Denom)), 2, uint64(c.Amount)))
	}
	return b
}

// field appends a length-delimited field; amino leaves empty ones out.
func field(b []byte, n int, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	b = binary.AppendUvarint(b, uint64(n<<3|2))
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// varintField appends a varint field; amino leaves zero out.
func varintField(b []byte, n int, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = binary.AppendUvarint(b, uint64(n<<3))
	return binary.AppendUvarint(b, v)
}
