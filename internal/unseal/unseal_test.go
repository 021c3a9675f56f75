package unseal

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/custoskms/custos/internal/audit"
	"github.com/custoskms/custos/internal/walletstore"
)

func TestMain(m *testing.M) {
	walletstore.TestKDF = &walletstore.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}
	os.Exit(m.Run())
}

// Three holders of a 3-of-4 split unseal over the socket; a share of
// another split between them is refused; every submission is audited with
// its outcome and never the share.
func TestUnsealOverSocket(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "wallet.dat")
	shares := split(t, path, 4, 3)
	otherShares := split(t, filepath.Join(dir, "other.dat"), 2, 2)

	sealed, err := walletstore.OpenSealed(ctx, path, walletstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "audit.log")
	al, err := audit.Open(logPath, audit.Options{Actor: "daemon"})
	if err != nil {
		t.Fatal(err)
	}
	defer al.Close()
	opened := make(chan *walletstore.Store, 1)
	srv := NewServer(sealed, al, nil, func(s *walletstore.Store) { opened <- s })
	sock := filepath.Join(dir, SocketName)
	ln, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, %v", fi.Mode(), err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()

	for i, step := range []struct {
		share     string
		submitted int
		unsealed  bool
		wantErr   bool
	}{
		{shares[3], 1, false, false},
		{otherShares[0], 1, false, true},
		{shares[1], 2, false, false},
		{"", 2, false, false}, // status
		{shares[0], 3, true, false},
		{shares[2], 0, true, true}, // already unsealed
	} {
		r, err := Send(ctx, sock, step.share)
		if err != nil {
			t.Fatal(err)
		}
		if r.Submitted != step.submitted || r.Unsealed != step.unsealed || (r.Error != "") != step.wantErr || r.Threshold != 3 {
			t.Fatalf("step %d: %+v", i, r)
		}
	}
	var st *walletstore.Store
	select {
	case st = <-opened:
	default:
		t.Fatal("store not handed over")
	}
	defer st.Close()
	if w, err := st.Get(ctx, "a"); err != nil || w.Chain != "ETH" {
		t.Fatalf("Get = %+v, %v", w, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	al.Close()
	raw, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		var e audit.Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		if e.Event == "unseal.share" {
			outcomes = append(outcomes, e.Fields["outcome"].(string))
			if _, ok := e.Fields["uid"]; !ok && runtime.GOOS == "linux" {
				t.Errorf("entry without the submitter's uid: %v", e.Fields)
			}
		}
	}
	if want := []string{"accepted", "foreign", "accepted", "unsealed"}; !slices.Equal(outcomes, want) {
		t.Fatalf("audited outcomes %v, want %v", outcomes, want)
	}
	for _, s := range shares {
		if bytes.Contains(raw, []byte(s)) {
			t.Fatal("a share is in the audit log")
		}
	}
}

// A submission the audit log refuses is not acted on.
func TestUnauditedShareRefused(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "wallet.dat")
	shares := split(t, path, 2, 2)
	sealed, err := walletstore.OpenSealed(ctx, path, walletstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &failingRecorder{failOn: 2}
	srv := NewServer(sealed, rec, nil, func(s *walletstore.Store) { t.Fatal("unsealed without audit"); s.Close() })
	if r := srv.Submit(ctx, shares[0], Peer{UID: -1}); r.Error != "" {
		t.Fatal(r.Error)
	}
	if r := srv.Submit(ctx, shares[1], Peer{UID: -1}); r.Error == "" || r.Unsealed || r.Submitted != 0 {
		t.Fatalf("unaudited unseal: %+v", r)
	}
}

type failingRecorder struct{ n, failOn int }

func (f *failingRecorder) Append(context.Context, ...audit.Event) error {
	f.n++
	if f.n == f.failOn {
		return os.ErrPermission
	}
	return nil
}

// split makes a store at path with one wallet and splits it.
func split(t *testing.T, path string, n, k int) []string {
	t.Helper()
	s, err := walletstore.Open(t.Context(), path, []byte("pw"), walletstore.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Put(t.Context(), "a", &walletstore.Wallet{PrivateKey: "k", Chain: "ETH"}); err != nil {
		t.Fatal(err)
	}
	var shares []string
	if err := s.Split(t.Context(), n, k, func(_ *walletstore.SplitInfo, sh []string) error { shares = sh; return nil }); err != nil {
		t.Fatal(err)
	}
	return shares
}
