package main

import (
	"fmt"
	"strings"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/chain/utxo"
	"github.com/custoskms/custos/internal/config"
)

// utxoSourceFlags collects --utxo-source CODE[:testnet]=node|esplora:URL.
type utxoSourceFlags []string

func (f *utxoSourceFlags) add(b *config.Binder) {
	config.StringArray(b, (*[]string)(f), config.Setting[[]string]{Flag: "utxo-source",
		Help: "where a UTXO chain's transfers find unspent outputs, amounts and the fee rate: CODE=node (default) or CODE=esplora:URL, CODE:testnet=… for testnet (repeatable; env CUSTOS_UTXO_SOURCE_<CODE>[_TESTNET])"})
}

// utxoSource is one chain and network's source; esplora nil means the node.
type utxoSource struct {
	code    string
	testnet bool
	esplora *broadcast.Esplora
}

// sources reads the environment's CUSTOS_UTXO_SOURCE_<CODE>[_TESTNET] and
// then the flags, which win as --node's do over CUSTOS_NODE_*.
func (f utxoSourceFlags) sources(environ []string) ([]utxoSource, error) {
	var out []utxoSource
	for _, kv := range environ {
		name, v, _ := strings.Cut(kv, "=")
		rest, ok := strings.CutPrefix(name, "CUSTOS_UTXO_SOURCE_")
		if !ok || strings.TrimSpace(v) == "" {
			continue
		}
		code, testnet := strings.CutSuffix(rest, "_TESTNET")
		s, err := parseUTXOSource(code, testnet, v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, s)
	}
	for _, v := range f {
		name, value, ok := strings.Cut(v, "=")
		code, network, hasNet := strings.Cut(name, ":")
		testnet := strings.EqualFold(network, "testnet")
		if !ok || (hasNet && !testnet && !strings.EqualFold(network, "mainnet")) {
			return nil, fmt.Errorf("--utxo-source %q: want CODE=node, CODE=esplora:URL or CODE:testnet=…", v)
		}
		s, err := parseUTXOSource(code, testnet, value)
		if err != nil {
			return nil, fmt.Errorf("--utxo-source %q: %w", v, err)
		}
		out = append(out, s)
	}
	// A later setting for the same chain and network replaces an earlier
	// one, so that --utxo-source BTC=node undoes the environment's Esplora.
	last := map[string]utxoSource{}
	var order []string
	for _, s := range out {
		k := fmt.Sprint(s.code, s.testnet)
		if _, seen := last[k]; !seen {
			order = append(order, k)
		}
		last[k] = s
	}
	out = out[:0]
	for _, k := range order {
		out = append(out, last[k])
	}
	return out, nil
}

func parseUTXOSource(code string, testnet bool, value string) (utxoSource, error) {
	c, err := chains.Lookup(strings.TrimSpace(code))
	if err != nil {
		return utxoSource{}, err
	}
	if _, ok := c.(*utxo.Chain); !ok {
		return utxoSource{}, fmt.Errorf("%s is not a UTXO chain", c.Info().Code)
	}
	s := utxoSource{code: c.Info().Code, testnet: testnet}
	value = strings.TrimSpace(value)
	switch {
	case value == "node":
	case strings.HasPrefix(value, "esplora:"):
		e, err := broadcast.DialEsplora(strings.TrimPrefix(value, "esplora:"))
		if err != nil {
			return utxoSource{}, err
		}
		s.esplora = e
	default:
		return utxoSource{}, fmt.Errorf("source must be node or esplora:URL")
	}
	return s, nil
}

// apply points each chain's node client at its source. An Esplora source
// needs the chain's node all the same: the node broadcasts and tracks.
func applyUTXOSources(nodes *broadcast.Nodes, sources []utxoSource) error {
	for _, s := range sources {
		if s.esplora == nil {
			continue // the node answers, as without the setting
		}
		client, err := nodes.Client(s.code, s.testnet)
		if err != nil {
			return fmt.Errorf("utxo source of %s: %w (an Esplora source needs the chain's node, which broadcasts)", s.code, err)
		}
		u, ok := client.(*broadcast.UTXOClient)
		if !ok {
			return fmt.Errorf("utxo source of %s: the node client reads no unspent outputs", s.code)
		}
		nodes.Set(s.code, s.testnet, u.WithEsplora(s.esplora))
	}
	return nil
}
