package broadcast

// Each node client's refusals, answered by a local server in the node's
// documented error shape: a refusal no retry heals matches ErrPermanent
// beside ErrRejected, one that may heal matches ErrRejected alone, and a
// node that cannot answer stays ErrUnavailable.

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// refusal is one node answer and how the client must classify it.
type refusal struct {
	name      string
	status    int
	answer    string
	permanent bool
}

// checkRefusals broadcasts txData once per case, the node answering with the
// case's status and body, and checks the error's class.
func checkRefusals(t *testing.T, cases []refusal, serve func(answer func() (int, string)) Client, txData string) {
	t.Helper()
	var cur refusal
	c := serve(func() (int, string) { return cur.status, cur.answer })
	for _, cur = range cases {
		_, err := c.Broadcast(context.Background(), txData)
		if !errors.Is(err, ErrRejected) {
			t.Errorf("%s: %v, want a rejection", cur.name, err)
			continue
		}
		if got := errors.Is(err, ErrPermanent); got != cur.permanent {
			t.Errorf("%s: permanent = %v, want %v (%v)", cur.name, got, cur.permanent, err)
		}
	}
}

func TestEVMRefusals(t *testing.T) {
	signed, _ := signedVector(t, "ETH")
	var sendErr string
	lookup := `null` // the node does not hold the transaction
	srv := nodeServer(t, "/", "application/json", func(body []byte) (int, string) {
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		_ = json.Unmarshal(body, &req)
		switch req.Method {
		case "eth_sendRawTransaction":
			return 200, `{"jsonrpc":"2.0","id":` + string(req.ID) + `,"error":{"code":-32000,"message":"` + sendErr + `"}}`
		case "eth_getTransactionByHash":
			if lookup == "" {
				return 200, `{"jsonrpc":"2.0","id":` + string(req.ID) + `,"error":{"code":-32603,"message":"index not ready"}}`
			}
			return 200, `{"jsonrpc":"2.0","id":` + string(req.ID) + `,"result":` + lookup + `}`
		}
		t.Errorf("method %s", req.Method)
		return 500, ""
	})
	c, err := DialEVM(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		msg       string
		permanent bool
	}{
		{"nonce too low: next nonce 5, tx nonce 3", true},
		{"NONCE_TOO_LOW", true},
		{"OldNonce", true},
		{"insufficient funds for gas * price + value: balance 0, tx cost 21000", true},
		{"intrinsic gas too low: gas 20000, minimum needed 21000", true},
		{"invalid sender", true},
		{"exceeds block gas limit", true},
		{"invalid chain id for signer: have 1 want 1337", true},
		{"WRONG_CHAIN_ID", true},
		{"max priority fee per gas higher than max fee per gas", true},
		{"replacement transaction underpriced", false},
		{"transaction underpriced: tip needed 1, tip permitted 0", false},
		{"max fee per gas less than block base fee", false},
		{"nonce too high", false},
		{"txpool is full", false},
	} {
		sendErr = tc.msg
		_, err := c.Broadcast(context.Background(), signed)
		if !errors.Is(err, ErrRejected) || errors.Is(err, ErrPermanent) != tc.permanent {
			t.Errorf("%q: %v, want permanent %v", tc.msg, err, tc.permanent)
		}
	}
	// "nonce too low" is final only once the node said it lacks this transaction.
	sendErr, lookup = "nonce too low", ""
	if _, err := c.Broadcast(context.Background(), signed); !errors.Is(err, ErrRejected) || errors.Is(err, ErrPermanent) {
		t.Errorf("nonce too low with a failed look-up: %v", err)
	}
}

func TestUTXORefusals(t *testing.T) {
	rpc := func(code int, msg string) string {
		return `{"result":null,"error":{"code":` + itoa(code) + `,"message":"` + msg + `"},"id":1}`
	}
	checkRefusals(t, []refusal{
		{"missing or spent", 500, rpc(-25, "bad-txns-inputs-missingorspent"), true},
		{"missing inputs (old)", 500, rpc(-25, "Missing inputs"), true},
		{"btcd orphan", 500, rpc(-22, "TX rejected: orphan transaction 00 references outputs of unknown or fully-spent transaction 11"), true},
		{"script", 500, rpc(-26, "non-mandatory-script-verify-flag (Signature must be zero for failed CHECK(MULTI)SIG operation)"), true},
		{"mandatory script", 500, rpc(-26, "mandatory-script-verify-flag-failed (Script evaluated without error but finished with a false/empty top stack element)"), true},
		{"dust", 500, rpc(-26, "dust"), true},
		{"consensus", 500, rpc(-26, "bad-txns-in-belowout"), true},
		{"decode", 500, rpc(-22, "TX decode failed"), true},
		{"max fee", 500, rpc(-25, "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)"), false},
		{"min relay fee", 500, rpc(-26, "min relay fee not met, 100 < 141"), false},
		{"mempool min fee", 500, rpc(-26, "mempool min fee not met"), false},
		{"conflict", 500, rpc(-26, "txn-mempool-conflict"), false},
		{"non-final", 500, rpc(-26, "non-final"), false},
		{"nonfinal", 500, rpc(-26, "bad-txns-nonfinal"), false},
		{"coinbase", 500, rpc(-26, "bad-txns-premature-spend-of-coinbase"), false},
		{"chain", 500, rpc(-26, "too-long-mempool-chain"), false},
	}, func(answer func() (int, string)) Client {
		srv := nodeServer(t, "/", "application/json", func([]byte) (int, string) { return answer() })
		return dialed(t, "BTC", srv.URL)
	}, utxoSigned)
}

func TestStellarRefusals(t *testing.T) {
	signed, _ := signedVector(t, "XLM")
	failed := func(tx, inner string, ops ...string) string {
		b, _ := json.Marshal(map[string]any{"type": "https://stellar.org/horizon-errors/transaction_failed", "title": "Transaction Failed",
			"status": 400, "extras": map[string]any{"result_codes": map[string]any{"transaction": tx, "inner_transaction": inner, "operations": ops}}})
		return string(b)
	}
	checkRefusals(t, []refusal{
		{"bad seq", 400, failed("tx_bad_seq", ""), true},
		{"insufficient balance", 400, failed("tx_insufficient_balance", ""), true},
		{"bad auth", 400, failed("tx_bad_auth", ""), true},
		{"underfunded", 400, failed("tx_failed", "", "op_underfunded"), true},
		{"too late", 400, failed("tx_too_late", ""), true},
		{"fee bump inner bad seq", 400, failed("tx_fee_bump_inner_failed", "tx_bad_seq"), true},
		{"too early", 400, failed("tx_too_early", ""), false},
		{"fee", 400, failed("tx_insufficient_fee", ""), false},
		{"no account", 400, failed("tx_no_source_account", ""), false},
		{"internal", 400, failed("tx_internal_error", ""), false},
	}, func(answer func() (int, string)) Client {
		srv := nodeServer(t, "/transactions", "application/x-www-form-urlencoded", func([]byte) (int, string) { return answer() })
		return dialed(t, "XLM", srv.URL)
	}, signed)
}

func TestXRPLRefusals(t *testing.T) {
	signed, txID := signedVector(t, "XRP")
	engine := func(r string) string {
		return `{"result":{"status":"success","engine_result":"` + r + `","engine_result_message":"m","tx_json":{"hash":"` + txID + `"}}}`
	}
	checkRefusals(t, []refusal{
		{"past seq", 200, engine("tefPAST_SEQ"), true},
		{"max ledger", 200, engine("tefMAX_LEDGER"), true},
		{"malformed", 200, engine("temMALFORMED"), true},
		{"bad amount", 200, engine("temBAD_AMOUNT"), true},
		{"unfunded", 200, engine("tecUNFUNDED_PAYMENT"), true},
		{"no dst", 200, engine("tecNO_DST_INSUF_XRP"), true},
		{"invalid blob", 200, `{"result":{"status":"error","error":"invalidTransaction","error_exception":"fails local checks"}}`, true},
		{"pre seq", 200, engine("terPRE_SEQ"), false},
		{"no account", 200, engine("terNO_ACCOUNT"), false},
		{"fee", 200, engine("telINSUF_FEE_P"), false},
		{"queue full", 200, engine("telCAN_NOT_QUEUE_FULL"), false},
		{"internal", 200, engine("tefINTERNAL"), false},
		{"other error", 200, `{"result":{"status":"error","error":"internal"}}`, false},
	}, func(answer func() (int, string)) Client {
		srv := nodeServer(t, "/", "application/json", func(body []byte) (int, string) {
			if strings.Contains(string(body), `"method":"tx"`) {
				return 200, `{"result":{"status":"error","error":"txnNotFound"}}`
			}
			return answer()
		})
		return dialed(t, "XRP", srv.URL)
	}, signed)
}

func TestMultiversXRefusals(t *testing.T) {
	signed, _ := egldSigned(t)
	gw := func(msg string) string { return `{"data":null,"error":"` + msg + `","code":"bad_request"}` }
	checkRefusals(t, []refusal{
		{"lower nonce", 400, gw("transaction generation failed: lowerNonceInTransaction"), true},
		{"lower nonce, spaced", 400, gw("lower nonce in transaction"), true},
		{"funds", 400, gw("transaction generation failed: insufficient funds"), true},
		{"gas limit", 400, gw("insufficient gas limit in tx"), true},
		{"chain id", 400, gw("invalid chain ID"), true},
		{"higher nonce", 400, gw("higher nonce in transaction"), false},
		{"gas price", 400, gw("insufficient gas price in tx"), false},
		{"too many", 400, gw("too many transactions from sender"), false},
	}, func(answer func() (int, string)) Client {
		_, srv := serveREST(t, "/transaction/send", func([]byte) (int, string) { return answer() })
		return dialed(t, "EGLD", srv.URL)
	}, signed)
}

func TestVeChainRefusals(t *testing.T) {
	signed, _ := vetSigned(t)
	checkRefusals(t, []refusal{
		{"expired", 400, "bad tx: expired", true},
		{"chain tag", 400, "bad tx: chain tag mismatch", true},
		{"signature", 400, "bad tx: invalid signature", true},
		{"energy", 403, "tx rejected: insufficient energy", true},
		{"pool full", 403, "tx rejected: pool is full", false},
		{"future", 400, "bad tx: tx too far in future", false},
	}, func(answer func() (int, string)) Client {
		_, srv := serveREST(t, "/transactions", func([]byte) (int, string) { return answer() })
		return dialed(t, "VET", srv.URL)
	}, signed)
}

func TestTronRefusals(t *testing.T) {
	signed, txID := signedVector(t, "TRON")
	code := func(c, msg string) string {
		return `{"code":"` + c + `","txid":"` + txID + `","message":"` + hex.EncodeToString([]byte(msg)) + `"}`
	}
	checkRefusals(t, []refusal{
		{"expired", 200, code("TRANSACTION_EXPIRATION_ERROR", "transaction expired"), true},
		{"balance", 200, code("CONTRACT_VALIDATE_ERROR", "Validate TransferContract error, balance is not sufficient."), true},
		{"signature", 200, code("SIGERROR", "validate signature error"), true},
		{"tapos", 200, code("TAPOS_ERROR", "Tapos check error"), true},
		{"bandwidth", 200, code("BANDWITH_ERROR", "account resource insufficient error."), false},
		{"other", 200, code("OTHER_ERROR", "other"), false},
	}, func(answer func() (int, string)) Client {
		srv := nodeServer(t, "/wallet/broadcasttransaction", "application/json", func([]byte) (int, string) { return answer() })
		return dialed(t, "TRON", srv.URL)
	}, signed)
}

func TestSolanaRefusals(t *testing.T) {
	signed, _ := signedVector(t, "SOL")
	rpcErr := func(code int, msg string) string {
		return `{"jsonrpc":"2.0","error":{"code":` + itoa(code) + `,"message":"` + msg + `"},"id":1}`
	}
	checkRefusals(t, []refusal{
		{"blockhash", 200, rpcErr(-32002, "Transaction simulation failed: Blockhash not found"), true},
		{"no account", 200, rpcErr(-32002, "Transaction simulation failed: Attempt to debit an account but found no record of a prior credit."), true},
		{"fee", 200, rpcErr(-32002, "Transaction simulation failed: Insufficient funds for fee"), true},
		{"signature", 200, rpcErr(-32003, "Transaction signature verification failure"), true},
		{"behind", 200, rpcErr(-32005, "Node is behind by 42 slots"), false},
		{"program", 200, rpcErr(-32002, "Transaction simulation failed: Error processing Instruction 0: custom program error: 0x10"), false},
	}, func(answer func() (int, string)) Client {
		srv := nodeServer(t, "/", "application/json", func([]byte) (int, string) { return answer() })
		return dialed(t, "SOL", srv.URL)
	}, signed)
}

func TestFlowRefusals(t *testing.T) {
	s := flowSigned(t)
	msg := func(m string) string { return `{"code":400,"message":"` + m + `"}` }
	checkRefusals(t, []refusal{
		{"expired", 400, msg("transaction is expired: ref_height=1 final_height=700"), true},
		{"signature", 400, msg("invalid signature: signature is not valid"), true},
		{"balance", 400, msg("transaction payer (8c5303eaa26202d6) has insufficient balance to pay transaction fee"), true},
		{"unknown block", 400, msg("unknown reference block"), false},
		{"rate", 400, msg("transaction rate limited for payer"), false},
	}, func(answer func() (int, string)) Client {
		_, srv := serveREST(t, "/v1/transactions", func([]byte) (int, string) { return answer() })
		return dialed(t, "FLOW", srv.URL)
	}, s.TxData)
}
