package chain

import (
	"encoding/hex"
	"unicode"
	"unicode/utf8"
)

// MemoText shows a memo or data field to a person: as text when it is
// printable UTF-8 (what wallets write there), else as 0x hex, so that an
// intent never carries control characters that could hide or fake content
// in an approval screen or a log line.
func MemoText(b []byte) string {
	if !utf8.Valid(b) {
		return "0x" + hex.EncodeToString(b)
	}
	for _, r := range string(b) {
		if !unicode.IsPrint(r) && r != ' ' {
			return "0x" + hex.EncodeToString(b)
		}
	}
	return string(b)
}
