package api

import (
	"slices"
	"strings"

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

// chainCodes and chainSlugs are the chain table's, in its order: the API's
// enums. Computed once, never written to.
var (
	chainCodes = chains.Codes()
	chainSlugs = chains.Slugs()
)

func validChain(c string) bool { return slices.Contains(chainCodes, c) }

var chainEnumMsg = "must be one of " + strings.Join(chainCodes, ", ")

var slugEnumMsg = "must be one of " + strings.Join(chainSlugs, ", ")

// quote shortens a client-supplied value for an error message.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		s = s[:max] + "…"
	}
	return `"` + strings.ToValidUTF8(s, "?") + `"`
}
