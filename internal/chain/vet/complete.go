package vet

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Windowed = (*Chain)(nil)

var _ chain.Completer = (*Chain)(nil)

// Block is what completion needs of a Thor block: its id (whose first 4
// bytes are its number, and first 8 a transaction's blockRef) and number.
type Block struct {
	ID     [32]byte
	Number uint32
}

// ClauseResult is the node's execution of one clause (POST /accounts/*).
type ClauseResult struct {
	GasUsed  uint64
	Reverted bool
	VMError  string
}

// Node is the part of a Thor node's REST API that completion and the expiry
// check ask: GET /blocks/best, GET /blocks/0 and POST /accounts/* (which
// executes clauses as caller without a transaction). caller is a 0x address,
// or empty for the node's default.
type Node interface {
	BestBlock(ctx context.Context) (Block, error)
	GenesisBlock(ctx context.Context) (Block, error)
	ExecuteClauses(ctx context.Context, caller string, clauses []Clause) ([]ClauseResult, error)
}

// Intrinsic gas of Thor (thor/params.go): every transaction pays txGas, each
// clause clauseGas (clauseGasCreate when it creates a contract), each data
// byte 4 when zero and 68 otherwise. executionMargin is what thor-devkit
// adds to gas a clause uses executing: the VM's own overhead, which the
// node's dry run does not count.
const (
	txGas           = 5000
	clauseGas       = 16000
	clauseGasCreate = 48000
	zeroByteGas     = 4
	nonZeroByteGas  = 68
	executionMargin = 15000
)

// IntrinsicGas is the gas Thor charges a transaction with these clauses before executing them.
func IntrinsicGas(clauses []Clause) uint64 {
	gas := uint64(txGas)
	for _, c := range clauses {
		if len(c.To) == 0 {
			gas += clauseGasCreate
		} else {
			gas += clauseGas
		}
		for _, b := range c.Data {
			if b == 0 {
				gas += zeroByteGas
			} else {
				gas += nonZeroByteGas
			}
		}
	}
	return gas
}

// completable are the Tatum-form fields the signer requires that a node (or
// the server: nonce) fills, in the order the signer names them.
var completable = []string{"chainTag", "blockRef", "gas", "nonce"}

// MissingFields lists the fields of Tatum's form the signer needs and the
// transaction leaves out (chainTag, blockRef, gas, nonce); the native form,
// an RLP body, is always complete.
func (c *Chain) MissingFields(serialized string) ([]string, error) {
	if !chain.LooksLikeJSONObject(serialized) {
		_, _, err := decodeNative(serialized)
		return nil, err
	}
	o, err := chain.ParseJSONObject(serialized)
	if err != nil {
		return nil, err
	}
	return o.Missing(completable...), nil
}

// CompleteFromNode fills what Tatum's form leaves out: chainTag (the last
// byte of the genesis id), blockRef (the first 8 bytes of the best block's
// id), expiration (thorify's 720 blocks, written out so that the window is
// fixed in the stored transaction), gas (intrinsic gas plus what the node's
// dry run of the clause uses, plus thor-devkit's margin when it executes any
// code) and nonce (random, as thorify draws it). The gas of a clause with data
// needs "from" as an address to run as; without one only a plain transfer's
// gas, its intrinsic gas, is known.
func (c *Chain) CompleteFromNode(ctx context.Context, node any, serialized string, testnet bool, _ ...uint64) (string, error) {
	if !chain.LooksLikeJSONObject(serialized) {
		return serialized, c.ValidateTx(serialized, testnet)
	}
	o, err := chain.ParseJSONObject(serialized)
	if err != nil {
		return "", err
	}
	if err := checkTatum(o, testnet); err != nil {
		return "", err
	}
	done := true
	for _, k := range append(completable, "expiration") {
		done = done && o.Has(k)
	}
	if done {
		return serialized, nil
	}
	n, err := asNode(node)
	if err != nil {
		return "", err
	}
	if !o.Has("chainTag") {
		g, err := n.GenesisBlock(ctx)
		if err != nil {
			return "", err
		}
		tag := g.ID[31]
		if err := checkTag(uint64(tag), testnet); err != nil {
			return "", err
		}
		o["chainTag"] = json.RawMessage(strconv.Itoa(int(tag)))
	}
	if !o.Has("blockRef") {
		b, err := n.BestBlock(ctx)
		if err != nil {
			return "", err
		}
		o["blockRef"] = quoted("0x" + hex.EncodeToString(b.ID[:8]))
	}
	if !o.Has("expiration") {
		o["expiration"] = json.RawMessage(strconv.Itoa(defaultExpiration))
	}
	if !o.Has("gas") {
		gas, err := estimate(ctx, n, o)
		if err != nil {
			return "", err
		}
		o["gas"] = json.RawMessage(strconv.FormatUint(gas, 10))
	}
	if !o.Has("nonce") {
		var r [8]byte
		if _, err := rand.Read(r[:]); err != nil {
			return "", fmt.Errorf("draw a VET nonce: %w", err)
		}
		// A string: a JSON number above 2^53 is not exact in the SDKs' JavaScript.
		o["nonce"] = quoted("0x" + strconv.FormatUint(binary.BigEndian.Uint64(r[:]), 16))
	}
	out, err := json.Marshal(o)
	if err != nil {
		return "", fmt.Errorf("encode VET transaction: %w", err)
	}
	return string(out), nil
}

// maxClauseGas bounds the gas a node's dry run may claim for one clause.
const maxClauseGas = 100_000_000

// estimate is the gas of the Tatum form's one clause.
func estimate(ctx context.Context, n Node, o chain.JSONObject) (uint64, error) {
	cl, err := tatumClause(o)
	if err != nil {
		return 0, err
	}
	clauses := []Clause{cl}
	gas := IntrinsicGas(clauses)
	var from string
	if json.Unmarshal(o["from"], &from) != nil || !strings.HasPrefix(from, "0x") || len(from) != 42 || !chain.IsHex(from[2:]) {
		if len(cl.Data) == 0 && len(cl.To) != 0 {
			return gas, nil
		}
		return 0, chain.InvalidTx(`missing "gas": give it, or "from" as the sender's 0x address for the node to estimate it`)
	}
	res, err := n.ExecuteClauses(ctx, strings.ToLower(from), clauses)
	if err != nil {
		return 0, err
	}
	if len(res) != len(clauses) {
		return 0, fmt.Errorf("the VET node executed %d clauses of %d", len(res), len(clauses))
	}
	var used uint64
	for i, r := range res {
		if r.Reverted {
			return 0, chain.InvalidTx("clause %d reverts on the node (%s): the transaction would fail", i, r.VMError)
		}
		// The node is not trusted with the gas: Thor's blocks hold about
		// 40 million, so a clause claiming more is a node's error or lie.
		if r.GasUsed > maxClauseGas {
			return 0, fmt.Errorf("the VET node's dry run claims %d gas for clause %d, more than a block holds", r.GasUsed, i)
		}
		used += r.GasUsed
	}
	if used > 0 {
		gas += used + executionMargin
	}
	return gas, nil
}

// Expired reports whether the transaction can no longer be included: Thor
// accepts it up to block number(blockRef) + expiration, and the node's best
// block has reached that. A Tatum-form transaction without blockRef has not
// expired: it is incomplete.
func (c *Chain) Expired(ctx context.Context, node any, serialized string) (bool, error) {
	ref, exp, ok, err := window(serialized)
	if err != nil || !ok {
		return false, err
	}
	return expiredAt(ctx, node, ref, exp)
}

// SignedExpired is Expired for a signed transaction, raw RLP as broadcast
// (the outcome tracker's question about one the node no longer knows).
func (c *Chain) SignedExpired(ctx context.Context, node any, raw []byte) (bool, error) {
	s, _, _, err := decodeSigned(raw)
	if err != nil {
		return false, err
	}
	return expiredAt(ctx, node, s.BlockRef, s.Expiration)
}

// expiredAt reports whether the node's best block is past the window of a
// transaction with blockRef ref and expiration exp.
func expiredAt(ctx context.Context, node any, ref uint64, exp uint32) (bool, error) {
	n, err := asNode(node)
	if err != nil {
		return false, err
	}
	best, err := n.BestBlock(ctx)
	if err != nil {
		return false, err
	}
	// The next block is the first the transaction could still enter.
	return uint64(best.Number)+1 > uint64(ref>>32)+uint64(exp), nil
}

// window reads blockRef and expiration; ok is false when blockRef is missing.
func window(serialized string) (ref uint64, exp uint32, ok bool, err error) {
	if !chain.LooksLikeJSONObject(serialized) {
		_, b, err := decodeNative(serialized)
		if err != nil {
			return 0, 0, false, err
		}
		return b.BlockRef, b.Expiration, true, nil
	}
	o, err := chain.ParseJSONObject(serialized)
	if err != nil || !o.Has("blockRef") {
		return 0, 0, false, err
	}
	r, err := blockRef(o)
	if err != nil {
		return 0, 0, false, err
	}
	exp = defaultExpiration
	if o.Has("expiration") {
		e, err := quantityOf(o, "expiration", 32)
		if err != nil {
			return 0, 0, false, err
		}
		exp = uint32(e.Uint64())
	}
	return r.Uint64(), exp, true, nil
}

func asNode(node any) (Node, error) {
	n, ok := node.(Node)
	if !ok {
		return nil, fmt.Errorf("the VET node client cannot complete transactions (no GET /blocks/best, GET /blocks/0, POST /accounts/*)")
	}
	return n, nil
}

func quoted(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}
