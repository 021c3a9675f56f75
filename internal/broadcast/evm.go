package broadcast

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/custoskms/custos/internal/chain/evm"
)

// EVMClient is the JSON-RPC client of an EVM node (ETH BSC MATIC CELO ONE XDC
// KLAY). Beyond Broadcast it answers what evm.Chain.Complete asks, through
// go-ethereum's ethclient, so one configured node both completes Tatum-format
// transactions at creation and broadcasts the signed ones.
type EVMClient struct {
	*ethclient.Client
	rpc *rpc.Client
	url string // for redacting errors only
	// relay posts the web3 gateway's requests as they are (Relay), over
	// the same connections.
	relay *httpNode

	chainID atomic.Pointer[big.Int] // the node's, once it has answered
}

var (
	_ Client   = (*EVMClient)(nil)
	_ evm.Node = (*EVMClient)(nil)
)

// DialEVM makes a client for an http(s) JSON-RPC URL without contacting the
// node. Credentials in the URL are sent as HTTP basic auth.
func DialEVM(nodeURL string) (*EVMClient, error) {
	u, err := url.Parse(nodeURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: an EVM node URL must be http:// or https://", ErrBadNode)
	}
	// A per-request timeout comes from the caller's context; this one only
	// bounds a node that accepts the connection and never answers.
	// The server asks the node on every queue request, many at once for a
	// busy sender: keep enough idle connections that concurrent requests
	// reuse them rather than each opening (and for https, handshaking) its
	// own; the default keeps two.
	hc := &http.Client{Timeout: 60 * time.Second}
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		tr := dt.Clone()
		tr.MaxIdleConnsPerHost = 64
		hc.Transport = tr
	}
	c, err := rpc.DialHTTPWithClient(nodeURL, hc)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrBadNode, redactIn(err.Error(), nodeURL))
	}
	relay, err := newHTTPNode(nodeURL, "an EVM node")
	if err != nil {
		return nil, err
	}
	relay.http = hc
	return &EVMClient{Client: ethclient.NewClient(c), rpc: c, url: nodeURL, relay: relay}, nil
}

// Broadcast submits a signed transaction with eth_sendRawTransaction and
// returns its hash. It is idempotent: a transaction the node already holds
// (in its pool, "already known", or mined, which a later resubmission sees as
// "nonce too low") is a success with the same hash, so a retry after a lost
// answer never reports a failure for a transaction that went through.
func (c *EVMClient) Broadcast(ctx context.Context, txData string) (_ string, err error) {
	defer scrub(&err, c.url)
	body, want, err := signedHash(txData)
	if err != nil {
		return "", err
	}
	var got common.Hash
	err = c.rpc.CallContext(ctx, &got, "eth_sendRawTransaction", "0x"+body)
	if err == nil {
		if got != want {
			return "", fmt.Errorf("%w: node answered hash %s for transaction %s", ErrUnavailable, got.Hex(), want.Hex())
		}
		return want.Hex(), nil
	}
	var rpcErr rpc.Error
	if !errors.As(err, &rpcErr) {
		if ctx.Err() != nil {
			return "", fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
		}
		return "", fmt.Errorf("%w: eth_sendRawTransaction: %s", ErrUnavailable, c.transportText(err))
	}
	return c.refused(ctx, want, rpcErr.Error())
}

// signedHash decodes the 0x-hex txData and returns the raw form's hex
// (without 0x) and the hash the node must answer for it.
func signedHash(txData string) (string, common.Hash, error) {
	body, ok := strings.CutPrefix(strings.TrimSpace(txData), "0x")
	raw, err := hex.DecodeString(body)
	if !ok || err != nil || len(raw) == 0 {
		return "", common.Hash{}, fmt.Errorf("%w: txData must be 0x-hex of a signed transaction", ErrRejected)
	}
	return body, common.BytesToHash(crypto.Keccak256(raw)), nil
}

// refused sorts the node's JSON-RPC error msg for the transaction of hash
// want: an answer meaning the node already holds it is a success.
func (c *EVMClient) refused(ctx context.Context, want common.Hash, msg string) (string, error) {
	if alreadyKnown(msg) {
		return want.Hex(), nil
	}
	// Some refusals ("nonce too low", "replacement transaction underpriced")
	// also come back for a transaction the node already has; ask for it.
	tx, _, lookupErr := c.TransactionByHash(ctx, want)
	if lookupErr == nil && tx != nil {
		return want.Hex(), nil
	}
	// A refusal is only final once the node has said it does not hold this
	// transaction: a failed look-up leaves "nonce too low" open.
	permanent := errors.Is(lookupErr, ethereum.NotFound) && containsAny(msg, evmPermanent)
	return "", rejected(permanent, msg)
}

// alreadyKnown matches the "I have this transaction" answers of the common
// EVM node implementations (geth and its forks, Erigon, Nethermind, Besu,
// OpenEthereum, Harmony).
func alreadyKnown(msg string) bool {
	m := strings.ToLower(msg)
	for _, s := range []string{"already known", "known transaction", "already imported", "alreadyknown", "already exists", "already in pool"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}
