package broadcast

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/custoskms/custos/internal/chain/utxo"
	"github.com/custoskms/custos/internal/httpguard"
)

var (
	_ utxo.UnspentLister = (*Esplora)(nil)
	_ utxo.OutputReader  = (*Esplora)(nil)
	_ utxo.FeeRater      = (*Esplora)(nil)
)

// Caps on what an Esplora server may answer: it is a third party, so an
// answer is read only up to a size, and a list only up to a length, before
// the transfer is refused.
const (
	esploraMaxBody    = 16 << 20
	esploraMaxUnspent = 50_000
	esploraMaxOutputs = 100_000
	// maxSatoshis bounds an amount so that sums of a few stay in int64;
	// no real output comes near it, and the builder checks each chain's
	// own maximum.
	maxSatoshis = 1 << 62
)

// Esplora reads unspent outputs, outputs and fee estimates from an
// Esplora-compatible REST API (Blockstream's esplora, mempool.space's
// backend): the other source of a UTXO chain's fromAddress and fromUTXO
// transfers, for when the node has no address index. Every answer is
// validated as hostile: amounts are integers, txids 64 hex digits, lists
// bounded.
type Esplora struct {
	base *url.URL
	http *http.Client
}

// DialEsplora makes a client for an Esplora API's base URL (…/api) without
// contacting it.
func DialEsplora(raw string) (*Esplora, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: Esplora URL %q is not an absolute http(s) URL", ErrBadNode, RedactURL(raw))
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return &Esplora{base: u, http: &http.Client{CheckRedirect: httpguard.NoRedirects, Timeout: 30 * time.Second}}, nil
}

// get reads path's JSON answer into out; found is false on a 404 (Esplora's
// answer for a transaction it does not know).
func (e *Esplora) get(ctx context.Context, path string, out any) (found bool, err error) {
	u := *e.base
	u.Path += path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false, fmt.Errorf("%w: Esplora: %w", ErrUnavailable, err)
	}
	resp, err := e.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may carry an API key
		}
		return false, fmt.Errorf("%w: Esplora GET %s: %w", ErrUnavailable, path, err)
	}
	defer resp.Body.Close()
	body, err := httpguard.ReadAll(resp.Body, esploraMaxBody)
	switch {
	case err != nil:
		return false, fmt.Errorf("%w: Esplora GET %s: %w", ErrUnavailable, path, err)
	case resp.StatusCode == http.StatusNotFound:
		return false, nil
	case resp.StatusCode != http.StatusOK:
		return false, fmt.Errorf("%w: Esplora GET %s: HTTP %d", ErrUnavailable, path, resp.StatusCode)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return false, fmt.Errorf("%w: Esplora GET %s: malformed answer: %w", ErrUnavailable, path, err)
	}
	return true, nil
}

// esploraStatus is a transaction's place in the chain.
type esploraStatus struct {
	Confirmed   bool         `json:"confirmed"`
	BlockHeight *json.Number `json:"block_height"`
}

// esploraUnspent is one entry of GET /address/{address}/utxo.
type esploraUnspent struct {
	TxID   string        `json:"txid"`
	Vout   json.Number   `json:"vout"`
	Value  json.Number   `json:"value"`
	Status esploraStatus `json:"status"`
}

// esploraTx is the part of GET /tx/{txid} a transfer reads.
type esploraTx struct {
	TxID string `json:"txid"`
	Vin  []struct {
		IsCoinbase bool `json:"is_coinbase"`
	} `json:"vin"`
	Vout []struct {
		ScriptPubKey string      `json:"scriptpubkey"`
		Value        json.Number `json:"value"`
	} `json:"vout"`
	Status esploraStatus `json:"status"`
}

// parseUnspent validates an address's unspent list: the parser the fuzz
// test drives, so that no answer panics or passes a malformed entry.
func parseUnspent(body []byte) ([]esploraUnspent, error) {
	var list []esploraUnspent
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("malformed answer: %w", err)
	}
	if len(list) > esploraMaxUnspent {
		return nil, fmt.Errorf("%d unspent outputs, more than the %d read", len(list), esploraMaxUnspent)
	}
	for i, u := range list {
		if err := checkTxID(u.TxID); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		if _, err := vout(u.Vout); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		if _, err := satoshiValue(u.Value); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		if _, err := u.Status.height(); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
	}
	return list, nil
}

func checkTxID(s string) error {
	if len(s) != 64 {
		return fmt.Errorf("txid %.80q is not 64 hex digits", s)
	}
	if _, err := hex.DecodeString(s); err != nil {
		return fmt.Errorf("txid %q is not 64 hex digits", s)
	}
	return nil
}

// vout reads an output index: a non-negative integer, never a fraction or
// an exponent.
func vout(n json.Number) (uint32, error) {
	v, err := strconv.ParseUint(n.String(), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("vout %.40q is not an output index", n)
	}
	return uint32(v), nil
}

// satoshiValue reads an amount in base units: Esplora gives integers, so a
// fraction, an exponent or a negative is refused rather than rounded.
func satoshiValue(n json.Number) (int64, error) {
	v, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil || v < 0 || v > maxSatoshis {
		return 0, fmt.Errorf("value %.40q is not an amount in base units", n)
	}
	return v, nil
}

// height is the block height of a confirmed transaction, 0 unconfirmed.
func (s esploraStatus) height() (int64, error) {
	if !s.Confirmed {
		return 0, nil
	}
	if s.BlockHeight == nil {
		return 0, errors.New("a confirmed transaction without block_height")
	}
	h, err := strconv.ParseInt(s.BlockHeight.String(), 10, 64)
	if err != nil || h < 0 {
		return 0, fmt.Errorf("block_height %.40q is not a height", *s.BlockHeight)
	}
	return h, nil
}

// tip reads the chain's height (GET /blocks/tip/height, a bare integer).
func (e *Esplora) tip(ctx context.Context) (int64, error) {
	var h json.Number
	if _, err := e.get(ctx, "/blocks/tip/height", &h); err != nil {
		return 0, err
	}
	v, err := strconv.ParseInt(h.String(), 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%w: Esplora GET /blocks/tip/height: %.40q is not a height", ErrUnavailable, h)
	}
	return v, nil
}

func confirmations(s esploraStatus, tip int64) int64 {
	h, _ := s.height()
	if !s.Confirmed || h > tip {
		return 0
	}
	return tip - h + 1
}

// Unspent implements utxo.UnspentLister with GET /address/{address}/utxo,
// mempool included. The list gives no scripts (the address's is script) and
// does not say which outputs are block rewards, so a young output's
// transaction is read to tell.
func (e *Esplora) Unspent(ctx context.Context, address string, script []byte) ([]utxo.Unspent, error) {
	path := "/address/" + url.PathEscape(address) + "/utxo"
	var raw json.RawMessage
	if _, err := e.get(ctx, path, &raw); err != nil {
		return nil, err
	}
	list, err := parseUnspent(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: Esplora GET %s: %w", ErrUnavailable, path, err)
	}
	if len(list) == 0 {
		return nil, nil
	}
	tip, err := e.tip(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]utxo.Unspent, 0, len(list))
	coinbase := map[string]*bool{} // by txid: one read for a transaction's several outputs
	for _, u := range list {
		v, _ := satoshiValue(u.Value)
		n, _ := vout(u.Vout)
		un := utxo.Unspent{TxID: u.TxID, Vout: n, Value: v, Script: script, Confirmations: confirmations(u.Status, tip)}
		// Coinbase maturity is at most 240 blocks (DOGE); an older output
		// is spendable whatever it is.
		if u.Status.Confirmed && un.Confirmations < 240 {
			cb, seen := coinbase[u.TxID]
			if !seen {
				tx, err := e.tx(ctx, u.TxID)
				if err != nil {
					return nil, err
				}
				if tx != nil {
					v := len(tx.Vin) > 0 && tx.Vin[0].IsCoinbase
					cb = &v
				}
				coinbase[u.TxID] = cb
			}
			if cb == nil {
				continue // unknown to Esplora a moment after listing it
			}
			un.Coinbase = *cb
		}
		out = append(out, un)
	}
	return out, nil
}

// tx reads GET /tx/{txid}, nil when Esplora does not know it.
func (e *Esplora) tx(ctx context.Context, txid string) (*esploraTx, error) {
	path := "/tx/" + txid
	var raw json.RawMessage
	found, err := e.get(ctx, path, &raw)
	if err != nil || !found {
		return nil, err
	}
	tx, err := parseTx(raw, txid)
	if err != nil {
		return nil, fmt.Errorf("%w: Esplora GET %s: %w", ErrUnavailable, path, err)
	}
	return tx, nil
}

// parseTx validates a transaction answer: it must be the transaction asked
// for, with bounded lists, integer amounts and hex scripts.
func parseTx(body []byte, txid string) (*esploraTx, error) {
	var tx esploraTx
	if err := json.Unmarshal(body, &tx); err != nil {
		return nil, fmt.Errorf("malformed answer: %w", err)
	}
	if !strings.EqualFold(tx.TxID, txid) {
		return nil, fmt.Errorf("answers transaction %.80q, not %s", tx.TxID, txid)
	}
	if len(tx.Vout) > esploraMaxOutputs || len(tx.Vin) > esploraMaxOutputs {
		return nil, fmt.Errorf("more than %d inputs or outputs", esploraMaxOutputs)
	}
	for i, o := range tx.Vout {
		if _, err := satoshiValue(o.Value); err != nil {
			return nil, fmt.Errorf("vout %d: %w", i, err)
		}
		if _, err := hex.DecodeString(o.ScriptPubKey); err != nil {
			return nil, fmt.Errorf("vout %d: scriptpubkey is not hex", i)
		}
	}
	if _, err := tx.Status.height(); err != nil {
		return nil, err
	}
	return &tx, nil
}

// Output implements utxo.OutputReader: GET /tx/{txid}/outspend/{vout} says
// whether the output is spent (mempool included), GET /tx/{txid} gives its
// amount and script; nil when spent or unknown.
func (e *Esplora) Output(ctx context.Context, txid string, n uint32) (*utxo.Unspent, error) {
	if err := checkTxID(txid); err != nil {
		return nil, nil // not an id Esplora could know
	}
	txid = strings.ToLower(txid)
	tx, err := e.tx(ctx, txid)
	if err != nil || tx == nil || int64(n) >= int64(len(tx.Vout)) {
		return nil, err
	}
	var spend struct {
		Spent *bool `json:"spent"`
	}
	path := fmt.Sprintf("/tx/%s/outspend/%d", txid, n)
	found, err := e.get(ctx, path, &spend)
	switch {
	case err != nil:
		return nil, err
	case !found:
		return nil, nil
	case spend.Spent == nil:
		return nil, fmt.Errorf("%w: Esplora GET %s: no spent field", ErrUnavailable, path)
	case *spend.Spent:
		return nil, nil
	}
	var tip int64
	if tx.Status.Confirmed {
		if tip, err = e.tip(ctx); err != nil {
			return nil, err
		}
	}
	o := tx.Vout[n]
	v, _ := satoshiValue(o.Value)
	s, _ := hex.DecodeString(o.ScriptPubKey)
	return &utxo.Unspent{TxID: txid, Vout: n, Value: v, Script: s,
		Coinbase: len(tx.Vin) > 0 && tx.Vin[0].IsCoinbase, Confirmations: confirmations(tx.Status, tip)}, nil
}

// FeeRate implements utxo.FeeRater with GET /fee-estimates: a map of
// confirmation targets (blocks) to satoshis per virtual byte. The rate is
// the one of the largest target within blocks (else the smallest target),
// converted exactly to base units per 1000 virtual bytes and rounded up.
// Esplora has no estimate on a chain without history (regtest): an error
// telling the app to give fee.
func (e *Esplora) FeeRate(ctx context.Context, blocks int) (int64, error) {
	var raw json.RawMessage
	if _, err := e.get(ctx, "/fee-estimates", &raw); err != nil {
		return 0, err
	}
	rate, err := parseFeeEstimates(raw, blocks)
	if err != nil {
		return 0, fmt.Errorf("%w: Esplora GET /fee-estimates: %w", ErrUnavailable, err)
	}
	return rate, nil
}

func parseFeeEstimates(body []byte, blocks int) (int64, error) {
	var m map[string]json.Number
	if err := json.Unmarshal(body, &m); err != nil {
		return 0, fmt.Errorf("malformed answer: %w", err)
	}
	if len(m) > 1000 {
		return 0, fmt.Errorf("%d targets, more than the 1000 read", len(m))
	}
	best, bestTarget, smallest, smallestTarget := "", -1, "", -1
	for k, v := range m {
		t, err := strconv.Atoi(k)
		if err != nil || t <= 0 {
			return 0, fmt.Errorf("target %.40q is not a number of blocks", k)
		}
		if t <= blocks && t > bestTarget {
			best, bestTarget = v.String(), t
		}
		if smallestTarget < 0 || t < smallestTarget {
			smallest, smallestTarget = v.String(), t
		}
	}
	if bestTarget < 0 {
		best = smallest
	}
	if best == "" {
		return 0, errors.New("no fee estimate (a chain without history): give fee")
	}
	// The length is checked first: a huge exponent is costly to expand.
	if len(best) > 40 {
		return 0, fmt.Errorf("rate %.40q is not a fee rate", best)
	}
	r, ok := new(big.Rat).SetString(best)
	if !ok || r.Sign() <= 0 {
		return 0, fmt.Errorf("rate %.40q is not a fee rate", best)
	}
	r.Mul(r, big.NewRat(1000, 1))
	q := ceil(r)
	if !q.IsInt64() || q.Int64() > maxSatoshis {
		return 0, fmt.Errorf("rate %.40q is out of range", best)
	}
	return q.Int64(), nil
}
