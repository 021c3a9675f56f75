package chain

import (
	"crypto/sha256"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
)

// ChildPoint must give hdkeychain's child public key at every index, from
// several goroutines at once (they share the xpub's HMAC pool), for xpubs at
// different depths.
func TestChildPointMatchesHDKeychain(t *testing.T) {
	for _, depth := range []int{0, 1, 4} {
		seed := sha256.Sum256([]byte{byte(depth)})
		k, err := hdkeychain.NewMaster(seed[:], &chaincfg.MainNetParams)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < depth; i++ {
			if k, err = k.Derive(Hardened + uint32(i)); err != nil {
				t.Fatal(err)
			}
		}
		pub, err := k.Neuter()
		if err != nil {
			t.Fatal(err)
		}
		p, err := ParseXPub(pub.String())
		if err != nil {
			t.Fatal(err)
		}
		const workers, per = 4, 64
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := uint32(w * per); i < uint32((w+1)*per); i++ {
					want, err := pub.Derive(i)
					if err != nil {
						t.Error(err)
						return
					}
					wantPub, err := want.ECPubKey()
					if err != nil {
						t.Error(err)
						return
					}
					got, err := p.ChildPoint(i)
					if err != nil {
						t.Error(err)
						return
					}
					var w btcec.JacobianPoint
					wantPub.AsJacobian(&w)
					if !got.Z.IsOne() || !got.X.Equals(&w.X) || !got.Y.Equals(&w.Y) {
						t.Errorf("depth %d index %d: child point differs from hdkeychain's", depth, i)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
}
