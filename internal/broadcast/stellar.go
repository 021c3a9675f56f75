package broadcast

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// StellarClient submits signed envelopes to a Stellar Horizon server with
// POST /transactions (form field tx), which waits for the ledger's verdict.
type StellarClient struct{ node *httpNode }

var _ Client = (*StellarClient)(nil)

// DialStellar makes a client for a Horizon base URL without contacting it.
func DialStellar(nodeURL string) (*StellarClient, error) {
	n, err := newHTTPNode(nodeURL, "a Stellar Horizon node")
	if err != nil {
		return nil, err
	}
	return &StellarClient{node: n}, nil
}

// horizonAnswer is Horizon's success body or its problem document (RFC 7807).
type horizonAnswer struct {
	Hash   string `json:"hash"`
	Type   string `json:"type"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Extras struct {
		Hash        string `json:"hash"`
		ResultCodes struct {
			Transaction string   `json:"transaction"`
			Operations  []string `json:"operations"`
			InnerTx     string   `json:"inner_transaction"`
		} `json:"result_codes"`
	} `json:"extras"`
}

// Broadcast submits the base64 envelope and returns the hash Horizon answers.
// Horizon answers a transaction already in the ledger with its stored result
// (200), so a retry after a lost answer succeeds with the same hash. A timeout
// (504) leaves the outcome open and is reported as unavailable, never as
// rejected.
func (c *StellarClient) Broadcast(ctx context.Context, txData string) (_ string, err error) {
	defer scrub(&err, c.node.raw)
	txData = strings.TrimSpace(txData)
	if txData == "" || strings.HasPrefix(txData, "{") {
		return "", fmt.Errorf("%w: txData must be a base64 XDR envelope", ErrRejected)
	}
	form := url.Values{"tx": {txData}}
	status, body, err := c.node.post(ctx, "", "transactions", "application/x-www-form-urlencoded", []byte(form.Encode()))
	if err != nil {
		return "", err
	}
	var a horizonAnswer
	jsonErr := json.Unmarshal(body, &a)
	switch {
	case status == 200 || status == 201:
		if jsonErr != nil || !isHash(a.Hash) {
			return "", fmt.Errorf("%w: Horizon answered %d without a transaction hash", ErrUnavailable, status)
		}
		return a.Hash, nil
	case status == 400 && jsonErr == nil:
		codes := a.Extras.ResultCodes.Transaction
		if a.Extras.ResultCodes.InnerTx != "" {
			codes += "/" + a.Extras.ResultCodes.InnerTx
		}
		if len(a.Extras.ResultCodes.Operations) > 0 {
			codes += " [" + strings.Join(a.Extras.ResultCodes.Operations, ",") + "]"
		}
		if codes == "" {
			codes = a.Detail
		}
		return "", rejected(stellarIsPermanent(a.Extras.ResultCodes.Transaction, a.Extras.ResultCodes.InnerTx),
			"Horizon: "+a.Title+": "+codes)
	default:
		what := a.Title
		if jsonErr != nil || what == "" {
			what = fmt.Sprintf("HTTP %d", status)
		}
		return "", fmt.Errorf("%w: Horizon at %s: %s", ErrUnavailable, RedactURL(c.node.raw), what)
	}
}

func isHash(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 32
}
