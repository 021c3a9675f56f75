package broadcast

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/custoskms/custos/internal/chain/egld"
)

var _ Tracker = (*MultiversXClient)(nil)

// metachain is the shard id of the MultiversX metachain, whose blocks
// (hyperblocks) notarize every shard's.
const metachain = "4294967295"

// Lookup implements Tracker with the gateway's GET
// /transaction/{hash}?withResults=true. status success is Mined; fail and
// invalid (refused at execution, its fee still taken) are Mined and Failed;
// any other (pending, or executed at the source shard only) is Pending. A
// transaction is counted from the metachain block that notarized it
// (hyperblockNonce; Pending until it has one), its confirmations against the
// metachain's nonce (GET /network/status/4294967295). One the gateway does
// not know is judged from its signed JSON: the sender's nonce past the
// transaction's means another transaction used it (Dropped, once the hash is
// asked again); else the same bytes are still valid (Missing): MultiversX
// transactions do not expire.
func (c *MultiversXClient) Lookup(ctx context.Context, txID, txData string) (_ Outcome, err error) {
	defer scrub(&err, c.node.raw)
	if b, err := hex.DecodeString(txID); err != nil || len(b) != 32 {
		return Outcome{}, fmt.Errorf("%w: %q is not a transaction hash", ErrRejected, txID)
	}
	o, found, err := c.processed(ctx, txID)
	if err != nil || found {
		return o, err
	}
	tx, err := egld.ParseSigned(strings.TrimSpace(txData))
	if err != nil {
		return Outcome{Progress: Unknown}, nil
	}
	nonce, err := c.AccountNonce(ctx, tx.Sender)
	if err != nil {
		return Outcome{}, err
	}
	if nonce > tx.Nonce {
		if o, found, err := c.processed(ctx, txID); err != nil || found {
			return o, err
		}
		return Outcome{Progress: Dropped, Error: fmt.Sprintf("nonce %d of %s was used by another transaction", tx.Nonce, tx.Sender)}, nil
	}
	return Outcome{Progress: Missing}, nil
}

// processed asks GET /transaction/{hash}; found is false when the gateway
// answers 404 or that it does not know the transaction.
func (c *MultiversXClient) processed(ctx context.Context, hash string) (Outcome, bool, error) {
	status, body, err := c.node.doQuery(ctx, http.MethodGet, "GET /transaction", "transaction/"+hash, url.Values{"withResults": {"true"}}, "", nil)
	if err != nil {
		return Outcome{}, false, err
	}
	var a struct {
		Data *struct {
			Transaction *struct {
				Hash            string `json:"hash"`
				Status          string `json:"status"`
				HyperblockNonce uint64 `json:"hyperblockNonce"`
				Fee             string `json:"fee"`
			} `json:"transaction"`
		} `json:"data"`
		Error string `json:"error"`
		Code  string `json:"code"`
	}
	jsonErr := json.Unmarshal(body, &a)
	if status == http.StatusNotFound || (jsonErr == nil && a.Code != "successful" && strings.Contains(strings.ToLower(a.Error), "not found")) {
		return Outcome{}, false, nil
	}
	if status != http.StatusOK || jsonErr != nil || a.Code != "successful" || a.Data == nil || a.Data.Transaction == nil {
		return Outcome{}, false, fmt.Errorf("%w: GET /transaction: HTTP %d: %s", ErrUnavailable, status, snippet([]byte(a.Error)))
	}
	tx := a.Data.Transaction
	if tx.Hash != "" && !strings.EqualFold(tx.Hash, hash) {
		return Outcome{}, false, fmt.Errorf("%w: GET /transaction answered hash %.64q for transaction %s", ErrUnavailable, tx.Hash, hash)
	}
	var failed bool
	switch tx.Status {
	case "success":
	case "fail", "invalid":
		failed = true
	default:
		return Outcome{Progress: Pending}, true, nil
	}
	if tx.HyperblockNonce == 0 {
		return Outcome{Progress: Pending}, true, nil // not notarized by the metachain yet
	}
	var net struct {
		Status struct {
			Nonce *uint64 `json:"erd_nonce"`
		} `json:"status"`
	}
	if err := c.get(ctx, "network/status/"+metachain, &net); err != nil {
		return Outcome{}, false, err
	}
	if net.Status.Nonce == nil {
		return Outcome{}, false, fmt.Errorf("%w: GET /network/status: gateway answered no erd_nonce", ErrUnavailable)
	}
	o := Outcome{Progress: Mined, BlockNumber: tx.HyperblockNonce}
	if *net.Status.Nonce >= tx.HyperblockNonce {
		o.Confirmations = *net.Status.Nonce - tx.HyperblockNonce + 1
	}
	// A decimal in the smallest unit (10^-18 EGLD), which may pass uint64.
	if tx.Fee != "" && len(tx.Fee) <= 78 && strings.Trim(tx.Fee, "0123456789") == "" {
		o.Fee = tx.Fee
	}
	if failed {
		o.Failed, o.Error = true, "status "+tx.Status
	}
	return o, true, nil
}
