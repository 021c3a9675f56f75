package walletstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/custoskms/custos/internal/shamir"
)

// A split-protected store wraps its data key under a random key-encryption
// key that exists nowhere but as k-of-n Shamir shares: no password opens it,
// and k holders must each give their share to unlock it. The split id in the
// header and in every share tells a share of another split (another store, or
// this one before it was split again) from a wrong one; the wrapped data key's
// authentication tag tells a wrong share from a good one once k are in.

// sharePrefix starts every encoded share, so a holder can tell what it is.
const sharePrefix = "custos-share1-"

// shareChecksumLen is the checksum's length in an encoded share: enough to
// catch a typo before it costs the other holders a round.
const shareChecksumLen = 4

// SplitInfo describes how a split-protected store's key is shared.
type SplitInfo struct {
	ID        string `json:"id"` // hex split id, printed on every share
	Threshold int    `json:"threshold"`
	Shares    int    `json:"shares"`
}

func (h *header) splitInfo() *SplitInfo {
	if h.Kind != kdfShares {
		return nil
	}
	return &SplitInfo{ID: hex.EncodeToString(h.SplitID), Threshold: int(h.Threshold), Shares: int(h.Shares)}
}

func parseSplitHeader(h *header, b []byte) (*header, error) {
	if len(b) != splitHeaderLen {
		return nil, fmt.Errorf("%w: header is %d bytes, want %d", ErrCorrupt, len(b), splitHeaderLen)
	}
	h.Kind = kdfShares
	off := 7
	h.SplitID = append([]byte(nil), b[off:off+splitIDLen]...)
	off += splitIDLen
	h.Threshold, h.Shares = b[off], b[off+1]
	off += 2
	if h.Threshold < 2 || h.Threshold > h.Shares {
		return nil, fmt.Errorf("%w: %d-of-%d split", ErrCorrupt, h.Threshold, h.Shares)
	}
	h.Nonce = append([]byte(nil), b[off:off+chacha20poly1305.NonceSizeX]...)
	off += chacha20poly1305.NonceSizeX
	h.Wrapped = append([]byte(nil), b[off:]...)
	return h, nil
}

// share is one decoded share: the split it belongs to, the threshold, and
// the Shamir share of the key-encryption key.
type share struct {
	splitID   []byte
	threshold uint8
	point     []byte // shamir.Split output: y values then x
}

// encodeShare writes a share as text: prefix, then base64url of split id,
// threshold, Shamir share and a truncated SHA-256 of all of these.
func encodeShare(splitID []byte, threshold uint8, point []byte) string {
	b := make([]byte, 0, splitIDLen+1+len(point)+shareChecksumLen)
	b = append(b, splitID...)
	b = append(b, threshold)
	b = append(b, point...)
	sum := sha256.Sum256(b)
	b = append(b, sum[:shareChecksumLen]...)
	defer clear(b)
	return sharePrefix + base64.RawURLEncoding.EncodeToString(b)
}

// decodeShare parses a share's text. It never panics on any input.
func decodeShare(s string) (*share, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, sharePrefix) {
		return nil, ErrMalformedShare
	}
	b, err := base64.RawURLEncoding.DecodeString(s[len(sharePrefix):])
	if err != nil || len(b) != splitIDLen+1+dataKeyLen+1+shareChecksumLen {
		return nil, ErrMalformedShare
	}
	defer clear(b)
	body, sum := b[:len(b)-shareChecksumLen], b[len(b)-shareChecksumLen:]
	want := sha256.Sum256(body)
	if !bytes.Equal(sum, want[:shareChecksumLen]) {
		return nil, ErrMalformedShare
	}
	return &share{
		splitID:   append([]byte(nil), body[:splitIDLen]...),
		threshold: body[splitIDLen],
		point:     append([]byte(nil), body[splitIDLen+1:]...),
	}, nil
}

// Split replaces the password (or the previous split) protecting the data
// key by n shares of a fresh random key-encryption key, any k of which
// unlock the store. The data key and the records are unchanged, so running
// daemons keep working; shares of an earlier split stop opening the store.
// The shares exist nowhere else: deliver gets them before the new header is
// written, and an error from it (the shares could not be handed out) leaves
// the store as it was, rather than locked under shares nobody holds.
func (s *Store) Split(ctx context.Context, n, k int, deliver func(*SplitInfo, []string) error) error {
	if k < 2 || k > n || n > 255 {
		return shamir.ErrParams
	}
	return s.rewrap(ctx, func(dk []byte) (*header, error) {
		h := &header{Version: FormatVersion, Kind: kdfShares, SplitID: make([]byte, splitIDLen),
			Threshold: uint8(k), Shares: uint8(n), Nonce: make([]byte, chacha20poly1305.NonceSizeX)}
		if _, err := rand.Read(h.SplitID); err != nil {
			return nil, err
		}
		if _, err := rand.Read(h.Nonce); err != nil {
			return nil, err
		}
		kek, err := newDataKey()
		if err != nil {
			return nil, err
		}
		defer clear(kek)
		aead, err := chacha20poly1305.NewX(kek)
		if err != nil {
			return nil, err
		}
		h.Wrapped = aead.Seal(nil, h.Nonce, dk, h.boundPart())
		points, err := shamir.Split(kek, n, k, s.rnd)
		if err != nil {
			return nil, err
		}
		out := make([]string, n)
		for i, p := range points {
			out[i] = encodeShare(h.SplitID, h.Threshold, p)
			clear(p)
		}
		if err := deliver(h.splitInfo(), out); err != nil {
			return nil, err
		}
		return h, nil
	})
}

// Sealed is a split-protected store waiting for its shares. Shares are
// submitted one at a time (by different people, at different moments); the
// one that reaches the threshold opens the store. Below the threshold
// nothing is decrypted: the data key is wrapped under a key no fewer than k
// shares determine. Sealed is safe for concurrent use.
type Sealed struct {
	path string
	opts Options
	info SplitInfo
	id   []byte

	mu     sync.Mutex
	points map[byte][]byte // by x coordinate, so a share given twice counts once
}

// SealStatus is what a share submission reports: how many distinct shares
// are in, of how many needed.
type SealStatus struct {
	SplitInfo
	Submitted int  `json:"submitted"`
	Unsealed  bool `json:"unsealed"`
}

// OpenSealed reads a split-protected store's header, without any secret.
func OpenSealed(ctx context.Context, path string, opts Options) (*Sealed, error) {
	h, err := readFileHeader(ctx, path)
	if err != nil {
		return nil, err
	}
	if h.Kind != kdfShares {
		return nil, ErrNotSplit
	}
	return &Sealed{path: path, opts: opts, info: *h.splitInfo(), id: h.SplitID, points: map[byte][]byte{}}, nil
}

// Status reports the split and how many shares are in.
func (u *Sealed) Status() SealStatus {
	u.mu.Lock()
	defer u.mu.Unlock()
	return SealStatus{SplitInfo: u.info, Submitted: len(u.points)}
}

// Submit adds one share. Below the threshold it returns a nil Store; the
// share that reaches it opens the store, which the caller closes. A share of
// another split is refused (ErrForeignShare) and changes nothing; shares
// that reach the threshold without rebuilding the key (ErrWrongShare) are all
// dropped, since which one is wrong cannot be told.
func (u *Sealed) Submit(ctx context.Context, text string) (*Store, SealStatus, error) {
	sh, err := decodeShare(text)
	if err != nil {
		return nil, u.Status(), err
	}
	defer clear(sh.point)
	if !bytes.Equal(sh.splitID, u.id) || sh.threshold != uint8(u.info.Threshold) {
		return nil, u.Status(), fmt.Errorf("%w (share's split %x, store's %s)", ErrForeignShare, sh.splitID, u.info.ID)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	x := sh.point[len(sh.point)-1]
	if old := u.points[x]; old != nil {
		clear(old)
	}
	u.points[x] = append([]byte(nil), sh.point...)
	st := SealStatus{SplitInfo: u.info, Submitted: len(u.points)}
	if len(u.points) < u.info.Threshold {
		return nil, st, nil
	}
	pts := make([][]byte, 0, len(u.points))
	for _, p := range u.points {
		pts = append(pts, p)
	}
	kek, err := shamir.Combine(pts)
	u.dropLocked()
	if err != nil {
		return nil, SealStatus{SplitInfo: u.info}, fmt.Errorf("%w: %w", ErrWrongShare, err)
	}
	defer clear(kek)
	s, err := open(ctx, u.path, u.opts, func(s *Store, _ bool) error {
		h, fresh, err := s.readHeader(ctx)
		if err != nil {
			return err
		}
		if fresh {
			return fmt.Errorf("%w at %s", ErrEmptyStore, s.path)
		}
		if h.Kind != kdfShares || !bytes.Equal(h.SplitID, u.id) {
			// Split again (or given a password) since the shares were taken.
			return ErrForeignShare
		}
		dk, err := unwrapKEK(kek, h)
		if err != nil {
			return ErrWrongShare
		}
		defer clear(dk)
		return s.setKey(dk, h)
	})
	if err != nil {
		return nil, SealStatus{SplitInfo: u.info}, err
	}
	return s, SealStatus{SplitInfo: u.info, Submitted: st.Submitted, Unsealed: true}, nil
}

// Drop forgets the shares submitted so far.
func (u *Sealed) Drop() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.dropLocked()
}

func (u *Sealed) dropLocked() {
	for x, p := range u.points {
		clear(p)
		delete(u.points, x)
	}
}
