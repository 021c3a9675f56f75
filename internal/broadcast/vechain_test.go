package broadcast

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/vectors"
)

func vetSigned(t testing.TB) (signed, id string) {
	for _, r := range vectors.SigningFor("VET") {
		var e struct{ Signed, TxID string }
		if err := json.Unmarshal(r.Expected, &e); err != nil {
			t.Fatal(err)
		}
		return e.Signed, e.TxID
	}
	t.Fatal("no VET vector")
	return "", ""
}

// Thor's POST /transactions takes {"raw":"0x…"} and answers {"id":"0x…"}.
func TestVeChainBroadcastPayload(t *testing.T) {
	signed, id := vetSigned(t)
	f, srv := serveREST(t, "/transactions", func([]byte) (int, string) { return 200, `{"id":"` + id + `"}` })
	c := dialed(t, "VET", strings.Replace(srv.URL, "http://", "http://thor:secret@", 1)+"/")
	got, err := c.Broadcast(context.Background(), signed)
	if err != nil || got != id {
		t.Fatalf("Broadcast = %q, %v; want %s", got, err, id)
	}
	if s := f.sent(); len(s) != 1 || s[0] != `{"raw":"`+signed+`"}` {
		t.Fatalf("payload %q", s)
	}
	if f.auth != [2]string{"thor", "secret"} {
		t.Errorf("basic auth %v", f.auth)
	}
}

func TestVeChainBroadcastAnswers(t *testing.T) {
	signed, id := vetSigned(t)
	ctx := context.Background()
	for name, c := range map[string]struct {
		status int
		body   string
		want   error
	}{
		"bad tx":       {400, "bad tx: invalid signature", ErrRejected},
		"rejected":     {403, "tx rejected: insufficient energy", ErrRejected},
		"known":        {403, "tx rejected: known tx", nil},
		"other id":     {200, `{"id":"0x` + strings.Repeat("ab", 32) + `"}`, ErrUnavailable},
		"no id":        {200, `{}`, ErrUnavailable},
		"server error": {502, "bad gateway", ErrUnavailable},
	} {
		_, srv := serveREST(t, "/transactions", func([]byte) (int, string) { return c.status, c.body })
		client, _ := DialVeChain(srv.URL)
		got, err := client.Broadcast(ctx, signed)
		if !errors.Is(err, c.want) || (c.want == nil && got != id) {
			t.Errorf("%s: %q %v, want %v", name, got, err, c.want)
		}
		if c.want == ErrRejected && !strings.Contains(err.Error(), strings.SplitN(c.body, ":", 2)[0]) {
			t.Errorf("%s: the node's reason is lost: %v", name, err)
		}
	}
	// Garbage is refused before any request.
	_, srv := serveREST(t, "/nowhere", func([]byte) (int, string) { t.Error("node contacted"); return 500, "" })
	client, _ := DialVeChain(srv.URL)
	for _, bad := range []string{"", "0x", "f87b", "0xzz", signed[:len(signed)-4]} {
		if _, err := client.Broadcast(ctx, bad); !errors.Is(err, ErrRejected) {
			t.Errorf("garbage %q: %v", bad, err)
		}
	}
	srv.Close()
	if _, err := (&VeChainClient{node: client.node}).Broadcast(ctx, signed); !errors.Is(err, ErrUnavailable) {
		t.Errorf("node down: %v", err)
	}
	if _, err := DialVeChain("ftp://x"); !errors.Is(err, ErrBadNode) {
		t.Errorf("ftp URL: %v", err)
	}
}
