package utxo

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/custoskms/custos/internal/chain"
)

var (
	_ chain.Transferer   = (*Chain)(nil)
	_ chain.FeeEstimator = (*Chain)(nil)
)

// decimals of every amount of the four chains: 1 coin = 10^8 base units.
const decimals = 8

// Confirmation targets, in blocks, of the estimate's three speeds: Tatum's
// "next 1-2 blocks", "5-6 blocks" and "7+ blocks".
const (
	targetFast   = 2
	targetMedium = 6
	targetSlow   = 12
)

// transferRequest is Tatum's KMS-mode UTXO transfer body
// (BtcTransactionFromAddressKMS, BtcTransactionFromUTXOKMS and their LTC,
// DOGE and BCH twins): one of fromAddress and fromUTXO, to, and optionally
// fee and changeAddress.
type transferRequest struct {
	FromAddress []struct {
		Address     string  `json:"address"`
		SignatureID string  `json:"signatureId"`
		Index       *int64  `json:"index"`
		PrivateKey  *string `json:"privateKey"`
	} `json:"fromAddress"`
	FromUTXO []struct {
		TxHash           string  `json:"txHash"`
		Index            *int64  `json:"index"`
		SignatureID      string  `json:"signatureId"`
		SignatureIDIndex *int64  `json:"signatureIdIndex"`
		PrivateKey       *string `json:"privateKey"`
	} `json:"fromUTXO"`
	To            []target `json:"to"`
	Fee           *string  `json:"fee"`
	ChangeAddress *string  `json:"changeAddress"`
}

// target is one of to[]: value is a JSON number in coin units (Tatum's
// type), taken as its exact decimal digits, or the same digits in a string.
type target struct {
	Address string      `json:"address"`
	Value   json.Number `json:"value"`
}

// signer is the wallet (and mnemonic index) that signs an input.
type signer struct {
	id    string
	index *uint32
}

// Transfer implements chain.Transferer for Tatum's POST /v3/{bitcoin,
// litecoin,dogecoin,bcash}/transaction (docs/design.md §4.14). The
// fromAddress form spends outputs of the given addresses, found on node
// (UnspentLister) and picked by selectInputs; fromUTXO spends exactly the
// given outputs, whose amounts and scripts node reads (OutputReader). Both
// pay to[] in order and, after them, change to changeAddress or else the
// first sender's address; the fee is the request's or, when it leaves it
// out, the node's estimate for confirmation within 6 blocks (FeeRater) times
// the transaction's virtual size. Outputs below the dust threshold are
// refused. The result is a PSBT with each input's spent output as
// witness_utxo (amount and script, which the signer checks and commits to),
// to be signed by the wallet named for its address or outpoint: signatures
// [{id, index}] for mnemonic wallets, hashes for private-key wallets.
func (c *Chain) Transfer(ctx context.Context, node any, body []byte, testnet bool) (chain.Transfer, error) {
	var req transferRequest
	if err := chain.DecodeRequest(body, &req); err != nil {
		return chain.Transfer{}, err
	}
	outputs, values, bad := c.targets(req.To, testnet)
	var changeScript []byte
	if req.ChangeAddress != nil {
		s, err := c.addressField("changeAddress", *req.ChangeAddress, testnet)
		if err != nil {
			bad = append(bad, err.Error())
		}
		changeScript = s
	}
	var f fee
	if req.Fee != nil {
		v, err := chain.ParseAmount("fee", *req.Fee, decimals)
		switch {
		case err != nil:
			bad = append(bad, err.Error())
		case v.Cmp(big.NewInt(c.maxMoney)) > 0:
			bad = append(bad, "fee: is more than the chain's supply")
		default:
			fixed := v.Int64()
			f.fixed = &fixed
		}
	}
	switch {
	case len(req.FromAddress) > 0 && len(req.FromUTXO) > 0:
		bad = append(bad, "fromAddress: give fromAddress or fromUTXO, not both")
	case len(req.FromAddress) == 0 && len(req.FromUTXO) == 0:
		bad = append(bad, "fromAddress: one of fromAddress and fromUTXO is required")
	}
	var (
		senders [][]byte // fromAddress: each entry's script
		signers []signer // per fromAddress or fromUTXO entry
	)
	for i, fa := range req.FromAddress {
		field := fmt.Sprintf("fromAddress[%d]", i)
		s, err := c.addressField(field+".address", fa.Address, testnet)
		if err != nil {
			bad = append(bad, err.Error())
		}
		for j := range senders {
			if s != nil && bytes.Equal(senders[j], s) {
				bad = append(bad, fmt.Sprintf("%s.address: repeats fromAddress[%d]", field, j))
			}
		}
		senders = append(senders, s)
		sg, why := signerOf(field, fa.SignatureID, fa.Index, "index", fa.PrivateKey)
		bad = append(bad, why...)
		signers = append(signers, sg)
	}
	outpoints := make([]wire.OutPoint, len(req.FromUTXO))
	for i, fu := range req.FromUTXO {
		field := fmt.Sprintf("fromUTXO[%d]", i)
		h, err := chainhash.NewHashFromStr(fu.TxHash)
		if err != nil || len(fu.TxHash) != 64 {
			bad = append(bad, field+".txHash: must be a 64-hex transaction hash")
		} else {
			outpoints[i].Hash = *h
		}
		if fu.Index == nil || *fu.Index < 0 || *fu.Index > 0xffffffff {
			bad = append(bad, field+".index: must be an output index from 0 to 4294967295")
		} else {
			outpoints[i].Index = uint32(*fu.Index)
		}
		for j := range i {
			if outpoints[j] == outpoints[i] && fu.Index != nil {
				bad = append(bad, fmt.Sprintf("%s: repeats fromUTXO[%d]", field, j))
			}
		}
		sg, why := signerOf(field, fu.SignatureID, fu.SignatureIDIndex, "signatureIdIndex", fu.PrivateKey)
		bad = append(bad, why...)
		signers = append(signers, sg)
	}
	if len(signers) > maxInputs {
		bad = append(bad, fmt.Sprintf("fromAddress: at most %d sources", maxInputs))
	}
	if len(bad) > 0 {
		return chain.Transfer{}, bad
	}
	if f.fixed == nil {
		rate, err := c.feeRate(ctx, node, targetMedium, testnet)
		if err != nil {
			return chain.Transfer{}, err
		}
		f.rate = rate
	}

	var (
		p       plan
		inputOf func(Unspent) signer
		err     error
	)
	if len(req.FromAddress) > 0 {
		if changeScript == nil {
			changeScript = senders[0]
		}
		addrs := make([]string, len(req.FromAddress))
		for i, fa := range req.FromAddress {
			addrs[i] = fa.Address
		}
		var cands []Unspent
		cands, err = c.unspentAt(ctx, node, addrs, senders, testnet)
		if err != nil {
			return chain.Transfer{}, err
		}
		p, err = c.selectInputs(cands, outputs, values, changeScript, f)
		inputOf = func(u Unspent) signer {
			for i, s := range senders {
				if bytes.Equal(s, u.Script) {
					return signers[i]
				}
			}
			return signer{}
		}
	} else {
		var ins []Unspent
		ins, err = c.outputsOf(ctx, node, outpoints, testnet)
		if err != nil {
			return chain.Transfer{}, err
		}
		if changeScript == nil {
			changeScript = ins[0].Script
		}
		p, err = c.fund(ins, outputs, values, changeScript, f, true)
		byOutpoint := make(map[string]signer, len(ins))
		for i, in := range ins {
			byOutpoint[in.TxID+":"+strconv.FormatUint(uint64(in.Vout), 10)] = signers[i]
		}
		inputOf = func(u Unspent) signer { return byOutpoint[u.TxID+":"+strconv.FormatUint(uint64(u.Vout), 10)] }
	}
	if err != nil {
		return chain.Transfer{}, c.shortfall(err, len(req.FromAddress) > 0)
	}
	serialized, err := c.buildPSBT(p, outputs, values, changeScript)
	if err != nil {
		return chain.Transfer{}, err
	}
	t := chain.Transfer{Serialized: serialized}
	seen := map[string]bool{}
	for _, in := range p.inputs {
		sg := inputOf(in)
		key := sg.id + "/-"
		if sg.index != nil {
			key = sg.id + "/" + strconv.FormatUint(uint64(*sg.index), 10)
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		if sg.index == nil {
			t.Hashes = append(t.Hashes, sg.id)
		} else {
			t.Signatures = append(t.Signatures, chain.TransferSignature{ID: sg.id, Index: sg.index})
		}
	}
	if len(t.Hashes) > 0 && len(t.Signatures) > 0 {
		// A pending transaction names its signers either way, not both:
		// signatures[] takes mnemonic wallets with an index only.
		return chain.Transfer{}, chain.FieldErrors{"fromAddress: the inputs' wallets mix mnemonic wallets (with an index) and private-key wallets (without); send them in two transfers"}
	}
	return t, nil
}

// signerOf checks one source's wallet fields.
func signerOf(field, id string, index *int64, indexName string, privateKey *string) (signer, []string) {
	var bad []string
	if privateKey != nil {
		bad = append(bad, field+".privateKey: is never sent to Custos; name the wallet with signatureId")
	}
	if !isUUID(id) {
		bad = append(bad, field+".signatureId: must be a UUID")
	}
	sg := signer{id: id}
	if index != nil {
		if *index < 0 || *index > 2147483647 {
			bad = append(bad, fmt.Sprintf("%s.%s: must be between 0 and 2147483647", field, indexName))
		} else {
			v := uint32(*index)
			sg.index = &v
		}
	}
	return sg, bad
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if s[i] != '-' {
				return false
			}
		case !strings.ContainsRune("0123456789abcdefABCDEF", rune(s[i])):
			return false
		}
	}
	return true
}

// targets checks to[]: addresses of the chain and network, values exact in
// base units and not below the dust threshold of their output.
func (c *Chain) targets(to []target, testnet bool) (outputs [][]byte, values []int64, bad chain.FieldErrors) {
	if len(to) == 0 {
		return nil, nil, chain.FieldErrors{"to: at least one recipient is required"}
	}
	if len(to) > maxOutputs-1 {
		return nil, nil, chain.FieldErrors{fmt.Sprintf("to: at most %d recipients", maxOutputs-1)}
	}
	var sum int64
	for i, t := range to {
		field := fmt.Sprintf("to[%d]", i)
		s, err := c.addressField(field+".address", t.Address, testnet)
		if err != nil {
			bad = append(bad, err.Error())
		}
		v, err := chain.ParseAmount(field+".value", string(t.Value), decimals)
		switch {
		case err != nil:
			bad = append(bad, err.Error())
		case v.Cmp(big.NewInt(c.maxMoney)) > 0 || sum+v.Int64() > c.maxMoney:
			bad = append(bad, field+".value: is more than the chain's supply")
		case s != nil && v.Int64() < c.dust(s):
			bad = append(bad, fmt.Sprintf("%s.value: %s %s is below the dust threshold of %s %s for this output, which nodes do not relay",
				field, formatCoins(v.Int64()), c.info.Code, formatCoins(c.dust(s)), c.info.Code))
		default:
			sum += v.Int64()
		}
		outputs = append(outputs, s)
		if v != nil {
			values = append(values, v.Int64())
		} else {
			values = append(values, 0)
		}
	}
	return outputs, values, bad
}

// unspentAt lists the spendable outputs of addrs, whose scripts are scripts.
func (c *Chain) unspentAt(ctx context.Context, node any, addrs []string, scripts [][]byte, testnet bool) ([]Unspent, error) {
	lister, ok := node.(UnspentLister)
	if !ok {
		return nil, c.noNode("fromAddress", "find the addresses' unspent outputs", node, testnet)
	}
	var out []Unspent
	for i, a := range addrs {
		us, err := lister.Unspent(ctx, a, scripts[i])
		if err != nil {
			return nil, err
		}
		out = slices.Grow(out, len(us))
		for _, u := range us {
			// The node lists what pays the address; only that script's
			// outputs are the wallet's to sign, and a young block reward is
			// not spendable yet.
			if bytes.Equal(u.Script, scripts[i]) && c.mature(u) && u.Value > 0 {
				out = append(out, u)
			}
		}
	}
	return out, nil
}

// outputsOf reads the fromUTXO outputs from the node.
func (c *Chain) outputsOf(ctx context.Context, node any, ops []wire.OutPoint, testnet bool) ([]Unspent, error) {
	reader, ok := node.(OutputReader)
	if !ok {
		return nil, c.noNode("fromUTXO", "read the outputs' amounts", node, testnet)
	}
	out := make([]Unspent, len(ops))
	var bad chain.FieldErrors
	for i, op := range ops {
		u, err := reader.Output(ctx, op.Hash.String(), op.Index)
		switch {
		case err != nil:
			return nil, err
		case u == nil:
			bad = append(bad, fmt.Sprintf("fromUTXO[%d]: output %s is spent or unknown to the %s %s node", i, op, c.info.Code, netOf(testnet)))
			continue
		case !c.mature(*u):
			bad = append(bad, fmt.Sprintf("fromUTXO[%d]: output %s is a block reward with %d confirmations, not spendable yet", i, op, u.Confirmations))
		}
		ht := txscript.SigHashAll
		if c.forkID {
			ht = sigHashForkIDAll
		}
		if err := c.checkInput(i, u.Script, ht); err != nil {
			bad = append(bad, fmt.Sprintf("fromUTXO[%d]: output %s pays a script Custos does not sign: %v", i, op, err))
		}
		u.TxID, u.Vout = op.Hash.String(), op.Index
		out[i] = *u
	}
	if len(bad) > 0 {
		return nil, bad
	}
	return out, nil
}

// feeRate asks node for the fee rate to confirm within blocks.
func (c *Chain) feeRate(ctx context.Context, node any, blocks int, testnet bool) (int64, error) {
	r, ok := node.(FeeRater)
	if !ok {
		return 0, c.noNode("fee", "estimate the fee (or give fee)", node, testnet)
	}
	return r.FeeRate(ctx, blocks)
}

func (c *Chain) noNode(field, what string, node any, testnet bool) error {
	if node == nil {
		return chain.FieldErrors{fmt.Sprintf("%s: no %s %s node is configured to %s", field, c.info.Code, netOf(testnet), what)}
	}
	return chain.FieldErrors{fmt.Sprintf("%s: the %s %s node client cannot %s", field, c.info.Code, netOf(testnet), what)}
}

// shortfall words a selection that cannot pay as the 400 the API answers.
func (c *Chain) shortfall(err error, fromAddress bool) error {
	var short *shortError
	if !errors.As(err, &short) {
		return err
	}
	field, what := "fromUTXO", "the given outputs hold"
	if fromAddress {
		field, what = "fromAddress", "the addresses' spendable outputs hold"
	}
	msg := fmt.Sprintf("%s: insufficient funds: the outputs and fee need %s %s, %s %s %s (short by %s %s)",
		field, formatCoins(short.need), c.info.Code, what, formatCoins(short.have), c.info.Code, formatCoins(short.need-short.have), c.info.Code)
	if strings.HasPrefix(err.Error(), "paying needs more") {
		msg = fmt.Sprintf("%s: %v", field, err)
	}
	return chain.FieldErrors{msg}
}

// buildPSBT is the unsigned transaction of p as a base64 PSBT: version 2, no
// lock time, outputs to[] in order then the change. Inputs opt in to
// replacement (BIP 125) on BTC and LTC, whose nodes honour it, so that a
// stuck transfer can be sped up; DOGE and BCH keep final sequences.
func (c *Chain) buildPSBT(p plan, outputs [][]byte, values []int64, changeScript []byte) (string, error) {
	tx := wire.NewMsgTx(2)
	seq := uint32(wire.MaxTxInSequenceNum)
	if c.segwit {
		seq = wire.MaxTxInSequenceNum - 2
	}
	for _, in := range p.inputs {
		h, err := chainhash.NewHashFromStr(in.TxID)
		if err != nil {
			return "", fmt.Errorf("node reported txid %q: %w", in.TxID, err)
		}
		txIn := wire.NewTxIn(wire.NewOutPoint(h, in.Vout), nil, nil)
		txIn.Sequence = seq
		tx.AddTxIn(txIn)
	}
	for i, s := range outputs {
		tx.AddTxOut(wire.NewTxOut(values[i], s))
	}
	if p.change > 0 {
		tx.AddTxOut(wire.NewTxOut(p.change, changeScript))
	}
	pk, err := psbt.NewFromUnsignedTx(tx)
	if err != nil {
		return "", err
	}
	for i, in := range p.inputs {
		pk.Inputs[i].WitnessUtxo = wire.NewTxOut(in.Value, in.Script)
		if c.forkID {
			pk.Inputs[i].SighashType = sigHashForkIDAll
		}
	}
	var buf bytes.Buffer
	if err := pk.Serialize(&buf); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// formatCoins writes base units as a coin amount, trailing zeros dropped:
// 150000000 → "1.5", 1 → "0.00000001".
func formatCoins(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	s := fmt.Sprintf("%s%d.%08d", sign, v/1e8, v%1e8)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// estimateRequest is Tatum's POST /v3/blockchain/estimate body for these
// chains (EstimateFeeFromAddress, EstimateFeeFromUTXO).
type estimateRequest struct {
	Type        *string  `json:"type"`
	FromAddress []string `json:"fromAddress"`
	FromUTXO    []struct {
		TxHash string `json:"txHash"`
		Index  *int64 `json:"index"`
	} `json:"fromUTXO"`
	To []target `json:"to"`
}

// EstimateFee implements chain.FeeEstimator: Tatum's answer {"fast",
// "medium", "slow"}, each the fee in coin units (a decimal string) of the
// transaction Transfer would build for the request without a fee, at the
// node's fee rate for confirmation within 2, 6 and 12 blocks. fromAddress
// inputs are selected at each rate, so a slower rate may also use fewer.
func (c *Chain) EstimateFee(ctx context.Context, node any, body []byte, testnet bool) (any, error) {
	var req estimateRequest
	if err := chain.DecodeRequest(body, &req); err != nil {
		return nil, err
	}
	outputs, values, bad := c.targets(req.To, testnet)
	if req.Type == nil || *req.Type != "TRANSFER" {
		bad = append(bad, `type: must be "TRANSFER"`)
	}
	var scripts [][]byte
	for i, a := range req.FromAddress {
		s, err := c.addressField(fmt.Sprintf("fromAddress[%d]", i), a, testnet)
		if err != nil {
			bad = append(bad, err.Error())
		}
		scripts = append(scripts, s)
	}
	ops := make([]wire.OutPoint, len(req.FromUTXO))
	for i, fu := range req.FromUTXO {
		h, err := chainhash.NewHashFromStr(fu.TxHash)
		if err != nil || len(fu.TxHash) != 64 || fu.Index == nil || *fu.Index < 0 || *fu.Index > 0xffffffff {
			bad = append(bad, fmt.Sprintf("fromUTXO[%d]: needs txHash (64 hex) and index (0 to 4294967295)", i))
			continue
		}
		ops[i] = wire.OutPoint{Hash: *h, Index: uint32(*fu.Index)}
	}
	if (len(req.FromAddress) == 0) == (len(req.FromUTXO) == 0) {
		bad = append(bad, "fromAddress: exactly one of fromAddress and fromUTXO is required")
	}
	if len(scripts)+len(ops) > maxInputs {
		bad = append(bad, fmt.Sprintf("fromAddress: at most %d sources", maxInputs))
	}
	if len(bad) > 0 {
		return nil, bad
	}
	var (
		ins    []Unspent
		change []byte
		err    error
	)
	if len(scripts) > 0 {
		ins, err = c.unspentAt(ctx, node, req.FromAddress, scripts, testnet)
		change = scripts[0]
	} else {
		ins, err = c.outputsOf(ctx, node, ops, testnet)
		if err == nil {
			change = ins[0].Script
		}
	}
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, sp := range []struct {
		name   string
		blocks int
	}{{"fast", targetFast}, {"medium", targetMedium}, {"slow", targetSlow}} {
		rate, err := c.feeRate(ctx, node, sp.blocks, testnet)
		if err != nil {
			return nil, err
		}
		var p plan
		if len(scripts) > 0 {
			p, err = c.selectInputs(ins, outputs, values, change, fee{rate: rate})
		} else {
			p, err = c.fund(ins, outputs, values, change, fee{rate: rate}, true)
		}
		if err != nil {
			return nil, c.shortfall(err, len(scripts) > 0)
		}
		out[sp.name] = formatCoins(p.fee)
	}
	return out, nil
}
