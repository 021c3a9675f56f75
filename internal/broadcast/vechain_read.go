package broadcast

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/custoskms/custos/internal/chain/vet"
)

var _ vet.Node = (*VeChainClient)(nil)

// BestBlock asks GET /blocks/best for the head a transaction's blockRef is
// taken from and its expiry is judged against.
func (c *VeChainClient) BestBlock(ctx context.Context) (vet.Block, error) {
	return c.block(ctx, "best")
}

// GenesisBlock asks GET /blocks/0, whose id's last byte is the network's chainTag.
func (c *VeChainClient) GenesisBlock(ctx context.Context) (vet.Block, error) {
	return c.block(ctx, "0")
}

func (c *VeChainClient) block(ctx context.Context, rev string) (_ vet.Block, err error) {
	defer scrub(&err, c.node.raw)
	path := "/blocks/" + rev
	status, data, err := c.node.do(ctx, http.MethodGet, "GET "+path, path, "", nil)
	if err != nil {
		return vet.Block{}, err
	}
	var b struct {
		ID     string `json:"id"`
		Number uint32 `json:"number"`
	}
	if status != http.StatusOK || json.Unmarshal(data, &b) != nil {
		return vet.Block{}, fmt.Errorf("%w: GET %s: HTTP %d: %s", ErrUnavailable, path, status, snippet(data))
	}
	id, err := hex.DecodeString(strings.TrimPrefix(b.ID, "0x"))
	if err != nil || len(id) != 32 {
		return vet.Block{}, fmt.Errorf("%w: GET %s answered no 32-byte block id", ErrUnavailable, path)
	}
	return vet.Block{ID: [32]byte(id), Number: b.Number}, nil
}

// ExecuteClauses runs clauses on the best block as caller (POST /accounts/*,
// Thor's dry run) and returns each clause's gas and outcome.
func (c *VeChainClient) ExecuteClauses(ctx context.Context, caller string, clauses []vet.Clause) (_ []vet.ClauseResult, err error) {
	defer scrub(&err, c.node.raw)
	type clause struct {
		To    *string `json:"to"`
		Value string  `json:"value"`
		Data  string  `json:"data"`
	}
	body := struct {
		Clauses []clause `json:"clauses"`
		Caller  string   `json:"caller,omitempty"`
	}{Caller: caller}
	for _, cl := range clauses {
		j := clause{Value: "0x0", Data: "0x" + hex.EncodeToString(cl.Data)}
		if cl.Value != nil {
			j.Value = "0x" + cl.Value.Text(16)
		}
		if len(cl.To) != 0 {
			to := "0x" + hex.EncodeToString(cl.To)
			j.To = &to
		}
		body.Clauses = append(body.Clauses, j)
	}
	status, data, err := c.node.postREST(ctx, "/accounts/*", body)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		// A 400 is the node refusing the clauses as given.
		return nil, fmt.Errorf("%w: POST /accounts/*: HTTP %d: %s", ErrRejected, status, snippet(data))
	}
	var res []struct {
		GasUsed  uint64 `json:"gasUsed"`
		Reverted bool   `json:"reverted"`
		VMError  string `json:"vmError"`
	}
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("%w: POST /accounts/*: answer is not the expected JSON", ErrUnavailable)
	}
	out := make([]vet.ClauseResult, len(res))
	for i, r := range res {
		out[i] = vet.ClauseResult{GasUsed: r.GasUsed, Reverted: r.Reverted, VMError: r.VMError}
	}
	return out, nil
}
