package walletstore

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"runtime/debug"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/custoskms/custos/internal/procmem"
	"github.com/custoskms/custos/internal/remotekey"
	"github.com/custoskms/custos/internal/strictjson"
)

// FormatVersion is the version of the store layout this build writes. A file
// with a higher version is refused with ErrNewerFormat rather than misread.
const FormatVersion = 1

// applicationID marks the SQLite file as a Custos wallet store ("CSTW"), so a
// random SQLite database at the wallet path is not mistaken for one.
const applicationID = 0x43535457

// KDFParams are the Argon2id parameters that turn the password into the key
// wrapping the data key. They are stored in the header, so a store keeps
// opening after the defaults change.
type KDFParams struct {
	Time      uint32 `json:"time"`      // passes
	MemoryKiB uint32 `json:"memoryKiB"` // memory in KiB
	Threads   uint8  `json:"threads"`   // lanes
}

// DefaultKDF is what new stores and changed passwords use: 64 MiB, three
// passes, four lanes (RFC 9106's second recommended option, with more passes).
var DefaultKDF = KDFParams{Time: 3, MemoryKiB: 64 * 1024, Threads: 4}

// TestKDF, when set, replaces DefaultKDF for new stores and changed passwords.
// It exists so that tests (including child processes of tests) run in
// milliseconds; no command-line flag or environment variable reaches it.
var TestKDF *KDFParams

func newStoreKDF() KDFParams {
	if TestKDF != nil {
		return *TestKDF
	}
	return DefaultKDF
}

// Bounds a header must respect. The upper bounds keep a damaged or hostile
// header from asking for absurd memory or time before the password is checked.
const (
	maxKDFMemoryKiB = 4 << 20 // 4 GiB
	maxKDFTime      = 64
	saltLen         = 16
	dataKeyLen      = chacha20poly1305.KeySize
	wrappedKeyLen   = dataKeyLen + chacha20poly1305.Overhead
	headerMagic     = "CSTW"
	kdfArgon2id     = 1
	// kdfShares marks a split-protected header: the key-encryption key is
	// random and exists only as k-of-n Shamir shares held by people.
	kdfShares     = 2
	recordVersion = 1
	// headerLen: magic, version u16, kdf u8, time u32, memory u32, threads u8,
	// salt, nonce, wrapped data key.
	headerFixedLen = 4 + 2 + 1 + 4 + 4 + 1
	headerLen      = headerFixedLen + saltLen + chacha20poly1305.NonceSizeX + wrappedKeyLen
	// splitHeaderLen: magic, version u16, kind u8, split id, threshold u8,
	// shares u8, nonce, wrapped data key.
	splitIDLen     = 16
	splitHeaderLen = 4 + 2 + 1 + splitIDLen + 1 + 1 + chacha20poly1305.NonceSizeX + wrappedKeyLen
)

// header is the decoded header row: how to derive the key-encryption key and
// the data key it wraps. Kind says which: a password through Argon2id (KDF,
// Salt), or k-of-n shares of a random key (SplitID, Threshold, Shares).
type header struct {
	Version   uint16
	Kind      byte
	KDF       KDFParams
	Salt      []byte
	SplitID   []byte
	Threshold uint8
	Shares    uint8
	Nonce     []byte
	Wrapped   []byte
}

func (p KDFParams) validate() error {
	switch {
	case p.Time < 1 || p.Time > maxKDFTime:
		return fmt.Errorf("argon2id time %d out of range 1..%d", p.Time, maxKDFTime)
	case p.Threads < 1:
		return fmt.Errorf("argon2id threads must be at least 1")
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxKDFMemoryKiB:
		return fmt.Errorf("argon2id memory %d KiB out of range", p.MemoryKiB)
	}
	return nil
}

// boundPart is the header without the wrapped key: the additional data of
// the wrapping, so a changed parameter or salt fails authentication.
func (h *header) boundPart() []byte {
	b := make([]byte, 0, headerLen)
	b = append(b, headerMagic...)
	b = binary.BigEndian.AppendUint16(b, h.Version)
	if h.Kind == kdfShares {
		b = append(b, kdfShares)
		b = append(b, h.SplitID...)
		b = append(b, h.Threshold, h.Shares)
		return append(b, h.Nonce...)
	}
	b = append(b, kdfArgon2id)
	b = binary.BigEndian.AppendUint32(b, h.KDF.Time)
	b = binary.BigEndian.AppendUint32(b, h.KDF.MemoryKiB)
	b = append(b, h.KDF.Threads)
	b = append(b, h.Salt...)
	b = append(b, h.Nonce...)
	return b
}

func (h *header) encode() []byte { return append(h.boundPart(), h.Wrapped...) }

// parseHeader decodes a header row. It never panics on any input.
func parseHeader(b []byte) (*header, error) {
	if len(b) < headerFixedLen || string(b[:4]) != headerMagic {
		return nil, fmt.Errorf("%w: bad header", ErrCorrupt)
	}
	h := &header{Version: binary.BigEndian.Uint16(b[4:6])}
	if h.Version > FormatVersion {
		return nil, fmt.Errorf("%w (header version %d, this build reads up to %d)", ErrNewerFormat, h.Version, FormatVersion)
	}
	if h.Version == 0 {
		return nil, fmt.Errorf("%w: header version 0", ErrCorrupt)
	}
	if b[6] == kdfShares {
		return parseSplitHeader(h, b)
	}
	if b[6] != kdfArgon2id {
		return nil, fmt.Errorf("%w: unknown key derivation %d", ErrCorrupt, b[6])
	}
	h.Kind = kdfArgon2id
	if len(b) != headerLen {
		return nil, fmt.Errorf("%w: header is %d bytes, want %d", ErrCorrupt, len(b), headerLen)
	}
	h.KDF = KDFParams{
		Time:      binary.BigEndian.Uint32(b[7:11]),
		MemoryKiB: binary.BigEndian.Uint32(b[11:15]),
		Threads:   b[15],
	}
	if err := h.KDF.validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	off := headerFixedLen
	h.Salt = append([]byte(nil), b[off:off+saltLen]...)
	off += saltLen
	h.Nonce = append([]byte(nil), b[off:off+chacha20poly1305.NonceSizeX]...)
	off += chacha20poly1305.NonceSizeX
	h.Wrapped = append([]byte(nil), b[off:]...)
	return h, nil
}

// releaseKDFKiB is the KDF memory from which deriveKEK lowers the process's
// peak around it.
const releaseKDFKiB = 8 << 10

// hugeAdviceFor is how long the KDF's address range stays advised for huge
// pages after the KDF (deriveKEK).
const hugeAdviceFor = 5 * time.Second

// deriveKEK runs Argon2id over the password.
func deriveKEK(password []byte, h *header) []byte {
	if h.KDF.MemoryKiB < releaseKDFKiB { // tests: not worth the collections below
		return argon2.IDKey(password, h.Salt, h.KDF.Time, h.KDF.MemoryKiB, h.KDF.Threads, dataKeyLen)
	}
	// The KDF's block array (64 MiB by default) is the peak of a process that
	// opens the store, on top of what is resident when it starts: start-up's
	// garbage, and the pages of the binary that package initialisers touched
	// (about 40 MB of custos, not needed again), which During releases.
	// Collecting first also leaves the collection the array's allocation
	// starts less to read (measured: 3 MB lower peak).
	debug.FreeOSMemory()
	// Backed by huge pages where the system grants them on request, the
	// array costs 32 page faults instead of 16,384: on a 2-core VM about
	// 0.1 s of the start and 0.15 s of CPU.
	undo := procmem.PrepareHuge(int(h.KDF.MemoryKiB) << 10)
	var kek []byte
	procmem.During(func() {
		kek = argon2.IDKey(password, h.Salt, h.KDF.Time, h.KDF.MemoryKiB, h.KDF.Threads, dataKeyLen)
	})
	// The array is garbage once the KDF returns, but the collector sized its
	// next goal on a heap that held it and would let a long-running process
	// (the daemon) pile up as much garbage again before collecting: about
	// three times the KDF's memory at peak. Collecting and returning it now
	// keeps the process's peak at the KDF's own.
	debug.FreeOSMemory()
	// The heap grows into the advised range after the KDF too: the daemon's
	// first run, right after it, faults in a few thousand pages fewer. The
	// advice is taken back soon after, before the kernel's khugepaged (by
	// default 16 MiB every 10 s) could fill a long-running process's sparse
	// heap there with whole huge pages.
	time.AfterFunc(hugeAdviceFor, undo)
	return kek
}

// wrap builds a new header sealing dataKey under password with fresh salt and nonce.
func wrap(password, dataKey []byte, p KDFParams, rnd io.Reader) (*header, error) {
	if len(password) == 0 {
		return nil, ErrEmptyPassword
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	h := &header{Version: FormatVersion, Kind: kdfArgon2id, KDF: p, Salt: make([]byte, saltLen), Nonce: make([]byte, chacha20poly1305.NonceSizeX)}
	if _, err := io.ReadFull(rnd, h.Salt); err != nil {
		return nil, fmt.Errorf("random salt: %w", err)
	}
	if _, err := io.ReadFull(rnd, h.Nonce); err != nil {
		return nil, fmt.Errorf("random nonce: %w", err)
	}
	kek := deriveKEK(password, h)
	defer clear(kek)
	aead, err := chacha20poly1305.NewX(kek)
	if err != nil {
		return nil, err
	}
	h.Wrapped = aead.Seal(nil, h.Nonce, dataKey, h.boundPart())
	return h, nil
}

// unwrap recovers the data key; a wrong password (or a tampered header) fails
// authentication and gives ErrInvalidPassword.
func unwrap(password []byte, h *header) ([]byte, error) {
	if h.Kind == kdfShares {
		return nil, fmt.Errorf("%w (%d of %d shares)", ErrSplitProtected, h.Threshold, h.Shares)
	}
	if len(h.Wrapped) != wrappedKeyLen {
		return nil, fmt.Errorf("%w: wrapped key length", ErrCorrupt)
	}
	kek := deriveKEK(password, h)
	defer clear(kek)
	dk, err := unwrapKEK(kek, h)
	if err != nil {
		return nil, ErrInvalidPassword
	}
	return dk, nil
}

// unwrapKEK opens the wrapped data key with a key-encryption key; an error
// means the key (or the header) is not the one it was wrapped under.
func unwrapKEK(kek []byte, h *header) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(kek)
	if err != nil {
		return nil, err
	}
	return aead.Open(nil, h.Nonce, h.Wrapped, h.boundPart())
}

// Wallet is one stored wallet, in Tatum KMS's record shape so that export and
// getmanagedwallet print what Tatum users expect. A mnemonic wallet holds
// Mnemonic (and XPub where the chain has one); a key wallet holds PrivateKey,
// or Secret and Address for the keypair chains. A remote-key wallet holds
// Remote, where its key lives (never a secret), and Address.
type Wallet struct {
	Mnemonic   string `json:"mnemonic,omitempty"`
	XPub       string `json:"xpub,omitempty"`
	Address    string `json:"address,omitempty"`
	Secret     string `json:"secret,omitempty"`
	PrivateKey string `json:"privateKey,omitempty"`
	Chain      string `json:"chain"`
	Testnet    bool   `json:"testnet"`
	// Remote is a key held outside Custos (a cloud KMS key), signed with
	// through its backend; only its name and public key are stored.
	Remote *remotekey.Ref `json:"remoteKey,omitempty"`
}

func (w *Wallet) validate() error {
	if w.Chain == "" {
		return fmt.Errorf("%w: no chain", ErrInvalidWallet)
	}
	if w.Mnemonic == "" && w.PrivateKey == "" && w.Secret == "" && w.Remote == nil {
		return fmt.Errorf("%w: no mnemonic, private key, secret or remote key", ErrInvalidWallet)
	}
	return nil
}

// recordAD binds a sealed record to its signature ID: a record copied to
// another ID does not open.
func recordAD(id string) []byte { return append([]byte("custos/wallet/v1\x00"), id...) }

func sealRecord(aead cipherAEAD, id string, w *Wallet, rnd io.Reader) ([]byte, error) {
	pt, err := json.Marshal(w)
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	return sealPlain(aead, id, pt, rnd)
}

func sealPlain(aead cipherAEAD, id string, pt []byte, rnd io.Reader) ([]byte, error) {
	out := make([]byte, 1+chacha20poly1305.NonceSizeX, 1+chacha20poly1305.NonceSizeX+len(pt)+chacha20poly1305.Overhead)
	out[0] = recordVersion
	if _, err := io.ReadFull(rnd, out[1:]); err != nil {
		return nil, fmt.Errorf("random nonce: %w", err)
	}
	return aead.Seal(out, out[1:], pt, recordAD(id)), nil
}

// openRecord decrypts and decodes a sealed record. It never panics on any input.
func openRecord(aead cipherAEAD, id string, b []byte) (*Wallet, error) {
	pt, err := openPlain(aead, id, b)
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	return decodeRecord(id, pt)
}

// openPlain decrypts a sealed record to its JSON plaintext, which the caller
// clears. It never panics on any input.
func openPlain(aead cipherAEAD, id string, b []byte) ([]byte, error) {
	if len(b) < 1+chacha20poly1305.NonceSizeX+chacha20poly1305.Overhead {
		return nil, fmt.Errorf("%w: record %s truncated", ErrCorrupt, id)
	}
	if b[0] != recordVersion {
		if b[0] > recordVersion {
			return nil, fmt.Errorf("%w (record version %d)", ErrNewerFormat, b[0])
		}
		return nil, fmt.Errorf("%w: record %s version %d", ErrCorrupt, id, b[0])
	}
	nonce := b[1 : 1+chacha20poly1305.NonceSizeX]
	pt, err := aead.Open(nil, nonce, b[1+chacha20poly1305.NonceSizeX:], recordAD(id))
	if err != nil {
		return nil, fmt.Errorf("%w: record %s fails authentication", ErrCorrupt, id)
	}
	return pt, nil
}

// resealRecord opens a record with one key and seals its plaintext, unparsed,
// with another under a fresh nonce (Rekey).
func resealRecord(from, to cipherAEAD, id string, b []byte, rnd io.Reader) ([]byte, error) {
	pt, err := openPlain(from, id, b)
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	return sealPlain(to, id, pt, rnd)
}

func decodeRecord(id string, pt []byte) (*Wallet, error) {
	var w Wallet
	if err := json.Unmarshal(pt, &w); err != nil {
		// The plaintext holds secrets: say where, never what.
		return nil, fmt.Errorf("%w: record %s is not a wallet", ErrCorrupt, id)
	}
	if err := w.validate(); err != nil {
		return nil, fmt.Errorf("%w: record %s: %w", ErrCorrupt, id, err)
	}
	return &w, nil
}

// openRef opens a sealed record for its chain and network. The common
// record, as sealRecord writes it, is read by quickRef without decoding its
// keys; any other is decoded as openRecord does, with its errors.
func openRef(aead cipherAEAD, id string, b []byte) (Ref, error) {
	pt, err := openPlain(aead, id, b)
	if err != nil {
		return Ref{}, err
	}
	defer clear(pt)
	if r, ok := quickRef(pt); ok {
		return r, nil
	}
	w, err := decodeRecord(id, pt)
	if err != nil {
		return Ref{}, err
	}
	return Ref{Chain: w.Chain, Testnet: w.Testnet}, nil
}

// quickRef reads a record's chain and network when the record is one that
// decodeRecord accepts with certainty: a plain JSON object (strictjson's
// quick reader, no duplicate or case-variant key) of Wallet's own keys,
// exactly as json.Marshal writes them, whose chain is a non-empty string of
// printable ASCII, testnet a boolean, and whose mnemonic, private key or
// secret is a non-empty string. A remote key, whose decoding could fail, and
// anything else leave ok false, for decodeRecord to read.
func quickRef(pt []byte) (r Ref, ok bool) {
	members, err := strictjson.Object(pt)
	if err != nil {
		return Ref{}, false
	}
	secret := false
	for k, v := range members {
		switch k {
		case "chain":
			c, plain := strictjson.PlainString(v)
			if !plain || c == "" {
				return Ref{}, false
			}
			r.Chain = c
		case "testnet":
			switch string(v) {
			case "true":
				r.Testnet = true
			case "false", "null":
			default:
				return Ref{}, false
			}
		case "mnemonic", "privateKey", "secret":
			if !isStringOrNull(v) {
				return Ref{}, false
			}
			secret = secret || len(v) > 2 && v[0] == '"' // a non-empty string
		case "xpub", "address":
			if !isStringOrNull(v) {
				return Ref{}, false
			}
		case "remoteKey":
			if string(v) != "null" {
				return Ref{}, false
			}
		default:
			return Ref{}, false
		}
	}
	return r, r.Chain != "" && secret
}

// isStringOrNull reports whether v, one valid JSON value, is a string or null.
func isStringOrNull(v []byte) bool { return len(v) > 0 && v[0] == '"' || string(v) == "null" }

type cipherAEAD interface {
	Seal(dst, nonce, plaintext, additionalData []byte) []byte
	Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error)
}

func newDataKey() ([]byte, error) {
	k := make([]byte, dataKeyLen)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	return k, nil
}
