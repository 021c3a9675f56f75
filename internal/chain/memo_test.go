package chain

import "testing"

func TestMemoText(t *testing.T) {
	for in, want := range map[string]string{
		"kms public": "kms public",
		"":           "",
		"a\nb":       "0x610a62",
		"\xff":       "0xff",
		"a\u202eb":   "0x61e280ae62", // a right-to-left override reorders what a screen shows
	} {
		if got := MemoText([]byte(in)); got != want {
			t.Errorf("MemoText(%q) = %q, want %q", in, got, want)
		}
	}
}
