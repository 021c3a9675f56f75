package api

import (
	"slices"
	"strings"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
)

// isUUID reports whether s is a UUID in its 8-4-4-4-12 hex form.
func isUUID(s string) bool {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	// The five groups of hex digits, without a branch per position: a
	// pending query checks up to a million of these.
	for _, g := range [...][2]int{{0, 8}, {9, 13}, {14, 18}, {19, 23}, {24, 36}} {
		for i := g[0]; i < g[1]; i++ {
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool { return c-'0' < 10 || (c|0x20)-'a' < 6 }

// isTxID reports whether s has the shape of a pending transaction id.
func isTxID(s string) bool {
	if len(s) != 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c-'0' < 10 || c-'a' < 26 || c-'A' < 26) {
			return false
		}
	}
	return true
}

// chainCodes and chainSlugs are the chain table's, in its order: the API's
// enums. Computed once, never written to.
var (
	chainCodes = chains.Codes()
	chainSlugs = chains.Slugs()
)

func validChain(c string) bool { return slices.Contains(chainCodes, c) }

var chainEnumMsg = "must be one of " + strings.Join(chainCodes, ", ")

var slugEnumMsg = "must be one of " + strings.Join(chainSlugs, ", ")

// web3Slugs are the slugs of the table's chains whose nodes speak Ethereum's
// JSON-RPC (chain.Web3), in its order: the enum of Tatum's count and web3
// routes. Computed once, never written to.
var web3Slugs = func() []string {
	var out []string
	for _, c := range chains.All() {
		if _, ok := c.(chain.Web3); ok {
			out = append(out, c.Info().Slug)
		}
	}
	return out
}()

var web3SlugEnumMsg = "must be one of " + strings.Join(web3Slugs, ", ")

// web3Chain is the chain.Web3 chain of a slug, or the 400 naming the slugs
// that have one.
func web3Chain(slug string) (chain.Web3, error) {
	c, err := chains.BySlug(slug)
	if err == nil {
		if w, ok := c.(chain.Web3); ok {
			return w, nil
		}
	}
	return nil, invalid("slug: " + web3SlugEnumMsg)
}

// quote shortens a client-supplied value for an error message.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		s = s[:max] + "…"
	}
	return `"` + strings.ToValidUTF8(s, "?") + `"`
}
