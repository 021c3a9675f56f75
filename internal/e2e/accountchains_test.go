package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gagliardetto/solana-go"
	"github.com/stellar/go-stellar-sdk/xdr"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/broadcast/nodetest"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/daemon"
	"github.com/custoskms/custos/internal/vectors"
	"github.com/custoskms/custos/internal/walletstore"
)

// accepted is one transaction a node double took: its sequence (nil on a
// chain without one) and its id.
type accepted struct {
	seq  *uint64
	txID string
}

// nodeCase is a chain's node double and what is queued against it.
type nodeCase struct {
	node http.Handler
	path string // the node's base path on the double's listener
	// txs are queued in a row, each without the fields the node completes.
	txs []string
	// applied is what the double accepted, in order.
	applied func() []accepted
}

// For each account chain: incomplete transactions queued through the API are
// completed from a local double of the chain's node and given consecutive
// sequences by the server, signed by the daemon from its wallet store, and
// broadcast to that double, which checks the signature with an independent
// library and the sequence; the API then shows each one's txId.
func TestAccountChainsCompleteSignBroadcast(t *testing.T) {
	// accountChains builds, per chain, a node double for sender and the
	// incomplete transactions to queue; start is the first sequence the
	// node must see from sender (sequence chains only).
	accountChains := []struct {
		code  string
		start uint64
		build func(t *testing.T, sender string, start uint64) nodeCase
	}{
		{"XLM", 123<<32 + 1, func(t *testing.T, sender string, start uint64) nodeCase {
			f := &nodetest.Horizon{T: t, Seq: map[string]int64{sender: int64(start) - 1}}
			var env xdr.TransactionEnvelope
			if err := xdr.SafeUnmarshalBase64(testnetRow(t, "XLM").PendingTransaction.SerializedTransaction, &env); err != nil {
				t.Fatal(err)
			}
			env.V1.Tx.SeqNum, env.V1.Tx.Fee, env.V1.Tx.Cond = 0, 0, xdr.Preconditions{Type: xdr.PreconditionTypePrecondNone}
			tx, _ := xdr.MarshalBase64(env)
			return nodeCase{node: f, path: "/horizon", txs: []string{tx, tx}, applied: func() []accepted {
				var out []accepted
				envs, ids := f.Accepted()
				for i, e := range envs {
					seq := uint64(e.SeqNum())
					out = append(out, accepted{seq: &seq, txID: ids[i]})
				}
				return out
			}}
		}},
		{"EGLD", 7, func(t *testing.T, sender string, start uint64) nodeCase {
			f := &nodetest.Gateway{T: t, ChainID: "T", Nonce: map[string]uint64{sender: start}}
			tx := testnetRow(t, "EGLD").PendingTransaction.SerializedTransaction
			return nodeCase{node: f, txs: []string{tx, tx}, applied: func() []accepted {
				var out []accepted
				sent, ids := f.Accepted()
				for i, body := range sent {
					var tx struct{ Nonce uint64 }
					if err := json.Unmarshal([]byte(body), &tx); err != nil {
						t.Fatal(err)
					}
					out = append(out, accepted{seq: &tx.Nonce, txID: ids[i]})
				}
				return out
			}}
		}},
		{"TRON", 0, func(t *testing.T, _ string, _ uint64) nodeCase {
			f := &nodetest.Tron{T: t}
			f.Now.Store(1_900_000_000_000)
			tx, _ := nodetest.TronIncomplete(t)
			return nodeCase{node: f, txs: []string{tx}, applied: idsOnly(f.IDs)}
		}},
		{"SOL", 0, func(t *testing.T, _ string, _ uint64) nodeCase {
			f := &nodetest.Solana{T: t}
			f.SetLatest(solana.Hash{1, 2, 3})
			msg, _ := nodetest.SolanaWithoutBlockhash(t)
			return nodeCase{node: f, txs: []string{base64.StdEncoding.EncodeToString(msg)}, applied: func() []accepted {
				var out []accepted
				for _, tx := range f.Sent() {
					out = append(out, accepted{txID: tx.Signatures[0].String()})
				}
				return out
			}}
		}},
		{"VET", 0, func(t *testing.T, sender string, _ uint64) nodeCase {
			f := &nodetest.Thor{T: t, Best: 0x00ab12cd, Want: strings.ToLower(sender)}
			tx := `{"from":"` + sender + `","to":"0x4605ec56dbf64f86fc0525f0145c7bbb5bee407a","value":"1000000000000000000"}`
			return nodeCase{node: f, txs: []string{tx}, applied: idsOnly(f.IDs)}
		}},
		{"XRP", 41, func(t *testing.T, sender string, start uint64) nodeCase {
			f := &nodetest.Rippled{T: t, Seq: map[string]uint32{sender: uint32(start)}, Validated: 90_000_000}
			tx := `{"TransactionType":"Payment","Account":"` + sender + `","Destination":"rNsoKrTUnqRBWUAKeeFo7veNo5XepQyVvN","Amount":"1000000","Flags":2147483648}`
			return nodeCase{node: f, txs: []string{tx, tx}, applied: func() []accepted {
				var out []accepted
				txs, ids := f.Applied()
				for i, a := range txs {
					seq, _ := strconv.ParseUint(fmt.Sprint(a["Sequence"]), 10, 64)
					out = append(out, accepted{seq: &seq, txID: ids[i]})
				}
				return out
			}}
		}},
	}

	for _, c := range accountChains {
		t.Run(c.code, func(t *testing.T) {
			r := testnetRow(t, c.code)
			key := chaintest.VectorKey(r)
			d, err := chains.Lookup(c.code)
			if err != nil {
				t.Fatal(err)
			}
			sender, err := d.(chain.Deriver).AddressFromPrivateKey(key, r.Testnet)
			if err != nil {
				t.Fatal(err)
			}
			nc := c.build(t, sender, c.start)
			srv := httptest.NewServer(nc.node)
			t.Cleanup(srv.Close)
			s := newNodesStack(t, r.Testnet, []broadcast.NodeSpec{{Chain: c.code, Testnet: r.Testnet, URL: srv.URL + nc.path}})

			w := &walletstore.Wallet{Chain: c.code, Testnet: r.Testnet, Address: sender, PrivateKey: key}
			if r.Keys[0].Type == "secret" {
				w.PrivateKey, w.Secret = "", key
			}
			sigID := walletstore.NewID()
			if err := s.wallets.Put(context.Background(), sigID, w); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, tx := range nc.txs {
				var out struct{ ID string }
				body := map[string]any{"chain": c.code, "serializedTransaction": tx, "hashes": []string{sigID}}
				if code := s.apiDo(http.MethodPost, "/v3/kms", body, &out); code != http.StatusOK {
					t.Fatalf("POST /v3/kms: %d", code)
				}
				ids = append(ids, out.ID)
			}

			dm := s.newDaemon(s.client(), func(cfg *daemon.Config) { cfg.Chains, cfg.Testnet = []string{c.code}, r.Testnet })
			if _, err := dm.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}

			got := nc.applied()
			if len(got) != len(ids) {
				t.Fatalf("the node accepted %d of %d transactions", len(got), len(ids))
			}
			var txIDs []string
			for i, a := range got {
				txIDs = append(txIDs, a.txID)
				if a.seq != nil && *a.seq != c.start+uint64(i) {
					t.Errorf("accepted #%d has sequence %d, want %d", i, *a.seq, c.start+uint64(i))
				}
			}
			for _, id := range ids {
				if p := s.get(id); p.TxID == "" || !slices.Contains(txIDs, p.TxID) {
					t.Errorf("GET /v3/kms/%s: txId %q, the node took %v", id, p.TxID, txIDs)
				}
			}
		})
	}
}

// idsOnly is the applied of a double that records ids only (a chain
// without sequences).
func idsOnly(ids func() []string) func() []accepted {
	return func() []accepted {
		var out []accepted
		for _, id := range ids() {
			out = append(out, accepted{txID: id})
		}
		return out
	}
}

// testnetRow is a chain's first testnet signing vector, or its first one.
func testnetRow(t *testing.T, code string) vectors.Signing {
	t.Helper()
	rows := chaintest.SigningRows(t, code)
	for _, r := range rows {
		if r.Testnet {
			return r
		}
	}
	return rows[0]
}
