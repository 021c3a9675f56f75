package broadcast

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/flow"
	"github.com/custoskms/custos/internal/vectors"
)

// flowSigned signs a transfer whose proposer, payer and authorizer is one
// account holding the first FLOW derivation vector's key.
func flowSigned(t testing.TB) chain.Signed {
	var priv, pub string
	for _, v := range vectors.Derivations() {
		if v.Chain == "FLOW" {
			priv, pub = v.Indices[0].PrivateKey, v.Indices[0].Address
			break
		}
	}
	const acct = "8c5303eaa26202d6"
	tx, _ := json.Marshal(map[string]any{
		"script":             base64.StdEncoding.EncodeToString([]byte("transaction { prepare(a: AuthAccount) {} }")),
		"arguments":          []string{},
		"reference_block_id": "7bc42fe85d32ca513769a74f97f7e1a7bad6c9407f0d934c2aa645ef9cf613c7",
		"gas_limit":          "9999", "payer": acct, "authorizers": []string{acct},
		"proposal_key":        map[string]string{"address": acct, "key_index": "0", "sequence_number": "12"},
		"payload_signatures":  []any{},
		"envelope_signatures": []any{},
		"signer":              map[string]string{"address": acct, "key_index": "0", "public_key": pub},
	})
	s, err := flow.FLOW.Sign(context.Background(), chain.SignRequest{Serialized: string(tx), Keys: []string{priv}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The Access API's POST /v1/transactions takes the transaction JSON and
// answers 201 with the transaction and its id.
func TestFlowBroadcastPayload(t *testing.T) {
	s := flowSigned(t)
	f, srv := serveREST(t, "/v1/transactions", func(body []byte) (int, string) {
		var o map[string]any
		_ = json.Unmarshal(body, &o)
		o["id"] = s.TxID
		out, _ := json.Marshal(o)
		return 201, string(out)
	})
	got, err := dialed(t, "FLOW", srv.URL+"/v1").Broadcast(context.Background(), s.TxData)
	if err != nil || got != s.TxID {
		t.Fatalf("Broadcast = %q, %v; want %s", got, err, s.TxID)
	}
	sent := f.sent()
	if len(sent) != 1 || sent[0] != s.TxData {
		t.Fatalf("payload\n got %q\nwant %q", sent, s.TxData)
	}
}

func TestFlowBroadcastAnswers(t *testing.T) {
	s := flowSigned(t)
	ctx := context.Background()
	for name, c := range map[string]struct {
		status int
		body   string
		want   error
	}{
		"invalid":  {400, `{"code":400,"message":"invalid signature"}`, ErrRejected},
		"other id": {201, `{"id":"00"}`, ErrUnavailable},
		"no id":    {201, `{}`, ErrUnavailable},
		"down":     {500, `{"code":500,"message":"internal"}`, ErrUnavailable},
	} {
		_, srv := serveREST(t, "/v1/transactions", func([]byte) (int, string) { return c.status, c.body })
		client, _ := DialFlow(srv.URL)
		if _, err := client.Broadcast(ctx, s.TxData); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	_, srv := serveREST(t, "/nowhere", func([]byte) (int, string) { t.Error("node contacted"); return 500, "" })
	client, _ := DialFlow(srv.URL)
	var unsigned map[string]any
	_ = json.Unmarshal([]byte(s.TxData), &unsigned)
	unsigned["envelope_signatures"] = []any{}
	noEnvelope, _ := json.Marshal(unsigned)
	for _, bad := range []string{"", "{}", `{"type":2,"body":{}}`, string(noEnvelope)} {
		if _, err := client.Broadcast(ctx, bad); !errors.Is(err, ErrRejected) {
			t.Errorf("garbage %.40q: %v", bad, err)
		}
	}
}
