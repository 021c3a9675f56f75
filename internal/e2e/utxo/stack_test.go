package utxo

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/wire"

	"github.com/custoskms/custos/internal/api"
	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
	utxochain "github.com/custoskms/custos/internal/chain/utxo"
	"github.com/custoskms/custos/internal/daemon"
	"github.com/custoskms/custos/internal/e2e/tatumsdk"
	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/pending/sqlite"
	"github.com/custoskms/custos/internal/walletstore"
	"github.com/custoskms/custos/internal/webhook"
)

// Two BIP-39 test mnemonics: throwaway regtest wallets.
const (
	mnemonicA = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
	mnemonicB = "legal winner thank year wave sausage worth useful legal winner thank yellow"
)

// stack is Custos as deployed, on loopback and temporary files: the API over
// a SQLite file with a testnet API key and the chain's testnet node set to the
// regtest node, and the signer daemon with its wallet store, talking to the API
// over HTTP.
type stack struct {
	t      *testing.T
	api    string
	apiKey string
	daemon *daemon.Daemon
	// wallets are the signature IDs of the managed mnemonic wallets, in the
	// order of the mnemonics given to newStack.
	wallets []string
	// pstore and nodes are the API's, for an outcome tracker beside it.
	pstore *sqlite.Store
	nodes  *broadcast.Nodes
}

func newStack(t *testing.T, code, nodeURL string, mnemonics ...string) *stack {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))

	pstore, err := sqlite.Open(ctx, filepath.Join(dir, "custos.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pstore.Close() })
	key, hash, err := api.NewAPIKey()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pstore.CreateKey(ctx, "e2e", true, pending.AllScopes, hash); err != nil {
		t.Fatal(err)
	}
	nodes, err := broadcast.Dial([]broadcast.NodeSpec{{Chain: code, Testnet: true, URL: nodeURL}}, chains.Dialer)
	if err != nil {
		t.Fatal(err)
	}
	// Loopback receivers, as `custos dev` allows: a test's webhook receiver listens there.
	srv := httptest.NewServer(api.New(api.Config{Store: pstore, Nodes: nodes, Logger: log, Webhooks: webhook.Guard{AllowLoopback: true}}))
	t.Cleanup(srv.Close)

	store, err := walletstore.Open(ctx, filepath.Join(dir, "wallet.dat"), []byte("regtest wallet password"), walletstore.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	s := &stack{t: t, api: srv.URL, apiKey: key, pstore: pstore, nodes: nodes}
	for _, m := range mnemonics {
		id := walletstore.NewID()
		if err := store.Put(ctx, id, &walletstore.Wallet{Mnemonic: m, Chain: code, Testnet: true}); err != nil {
			t.Fatal(err)
		}
		s.wallets = append(s.wallets, id)
	}

	client, err := daemon.NewClient(srv.URL, key)
	if err != nil {
		t.Fatal(err)
	}
	client.Logger = log
	d, err := daemon.New(daemon.Config{Chains: []string{code}, Testnet: true, LedgerPath: filepath.Join(dir, "ledger.db"), Logger: log},
		client, daemon.NewStoreKeys(store))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	s.daemon = d
	return s
}

// call makes one API call and returns its status and body, whatever they are.
func (s *stack) call(method, path string, body any) (int, []byte) {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(s.t.Context(), method, s.api+path, rd)
	req.Header.Set("X-API-Key", s.apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// request makes one API call and decodes a 2xx answer into out.
func (s *stack) request(method, path string, body, out any) {
	s.t.Helper()
	status, data := s.call(method, path, body)
	if status/100 != 2 {
		s.t.Fatalf("%s %s: HTTP %d %s", method, path, status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			s.t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
}

// queue is POST /v3/kms; it returns the pending transaction's id.
func (s *stack) queue(body map[string]any) string {
	s.t.Helper()
	var r struct{ ID string }
	s.request(http.MethodPost, "/v3/kms", body, &r)
	if len(r.ID) != 24 {
		s.t.Fatalf("POST /v3/kms answered id %q", r.ID)
	}
	return r.ID
}

func (s *stack) get(id string) daemon.PendingTx {
	s.t.Helper()
	var tx daemon.PendingTx
	s.request(http.MethodGet, "/v3/kms/"+id, nil, &tx)
	return tx
}

// sign runs one period of the signer and requires that it signed and
// submitted the transactions ids, all accepted by the node.
func (s *stack) sign(ids []string) {
	s.t.Helper()
	n := len(ids)
	sum, err := s.daemon.RunOnce(s.t.Context())
	if err != nil {
		s.t.Fatal(err)
	}
	if sum.Pending != n || sum.Signed != n || sum.Submitted != n || sum.Failed != 0 || sum.Rejected != 0 {
		s.t.Fatalf("signer run: %+v, want %d pending, signed and submitted", sum, n)
	}
}

// in is the stack as seen from the subtest t: its calls fail t.
func (s *stack) in(t *testing.T) *stack {
	c := *s
	c.t = t
	return &c
}

// tatumSigner is one poll of Tatum KMS's signer for chain, done by Tatum's
// SDK v1 (conformance/tatum) holding wallets: it requires that the SDK signed
// each of ids and broadcast it through the server, which shows the txId the
// broadcast answered.
func (s *stack) tatumSigner(chain string, wallets []tatumsdk.Wallet) func(ids []string) {
	return func(ids []string) {
		s.t.Helper()
		results := tatumsdk.Sign(s.t, s.api, s.apiKey, []string{chain}, wallets)
		if len(results) != len(ids) {
			s.t.Errorf("Tatum's SDK received %d pending transactions, %d were queued", len(results), len(ids))
		}
		for _, id := range ids {
			r, ok := results[id]
			switch {
			case !ok:
				s.t.Errorf("%s: Tatum's SDK did not receive it as pending", id)
			case !r.Signed:
				s.t.Errorf("%s: Tatum's SDK did not sign it: %s", id, r.Error)
			case !r.Broadcast:
				s.t.Errorf("%s: broadcast through Custos failed: %s", id, r.Error)
			case s.get(id).TxID != r.TxID:
				s.t.Errorf("%s: Custos shows txId %q, the broadcast answered %q", id, s.get(id).TxID, r.TxID)
			}
		}
		if s.t.Failed() {
			s.t.FailNow()
		}
	}
}

// walletWIF is a managed wallet's testnet private key at index, as the signer
// derives it.
func walletWIF(t *testing.T, c *utxochain.Chain, mnemonic string, index uint32) string {
	t.Helper()
	seed, err := chain.Seed(mnemonic)
	if err != nil {
		t.Fatal(err)
	}
	wif, err := c.PrivateKey(seed, index, true)
	if err != nil {
		t.Fatal(err)
	}
	return wif
}

// walletKey is the public key of walletWIF, for the test to build the
// addresses it funds.
func walletKey(t *testing.T, c *utxochain.Chain, mnemonic string, index uint32) *btcec.PublicKey {
	t.Helper()
	w, err := btcutil.DecodeWIF(walletWIF(t, c, mnemonic, index))
	if err != nil {
		t.Fatal(err)
	}
	return w.PrivKey.PubKey()
}

// newTx spends coins to outputs (version 2, no lock time).
func newTx(coins []coin, outs ...*wire.TxOut) *wire.MsgTx {
	tx := wire.NewMsgTx(2)
	for _, c := range coins {
		h := c.prev.TxHash()
		tx.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&h, c.vout), nil, nil))
	}
	for _, o := range outs {
		tx.AddTxOut(o)
	}
	return tx
}

func total(coins []coin) int64 {
	var sum int64
	for _, c := range coins {
		sum += c.out().Value
	}
	return sum
}

// bitcoreJSON is tx in the form Tatum's SDK queues for BTC, LTC and DOGE:
// JSON.stringify of a bitcore-lib Transaction.
func bitcoreJSON(t *testing.T, tx *wire.MsgTx, coins []coin) string {
	t.Helper()
	type output struct {
		Satoshis int64  `json:"satoshis"`
		Script   string `json:"script"`
	}
	type input struct {
		PrevTxID       string `json:"prevTxId"`
		OutputIndex    uint32 `json:"outputIndex"`
		SequenceNumber uint32 `json:"sequenceNumber"`
		Script         string `json:"script"`
		ScriptString   string `json:"scriptString"`
		Output         output `json:"output"`
	}
	b := struct {
		Hash      string   `json:"hash"`
		Version   int32    `json:"version"`
		Inputs    []input  `json:"inputs"`
		Outputs   []output `json:"outputs"`
		NLockTime uint32   `json:"nLockTime"`
		Fee       int64    `json:"fee"`
	}{Hash: tx.TxHash().String(), Version: tx.Version, NLockTime: tx.LockTime}
	var out int64
	for i, in := range tx.TxIn {
		prev := coins[i].out()
		b.Inputs = append(b.Inputs, input{PrevTxID: in.PreviousOutPoint.Hash.String(), OutputIndex: in.PreviousOutPoint.Index,
			SequenceNumber: in.Sequence, Output: output{Satoshis: prev.Value, Script: hex.EncodeToString(prev.PkScript)}})
	}
	for _, o := range tx.TxOut {
		b.Outputs = append(b.Outputs, output{Satoshis: o.Value, Script: hex.EncodeToString(o.PkScript)})
		out += o.Value
	}
	b.Fee = total(coins) - out
	j, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(j)
}

// psbtBase64 is tx as a BIP 174 PSBT, each input with the whole transaction
// it spends and, for witness programs, its output as witness_utxo too, as
// wallets write them.
func psbtBase64(t *testing.T, tx *wire.MsgTx, coins []coin, witness bool) string {
	t.Helper()
	p, err := psbt.NewFromUnsignedTx(tx)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range coins {
		p.Inputs[i].NonWitnessUtxo = c.prev
		if witness {
			p.Inputs[i].WitnessUtxo = c.out()
		}
	}
	var buf bytes.Buffer
	if err := p.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// bchTatum is Tatum's BCH form: the unsigned transaction's hex, a colon and
// the JSON array of the spent amounts.
func bchTatum(t *testing.T, tx *wire.MsgTx, coins []coin) string {
	t.Helper()
	var buf bytes.Buffer
	if err := tx.SerializeNoWitness(&buf); err != nil {
		t.Fatal(err)
	}
	amounts := make([]int64, len(coins))
	for i, c := range coins {
		amounts[i] = c.out().Value
	}
	j, _ := json.Marshal(amounts)
	return hex.EncodeToString(buf.Bytes()) + ":" + string(j)
}

// spend is one transaction of an end-to-end run: the POST /v3/kms body and
// what the node must show once it is mined.
type spend struct {
	name  string
	body  map[string]any
	coins []coin
	// txid is the id the transaction must get, when signing cannot change it
	// (only witness inputs); empty otherwise.
	txid string
	// want is checked on the mined transaction's output vout.
	vout   uint32
	script []byte
	value  int64
}

// run takes spends through the whole flow: queued through the API, signed by
// one period of sign (the stack's signer, or Tatum's SDK) and broadcast
// through the server to the node, which must hold them in its mempool; one
// block mined (to sink on litecoind) must confirm them, and the API must show
// their txIds, with nothing left pending.
func run(t *testing.T, n *node, s *stack, sink string, spends []spend, sign func(ids []string)) {
	t.Helper()
	ids := make([]string, len(spends))
	for i, sp := range spends {
		ids[i] = s.queue(sp.body)
		if got := s.get(ids[i]); got.TxID != "" || got.SerializedTransaction != sp.body["serializedTransaction"] {
			t.Fatalf("%s: queued transaction reads back as %+v", sp.name, got)
		}
	}
	sign(ids)

	pool := n.mempool(t)
	checks := make([]outputCheck, len(spends))
	txids := make([]string, len(spends))
	for i, sp := range spends {
		got := s.get(ids[i])
		txids[i] = got.TxID
		switch {
		case len(got.TxID) != 64:
			t.Fatalf("%s: GET /v3/kms/%s has txId %q after the signer run", sp.name, ids[i], got.TxID)
		case sp.txid != "" && got.TxID != sp.txid:
			t.Errorf("%s: txId %s, want %s", sp.name, got.TxID, sp.txid)
		case !slices.Contains(pool, got.TxID):
			t.Errorf("%s: the node's mempool does not hold %s", sp.name, got.TxID)
		}
		checks[i] = outputCheck{name: sp.name, txid: got.TxID, vout: sp.vout, script: sp.script, value: sp.value, spent: sp.coins}
	}
	n.confirmed(t, sink, checks)
	for i, sp := range spends {
		if got := s.get(ids[i]); got.TxID != txids[i] {
			t.Errorf("%s: txId changed to %q after mining", sp.name, got.TxID)
		}
	}
	var left []daemon.PendingTx
	s.request(http.MethodGet, "/v3/kms/pending/"+spends[0].body["chain"].(string), nil, &left)
	if len(left) != 0 {
		t.Errorf("%d transactions still pending", len(left))
	}
}
