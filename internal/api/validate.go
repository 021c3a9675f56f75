package api

import (
	"slices"
	"strings"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
)

// isUUID reports whether s is a UUID in its 8-4-4-4-12 hex form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
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

func validChain(c string) bool { return slices.Contains(chain.Codes, c) }

var chainEnumMsg = "must be one of " + strings.Join(chain.Codes, ", ")

// chainSlugs are the broadcast route's slugs, in registry order.
var chainSlugs = func() []string {
	var out []string
	for _, c := range chains.All() {
		out = append(out, c.Info().Slug)
	}
	return out
}()

var slugEnumMsg = "must be one of " + strings.Join(chainSlugs, ", ")

// quote shortens a client-supplied value for an error message.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		s = s[:max] + "…"
	}
	return `"` + strings.ToValidUTF8(s, "?") + `"`
}
