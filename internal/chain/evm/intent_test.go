package evm

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

// erc20 is the token interface as go-ethereum's ABI package reads it: the
// tests take selectors and arguments from it, not from the code under test.
var erc20 = func() abi.ABI {
	a, err := abi.JSON(strings.NewReader(`[
		{"type":"function","name":"transfer","inputs":[{"name":"to","type":"address"},{"name":"value","type":"uint256"}]},
		{"type":"function","name":"transferFrom","inputs":[{"name":"from","type":"address"},{"name":"to","type":"address"},{"name":"value","type":"uint256"}]}]`))
	if err != nil {
		panic(err)
	}
	return a
}()

// vectorFields are a row's transaction fields as the vector states them: the
// serialized Tatum config, or the reference tool's unsigned_fields of a
// native row.
type vectorFields struct {
	To, Value, Data, Nonce, Gas, GasPrice, MaxFee, Tip, ChainID, FeeCurrency string
}

func fieldsOf(t *testing.T, v vectors.Signing) vectorFields {
	t.Helper()
	raw := map[string]json.RawMessage{}
	src := []byte(v.PendingTransaction.SerializedTransaction)
	if v.Format == FormatNative {
		src = v.UnsignedFields
	}
	if err := json.Unmarshal(src, &raw); err != nil {
		t.Fatal(err)
	}
	str := func(keys ...string) string {
		for _, k := range keys {
			b, ok := raw[k]
			if !ok {
				continue
			}
			s := strings.Trim(string(b), `"`)
			if n, ok := new(big.Int).SetString(s, 0); ok && k != "to" && k != "data" && k != "feeCurrency" {
				return n.String() // decimal, whether the vector wrote hex, a string or a number
			}
			return s
		}
		return ""
	}
	value := str("value")
	if value == "" {
		value = "0" // web3's default, which a config without value gets
	}
	return vectorFields{To: str("to"), Value: value, Data: str("data"), Nonce: str("nonce"),
		Gas: str("gas", "gasLimit"), GasPrice: str("gasPrice"), MaxFee: str("maxFeePerGas"),
		Tip: str("maxPriorityFeePerGas"), ChainID: str("chainId"), FeeCurrency: str("feeCurrency")}
}

func decimal(t *testing.T, s string) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		t.Fatalf("not a decimal: %q", s)
	}
	return n
}

// want is the intent a row's own fields describe. prefix is how the chain
// spells addresses, taken from the vector's expected sender.
func (f vectorFields) want(t *testing.T, v vectors.Signing, prefix string) intent.Intent {
	t.Helper()
	addr := func(a string) string { return prefix + strings.ToLower(strings.TrimPrefix(a, "0x")) }
	nonce := decimal(t, f.Nonce).Uint64()
	w := intent.Intent{Chain: v.Chain, Network: map[bool]string{false: "mainnet", true: "testnet"}[v.Testnet],
		ChainID: f.ChainID, Signers: []string{}, Transfers: []intent.Transfer{}, Sequence: &nonce}
	price, tip := f.GasPrice, f.Tip
	if f.MaxFee != "" {
		price = f.MaxFee
	}
	if f.FeeCurrency != "" && tip == "" {
		tip = price // a CIP-64 transaction made from a gasPrice caps both fees at it
	}
	w.Fee = &intent.Fee{GasPrice: price, MaxPriorityFeePerGas: tip, GasLimit: f.Gas,
		Max: new(big.Int).Mul(decimal(t, price), decimal(t, f.Gas)).String()}
	if f.FeeCurrency != "" {
		w.Fee.Asset = addr(f.FeeCurrency)
	}
	data := common.FromHex(f.Data)
	if f.Value != "0" || len(data) == 0 {
		w.Transfers = append(w.Transfers, intent.Transfer{To: addr(f.To), Amount: f.Value})
	}
	if len(data) > 0 {
		w.Calls = []intent.Call{{Contract: addr(f.To), Method: "0x" + hex.EncodeToString(data[:4]), Data: strings.ToLower(f.Data)}}
		if m, err := erc20.MethodById(data[:4]); err == nil && m.Name == "transfer" {
			args, err := m.Inputs.Unpack(data[4:])
			if err != nil {
				t.Fatal(err)
			}
			w.Transfers = append(w.Transfers, intent.Transfer{To: addr(args[0].(common.Address).Hex()),
				Amount: args[1].(*big.Int).String(), Asset: addr(f.To)})
		}
	}
	return w
}

// Every EVM signing row decodes into the intent its own fields describe; a
// Tatum row given the vector's expected sender as `from` names it as its
// signer, spelled as the vector spells it.
func TestIntentVectors(t *testing.T) {
	n := 0
	for _, code := range []string{"ETH", "BSC", "MATIC", "CELO", "ONE", "XDC", "KLAY"} {
		c := byCode(code)
		for _, v := range chaintest.SigningRows(t, code) {
			n++
			name := code + "/" + v.Format + "/" + v.PendingTransaction.ID
			var exp expectedSigned
			if err := json.Unmarshal(v.Expected, &exp); err != nil || len(exp.From) < 42 {
				t.Fatalf("%s: expected.from %q (%v)", name, exp.From, err)
			}
			want := fieldsOf(t, v).want(t, v, exp.From[:len(exp.From)-40])
			ser := v.PendingTransaction.SerializedTransaction
			got, err := c.Intent(ser, v.Testnet)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s:\n got %s\nwant %s", name, js(got), js(want))
			}
			if v.Format != FormatTatum {
				continue
			}
			withFrom := strings.Replace(ser, "{", `{"from":"0x`+strings.ToUpper(exp.From[len(exp.From)-40:])+`",`, 1)
			got, err = c.Intent(withFrom, v.Testnet)
			if want.Signers = []string{exp.From}; err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s with from: %v\n got %s\nwant %s", name, err, js(got), js(want))
			}
		}
	}
	if n != 42 || n != countRows(all) {
		t.Fatalf("decoded %d EVM signing rows, want 42 and the vector file's %d", n, countRows(all))
	}
}

func countRows(cs []*Chain) int {
	n := 0
	for _, c := range cs {
		n += vectors.CountRows("signing", c.Info().Code)
	}
	return n
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// unsignedOf is the unsigned serialization of tx on chain id as ethers
// writes it (legacy: RLP with chain id, 0, 0 in place of the signature;
// typed: type ‖ RLP of the fields without one), checked against
// go-ethereum's signing hash so that the bytes are the transaction
// go-ethereum would sign.
func unsignedOf(t *testing.T, tx *types.Transaction, id *big.Int) string {
	t.Helper()
	var to any = tx.To()
	if tx.To() == nil {
		to = []byte{}
	}
	var fields []any
	switch tx.Type() {
	case types.LegacyTxType:
		fields = []any{tx.Nonce(), tx.GasPrice(), tx.Gas(), to, tx.Value(), tx.Data(), id, uint(0), uint(0)}
	case types.DynamicFeeTxType:
		fields = []any{id, tx.Nonce(), tx.GasTipCap(), tx.GasFeeCap(), tx.Gas(), to, tx.Value(), tx.Data(), tx.AccessList()}
	default:
		t.Fatalf("type %d", tx.Type())
	}
	raw, err := rlp.EncodeToBytes(fields)
	if err != nil {
		t.Fatal(err)
	}
	if tx.Type() != types.LegacyTxType {
		raw = append([]byte{tx.Type()}, raw...)
	}
	if h := types.LatestSignerForChainID(id).Hash(tx); h != crypto.Keccak256Hash(raw) {
		t.Fatal("hand-made unsigned bytes are not the transaction go-ethereum signs")
	}
	return "0x" + hex.EncodeToString(raw)
}

// Native transactions built with go-ethereum's types: an EIP-1559 ERC-20
// transfer carrying value too, and a legacy contract creation with value.
// The expected intents come from go-ethereum's accessors (the fee ceiling
// from its Cost) and its ABI package.
func TestIntentNative(t *testing.T) {
	token := common.HexToAddress("0xdAC17F958D2ee523a2206206994597C13D831ec7")
	rcpt := common.HexToAddress("0x00000000000000000000000000000000DeaDBeef")
	data, err := erc20.Pack("transfer", rcpt, big.NewInt(1_234_567))
	if err != nil {
		t.Fatal(err)
	}
	tx := types.NewTx(&types.DynamicFeeTx{ChainID: big.NewInt(51), Nonce: 42, GasTipCap: big.NewInt(2_000_000_007),
		GasFeeCap: big.NewInt(90_000_000_011), Gas: 65_537, To: &token, Value: big.NewInt(5), Data: data})
	got, err := XDC.Intent(unsignedOf(t, tx, tx.ChainId()), true)
	if err != nil {
		t.Fatal(err)
	}
	nonce := tx.Nonce()
	xdc := func(a common.Address) string { return "xdc" + strings.ToLower(a.Hex()[2:]) }
	want := intent.Intent{Chain: "XDC", Network: "testnet", ChainID: "51", Signers: []string{}, Sequence: &nonce,
		Transfers: []intent.Transfer{{To: xdc(token), Amount: "5"}, {To: xdc(rcpt), Amount: "1234567", Asset: xdc(token)}},
		Fee: &intent.Fee{Max: new(big.Int).Sub(tx.Cost(), tx.Value()).String(), GasPrice: "90000000011",
			MaxPriorityFeePerGas: "2000000007", GasLimit: "65537"},
		Calls: []intent.Call{{Contract: xdc(token), Method: "0x" + hex.EncodeToString(erc20.Methods["transfer"].ID),
			Data: "0x" + hex.EncodeToString(data)}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("EIP-1559 transfer:\n got %s\nwant %s", js(got), js(want))
	}

	create := types.NewTx(&types.LegacyTx{Nonce: 0, GasPrice: big.NewInt(7), Gas: 100_000, Value: big.NewInt(9), Data: []byte{0x60, 0x80}})
	got, err = ETH.Intent(unsignedOf(t, create, big.NewInt(1)), false)
	if err != nil {
		t.Fatal(err)
	}
	nonce = 0
	want = intent.Intent{Chain: "ETH", Network: "mainnet", ChainID: "1", Signers: []string{}, Sequence: &nonce,
		Transfers: []intent.Transfer{{To: "", Amount: "9"}},
		Fee:       &intent.Fee{Max: new(big.Int).Sub(create.Cost(), create.Value()).String(), GasPrice: "7", GasLimit: "100000"},
		Calls:     []intent.Call{{Contract: "", Data: "0x6080"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("creation:\n got %s\nwant %s", js(got), js(want))
	}
}

// A Tatum transferFrom with its sender named, a transaction the server has
// not completed yet (no fee, nonce or chain id: the intent leaves them out),
// and a CELO transaction paying its fee in a token.
func TestIntentTatum(t *testing.T) {
	owner := common.HexToAddress("0x1111111111111111111111111111111111111111")
	rcpt := common.HexToAddress("0x2222222222222222222222222222222222222222")
	data, err := erc20.Pack("transferFrom", owner, rcpt, new(big.Int).Lsh(big.NewInt(1), 200))
	if err != nil {
		t.Fatal(err)
	}
	ser := `{"from":"0xB157E208264FF9EDEBBCB1D36E66D156DF8AFA6C","to":"0x55d398326f99059ff775485246999027b3197955",` +
		`"data":"0x` + hex.EncodeToString(data) + `","gasPrice":"0x3","gas":"70000","nonce":"0x0","chainId":"0x61"}`
	got, err := BSC.Intent(ser, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Transfers) != 1 || got.Transfers[0] != (intent.Transfer{To: strings.ToLower(rcpt.Hex()),
		Amount: new(big.Int).Lsh(big.NewInt(1), 200).String(), Asset: "0x55d398326f99059ff775485246999027b3197955"}) {
		t.Errorf("transferFrom transfers %s", js(got.Transfers))
	}
	if got.Sequence == nil || *got.Sequence != 0 || got.ChainID != "97" || got.Fee.Max != "210000" ||
		!reflect.DeepEqual(got.Signers, []string{"0xb157e208264ff9edebbcb1d36e66d156df8afa6c"}) ||
		len(got.Calls) != 1 || got.Calls[0].Method != "0x"+hex.EncodeToString(erc20.Methods["transferFrom"].ID) {
		t.Errorf("transferFrom intent %s", js(got))
	}

	got, err = ETH.Intent(`{"to":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","value":"0"}`, true)
	want := intent.Intent{Chain: "ETH", Network: "testnet", Signers: []string{},
		Transfers: []intent.Transfer{{To: "0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6", Amount: "0"}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("incomplete: %v\n got %s\nwant %s", err, js(got), js(want))
	}
	got, err = ETH.Intent(`{"to":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","value":"1","maxFeePerGas":"10"}`, true)
	if err != nil || !reflect.DeepEqual(got.Fee, &intent.Fee{GasPrice: "10"}) {
		t.Errorf("partial fee: %v %s", err, js(got.Fee))
	}

	got, err = CELO.Intent(`{"to":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","value":"3","gas":21000,"nonce":1,"chainId":44787,`+
		`"maxFeePerGas":"100","maxPriorityFeePerGas":"2","feeCurrency":"0x874069FA1EB16D44D622F2E0CA25EEA172369BC1"}`, true)
	if err != nil || !reflect.DeepEqual(got.Fee, &intent.Fee{Max: "2100000", GasPrice: "100", MaxPriorityFeePerGas: "2",
		GasLimit: "21000", Asset: "0x874069fa1eb16d44d622f2e0ca25eea172369bc1"}) {
		t.Errorf("CELO fee currency: %v %s", err, js(got.Fee))
	}
}

// Intent refuses what Sign refuses for the network: another chain's id (with
// ErrWrongNetwork, unless configuration accepts it), and anything malformed
// (with ErrInvalidTx).
func TestIntentRefuses(t *testing.T) {
	bsc := chaintest.SigningRows(t, "BSC")[0]
	if bsc.Testnet {
		bsc = chaintest.SigningRows(t, "BSC")[1]
	}
	ser := bsc.PendingTransaction.SerializedTransaction // chain id 56
	for _, c := range []struct {
		chain   *Chain
		testnet bool
	}{{ETH, false}, {ETH, true}, {BSC, true}} {
		if _, err := c.chain.Intent(ser, c.testnet); !errors.Is(err, chain.ErrWrongNetwork) {
			t.Errorf("%s testnet=%v: chain id 56 gave %v", c.chain.Info().Code, c.testnet, err)
		}
	}
	if _, err := ETH.Intent(ser, false, 56); err != nil {
		t.Errorf("chain id 56 accepted by configuration: %v", err)
	}
	garbage := append(slices.Clone(chaintest.CommonGarbage),
		`{"to":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","value":"1","extra":1}`,
		`{"to":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","value":"-1"}`,
		"0xea118477359401825208944d43da4525950b98fb4a0666d3c486444b55925e8701c6bf526340008080", // no chain id
		"0x03c0")
	for _, g := range garbage {
		if _, err := ETH.Intent(g, false); !errors.Is(err, chain.ErrInvalidTx) {
			t.Errorf("%.60q: %v", g, err)
		}
	}
}

// FuzzIntent: Intent never panics, refuses only with the codec's errors, and
// agrees with Sign: what Intent refuses Sign refuses; what it accepts Sign
// signs unless it is incomplete or names another sender than the key's; and
// what Sign signs has the intent's nonce, chain id, gas, fee ceiling, value
// and data.
func FuzzIntent(f *testing.F) {
	for _, v := range vectors.Signings() {
		if byCode(v.Chain) != nil {
			f.Add(v.PendingTransaction.SerializedTransaction)
		}
	}
	f.Add(`{"from":"0xb157e208264ff9edebbcb1d36e66d156df8afa6c","data":"0x6080","value":"1","gasPrice":"1","gas":53000,"nonce":0,"chainId":11155111}`)
	f.Add(`{"to":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","data":"0xa9059cbb00","gas":1,"nonce":1,"chainId":1,"maxFeePerGas":"5","maxPriorityFeePerGas":"6"}`)
	f.Add(`{"to":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","value":"3","gas":21000,"nonce":1,"chainId":44787,"gasPrice":"100","feeCurrency":"0x874069FA1EB16D44D622F2E0CA25EEA172369BC1"}`)
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range []*Chain{ETH, CELO, XDC} {
			for _, testnet := range []bool{false, true} {
				fuzzIntentOne(t, c, s, testnet)
			}
		}
	})
}

func fuzzIntentOne(t *testing.T, c *Chain, s string, testnet bool) {
	in, err := c.Intent(s, testnet)
	signed, serr := c.Sign(context.Background(), chain.SignRequest{Serialized: s, Testnet: testnet, Keys: []string{ethKey0}})
	if err != nil {
		if !errors.Is(err, chain.ErrInvalidTx) && !errors.Is(err, chain.ErrWrongNetwork) {
			t.Fatalf("%s: refusal wraps neither ErrInvalidTx nor ErrWrongNetwork: %v", c.Info().Code, err)
		}
		if serr == nil {
			t.Fatalf("%s: Intent refused (%v) what Sign signed", c.Info().Code, err)
		}
		return
	}
	if serr != nil {
		if !errors.Is(serr, ErrIncompleteTx) && !errors.Is(serr, chain.ErrWrongSigner) {
			t.Fatalf("%s: Intent accepted what Sign refuses: %v", c.Info().Code, serr)
		}
		return
	}
	raw := common.FromHex(signed.TxData)
	if len(raw) > 0 && raw[0] == TypeCeloFeeCurrency {
		return // go-ethereum does not decode it; TestIntentTatum covers its fee
	}
	var tx types.Transaction
	if err := tx.UnmarshalBinary(raw); err != nil {
		t.Fatalf("signed output does not decode: %v", err)
	}
	fee := new(big.Int).Sub(tx.Cost(), tx.Value())
	var data string
	if len(in.Calls) > 0 {
		data = in.Calls[0].Data
	}
	if in.Sequence == nil || *in.Sequence != tx.Nonce() || in.ChainID != tx.ChainId().String() || in.Fee == nil ||
		in.Fee.GasLimit != big.NewInt(int64(tx.Gas())).String() || in.Fee.Max != fee.String() ||
		data != hexOrEmpty(tx.Data()) || (tx.Value().Sign() > 0 && in.Transfers[0].Amount != tx.Value().String()) ||
		(tx.To() == nil) != (len(in.Calls) == 1 && in.Calls[0].Contract == "") {
		t.Fatalf("%s: intent %s does not describe the signed transaction %s", c.Info().Code, js(in), signed.TxData)
	}
}

func hexOrEmpty(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return "0x" + hex.EncodeToString(b)
}
