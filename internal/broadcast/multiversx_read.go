package broadcast

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/custoskms/custos/internal/chain/egld"
)

// The reads that complete and sequence a queued EGLD transaction (egld.Node).
var _ egld.Node = (*MultiversXClient)(nil)

// get asks a gateway GET endpoint and decodes its data member into out. The
// gateway wraps every answer in {"data","error","code"}; a code other than
// "successful" with HTTP 200 is a gateway that could not answer.
func (c *MultiversXClient) get(ctx context.Context, path string, out any) (err error) {
	defer scrub(&err, c.node.raw)
	var a struct {
		Data  json.RawMessage `json:"data"`
		Error string          `json:"error"`
		Code  string          `json:"code"`
	}
	if err := c.node.getJSON(ctx, path, &a); err != nil {
		return err
	}
	if a.Code != "successful" || json.Unmarshal(a.Data, out) != nil {
		return fmt.Errorf("%w: GET %s: gateway answered code %q: %s", ErrUnavailable, path, a.Code, a.Error)
	}
	return nil
}

// AccountNonce asks GET /address/{bech32}/nonce.
func (c *MultiversXClient) AccountNonce(ctx context.Context, address string) (uint64, error) {
	var d struct {
		Nonce *uint64 `json:"nonce"`
	}
	if err := c.get(ctx, "address/"+address+"/nonce", &d); err != nil {
		return 0, err
	}
	if d.Nonce == nil {
		return 0, fmt.Errorf("%w: GET /address/nonce: gateway answered no nonce", ErrUnavailable)
	}
	return *d.Nonce, nil
}

// NetworkConfig asks GET /network/config.
func (c *MultiversXClient) NetworkConfig(ctx context.Context) (egld.NetworkConfig, error) {
	var d struct {
		Config struct {
			ChainID        string  `json:"erd_chain_id"`
			MinGasPrice    *uint64 `json:"erd_min_gas_price"`
			MinGasLimit    *uint64 `json:"erd_min_gas_limit"`
			GasPerDataByte *uint64 `json:"erd_gas_per_data_byte"`
			MinTxVersion   uint32  `json:"erd_min_transaction_version"`
		} `json:"config"`
	}
	if err := c.get(ctx, "network/config", &d); err != nil {
		return egld.NetworkConfig{}, err
	}
	cfg := d.Config
	if cfg.ChainID == "" || cfg.MinGasPrice == nil || cfg.MinGasLimit == nil || cfg.GasPerDataByte == nil {
		return egld.NetworkConfig{}, fmt.Errorf("%w: GET /network/config: gateway answered no erd_chain_id, erd_min_gas_price, erd_min_gas_limit or erd_gas_per_data_byte", ErrUnavailable)
	}
	return egld.NetworkConfig{
		ChainID: cfg.ChainID, MinGasPrice: *cfg.MinGasPrice, MinGasLimit: *cfg.MinGasLimit,
		GasPerDataByte: *cfg.GasPerDataByte, MinTxVersion: cfg.MinTxVersion,
	}, nil
}
