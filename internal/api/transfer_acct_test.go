package api

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Peersyst/xrpl-go/xrpl/transaction"
	"github.com/Peersyst/xrpl-go/xrpl/transaction/types"
	"github.com/btcsuite/btcd/btcutil/base58"
	"github.com/fbsobreira/gotron-sdk/pkg/proto/core"
	solana "github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/programs/system"
	"github.com/stellar/go-stellar-sdk/txnbuild"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/broadcast/nodetest"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/chain/sol"
	"github.com/custoskms/custos/internal/chain/tron"
	"github.com/custoskms/custos/internal/chain/xlm"
	"github.com/custoskms/custos/internal/chain/xrp"
)

// The account chains' transfers are tested through the route with the
// chains' own codecs and node doubles (no local node exists for them): the
// server builds the transaction, allocates its sequence and completes it from
// the double; what it queued must be, field by field, what the chain's own Go
// library builds for the same inputs and the values the double answered, and
// it must sign to a transaction the double (which verifies signatures and
// the filled fields as a node would) accepts.

// acctEnv is an env whose chains are the real ones.
func acctEnv(t *testing.T) *env {
	e := newEnv(t)
	e.srv.lookupChain = chains.Lookup
	return e
}

// newWallet is a fresh key of c and its address.
func newWallet(t *testing.T, c chain.Chain) (key, address string) {
	t.Helper()
	g := c.(interface {
		GeneratePrivateKey(io.Reader, bool) (string, error)
	})
	key, err := g.GeneratePrivateKey(rand.Reader, false)
	if err != nil {
		t.Fatal(err)
	}
	address, err = c.(chain.Deriver).AddressFromPrivateKey(key, false)
	if err != nil {
		t.Fatal(err)
	}
	return key, address
}

// queuedTransfer posts a transfer and returns the transaction it queued.
func queuedTransfer(t *testing.T, e *env, slug, key, body string) (serialized string, hashes []string, index *uint32) {
	t.Helper()
	var got struct{ SignatureID string }
	e.do("POST", "/v3/"+slug+"/transaction", key, body).want(t, 200, &got)
	var tx struct {
		SerializedTransaction string
		Hashes                []string
		Index                 *uint32
	}
	e.do("GET", "/v3/kms/"+got.SignatureID, key, nil).want(t, 200, &tx)
	return tx.SerializedTransaction, tx.Hashes, tx.Index
}

// serveNode serves a node double on loopback for the test and sets the
// client dial makes of it (at path) as the chain's node for the network.
func serveNode[C broadcast.Client](t *testing.T, e *env, code string, testnet bool, h http.Handler, path string, dial func(string) (C, error)) C {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	node, err := dial(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	e.nodes.Set(code, testnet, node)
	return node
}

// normalJSON is v as encoding/json reads it back, numbers as float64, for
// comparing two encoders' output field by field.
func normalJSON(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := v.(string); ok {
		b = []byte(s)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTransferXRPMatchesXrplGo(t *testing.T) {
	e := acctEnv(t)
	key, sender := newWallet(t, xrp.XRP)
	_, dest := newWallet(t, xrp.XRP)
	f := &nodetest.Rippled{T: t, Seq: map[string]uint32{sender: 41}, Validated: 90_000_000}
	node := serveNode(t, e, "XRP", false, f, "", broadcast.DialXRPL)

	src, dst := uint32(7), uint32(1<<32-1)
	for _, c := range []struct {
		name, extra string
		fee         types.XRPCurrencyAmount
		last        uint32
	}{
		// The double's open-ledger fee; completing it sets LastLedgerSequence.
		{"fee from the node", `,"sourceTag":7,"destinationTag":4294967295`, 12, 90_000_000 + xrp.LedgerWindow},
		// A given fee leaves nothing to complete: no LastLedgerSequence, as for POST /v3/kms.
		{"fee given", `,"fee":"0.000015","sourceTag":7,"destinationTag":4294967295`, 15, 0},
	} {
		seq := f.Seq[sender]
		ser, hashes, index := queuedTransfer(t, e, "xrp", e.keyA,
			`{"fromAccount":"`+sender+`","to":"`+dest+`","amount":"12.345678","signatureId":"`+sigA+`"`+c.extra+`}`)
		want := &transaction.Payment{
			BaseTx: transaction.BaseTx{Account: types.Address(sender), TransactionType: transaction.PaymentTx, Fee: c.fee,
				Sequence: seq, LastLedgerSequence: c.last, SourceTag: src},
			Amount: types.XRPCurrencyAmount(12_345_678), Destination: types.Address(dest), DestinationTag: &dst,
		}
		if got, exp := normalJSON(t, ser), normalJSON(t, want.Flatten()); !reflect.DeepEqual(got, exp) {
			t.Errorf("%s: queued\n %v\nxrpl-go builds\n %v", c.name, got, exp)
		}
		if !slices.Equal(hashes, []string{sigA}) || index != nil {
			t.Errorf("%s: hashes %v, index %v", c.name, hashes, index)
		}
		chaintest.SignAndBroadcast(t, xrp.XRP, node, chain.SignRequest{Serialized: ser, Keys: []string{key}})
	}
}

func TestTransferXLMMatchesTxnbuild(t *testing.T) {
	e := acctEnv(t)
	key, sender := newWallet(t, xlm.XLM)
	_, dest := newWallet(t, xlm.XLM)
	f := &nodetest.Horizon{T: t, Seq: map[string]int64{sender: 123 << 32}}
	node := serveNode(t, e, "XLM", true, f, "/horizon", broadcast.DialStellar)

	hash := strings.Repeat("ab", 32)
	for _, c := range []struct {
		name, extra string
		op          txnbuild.Operation
		memo        txnbuild.Memo
	}{
		{"payment", `,"message":"invoice 42"`,
			&txnbuild.Payment{Destination: dest, Amount: "1.5000001", Asset: txnbuild.NativeAsset{}}, txnbuild.MemoText("invoice 42")},
		{"initialize", `,"initialize":true,"message":"` + hash + `"`,
			&txnbuild.CreateAccount{Destination: dest, Amount: "1.5000001"}, txnbuild.MemoHash([32]byte(mustHex(t, hash)))},
		{"no memo", ``, &txnbuild.Payment{Destination: dest, Amount: "1.5000001", Asset: txnbuild.NativeAsset{}}, nil},
	} {
		seq := f.Seq[sender]
		before := time.Now().Add(xlm.TimeWindow).Unix()
		ser, hashes, _ := queuedTransfer(t, e, "xlm", e.keyTest,
			`{"fromAccount":"`+sender+`","to":"`+dest+`","amount":"1.5000001","signatureId":"`+sigA+`"`+c.extra+`}`)
		got, err := txnbuild.TransactionFromXDR(ser)
		if err != nil {
			t.Fatalf("%s: the SDK cannot read the queued envelope: %v", c.name, err)
		}
		gt, _ := got.Transaction()
		maxTime := gt.Timebounds().MaxTime
		if maxTime < before || maxTime > time.Now().Add(xlm.TimeWindow).Unix() {
			t.Errorf("%s: maxTime %d, want now + %s", c.name, maxTime, xlm.TimeWindow)
		}
		want, err := txnbuild.NewTransaction(txnbuild.TransactionParams{
			SourceAccount:        &txnbuild.SimpleAccount{AccountID: sender, Sequence: seq},
			IncrementSequenceNum: true,
			Operations:           []txnbuild.Operation{c.op},
			BaseFee:              250, // the double's fee_charged p90
			Memo:                 c.memo,
			Preconditions:        txnbuild.Preconditions{TimeBounds: txnbuild.NewTimebounds(0, maxTime)},
		})
		if err != nil {
			t.Fatal(err)
		}
		if exp, _ := want.Base64(); ser != exp {
			t.Errorf("%s: queued\n %s\ntxnbuild builds\n %s", c.name, ser, exp)
		}
		if !slices.Equal(hashes, []string{sigA}) {
			t.Errorf("%s: hashes %v", c.name, hashes)
		}
		chaintest.SignAndBroadcast(t, xlm.XLM, node, chain.SignRequest{Serialized: ser, Testnet: true, Keys: []string{key}})
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTransferTRONMatchesGotron(t *testing.T) {
	e := acctEnv(t)
	key, sender := newWallet(t, tron.TRON)
	_, dest := newWallet(t, tron.TRON)
	const now = 1_900_000_000_000
	f := &nodetest.Tron{T: t}
	f.Now.Store(now)
	node := serveNode(t, e, "TRON", false, f, "", broadcast.DialTron)

	ser, hashes, index := queuedTransfer(t, e, "tron", e.keyA,
		`{"from":"`+sender+`","to":"`+dest+`","amount":"1234.000001","signatureId":"`+sigA+`","index":3}`)
	param, err := anypb.New(&core.TransferContract{OwnerAddress: tronBytes(t, sender), ToAddress: tronBytes(t, dest), Amount: 1_234_000_001})
	if err != nil {
		t.Fatal(err)
	}
	block := mustHex(t, nodetest.TronNowBlockID)
	want := &core.TransactionRaw{
		Contract:      []*core.Transaction_Contract{{Type: core.Transaction_Contract_TransferContract, Parameter: param}},
		RefBlockBytes: block[6:8], RefBlockHash: block[8:16], // the double's now block
		Expiration: now + tron.ExpirationWindow.Milliseconds(), Timestamp: now,
	}
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		TxID       string `json:"txID"`
		RawDataHex string `json:"raw_data_hex"`
		RawData    struct {
			Contract []struct {
				Type      string
				Parameter struct {
					TypeURL string `json:"type_url"`
					Value   struct {
						Amount int64
						Owner  string `json:"owner_address"`
						To     string `json:"to_address"`
					}
				}
			}
			RefBlockBytes string `json:"ref_block_bytes"`
			RefBlockHash  string `json:"ref_block_hash"`
			Expiration    int64
			Timestamp     int64
		} `json:"raw_data"`
	}
	if err := json.Unmarshal([]byte(ser), &got); err != nil {
		t.Fatal(err)
	}
	id := sha256.Sum256(raw)
	if got.RawDataHex != hex.EncodeToString(raw) || got.TxID != hex.EncodeToString(id[:]) {
		t.Errorf("queued raw_data_hex %s txID %s\ngotron-sdk builds %x, %x", got.RawDataHex, got.TxID, raw, id)
	}
	// raw_data is what TronWeb and Tatum's SDK read: the same fields in JSON.
	rd, c := got.RawData, got.RawData.Contract
	if len(c) != 1 || c[0].Type != "TransferContract" || c[0].Parameter.TypeURL != param.TypeUrl ||
		c[0].Parameter.Value.Amount != 1_234_000_001 || c[0].Parameter.Value.Owner != hex.EncodeToString(tronBytes(t, sender)) ||
		c[0].Parameter.Value.To != hex.EncodeToString(tronBytes(t, dest)) || rd.RefBlockBytes != hex.EncodeToString(want.RefBlockBytes) ||
		rd.RefBlockHash != hex.EncodeToString(want.RefBlockHash) || rd.Expiration != want.Expiration || rd.Timestamp != now {
		t.Errorf("queued raw_data %+v", rd)
	}
	if !slices.Equal(hashes, []string{sigA}) || index == nil || *index != 3 {
		t.Errorf("hashes %v, index %v", hashes, index)
	}
	chaintest.SignAndBroadcast(t, tron.TRON, node, chain.SignRequest{Serialized: ser, Keys: []string{key}})
}

// tronBytes is a T… address's 21 bytes.
func tronBytes(t *testing.T, a string) []byte {
	t.Helper()
	b, version, err := base58.CheckDecode(a)
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte{version}, b...)
}

func TestTransferSOLMatchesSolanaGo(t *testing.T) {
	e := acctEnv(t)
	key, sender := newWallet(t, sol.SOL)
	payerKey, payer := newWallet(t, sol.SOL)
	_, dest := newWallet(t, sol.SOL)
	f := &nodetest.Solana{T: t}
	latest := solana.Hash{7, 7, 7}
	f.SetLatest(latest)
	node := serveNode(t, e, "SOL", false, f, "", broadcast.DialSolana)

	for _, c := range []struct {
		name, extra string
		payer       string
		hashes      []string
		keys        []string
	}{
		{"from pays", ``, sender, []string{sigA}, []string{key}},
		{"fee payer", `,"feePayer":"` + payer + `","feePayerSignatureId":"` + sigB + `"`, payer, []string{sigB, sigA}, []string{payerKey, key}},
		{"to itself", ``, sender, []string{sigA}, []string{key}},
	} {
		to := dest
		if c.name == "to itself" {
			to = sender
		}
		ser, hashes, _ := queuedTransfer(t, e, "solana", e.keyA,
			`{"from":"`+sender+`","to":"`+to+`","amount":"0.000000001","signatureId":"`+sigA+`"`+c.extra+`}`)
		want, err := solana.NewTransaction([]solana.Instruction{
			system.NewTransferInstruction(1, solana.MustPublicKeyFromBase58(sender), solana.MustPublicKeyFromBase58(to)).Build(),
		}, latest, solana.TransactionPayer(solana.MustPublicKeyFromBase58(c.payer)))
		if err != nil {
			t.Fatal(err)
		}
		msg, err := want.Message.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if exp := `{"txData":"` + hex.EncodeToString(msg) + `"}`; ser != exp {
			t.Errorf("%s: queued\n %s\nsolana-go builds\n %s", c.name, ser, exp)
		}
		if !slices.Equal(hashes, c.hashes) {
			t.Errorf("%s: hashes %v, want %v", c.name, hashes, c.hashes)
		}
		chaintest.SignAndBroadcast(t, sol.SOL, node, chain.SignRequest{Serialized: ser, Keys: c.keys})
	}
}

// A request the builder refuses is a 400 listing every problem, before the
// node is asked anything.
func TestTransferAccountChainsRefuse(t *testing.T) {
	e := acctEnv(t)
	_, xrpA := newWallet(t, xrp.XRP)
	_, xlmA := newWallet(t, xlm.XLM)
	_, tronA := newWallet(t, tron.TRON)
	_, solA := newWallet(t, sol.SOL)
	_, solB := newWallet(t, sol.SOL)
	for _, c := range []struct {
		slug, body string
		want       []string
	}{
		{"xrp", `{"fromAccount":"` + xrpA + `","to":"` + xrpA + `","amount":"1.0000001","fee":"0","signatureId":"` + sigA + `"}`,
			[]string{"to: must not be fromAccount", `amount: has more than the asset's 6 decimals, got "1.0000001"`, "fee: must be more than 0"}},
		{"xrp", `{"fromAccount":"x","amount":"100000000001","destinationTag":-1}`,
			[]string{"destinationTag: must not be a JSON number -1"}},
		{"xrp", `{"fromAccount":"x","amount":"100000000000.000001"}`,
			[]string{"fromAccount: must be a classic XRP address (r…)", "to: is required",
				`amount: is more than the chain can transfer in one transaction, got "100000000000.000001"`, "signatureId: is required"}},
		{"xlm", `{"fromAccount":"` + xlmA + `","to":"GABC","amount":"-1","message":"` + strings.Repeat("x", 29) + `","signatureId":"` + sigA + `"}`,
			[]string{"to: must be a Stellar account address (G…)", `amount: must be a non-negative decimal number such as 1.5, got "-1"`,
				"message: longer than 28 characters must be a hash memo of 64 hex digits"}},
		{"xlm", `{"fromAccount":"` + xlmA + `","to":"` + xlmA + `","amount":"0","message":"é","signatureId":"` + sigA + `"}`,
			[]string{"to: must not be fromAccount", "amount: must be more than 0", "message: must be printable ASCII"}},
		{"tron", `{"from":"` + tronA + `","to":"` + xrpA + `","amount":"1e6","signatureId":"` + sigA + `"}`,
			[]string{"to: must be a TRON address (T…, base58)", `amount: must be a non-negative decimal number such as 1.5, got "1e6"`}},
		{"tron", `{"from":"` + tronA + `","to":"` + tronA + `","amount":"0.0000001","signatureId":"` + sigA + `"}`,
			[]string{"to: must not be from", `amount: has more than the asset's 6 decimals, got "0.0000001"`}},
		{"solana", `{"from":"` + solA + `","to":"` + solA + `","amount":"1.0000000001","signatureId":"` + sigA + `","feePayer":"` + xlmA + `"}`,
			[]string{`amount: has more than the asset's 9 decimals, got "1.0000000001"`, "feePayer: must be a Solana address (base58 of 32 bytes)"}},
		{"solana", `{"from":"` + solA + `","to":"` + solA + `","amount":"18446744073.709551616","signatureId":"` + sigA + `","feePayer":"` + solB + `"}`,
			[]string{`amount: is more than the chain can transfer in one transaction, got "18446744073.709551616"`, "feePayerSignatureId: is required when feePayer is not from"}},
		{"solana", `{"from":"` + solA + `","to":"` + solA + `","amount":"1","signatureId":"` + sigA + `","feePayerSignatureId":"` + sigB + `"}`,
			[]string{"feePayerSignatureId: must be signatureId or left out when from pays the fee"}},
		{"solana", `{"from":"` + solA + `","to":"11111111111111111111111111111111","amount":"1","signatureId":"` + sigA + `"}`,
			[]string{"to: must not be the system program"}},
	} {
		er := e.do("POST", "/v3/"+c.slug+"/transaction", e.keyA, c.body).wantError(t, 400, CodeValidation)
		if !slices.Equal(er.Data, c.want) {
			t.Errorf("%s %s:\n got %q\nwant %q", c.slug, c.body, er.Data, c.want)
		}
	}
}

// The builders' amounts are exact in each asset's base unit.
func TestTransferAmountsAreExact(t *testing.T) {
	for _, c := range []struct {
		decimals int
		in, want string
	}{
		{xrp.Decimals, "0.000001", "1"}, {xrp.Decimals, "+12.5", "12500000"}, {xrp.Decimals, "100000000000", "100000000000000000"},
		{xlm.Decimals, "0.0000001", "1"}, {xlm.Decimals, "922337203685.4775807", "9223372036854775807"},
		{tron.Decimals, ".5", "500000"}, {tron.Decimals, "7.", "7000000"},
		{sol.Decimals, "0.000000001", "1"}, {sol.Decimals, "18446744073.709551615", "18446744073709551615"},
	} {
		got, err := chain.ParseAmount("amount", c.in, c.decimals)
		if err != nil || got.String() != c.want {
			t.Errorf("%q at %d decimals: %v, %v; want %s", c.in, c.decimals, got, err, c.want)
		}
	}
}
