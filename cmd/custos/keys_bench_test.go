package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/walletstore"
)

// BenchmarkCLILookup is `custos getaddress SIGID 0` on stores of 1 and 100,000
// wallets. The store is built with the cheap test KDF so that what is measured
// is the lookup; the one Argon2id run per command is BenchmarkOpen in
// internal/walletstore.
func BenchmarkCLILookup(b *testing.B) {
	walletstore.TestKDF = &cheapKDF
	b.Setenv("CUSTOS_PASSWORD", cliPassword)
	for _, n := range []int{1, 100_000} {
		b.Run(fmt.Sprintf("wallets=%d", n), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "w.dat")
			st, err := walletstore.Open(context.Background(), path, []byte(cliPassword), walletstore.Options{Create: true})
			if err != nil {
				b.Fatal(err)
			}
			var ids []string
			batch := make([]walletstore.Entry, 0, 10_000)
			for i := 0; i < n; i++ {
				id := walletstore.NewID()
				ids = append(ids, id)
				batch = append(batch, walletstore.Entry{ID: id, Wallet: &walletstore.Wallet{
					PrivateKey: "0xe01fea8a48e2854fdd0255c12b1d704967d9401f11c3f4980006ced8977574dc", Chain: "ETH"}})
				if len(batch) == cap(batch) || i == n-1 {
					if err := st.PutMany(context.Background(), batch); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
			st.Close()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				var out bytes.Buffer
				if code := run(context.Background(), []string{"--path", path, "getaddress", ids[i%n], "0"}, strings.NewReader(""), &out, io.Discard); code != 0 {
					b.Fatal("getaddress failed")
				}
			}
		})
	}
}

// BenchmarkBatchETH100k is `custos generatemanagedprivatekeybatch ETH 100000`.
func BenchmarkBatchETH100k(b *testing.B) {
	walletstore.TestKDF = &cheapKDF
	b.Setenv("CUSTOS_PASSWORD", cliPassword)
	for b.Loop() {
		path := filepath.Join(b.TempDir(), "w.dat")
		if code := run(context.Background(), []string{"--path", path, "generatemanagedprivatekeybatch", "ETH", "100000"},
			strings.NewReader(""), io.Discard, io.Discard); code != 0 {
			b.Fatal("batch failed")
		}
	}
}
