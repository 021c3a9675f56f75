package pending

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync/atomic"
	"time"
)

// Ids are 12 bytes shown as 24 lowercase hex characters: a 4-byte Unix time,
// 5 random bytes drawn once per process and a 3-byte counter starting at a
// random value. Two processes (or restarts) differ in the random part, and one
// process never repeats within 2^24 ids per second.
var (
	processRandom [5]byte
	idCounter     atomic.Uint32
)

func init() {
	var seed [4]byte
	if _, err := rand.Read(processRandom[:]); err != nil {
		panic("pending: no system randomness: " + err.Error())
	}
	_, _ = rand.Read(seed[:])
	idCounter.Store(binary.BigEndian.Uint32(seed[:]))
}

// NewID returns a new 24-character lowercase hex id.
func NewID() string { return newIDAt(time.Now()) }

func newIDAt(t time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[0:4], uint32(t.Unix()))
	copy(b[4:9], processRandom[:])
	c := idCounter.Add(1)
	b[9], b[10], b[11] = byte(c>>16), byte(c>>8), byte(c)
	return hex.EncodeToString(b[:])
}
