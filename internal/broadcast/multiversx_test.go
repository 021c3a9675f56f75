package broadcast

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/vectors"
)

func egldSigned(t testing.TB) (signed, hash string) {
	for _, r := range vectors.SigningFor("EGLD") {
		var e struct{ Signed, TxID string }
		if err := json.Unmarshal(r.Expected, &e); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(e.Signed, `"data"`) {
			return e.Signed, e.TxID
		}
	}
	t.Fatal("no EGLD vector with data")
	return "", ""
}

// The gateway's POST /transaction/send takes the signed transaction JSON as
// the SDKs write it and answers {"data":{"txHash":…},"error":"","code":"successful"}.
func TestMultiversXBroadcastPayload(t *testing.T) {
	signed, hash := egldSigned(t)
	f, srv := serveREST(t, "/transaction/send", func([]byte) (int, string) {
		return 200, `{"data":{"txHash":"` + hash + `"},"error":"","code":"successful"}`
	})
	got, err := dialed(t, "EGLD", srv.URL).Broadcast(context.Background(), signed)
	if err != nil || got != hash {
		t.Fatalf("Broadcast = %q, %v; want %s", got, err, hash)
	}
	if s := f.sent(); len(s) != 1 || s[0] != signed {
		t.Fatalf("payload\n got %q\nwant %q", s, signed)
	}
}

func TestMultiversXBroadcastAnswers(t *testing.T) {
	signed, hash := egldSigned(t)
	ctx := context.Background()
	for name, c := range map[string]struct {
		status int
		body   string
		want   error
	}{
		"bad request": {400, `{"data":null,"error":"transaction generation failed: insufficient funds","code":"bad_request"}`, ErrRejected},
		"known":       {400, `{"data":null,"error":"transaction already exists in pool","code":"bad_request"}`, nil},
		"other hash":  {200, `{"data":{"txHash":"00"},"error":"","code":"successful"}`, ErrUnavailable},
		"not json":    {200, `<html>`, ErrUnavailable},
		"down":        {503, `{}`, ErrUnavailable},
	} {
		_, srv := serveREST(t, "/transaction/send", func([]byte) (int, string) { return c.status, c.body })
		client, _ := DialMultiversX(srv.URL)
		got, err := client.Broadcast(ctx, signed)
		if !errors.Is(err, c.want) || (c.want == nil && got != hash) {
			t.Errorf("%s: %q %v, want %v", name, got, err, c.want)
		}
	}
	_, srv := serveREST(t, "/nowhere", func([]byte) (int, string) { t.Error("node contacted"); return 500, "" })
	client, _ := DialMultiversX(srv.URL)
	tampered := strings.Replace(signed, `"nonce":`, `"nonce":1`, 1) // the signature no longer verifies
	for _, bad := range []string{"", "{}", tampered, strings.Replace(signed, `"signature"`, `"sig"`, 1)} {
		if _, err := client.Broadcast(ctx, bad); !errors.Is(err, ErrRejected) {
			t.Errorf("garbage %.40q: %v", bad, err)
		}
	}
}
