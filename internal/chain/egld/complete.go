package egld

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/custoskms/custos/internal/chain"
)

var (
	_ chain.Completer = (*Chain)(nil)
	_ chain.Sequencer = (*Chain)(nil)
	_ chain.Filler    = (*Chain)(nil)
)

// Node is the part of a MultiversX gateway the server asks to complete and
// sequence a queued transaction; the server's EGLD node client answers it.
type Node interface {
	// AccountNonce is GET /address/{bech32}/nonce: the account's next nonce
	// (0 for an address the chain has not seen).
	AccountNonce(ctx context.Context, address string) (uint64, error)
	// NetworkConfig is GET /network/config.
	NetworkConfig(ctx context.Context) (NetworkConfig, error)
}

// NetworkConfig is the part of the gateway's network configuration a
// transaction needs.
type NetworkConfig struct {
	ChainID        string // erd_chain_id
	MinGasPrice    uint64 // erd_min_gas_price
	MinGasLimit    uint64 // erd_min_gas_limit
	GasPerDataByte uint64 // erd_gas_per_data_byte
	MinTxVersion   uint32 // erd_min_transaction_version
}

// completable are the Tatum-form fields MissingFields reports, in order.
// nonce is not among them: the server allocates it (Sequencer).
var completable = []string{"gasPrice", "gasLimit", "chainID", "version"}

// MissingFields implements chain.Completer for the Tatum form
// ({from, to, value, data}): gasPrice, gasLimit, chainID and version when
// left out. The native form is the gateway's own and always complete.
func (c *Chain) MissingFields(serialized string) ([]string, error) {
	o, err := chain.ParseJSONObject(serialized)
	if err != nil {
		return nil, err
	}
	if o.Has("receiver") {
		return nil, nil
	}
	return o.Missing(completable...), nil
}

// Bounds on what a node's /network/config may answer, far above MultiversX
// mainnet's (1e9 gas price, 50,000 gas, 1,500 gas per data byte). With them
// the gas limit of any transaction the API accepts (48 MiB at most) cannot
// overflow.
const (
	maxNodeGasPrice       = 1_000_000_000_000
	maxNodeGasLimit       = 100_000_000
	maxNodeGasPerDataByte = 1_000_000
)

// CompleteFromNode implements chain.Completer, as Tatum's SDK completes the
// form: gasPrice the network's minimum, gasLimit the minimum plus the gas of
// each data byte (a plain transfer; a transaction that runs contract code
// must give its gasLimit), chainID the node's (which must be the wallet's
// network, and a given one the node's), version the network's minimum.
func (c *Chain) CompleteFromNode(ctx context.Context, node any, serialized string, testnet bool, _ ...uint64) (string, error) {
	missing, err := c.MissingFields(serialized)
	if err != nil || len(missing) == 0 {
		return serialized, err
	}
	n, ok := node.(Node)
	if !ok {
		return "", errNoNode
	}
	o, _ := chain.ParseJSONObject(serialized)
	cfg, err := n.NetworkConfig(ctx)
	if err != nil {
		return "", fmt.Errorf("node /network/config: %w", err)
	}
	if (cfg.ChainID == mainnetChainID) == testnet {
		return "", chain.WrongNetwork("the node serves chainID %q, the wallet is on %s", cfg.ChainID, chain.NetworkName(testnet))
	}
	if o.Has("chainID") {
		if id, _ := o.String("chainID"); id != cfg.ChainID {
			return "", chain.WrongNetwork("the node serves chainID %q, the transaction is for %q", cfg.ChainID, id)
		}
	}
	// The node is not trusted with the fee: a figure far past any network's
	// would make the transaction cost what a hostile node wants.
	if cfg.MinGasPrice == 0 || cfg.MinGasPrice > maxNodeGasPrice || cfg.MinGasLimit == 0 ||
		cfg.MinGasLimit > maxNodeGasLimit || cfg.GasPerDataByte > maxNodeGasPerDataByte {
		return "", fmt.Errorf("the node's /network/config is implausible (gas price %d, gas limit %d, gas per data byte %d)",
			cfg.MinGasPrice, cfg.MinGasLimit, cfg.GasPerDataByte)
	}
	var data string
	if o.Has("data") {
		_ = json.Unmarshal(o["data"], &data)
	}
	fill := map[string]any{
		"gasPrice": cfg.MinGasPrice,
		"gasLimit": cfg.MinGasLimit + cfg.GasPerDataByte*uint64(len(data)),
		"chainID":  cfg.ChainID,
		"version":  max(cfg.MinTxVersion, 1),
	}
	for _, k := range missing {
		if err := o.Set(k, fill[k]); err != nil {
			return "", err
		}
	}
	return o.Encode()
}

// Sequence implements chain.Sequencer: the sender is `sender` (native) or
// `from` (Tatum), the sequence `nonce`, nil when left out. A Tatum
// transaction without nonce must name its sender in `from`.
func (c *Chain) Sequence(serialized string, testnet bool) (string, *uint64, error) {
	o, err := chain.ParseJSONObject(serialized)
	if err != nil {
		return "", nil, err
	}
	if err := checkTx(o, testnet); err != nil {
		return "", nil, err
	}
	field := "from"
	if o.Has("receiver") {
		field = "sender"
	}
	var sender string
	if o.Has(field) {
		sender, _ = o.String(field)
	}
	if !o.Has("nonce") {
		if sender == "" {
			return "", nil, chain.InvalidTx(`missing "from": the sender whose nonce the server allocates`)
		}
		return sender, nil, nil
	}
	n, err := o.Uint("nonce", false)
	if err != nil {
		return "", nil, err
	}
	return sender, &n, nil
}

// WithSequence implements chain.Sequencer: nonce is a JSON number.
func (c *Chain) WithSequence(serialized string, seq uint64) (string, error) {
	return chain.SetJSON(serialized, "nonce", seq)
}

// NextSequence implements chain.Sequencer: the account's nonce.
func (c *Chain) NextSequence(ctx context.Context, node any, sender string) (uint64, error) {
	n, ok := node.(Node)
	if !ok {
		return 0, errNoNode
	}
	if _, err := DecodeAddress(sender); err != nil {
		return 0, chain.InvalidTx("sender is not an erd1 address")
	}
	nonce, err := n.AccountNonce(ctx, sender)
	if err != nil {
		return 0, fmt.Errorf("node /address/nonce: %w", err)
	}
	return nonce, nil
}

// Filler implements chain.Filler: a zero-value transfer from sender to
// itself at nonce seq in the Tatum form, whose gas, chain id and version
// CompleteFromNode fills (the minimum gas of a transfer without data).
func (c *Chain) Filler(sender string, seq uint64) (string, error) {
	if _, err := DecodeAddress(sender); err != nil {
		return "", chain.InvalidTx("sender is not an erd1 address")
	}
	b, err := json.Marshal(map[string]any{"from": sender, "to": sender, "value": "0", "nonce": seq})
	return string(b), err
}

var errNoNode = fmt.Errorf("the EGLD node client cannot complete transactions (no GET /address/{address}/nonce, /network/config)")
