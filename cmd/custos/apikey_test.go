package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestAPIKeyCreateListRevoke(t *testing.T) {
	dir := t.TempDir()
	out, _, code := runCLI(t, "", "apikey", "create", "--name", "shop", "--data-dir", dir)
	var k1 struct{ ID, APIKey string }
	if code != 0 || json.Unmarshal([]byte(out), &k1) != nil || len(k1.ID) != 24 || !strings.HasPrefix(k1.APIKey, "custos_") {
		t.Fatalf("create: exit %d, %q", code, out)
	}
	out, _, code = runCLI(t, "", "apikey", "create", "--testnet", "--data-dir", dir)
	var k2 struct{ ID, APIKey string }
	if code != 0 || json.Unmarshal([]byte(out), &k2) != nil || k2.APIKey == k1.APIKey {
		t.Fatalf("create --testnet: exit %d, %q", code, out)
	}

	out, _, code = runCLI(t, "", "apikey", "list", "--data-dir", dir)
	if code != 0 || strings.Contains(out, k1.APIKey) || strings.Contains(out, k2.APIKey) {
		t.Fatalf("list: exit %d, %q (must not show keys)", code, out)
	}
	var rows []struct {
		ID, Name, CreatedAt, RevokedAt string
		Testnet                        bool
		Credits                        int64
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 2 {
		t.Fatalf("list: %q", out)
	}
	if rows[0].ID != k1.ID || rows[0].Name != "shop" || rows[0].Testnet || rows[1].ID != k2.ID || !rows[1].Testnet || rows[0].Credits != 0 {
		t.Fatalf("rows %+v", rows)
	}

	out, _, code = runCLI(t, "", "apikey", "revoke", k1.ID, "--data-dir", dir)
	if code != 0 || !strings.Contains(out, `"revoked":true`) {
		t.Fatalf("revoke: %d %q", code, out)
	}
	_, stderr, code := runCLI(t, "", "apikey", "revoke", k1.ID, "--data-dir", dir)
	if code == 0 || !strings.Contains(stderr, "no active API key") {
		t.Fatalf("revoke twice: %d %q", code, stderr)
	}
	out, _, _ = runCLI(t, "", "apikey", "list", "--data-dir", dir)
	if !strings.Contains(out, `"revokedAt"`) {
		t.Fatalf("list after revoke: %q", out)
	}
	_, _, code = runCLI(t, "", "apikey", "revoke", "--data-dir", dir)
	if code == 0 {
		t.Fatal("revoke without an id succeeded")
	}
}

func TestAPIKeyCreateScopes(t *testing.T) {
	dir := t.TempDir()
	type key struct {
		ID     string
		Scopes []string
	}
	create := func(args ...string) (key, string, int) {
		out, stderr, code := runCLI(t, "", append([]string{"apikey", "create", "--data-dir", dir}, args...)...)
		var k key
		if code == 0 && json.Unmarshal([]byte(out), &k) != nil {
			t.Fatalf("create %v: %q", args, out)
		}
		return k, stderr, code
	}
	all, _, code := create()
	if code != 0 || strings.Join(all.Scopes, ",") != "queue,sign,admin" {
		t.Fatalf("a key made without --scope has %v (exit %d); want every scope", all.Scopes, code)
	}
	signer, _, code := create("--scope", "sign,queue")
	if code != 0 || strings.Join(signer.Scopes, ",") != "queue,sign" {
		t.Fatalf("--scope sign,queue: %v (exit %d)", signer.Scopes, code)
	}
	for _, bad := range []string{"", "read", "queue,,sign"} {
		if _, stderr, code := create("--scope", bad); code == 0 || !strings.Contains(stderr, "--scope") {
			t.Fatalf("--scope %q: exit %d, %q", bad, code, stderr)
		}
	}
	out, _, _ := runCLI(t, "", "apikey", "list", "--data-dir", dir)
	var rows []key
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 2 ||
		strings.Join(rows[0].Scopes, ",") != "queue,sign,admin" || strings.Join(rows[1].Scopes, ",") != "queue,sign" {
		t.Fatalf("list: %q", out)
	}
}
