package walletstore

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// splitStore makes a store holding one wallet and splits it n ways with
// threshold k; the password handle stays open, as a running daemon would.
func splitStore(t *testing.T, n, k int) (string, []string) {
	t.Helper()
	ctx := context.Background()
	s, path := newStore(t)
	if err := s.Put(ctx, "a", &Wallet{PrivateKey: testKey, Chain: "ETH"}); err != nil {
		t.Fatal(err)
	}
	var (
		info   *SplitInfo
		shares []string
	)
	if err := s.Split(ctx, n, k, func(i *SplitInfo, sh []string) error { info, shares = i, sh; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(shares) != n || info.Threshold != k || info.Shares != n {
		t.Fatalf("Split = %+v, %d shares", info, len(shares))
	}
	// The handle that split keeps its key: records are unchanged.
	if _, err := s.Get(ctx, "a"); err != nil {
		t.Fatalf("Get after split: %v", err)
	}
	return path, shares
}

// submit gives shares in order until one opens the store.
func submit(t *testing.T, u *Sealed, shares ...string) (*Store, error) {
	t.Helper()
	var (
		s   *Store
		err error
	)
	for i, sh := range shares {
		var st SealStatus
		s, st, err = u.Submit(context.Background(), sh)
		if err != nil {
			return nil, err
		}
		if s != nil {
			if i+1 != st.Threshold || !st.Unsealed {
				t.Fatalf("opened after %d shares, status %+v", i+1, st)
			}
			break
		}
	}
	if s != nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, nil
}

func TestSplitAnyKOfN(t *testing.T) {
	ctx := context.Background()
	const n, k = 5, 3
	path, shares := splitStore(t, n, k)
	if _, err := Open(ctx, path, []byte(testPassword), Options{}); !errors.Is(err, ErrSplitProtected) {
		t.Fatalf("password on a split store: %v", err)
	}
	info, err := Inspect(ctx, path)
	if err != nil || info.Split == nil || info.Split.Threshold != k {
		t.Fatalf("Inspect = %+v, %v", info, err)
	}
	for mask := 0; mask < 1<<n; mask++ {
		var sub []string
		for i := range n {
			if mask&(1<<i) != 0 {
				sub = append(sub, shares[i])
			}
		}
		u, err := OpenSealed(ctx, path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		s, err := submit(t, u, sub...)
		if err != nil {
			t.Fatalf("mask %05b: %v", mask, err)
		}
		if (s != nil) != (len(sub) >= k) {
			t.Fatalf("%d shares (mask %05b): opened = %v", len(sub), mask, s != nil)
		}
		if s == nil {
			if st := u.Status(); st.Submitted != len(sub) || st.Unsealed {
				t.Fatalf("status %+v", st)
			}
			continue
		}
		w, err := s.Get(ctx, "a")
		if err != nil || w.PrivateKey != testKey {
			t.Fatalf("mask %05b: Get = %+v, %v", mask, w, err)
		}
	}
}

func TestSplitShareGivenTwiceCountsOnce(t *testing.T) {
	path, shares := splitStore(t, 3, 2)
	u, err := OpenSealed(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := submit(t, u, shares[0], shares[0]); s != nil {
		t.Fatal("one share given twice opened a 2-of-3 store")
	}
}

// A share altered in its value (with a valid checksum, as a holder of a
// share of the right split could forge) reaches the threshold but does not
// rebuild the key: detected, and all shares must be given again.
func TestSplitWrongShare(t *testing.T) {
	ctx := context.Background()
	path, shares := splitStore(t, 3, 2)
	sh, err := decodeShare(shares[1])
	if err != nil {
		t.Fatal(err)
	}
	sh.point[0] ^= 1
	forged := encodeShare(sh.splitID, sh.threshold, sh.point)
	u, err := OpenSealed(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := submit(t, u, shares[0], forged); !errors.Is(err, ErrWrongShare) {
		t.Fatalf("forged share: %v", err)
	}
	if st := u.Status(); st.Submitted != 0 {
		t.Fatalf("after a wrong share, %d shares are kept", st.Submitted)
	}
	if s, err := submit(t, u, shares[0], shares[2]); err != nil || s == nil {
		t.Fatalf("good shares after a wrong one: %v", err)
	}
	// A typo is caught by the checksum before it counts.
	typo := []byte(shares[2])
	typo[len(typo)-3] ^= 0x01
	if _, _, err := u.Submit(ctx, string(typo)); !errors.Is(err, ErrMalformedShare) {
		t.Fatalf("typo: %v", err)
	}
}

// Shares of another store, and of this store before it was split again, are
// refused; re-splitting keeps the data key, so the records still open.
func TestSplitForeignAndResplit(t *testing.T) {
	ctx := context.Background()
	path, shares := splitStore(t, 3, 2)
	_, other := splitStore(t, 3, 2)
	u, err := OpenSealed(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := u.Submit(ctx, other[0]); !errors.Is(err, ErrForeignShare) {
		t.Fatalf("share of another store: %v", err)
	}
	s, err := submit(t, u, shares[0], shares[1])
	if err != nil || s == nil {
		t.Fatalf("unseal: %v", err)
	}
	var again []string
	if err := s.Split(ctx, 2, 2, func(_ *SplitInfo, sh []string) error { again = sh; return nil }); err != nil {
		t.Fatal(err)
	}
	u2, err := OpenSealed(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := u2.Submit(ctx, shares[2]); !errors.Is(err, ErrForeignShare) {
		t.Fatalf("share of the previous split: %v", err)
	}
	// Shares taken before the re-split, reaching a handle opened before it,
	// are refused at unlock.
	if _, err := submit(t, u, shares[0], shares[2]); !errors.Is(err, ErrForeignShare) {
		t.Fatalf("old shares after a re-split: %v", err)
	}
	s2, err := submit(t, u2, again...)
	if err != nil || s2 == nil {
		t.Fatalf("new shares: %v", err)
	}
	if w, err := s2.Get(ctx, "a"); err != nil || w.PrivateKey != testKey {
		t.Fatalf("record after re-split: %+v, %v", w, err)
	}
	// A password store refuses shares; changing the password undoes the split.
	if err := s2.ChangePassword(ctx, []byte("pw2")); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSealed(ctx, path, Options{}); !errors.Is(err, ErrNotSplit) {
		t.Fatalf("OpenSealed on a password store: %v", err)
	}
}

func TestSplitRefusesBadParams(t *testing.T) {
	s, _ := newStore(t)
	for _, p := range [][2]int{{3, 1}, {2, 3}, {256, 2}} {
		if err := s.Split(context.Background(), p[0], p[1], func(*SplitInfo, []string) error { return nil }); err == nil {
			t.Errorf("Split(%d, %d) accepted", p[0], p[1])
		}
	}
}

// Shares that could not be handed out leave the store under its password.
func TestSplitUndeliveredChangesNothing(t *testing.T) {
	ctx := context.Background()
	s, path := newStore(t)
	if err := s.Split(ctx, 3, 2, func(*SplitInfo, []string) error { return errors.New("stdout closed") }); err == nil {
		t.Fatal("undelivered split succeeded")
	}
	st, err := Open(ctx, path, []byte(testPassword), Options{})
	if err != nil {
		t.Fatalf("password after an undelivered split: %v", err)
	}
	st.Close()
}

func TestDecodeShareJunk(t *testing.T) {
	for _, s := range []string{"", sharePrefix, sharePrefix + "!!", "custos-share2-AAAA", strings.Repeat("A", 80)} {
		if _, err := decodeShare(s); !errors.Is(err, ErrMalformedShare) {
			t.Errorf("decodeShare(%q) = %v", s, err)
		}
	}
}
