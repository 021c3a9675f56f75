package audit

import (
	"bytes"
	"testing"
)

// FuzzParseLine feeds arbitrary lines to the parser Verify uses: it must not
// panic, and a line it accepts must be the canonical form of the entry it
// returns, whose hash it carries.
func FuzzParseLine(f *testing.F) {
	e := Entry{Seq: 1, Time: "2025-01-01T00:00:00Z", Actor: "daemon", PID: 7, Event: "key.use",
		Fields: map[string]any{"id": "65f1c0de0000000000000001", "indexes": []uint32{0, 3}, "x": "<&>\u2028"}, Prev: Genesis}
	line, err := e.seal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(line)
	f.Add([]byte(`{"seq":1}`))
	f.Add([]byte(``))
	f.Add([]byte(`{"seq":1,"seq":2}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseLine(b)
		if err != nil {
			return
		}
		again, err := e.seal()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("accepted %q, which is not canonical (%q, %v)", b, again, err)
		}
		// Verify reads the same line as a one-entry log without panicking.
		_, _ = Verify(bytes.NewReader(append(b, '\n')), VerifyOptions{})
	})
}
